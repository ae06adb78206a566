import Foundation
import GuestTestSupport
import Testing
@testable import Boot

@Suite struct BootLoaderTests {
    static let openSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
    static let kernelBytes: [UInt8] = [0x73, 0x00, 0x50, 0x10, 0x6f, 0x00, 0x00, 0x00]   // wfi; j .

    static func configuration(ram: UInt64 = 128 << 20, firmware: Firmware = .builtin,
                              kernel: ImageSource? = .bytes(kernelBytes, name: "payload.bin"),
                              initrd: ImageSource? = nil, bootargs: String = "console=hvc0") -> BootConfiguration {
        BootConfiguration(firmware: firmware, kernel: kernel, initrd: initrd, bootargs: bootargs,
                          machine: VirtMachineDescription(ram: RAMRegion(base: 0x8000_0000, size: ram)))
    }

    static func message(_ configuration: BootConfiguration, ram: FakeRAM) -> String? {
        do {
            _ = try BootLoader.load(configuration, into: ram)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func builtinFirmwareEntersTheKernelInSupervisorMode() throws {
        let ram = FakeRAM(size: 128 << 20)
        let plan = try BootLoader.load(Self.configuration(), into: ram)
        #expect(plan.mode == .supervisor)
        #expect(plan.entry == 0x8020_0000)
        #expect(!plan.secondaryHartsStart)
        #expect(ram.read(0x8020_0000, count: 8) == Self.kernelBytes)
        #expect(plan.deviceTreeAddress == 0x87e0_0000)   // QEMU's spot for 128 MiB
        // The blob in RAM is the tree the plan describes, with the command line in /chosen.
        let size = Int(try #require(plan.range(of: "device tree")).size)
        let tree = try DeviceTree(flattened: ram.read(plan.deviceTreeAddress, count: size))
        #expect(tree == plan.deviceTree)
        #expect(tree.root.node(at: "/chosen")?.property("bootargs")?.stringValues == ["console=hvc0"])
    }

    @Test func openSBIFirmwareLoadsAtItsAddressAndTheKernelAfterIt() throws {
        guard FileManager.default.fileExists(atPath: Self.openSBI) else {
            print("skipping: \(Self.openSBI) not installed")
            return
        }
        let ram = FakeRAM(size: 128 << 20)
        let plan = try BootLoader.load(Self.configuration(firmware: .elf(.file(Self.openSBI))), into: ram)
        #expect(plan.mode == .machine)
        #expect(plan.entry == 0x8000_0000)
        #expect(plan.secondaryHartsStart)
        #expect(plan.range(of: "firmware")?.address == 0x8000_0000)
        #expect(plan.range(of: "kernel")?.address == 0x8020_0000)   // fw_jump's FW_JUMP_ADDR
        #expect(ram.read(0x8000_0000, count: 4) == [0x33, 0x04, 0x05, 0x00])   // add s0, a0, zero
    }

    /// M-mode firmware finds OpenSBI's fw_dynamic_info after the device tree (a2 at entry), as
    /// QEMU's boot ROM holds it for -bios; the built-in firmware and bare metal get none.
    @Test func mModeFirmwareGetsDynamicInfoAfterTheDeviceTree() throws {
        var firmware = ELFBuilder()
        firmware.segments = [.init(physicalAddress: 0x8000_0000, data: [0x6f, 0, 0, 0], memorySize: 4)]
        let ram = FakeRAM(size: 128 << 20)
        let plan = try BootLoader.load(Self.configuration(firmware: .elf(.bytes(firmware.build(), name: "fw.elf"))), into: ram)
        let tree = try #require(plan.range(of: "device tree"))
        let info = try #require(plan.firmwareInfoAddress)
        #expect(info == tree.address + (tree.size + 7) / 8 * 8)
        #expect(plan.range(of: "firmware info") == MemoryRange(address: info, size: 48))
        let words = stride(from: 0, to: 48, by: 8).map { offset in
            ram.read(info + UInt64(offset), count: 8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        // magic "OSBI", version 2, next_addr = the kernel, next_mode = S, options, boot_hart 0.
        #expect(words == [0x4942_534F, 2, 0x8020_0000, 1, 0, 0])

        for firmware in [Firmware.builtin, .none] {
            let plan = try BootLoader.load(Self.configuration(firmware: firmware), into: FakeRAM(size: 128 << 20))
            #expect(plan.firmwareInfoAddress == nil)
            #expect(plan.range(of: "firmware info") == nil)
        }
    }

    @Test func initrdGoesHalfwayUpAndIntoChosen() throws {
        let ram = FakeRAM(size: 128 << 20)
        let initrd = [UInt8](repeating: 0x42, count: 5000)
        let plan = try BootLoader.load(Self.configuration(initrd: .bytes(initrd, name: "initrd.cpio")), into: ram)
        let range = try #require(plan.range(of: "initrd"))
        #expect(range == MemoryRange(address: 0x8020_0000 + (64 << 20), size: 5000))
        #expect(ram.read(range.address, count: 5000) == initrd)
        let chosen = try #require(plan.deviceTree.root.node(at: "/chosen"))
        #expect(chosen.property("linux,initrd-start")?.cellValues == [0, 0x8420_0000])
        #expect(chosen.property("linux,initrd-end")?.cellValues == [0, 0x8420_0000 + 5000])
    }

    @Test func aLargeInitrdMovesBelowTheDeviceTree() throws {
        let ram = FakeRAM(size: 8 << 20)
        let initrd = [UInt8](repeating: 1, count: 3 << 20)   // does not fit at kernel + 4 MiB
        let plan = try BootLoader.load(Self.configuration(ram: 8 << 20, initrd: .bytes(initrd, name: "big")), into: ram)
        let range = try #require(plan.range(of: "initrd"))
        #expect(range.end <= plan.deviceTreeAddress)
        #expect(range.address >= 0x8020_0000 + 8)
        #expect(range.address % 4096 == 0)
    }

    @Test func anInitrdLargerThanRAMIsAnError() {
        let ram = FakeRAM(size: 4 << 20)
        let initrd = [UInt8](repeating: 1, count: 4 << 20)
        let message = Self.message(Self.configuration(ram: 4 << 20, initrd: .bytes(initrd, name: "big")), ram: ram)
        #expect(message?.hasPrefix("initrd at ") == true)
        #expect(message?.hasSuffix("give the machine more memory") == true)
        #expect(ram.writes == 0)
    }

    @Test func ramTooSmallForTheKernel() {
        let ram = FakeRAM(size: 2 << 20)
        #expect(Self.message(Self.configuration(ram: 2 << 20), ram: ram)
                == "kernel at 0x80200000-0x80200007 (8 bytes) does not fit in RAM (0x80000000-0x801fffff, 2 MiB); give the machine more memory")
        #expect(ram.writes == 0)
    }

    @Test func theDeviceTreeFallsBackBelowA2MiBCollision() throws {
        let ram = FakeRAM(size: 4 << 20)
        let kernel = [UInt8](repeating: 0x13, count: 1 << 20)
        let plan = try BootLoader.load(Self.configuration(ram: 4 << 20, kernel: .bytes(kernel, name: "k")), into: ram)
        let size = try #require(plan.range(of: "device tree")).size
        #expect(plan.deviceTreeAddress == (0x8040_0000 - size) & ~0xfff)
    }

    @Test func missingAndEmptyFilesAreNamed() {
        let ram = FakeRAM()
        #expect(Self.message(Self.configuration(kernel: .file("/nonexistent/Image")), ram: ram)
                == "kernel '/nonexistent/Image' does not exist")
        #expect(Self.message(Self.configuration(firmware: .elf(.file("/nonexistent/fw.elf"))), ram: ram)
                == "firmware '/nonexistent/fw.elf' does not exist")
        #expect(Self.message(Self.configuration(initrd: .file("/nonexistent/initrd")), ram: ram)
                == "initrd '/nonexistent/initrd' does not exist")
        #expect(Self.message(Self.configuration(kernel: .bytes([], name: "empty.bin")), ram: ram)
                == "kernel 'empty.bin' is empty")
        #expect(Self.message(Self.configuration(kernel: nil), ram: ram) == "the built-in firmware needs a kernel to run")
        #expect(Self.message(Self.configuration(firmware: .elf(.bytes([1, 2, 3], name: "fw.bin"))), ram: ram)?
                .hasPrefix("firmware 'fw.bin' is not an ELF file") == true)
    }

    /// An image must be a regular file, and one that is not an ELF must fit in RAM: that is checked
    /// before it is read (a sparse 1 TiB initrd was read whole, or failed with "error 256").
    @Test func imagesThatAreNotRegularFilesOrLargerThanRAMAreNamed() throws {
        let ram = FakeRAM()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(Self.message(Self.configuration(kernel: .file(folder.path)), ram: ram) == "kernel '\(folder.path)' is a directory")
        #expect(Self.message(Self.configuration(kernel: .file("/dev/zero")), ram: ram)
                == "kernel '/dev/zero' is not a regular file (a character device)")
        #expect(Self.message(Self.configuration(initrd: .file("/dev/null")), ram: ram)
                == "initrd '/dev/null' is not a regular file (a character device)")
        #expect(Self.message(Self.configuration(firmware: .elf(.file("/dev/zero"))), ram: ram)
                == "firmware '/dev/zero' is not a regular file (a character device)")
        // Sparse: it costs nothing on disk, and reading it would take hours.
        let huge = folder.appendingPathComponent("huge.img").path
        #expect(FileManager.default.createFile(atPath: huge, contents: nil) && truncate(huge, 1 << 40) == 0)
        #expect(Self.message(Self.configuration(initrd: .file(huge)), ram: ram)
                == "initrd '\(huge)' is 1099511627776 bytes, more than the VM's RAM (128 MiB)")
        #expect(Self.message(Self.configuration(ram: 16 << 20, kernel: .file(huge)), ram: FakeRAM(size: 16 << 20))
                == "kernel '\(huge)' is 1099511627776 bytes, more than the VM's RAM (16 MiB)")
        #if os(Linux)
        // A file that fails as it is read: the system's reason.
        #expect(Self.message(Self.configuration(initrd: .file("/proc/self/mem")), ram: ram)
                == "cannot read initrd '/proc/self/mem': Input/output error")
        #endif
    }

    @Test func malformedKernelELFIsNamed() {
        var elf = ELFFileTests.program()
        elf.elfClass = 1
        #expect(Self.message(Self.configuration(kernel: .bytes(elf.build(), name: "kernel32.elf")), ram: FakeRAM())
                == "kernel 'kernel32.elf': ELF class 32 is not supported (vmlab runs RV64)")
        elf = ELFFileTests.program()
        elf.segments[0].physicalAddress = 0x9000_0000
        #expect(Self.message(Self.configuration(kernel: .bytes(elf.build(), name: "far.elf")), ram: FakeRAM(size: 128 << 20))
                == "kernel 'far.elf': segment 0 at 0x90000000-0x90000007 lies outside RAM (0x80000000-0x87ffffff)")
    }

    @Test func kernelOverlappingTheFirmwareIsAnError() {
        var firmware = ELFBuilder()
        firmware.segments = [.init(physicalAddress: 0x8000_0000, data: [1, 2, 3, 4], memorySize: 0x30_0000)]
        let ram = FakeRAM(size: 128 << 20)
        let message = Self.message(Self.configuration(firmware: .elf(.bytes(firmware.build(), name: "fw.elf")),
                                                      kernel: .bytes(ELFFileTests.program().build(), name: "k.elf")), ram: ram)
        #expect(message == "kernel at 0x80000000-0x80000007 overlaps firmware at 0x80000000-0x802fffff")
        #expect(ram.writes == 0)
    }

    @Test func anELFKernelKeepsItsAddressesAndSymbols() throws {
        let ram = FakeRAM(size: 128 << 20)
        let plan = try BootLoader.load(Self.configuration(firmware: .none,
                                                          kernel: .bytes(ELFFileTests.program().build(), name: "t.elf")), into: ram)
        #expect(plan.mode == .machine)
        #expect(plan.entry == 0x8000_0004)
        #expect(plan.kernelSymbol("tohost") == 0x8000_1000)
        #expect(ram.read(0x8000_1000, count: 4) == [1, 2, 3, 4])
    }

    @Test func layoutHelpers() throws {
        let ram = RAMRegion(base: 0x8000_0000, size: 128 << 20)
        #expect(BootLayout.kernelAddress(ram: ram, firmwareEnd: nil) == 0x8020_0000)
        #expect(BootLayout.kernelAddress(ram: ram, firmwareEnd: 0x8004_5ac8) == 0x8020_0000)
        #expect(BootLayout.kernelAddress(ram: ram, firmwareEnd: 0x8020_0001) == 0x8040_0000)
        // 3 GiB of RAM: the device tree stays below 3 GiB (physical 0xc0000000).
        let big = RAMRegion(base: 0x8000_0000, size: 3 << 30)
        #expect(try BootLayout.deviceTreeAddress(ram: big, size: 0x1000, avoiding: []) == 0xbfe0_0000)
        #expect(throws: BootError.self) {
            try BootLayout.deviceTreeAddress(ram: RAMRegion(base: 0x8000_0000, size: 0x100), size: 0x1000, avoiding: [])
        }
    }
}
