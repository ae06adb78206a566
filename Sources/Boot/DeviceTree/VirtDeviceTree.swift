// The device tree describing a `virt` machine exactly as vmlab builds it. Node names, compatible
// strings and properties follow QEMU's virt (hw/riscv/virt.c, `create_fdt*`) where guests look:
// Linux's drivers and OpenSBI's generic platform match on them. Bindings: DTSpec v0.4 chapter 3
// (memory, cpus, chosen), Linux Documentation/devicetree/bindings for riscv/cpus.yaml,
// sifive,plic-1.0.0, sifive,clint0, ns16550a, virtio,mmio, google,goldfish-rtc, syscon-poweroff.
// Addresses and interrupt numbers come from `VirtPlatform` (Devices), which the board wires by.
import Devices

/// What the device tree says about the machine: the parts that vary between machines.
public struct VirtMachineDescription: Equatable, Sendable {
    public var ram: RAMRegion
    public var harts: Int
    /// The `riscv,isa` string of every CPU node.
    public var isa: String
    /// `riscv,sv39`, `riscv,sv48` (or `riscv,sv57`): the widest translation mode the MMU offers.
    public var mmuType: String
    /// Kernel command line for `/chosen/bootargs`; omitted when empty.
    public var bootargs: String
    /// Where the initrd was loaded, for `/chosen/linux,initrd-start` and `-end`.
    public var initrd: MemoryRange?
    /// How many virtio-mmio transports exist (QEMU always has 8; an empty one reads device id 0).
    public var virtioSlots: Int
    public var model: String
    /// Regions the guest must not use (the memory reservation block).
    public var reservations: [FDTReservation]

    public init(ram: RAMRegion = RAMRegion(base: VirtPlatform.ram.base, size: VirtPlatform.ram.size),
                harts: Int = 1, isa: String = "rv64imafdc_zicsr_zifencei", mmuType: String = "riscv,sv57",
                bootargs: String = "", initrd: MemoryRange? = nil, virtioSlots: Int = VirtPlatform.virtioSlotCount,
                model: String = "riscv-virtio,vmlab", reservations: [FDTReservation] = []) {
        self.ram = ram
        self.harts = harts
        self.isa = isa
        self.mmuType = mmuType
        self.bootargs = bootargs
        self.initrd = initrd
        self.virtioSlots = virtioSlots
        self.model = model
        self.reservations = reservations
    }
}

/// Builds the `virt` device tree.
public enum VirtDeviceTree {
    /// The path `/chosen/stdout-path` names: the UART, which OpenSBI and Linux's earlycon use.
    public static let stdoutPath = "/soc/serial@\(String(VirtPlatform.uart0.base, radix: 16))"
    /// The UART's input clock, which Linux's 8250 driver divides for the baud rate (as QEMU says).
    static let uartClockFrequency = UInt32(UART16550.clockFrequency)

    // M-mode and S-mode external / software / timer interrupt numbers (privileged spec, "mip").
    private static let machineSoftware: UInt32 = 3, machineTimer: UInt32 = 7, machineExternal: UInt32 = 11
    private static let supervisorExternal: UInt32 = 9

    /// Phandles: CPU `n` gets `1 + 2n`, its interrupt controller `2 + 2n`; then the PLIC and the
    /// test device, so numbering is stable for a given hart count.
    static func cpuPhandle(_ hart: Int) -> UInt32 { UInt32(1 + 2 * hart) }
    static func intcPhandle(_ hart: Int) -> UInt32 { UInt32(2 + 2 * hart) }
    static func plicPhandle(harts: Int) -> UInt32 { UInt32(2 * harts + 1) }
    static func testPhandle(harts: Int) -> UInt32 { UInt32(2 * harts + 2) }

