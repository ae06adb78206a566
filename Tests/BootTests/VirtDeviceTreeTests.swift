import Foundation
import Testing
@testable import Boot

/// The `virt` device tree: structure checked in Swift, text pinned by golden `.dts` files through dtc.
@Suite struct VirtDeviceTreeTests {
    static let oneHart = VirtMachineDescription(bootargs: "console=ttyS0 earlycon")
    static let twoHartsWithInitrd = VirtMachineDescription(
        ram: RAMRegion(base: 0x8000_0000, size: 256 << 20), harts: 2, mmuType: "riscv,sv39",
        bootargs: "root=/dev/vda rw", initrd: MemoryRange(address: 0x8820_0000, size: 0x12345))

    static func parsed(_ machine: VirtMachineDescription) throws -> FDTNode {
        try DeviceTree(flattened: VirtDeviceTree.build(machine).flattened()).root
    }

    @Test func describesMemoryAndCPUs() throws {
        let root = try Self.parsed(Self.twoHartsWithInitrd)
        #expect(root.node(at: "/memory@80000000")?.property("reg")?.cellValues == [0, 0x8000_0000, 0, 0x1000_0000])
        #expect(root.node(at: "/cpus")?.property("timebase-frequency")?.cellValues == [10_000_000])
        for hart in 0..<2 {
            let cpu = try #require(root.node(at: "/cpus/cpu@\(hart)"))
            #expect(cpu.property("reg")?.cellValues == [UInt32(hart)])
            #expect(cpu.property("device_type")?.stringValues == ["cpu"])
            #expect(cpu.property("riscv,isa")?.stringValues == ["rv64imafdc_zicsr_zifencei"])
            #expect(cpu.property("mmu-type")?.stringValues == ["riscv,sv39"])
            #expect(cpu.property("riscv,isa-base")?.stringValues == ["rv64i"])
            #expect(cpu.property("riscv,isa-extensions")?.stringValues == ["i", "m", "a", "f", "d", "c", "zicsr", "zifencei"])
            let intc = try #require(cpu.child("interrupt-controller"))
            #expect(intc.property("compatible")?.stringValues == ["riscv,cpu-intc"])
            #expect(intc.property("#interrupt-cells")?.cellValues == [1])
            #expect(intc.property("interrupt-controller")?.value == [])
        }
        #expect(root.node(at: "/cpus/cpu-map/cluster0/core1")?.property("cpu")?.cellValues
                == root.node(at: "/cpus/cpu@1")?.property("phandle")?.cellValues)
    }

    /// Interrupt wiring: every `interrupts-extended` phandle names a CPU's interrupt controller, in
    /// hart order, with the M/S interrupt numbers the CLINT and PLIC drive.
    @Test func interruptsReachEachHart() throws {
        let root = try Self.parsed(Self.twoHartsWithInitrd)
        let intc = (0..<2).map { root.node(at: "/cpus/cpu@\($0)/interrupt-controller")!.property("phandle")!.cellValues![0] }
        #expect(Set(intc).count == 2)
        let plic = try #require(root.node(at: "/soc/plic@c000000"))
        #expect(plic.property("interrupts-extended")?.cellValues == [intc[0], 11, intc[0], 9, intc[1], 11, intc[1], 9])
        #expect(plic.property("riscv,ndev")?.cellValues == [96])
        let clint = try #require(root.node(at: "/soc/clint@2000000"))
        #expect(clint.property("interrupts-extended")?.cellValues == [intc[0], 3, intc[0], 7, intc[1], 3, intc[1], 7])
        let plicPhandle = plic.property("phandle")?.cellValues
        for slot in 0..<8 {
            let node = try #require(root.node(at: "/soc/virtio_mmio@1000\(slot + 1)000"))
            #expect(node.property("interrupts")?.cellValues == [UInt32(slot + 1)])
            #expect(node.property("interrupt-parent")?.cellValues == plicPhandle)
        }
        #expect(root.node(at: "/soc/serial@10000000")?.property("interrupts")?.cellValues == [10])
        #expect(root.node(at: "/soc/rtc@101000")?.property("interrupts")?.cellValues == [11])
    }

    @Test func chosenCarriesBootargsStdoutAndInitrd() throws {
        let root = try Self.parsed(Self.twoHartsWithInitrd)
        let chosen = try #require(root.node(at: "/chosen"))
        #expect(chosen.property("bootargs")?.stringValues == ["root=/dev/vda rw"])
        #expect(chosen.property("stdout-path")?.stringValues == ["/soc/serial@10000000"])
        #expect(chosen.property("linux,initrd-start")?.cellValues == [0, 0x8820_0000])
        #expect(chosen.property("linux,initrd-end")?.cellValues == [0, 0x8821_2345])
        let plain = try Self.parsed(VirtMachineDescription())
        #expect(plain.node(at: "/chosen")?.property("bootargs") == nil)
        #expect(plain.node(at: "/chosen")?.property("linux,initrd-start") == nil)
    }

    @Test func poweroffAndRebootPointAtTheTestDevice() throws {
        let root = try Self.parsed(Self.oneHart)
        let test = try #require(root.node(at: "/soc/test@100000"))
        #expect(test.property("compatible")?.stringValues == ["sifive,test1", "sifive,test0", "syscon"])
        #expect(root.node(at: "/poweroff")?.property("regmap")?.cellValues == test.property("phandle")?.cellValues)
        #expect(root.node(at: "/poweroff")?.property("value")?.cellValues == [0x5555])
        #expect(root.node(at: "/reboot")?.property("value")?.cellValues == [0x7777])
    }

    @Test func isaStringsSplitIntoTheNewBinding() {
        #expect(VirtDeviceTree.isaBase("rv64imafdch_zicsr_zifencei_sstc") == "rv64i")
        #expect(VirtDeviceTree.isaExtensions("rv64imafdch_zicsr_zifencei_sstc")
                == ["i", "m", "a", "f", "d", "c", "h", "zicsr", "zifencei", "sstc"])
        #expect(VirtDeviceTree.isaExtensions("RV64GC") == ["i", "m", "a", "f", "d", "zicsr", "zifencei", "c"])
        #expect(VirtDeviceTree.isaBase("rv32e") == "rv32e")
        #expect(VirtDeviceTree.isaExtensions("") == [])
    }

    @Test func phandlesAreUnique() throws {
        var seen: [UInt32] = []
        func collect(_ node: FDTNode) {
            if let value = node.property("phandle")?.cellValues { seen += value }
            node.children.forEach(collect)
        }
        collect(try Self.parsed(VirtMachineDescription(harts: 4)))
        #expect(seen.count == 4 * 2 + 2)
        #expect(Set(seen).count == seen.count)
    }

    @Test func writesTheBlobToAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-virt-\(getpid()).dtb").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tree = VirtDeviceTree.build(Self.oneHart)
        try tree.write(toFile: path)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == tree.flattened())
        #expect(throws: BootError.self) { try tree.write(toFile: "/nonexistent-dir/x.dtb") }
    }

    // MARK: golden files, through dtc

    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// `dtc`'s path, or nil when it is not installed (the structural tests above still run).
    static let dtc: String? = ["/usr/bin/dtc", "/usr/local/bin/dtc", "/opt/homebrew/bin/dtc"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    static func decompile(_ blob: [UInt8], dtc: String) throws -> (dts: String, warnings: String) {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-golden-\(getpid())-\(UUID().uuidString).dtb")
        try Data(blob).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: dtc)
        process.arguments = ["-I", "dtb", "-O", "dts", input.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let dts = out.fileHandleForReading.readDataToEndOfFile()
        let warnings = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return (String(decoding: dts, as: UTF8.self), String(decoding: warnings, as: UTF8.self))
    }

    /// Set VMLAB_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
    @Test(arguments: [("virt-1hart", oneHart), ("virt-2hart-initrd", twoHartsWithInitrd)])
    func matchesGoldenDTS(name: String, machine: VirtMachineDescription) throws {
        guard let dtc = Self.dtc else {
            print("skipping golden \(name).dts: dtc is not installed (apt install device-tree-compiler)")
            return
        }
        let (dts, warnings) = try Self.decompile(VirtDeviceTree.build(machine).flattened(), dtc: dtc)
        #expect(warnings.isEmpty, "dtc warned: \(warnings)")
        let golden = Self.goldenDirectory.appendingPathComponent("\(name).dts")
        if ProcessInfo.processInfo.environment["VMLAB_UPDATE_GOLDEN"] == "1" {
            try dts.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(dts == expected, "generated device tree differs from \(golden.path)")
    }
}

extension VirtDeviceTreeTests {
    /// A board whose harts have Sstc names it in `riscv,isa` (Linux looks there), once.
    @Test func sstcIsAdvertisedWhereTheHartsHaveIt() {
        var c = VirtBoardConfiguration()
        #expect(c.advertisedISA == "rv64imafdc_zicsr_zifencei")
        c.machine.sstc = true
        #expect(c.advertisedISA == "rv64imafdc_zicsr_zifencei_sstc")
        c.isa = "rv64imafdc_sstc"
        #expect(c.advertisedISA == "rv64imafdc_sstc")
    }
}