    public static func build(_ machine: VirtMachineDescription) -> DeviceTree {
        let root = FDTNode("", [
            .u32("#address-cells", 2),
            .u32("#size-cells", 2),
            .string("compatible", "riscv-virtio"),
            .string("model", machine.model),
        ], children: [
            chosen(machine),
            FDTNode("memory@\(unit(machine.ram.base))", [
                .string("device_type", "memory"),
                .reg64("reg", [(machine.ram.base, machine.ram.size)]),
            ]),
            cpus(machine),
            soc(machine),
            syscon("poweroff", compatible: "syscon-poweroff", value: TestFinisher.pass, harts: machine.harts),
            syscon("reboot", compatible: "syscon-reboot", value: TestFinisher.reset, harts: machine.harts),
        ])
        return DeviceTree(root: root, reservations: machine.reservations, bootCPU: 0)
    }

    private static func unit(_ address: UInt64) -> String { String(address, radix: 16) }

    /// "rv64i" from "rv64imafdc_zicsr_zifencei".
    static func isaBase(_ isa: String) -> String {
        let lower = isa.lowercased()
        let prefix = lower.prefix { !$0.isLetter || $0 == "r" || $0 == "v" }
        return prefix + (lower.dropFirst(prefix.count).first.map { String($0) } ?? "i")
    }

    /// ["i", "m", "a", "f", "d", "c", "zicsr", "zifencei"] from "rv64imafdc_zicsr_zifencei": the
    /// single-letter extensions one by one, then each multi-letter one (unprivileged spec, "ISA
    /// Extension Naming Conventions").
    static func isaExtensions(_ isa: String) -> [String] {
        let parts = isa.lowercased().split(separator: "_")
        guard let first = parts.first else { return [] }
        let letters = first.drop { !$0.isLetter || $0 == "r" || $0 == "v" }
        var result = letters.map { String($0) }
        // G is shorthand for IMAFD_Zicsr_Zifencei.
        if let g = result.firstIndex(of: "g") { result.replaceSubrange(g...g, with: ["i", "m", "a", "f", "d", "zicsr", "zifencei"]) }
        for part in parts.dropFirst() where !result.contains(String(part)) { result.append(String(part)) }
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }

    private static func chosen(_ machine: VirtMachineDescription) -> FDTNode {
        var properties: [FDTProperty] = []
        if !machine.bootargs.isEmpty { properties.append(.string("bootargs", machine.bootargs)) }
        properties.append(.string("stdout-path", stdoutPath))
        if let initrd = machine.initrd {
            // 64-bit values: Linux reads these with the cell count the property length implies.
            properties.append(.u64("linux,initrd-start", initrd.address))
            properties.append(.u64("linux,initrd-end", initrd.end))
        }
        return FDTNode("chosen", properties)
    }

    private static func cpus(_ machine: VirtMachineDescription) -> FDTNode {
        var children: [FDTNode] = []
        for hart in 0..<machine.harts {
            children.append(FDTNode("cpu@\(hart)", [
                .string("device_type", "cpu"),
                .u32("reg", UInt32(hart)),
                .string("status", "okay"),
                .string("compatible", "riscv"),
                .string("riscv,isa", machine.isa),
                // The newer binding (Linux 6.7+ prefers it; QEMU 8 emits both): the base and the
                // extensions as a list instead of one string to parse.
                .string("riscv,isa-base", isaBase(machine.isa)),
                .strings("riscv,isa-extensions", isaExtensions(machine.isa)),
                .string("mmu-type", machine.mmuType),
                .u32("phandle", cpuPhandle(hart)),
            ], children: [
                // `#address-cells = 0`: an interrupt provider's unit addresses are empty, which
                // interrupt-map parsing (and dtc's interrupt_provider check) relies on.
                FDTNode("interrupt-controller", [
                    .u32("#address-cells", 0),
                    .u32("#interrupt-cells", 1),
                    .empty("interrupt-controller"),
                    .string("compatible", "riscv,cpu-intc"),
                    .u32("phandle", intcPhandle(hart)),
                ]),
            ]))
        }
        // The topology Linux reads for its scheduler domains: one cluster of single-hart cores.
        let cores = (0..<machine.harts).map { FDTNode("core\($0)", [.u32("cpu", cpuPhandle($0))]) }
        children.append(FDTNode("cpu-map", children: [FDTNode("cluster0", children: cores)]))
        return FDTNode("cpus", [
            .u32("#address-cells", 1),
            .u32("#size-cells", 0),
            .u32("timebase-frequency", UInt32(VirtPlatform.timebaseFrequency)),
        ], children: children)
    }

    private static func soc(_ machine: VirtMachineDescription) -> FDTNode {
        let plic = plicPhandle(harts: machine.harts)
        let harts = 0..<machine.harts
        var children: [FDTNode] = [
            FDTNode("test@\(unit(VirtPlatform.testFinisher.base))", [
                .strings("compatible", ["sifive,test1", "sifive,test0", "syscon"]),
                .reg64("reg", [(VirtPlatform.testFinisher.base, VirtPlatform.testFinisher.size)]),
                .u32("phandle", testPhandle(harts: machine.harts)),
            ]),
            FDTNode("rtc@\(unit(VirtPlatform.rtc.base))", [
                .string("compatible", "google,goldfish-rtc"),
                .reg64("reg", [(VirtPlatform.rtc.base, VirtPlatform.rtc.size)]),
                .u32("interrupt-parent", plic),
                .u32("interrupts", UInt32(VirtPlatform.rtcIRQ)),
            ]),
            // The CLINT drives each hart's machine software and timer interrupts.
            FDTNode("clint@\(unit(VirtPlatform.clint.base))", [
                .strings("compatible", ["sifive,clint0", "riscv,clint0"]),
                .reg64("reg", [(VirtPlatform.clint.base, VirtPlatform.clint.size)]),
                .cells("interrupts-extended", harts.flatMap {
                    [intcPhandle($0), machineSoftware, intcPhandle($0), machineTimer]
                }),
            ]),
            // PLIC contexts 2n and 2n+1 are hart n's M-mode and S-mode external interrupt inputs.
            FDTNode("plic@\(unit(VirtPlatform.plic.base))", [
                .u32("#interrupt-cells", 1),
                .u32("#address-cells", 0),
                .strings("compatible", ["sifive,plic-1.0.0", "riscv,plic0"]),
                .empty("interrupt-controller"),
                .reg64("reg", [(VirtPlatform.plic.base, VirtPlatform.plic.size)]),
                .u32("riscv,ndev", UInt32(VirtPlatform.plicSourceCount)),
                .cells("interrupts-extended", harts.flatMap {
                    [intcPhandle($0), machineExternal, intcPhandle($0), supervisorExternal]
                }),
                .u32("phandle", plic),
            ]),
            FDTNode("serial@\(unit(VirtPlatform.uart0.base))", [
                .string("compatible", "ns16550a"),
                .reg64("reg", [(VirtPlatform.uart0.base, VirtPlatform.uart0.size)]),
                .u32("clock-frequency", uartClockFrequency),
                .u32("interrupt-parent", plic),
                .u32("interrupts", UInt32(VirtPlatform.uart0IRQ)),
            ]),
        ]
        // Highest slot first, as QEMU's tree lists them: Linux probes in tree order, so the first
        // device (which QEMU and the board put in the top slot) becomes vda / the first NIC.
        for slot in (0..<machine.virtioSlots).reversed() {
            let region = VirtPlatform.virtio(slot: slot)
            children.append(FDTNode("virtio_mmio@\(unit(region.base))", [
                .string("compatible", "virtio,mmio"),
                .reg64("reg", [(region.base, region.size)]),
                .u32("interrupt-parent", plic),
                .u32("interrupts", UInt32(VirtPlatform.virtioIRQ(slot: slot))),
            ]))
        }
        return FDTNode("soc", [
            .u32("#address-cells", 2),
            .u32("#size-cells", 2),
            .string("compatible", "simple-bus"),
            .empty("ranges"),
        ], children: children)
    }

    /// Linux's syscon-poweroff/-reboot drivers write `value` to the test device to end the run.
    private static func syscon(_ name: String, compatible: String, value: UInt32, harts: Int) -> FDTNode {
        FDTNode(name, [
            .string("compatible", compatible),
            .u32("regmap", testPhandle(harts: harts)),
            .u32("offset", 0),
            .u32("value", value),
        ])
    }
}
