// The `virt` board: a `Machine` with QEMU virt's devices at QEMU virt's addresses, a generated
// device tree, and firmware and kernel loaded as QEMU's `-bios`/`-kernel`/`-initrd`/`-append` do.
//
//   0x0010_0000 test finisher   0x0200_0000 CLINT          0x1000_0000 UART (PLIC 10)
//   0x0010_1000 goldfish RTC    0x0C00_0000 PLIC           0x1000_1000 + n*0x1000 virtio-mmio n (PLIC 1+n)
//   (PLIC 11)                                              0x8000_0000 RAM
//
// Virtio devices take the slots from the top (the first disk at 0x1000_8000), as QEMU places them.
// Console output from the UART, the SBI console and HTIF all goes to one capture, in order.
import Devices
import Foundation
import Machine

public final class VirtBoard {
    public let configuration: VirtBoardConfiguration
    public let machine: Machine
    /// Everything the guest printed, on any console.
    public let console: ConsoleCapture
    /// Guest misbehaviour the devices and firmware noticed (bad register accesses, stray traps).
    public let errors: GuestErrorLog
    public let clint: CLINT
    public let plic: PLIC
    public let uart: UART16550
    public let testFinisher: TestFinisher
    public let rtc: GoldfishRTC
    /// The eight virtio-mmio transports, slot 0 (0x10001000) first; disks, then network cards,
    /// fill them from the top.
    public let virtio: [VirtioMMIO]
    public let disks: [VirtioBlock]
    /// The network cards, in `configuration.nics`' order. Their cables plug into nothing (frames
    /// sent are dropped and counted) unless looped back or connected to a switch
    /// (`VirtioNet.connect(to:)`), which whoever shares the switch between boards does.
    public let nics: [VirtioNet]
    /// The virtio-console, when configured: its output goes to `console`, and `enqueueInput`
    /// feeds it as it feeds the UART.
    public let virtioConsole: VirtioConsole?
    /// The virtio-rng, when configured.
    public let rng: VirtioRNG?
    public let htif: HTIF?
    /// Every device's interrupt line, by PLIC source (UART 10, RTC 11, virtio slot n at 1 + n): where
    /// a VMM masks (drops, delays) or pulses (spurious) a device interrupt.
    public let interruptLines: [Int: InterruptLine]
    /// The built-in SBI, when the board boots without firmware instructions.
    public let firmware: BuiltinFirmware?
    /// What was loaded where, and how the harts started.
    public let plan: BootPlan
    /// What `BootLoader` loaded, kept for `reboot`.
    let bootConfiguration: BootConfiguration

    /// The kernel's bytes as they were read at boot (a file is read once, with its checks), or
    /// nil when the board booted none.
    public var kernelImage: [UInt8]? {
        if case .bytes(let bytes, _)? = bootConfiguration.kernel { return bytes }
        return nil
    }

    /// The machine's devices and firmware point back at it; letting go of the board lets go of
    /// them all (see `Machine.detachAllDevices`).
    deinit { machine.detachAllDevices() }

    /// Builds the machine, loads the images and starts the harts; nothing runs until `run`.
    public init(_ configuration: VirtBoardConfiguration) throws(BootError) {
        let slots = try Self.validate(configuration)
        self.configuration = configuration
        let machine = Machine(configuration.machineConfiguration)
        // Devices reach the guest's RAM only, never the VMM's hidden memory behind it.
        machine.dmaLimit = Self.guestRAM(configuration).end
        self.machine = machine
        let errors = GuestErrorLog()
        self.errors = errors
        console = ConsoleCapture(echo: configuration.consoleEcho ? { bytes in
            FileHandle.standardOutput.write(Data(bytes))
        } : nil)

        let plic = PLIC(hartCount: configuration.harts, pins: machine, gateway: configuration.plicGateway, errors: errors)
        self.plic = plic
        clint = CLINT(hartCount: configuration.harts, pins: machine, time: machine, errors: errors)
        var lines: [Int: InterruptLine] = [:]
        func line(_ source: Int) -> InterruptLine {
            let l = InterruptLine(plic, source: source)
            lines[source] = l
            return l
        }
        uart = UART16550(irq: line(VirtPlatform.uart0IRQ), sink: console, time: machine, errors: errors)
        testFinisher = TestFinisher(onFinish: { [unowned machine] event in
            machine.requestStop(Self.stopReason(for: event))
        }, errors: errors)
        rtc = GoldfishRTC(time: machine, irq: line(VirtPlatform.rtcIRQ), errors: errors)
        var disks: [VirtioBlock] = []
        for disk in configuration.disks {
            do {
                disks.append(VirtioBlock(image: try BlockImage(path: disk.path, mode: disk.mode)))
            } catch .notRegularFile(_, let kind) {
                throw .notRegularFile(role: "disk", path: disk.path, kind: kind)
            } catch .partialSector(_, let size) {
                throw .partialSector(role: "disk", path: disk.path, size: size)
            } catch .cannotOpen(_, let code) where code == ENOENT || code == ENOTDIR {
                // Worded as a missing kernel or initrd is, not "cannot read disk: cannot open disk image".
                throw .missingFile(role: "disk", path: disk.path)
            } catch .cannotOpen(_, let code) {
                throw .unreadableFile(role: "disk", path: disk.path, reason: HostFileKind.reason(code))
            } catch {
                throw .unreadableFile(role: "disk", path: disk.path, reason: error.description)
            }
        }
        self.disks = disks
        // As QEMU numbers default addresses: only the cards without one count.
        var defaults = 0
        nics = configuration.nics.map { nic in
            let mac = nic.mac ?? NICConfiguration.defaultMAC(index: defaults)
            if nic.mac == nil { defaults += 1 }
            let card = VirtioNet(mac: mac, loopback: nic.loopback)
            card.time = machine
            return card
        }
        let virtioConsole = configuration.virtioConsole ? VirtioConsole(sink: console) : nil
        let rng = configuration.rngSeed.map { VirtioRNG(seed: $0) }
        self.virtioConsole = virtioConsole
        self.rng = rng
        var backends = [(any VirtioBackend)?](repeating: nil, count: VirtPlatform.virtioSlotCount)
        let others: [any VirtioBackend] = Self.otherVirtioDevices(configuration).map { kind in
            switch kind {
            case .console: virtioConsole!
            case .rng: rng!
            }
        }
        let devices: [any VirtioBackend] = disks + nics + others
        precondition(devices.count == slots.count, "a slot for every virtio device")
        for (device, slot) in zip(devices, slots) { backends[slot] = device }
        virtio = (0..<VirtPlatform.virtioSlotCount).map { slot in
            VirtioMMIO(backend: backends[slot], memory: machine,
                       irq: line(VirtPlatform.virtioIRQ(slot: slot)), errors: errors)
        }
        interruptLines = lines

        machine.attach(testFinisher, at: VirtPlatform.testFinisher.base)
        machine.attach(rtc, at: VirtPlatform.rtc.base)
        machine.attach(clint, at: VirtPlatform.clint.base)
        machine.attach(plic, at: VirtPlatform.plic.base)
        machine.attach(uart, at: VirtPlatform.uart0.base)
        for (slot, transport) in virtio.enumerated() { machine.attach(transport, at: VirtPlatform.virtio(slot: slot).base) }

        var description = VirtMachineDescription(
            ram: RAMRegion(base: VirtPlatform.ram.base, size: configuration.memory), harts: configuration.harts,
            isa: configuration.advertisedISA, mmuType: configuration.mmuType)
        description.bootargs = configuration.bootargs
        // Images are read once, as QEMU keeps its ROM blobs: a reboot reloads these bytes, whatever
        // happened to the files since.
        var firmwareChoice = configuration.firmware
        if case .elf(let source) = configuration.firmware { firmwareChoice = .elf(try Self.resolve(source, role: "firmware", ram: configuration.memory)) }
        let boot = BootConfiguration(firmware: firmwareChoice,
                                     kernel: try configuration.kernel.map { source throws(BootError) in try Self.resolve(source, role: "kernel", ram: configuration.memory) },
                                     kernelAddress: configuration.kernelAddress,
                                     initrd: try configuration.initrd.map { source throws(BootError) in try Self.resolve(source, role: "initrd", ram: configuration.memory) },
                                     bootargs: configuration.bootargs, machine: description)
        bootConfiguration = boot
        let plan = try BootLoader.load(boot, into: machine)
        self.plan = plan

        htif = configuration.htif ? Self.attachHTIF(plan: plan, machine: machine, console: console, errors: errors) : nil

        if configuration.firmware == .builtin {
            let firmware = BuiltinFirmware(machine: machine, console: console, errors: errors)
            machine.trapHandler = firmware
            machine.addTimedDevice(firmware.sbi)
            self.firmware = firmware
        } else {
            firmware = nil
        }
        startHarts()
    }

    /// Brings the harts to their boot state: the built-in firmware's M-mode set-up, then hart 0 (or
    /// every hart, for M-mode firmware) at the entry with `a0 = hartid`, `a1 = dtb` and, for M-mode
    /// firmware, `a2` = its fw_dynamic_info (as QEMU's reset vector sets them).
    private func startHarts() {
        if let firmware {
            for hart in 0..<configuration.harts { firmware.prepare(machine: machine, hart: hart) }
        }
        let privilege: PrivilegeMode = plan.mode == .supervisor ? .supervisor : .machine
        for hart in 0..<configuration.harts where hart == 0 || plan.secondaryHartsStart {
            machine.startHart(hart, privilege: privilege, pc: plan.entry, a0: UInt64(hart), a1: plan.deviceTreeAddress,
                              a2: plan.firmwareInfoAddress)
        }
    }

    /// Starts again as after power-on, what a `.reset` stop (SRST reboot, the test finisher's 0x7777)
    /// asks of the host: harts reset (`Machine.reset`), RAM cleared and every image reloaded, the
    /// SBI's timers and suspend state forgotten. Device registers keep their values — the device
    /// models have no reset yet — which firmware and kernels tolerate because they program every
    /// device they use (a virtio driver resets its device first). Console output is kept.
    public func reboot() throws(BootError) {
        machine.reset(clearRAM: true)
        let reloaded = try BootLoader.load(bootConfiguration, into: machine)
        precondition(reloaded == plan, "the same bytes loaded differently")
        firmware?.reset()
        startHarts()
    }

    /// Runs until the guest powers off, resets, the budget is spent, or nothing can happen.
    @discardableResult
    public func run(maxInstructions: UInt64 = .max, maxCycles: UInt64 = .max) -> StopReason {
        machine.run(maxInstructions: maxInstructions, maxCycles: maxCycles)
    }

    /// The device tree handed to the guest.
    public var deviceTree: DeviceTree { plan.deviceTree }

    /// The guest's RAM: `memory` bytes at the RAM base. The machine's RAM may go on after it with
    /// the VMM's hidden memory, which is not the guest's.
    public var guestRAM: MemoryRange { Self.guestRAM(configuration) }

    /// The guest's RAM on a board built from `configuration`.
    public static func guestRAM(_ configuration: VirtBoardConfiguration) -> MemoryRange {
        MemoryRange(address: VirtPlatform.ram.base, size: configuration.memory)
    }

    /// Writes the guest's device tree blob to `path` (`vmlab boot --dump-dtb`).
    public func writeDeviceTree(to path: String) throws(BootError) { try plan.deviceTree.write(toFile: path) }

    /// Input for the guest: the UART receives it, and so do the SBI console (with the built-in
    /// firmware), HTIF (when mapped) and the virtio-console (when attached); each console the guest
    /// reads sees the same bytes.
    public func enqueueInput(_ bytes: [UInt8]) {
        uart.enqueueInput(bytes)
        virtioConsole?.enqueueInput(bytes)
        firmware?.enqueueInput(bytes)
        htif?.enqueueInput(bytes)
    }

    // MARK: -

    /// The most RAM a board may have.
    static let maximumMemory: UInt64 = 1 << 40

    /// Checks the configuration; returns the virtio-mmio slot of each disk, then of each card.
    static func validate(_ c: VirtBoardConfiguration) throws(BootError) -> [Int] {
        guard (1...64).contains(c.harts) else {
            throw .invalidConfiguration("harts must be 1...64 (got \(c.harts))")
        }
        // The bounds first: a size far too large (math.maxinteger) is above the maximum, whatever
        // else is wrong with it.
        guard c.memory >= 1 << 20 else {
            throw .invalidConfiguration("memory must be at least 1 MiB and a whole number of 4 KiB pages (got \(c.memory) bytes)")
        }
        guard c.memory <= maximumMemory else {
            throw .invalidConfiguration("memory must be at most 1 TiB (got \(c.memory) bytes)")
        }
        guard c.memory % 4096 == 0 else {
            throw .invalidConfiguration("memory must be a whole number of 4 KiB pages (got \(c.memory) bytes)")
        }
        guard [0, 16, 64].contains(c.machine.pmpEntries) else {
            throw .invalidConfiguration("PMP entries must be 0, 16 or 64 (got \(c.machine.pmpEntries))")
        }
        for (i, nic) in c.nics.enumerated() {
            guard let mac = nic.mac else { continue }
            guard mac.count == 6 else {
                throw .invalidConfiguration("nic \(i + 1): a MAC address is 6 bytes (got \(mac.count))")
            }
            // As QEMU refuses one: a card answers to its address, and a group address is many cards'.
            guard mac[0] & 1 == 0 else {
                throw .invalidConfiguration("nic \(i + 1): \(VirtioNet.describeMAC(mac)) is a multicast address (the low bit of its first byte is set); a card needs a unicast one")
            }
        }
        return try virtioSlots(disks: c.disks, nics: c.nics, others: otherVirtioDevices(c).map(\.name))
    }

    /// The virtio devices without a slot option, as they take the slots after the disks and cards.
    enum OtherVirtioDevice {
        case console, rng

        /// As the message about too many devices names it.
        var name: String {
            switch self {
            case .console: "a console"
            case .rng: "an RNG"
            }
        }
    }

    /// The configuration's other virtio devices, in slot order: `validate` gives them slots and
    /// `init` puts the backends there, both from this one list.
    static func otherVirtioDevices(_ c: VirtBoardConfiguration) -> [OtherVirtioDevice] {
        (c.virtioConsole ? [.console] : []) + (c.rngSeed != nil ? [.rng] : [])
    }

    /// The virtio-mmio slot of each disk, then of each network card, then of each of `others`
    /// (devices without a slot option, named as the message about too many devices names them):
    /// the slot it names, else the highest slot still free, so that devices without one sit where
    /// QEMU puts its devices (the first at 0x10008000, PLIC 8; `VirtPlatform.qemuVirtioSlot(forDevice:)`),
    /// in this order, as when QEMU's command line names them so. A guest that looks only at slot 0,
    /// as xv6 does (QEMU's `bus=virtio-mmio-bus.0`), needs its disk given slot 0.
    public static func virtioSlots(disks: [DiskConfiguration], nics: [NICConfiguration] = [],
                                   others: [String] = []) throws(BootError) -> [Int] {
        let count = VirtPlatform.virtioSlotCount
        let devices: [(kind: String, number: Int, name: String, slot: Int?)] =
            disks.enumerated().map { ("disk", $0 + 1, "disk \($0 + 1) (\($1.path))", $1.slot) }
            + nics.enumerated().map { ("nic", $0 + 1, "nic \($0 + 1)", $1.slot) }
            + others.enumerated().map { ("other", $0 + 1, $1, nil) }
        var taken = [Int?](repeating: nil, count: count)            // slot → device index
        for (i, device) in devices.enumerated() {
            guard let slot = device.slot else { continue }
            guard (0..<count).contains(slot) else {
                throw .invalidConfiguration("\(device.name): slot \(slot) does not exist (virtio-mmio slots are 0 to \(count - 1))")
            }
            if let other = taken[slot] {
                let first = devices[other]
                let both = first.kind == device.kind
                    ? "\(device.kind)s \(first.number) and \(device.number)"
                    : "\(first.kind) \(first.number) and \(device.kind) \(device.number)"
                throw .invalidConfiguration("\(both) both ask for virtio-mmio slot \(slot)")
            }
            taken[slot] = i
        }
        var slots: [Int] = []
        for (i, device) in devices.enumerated() {
            if let slot = device.slot { slots.append(slot); continue }
            guard let free = (0..<count).reversed().first(where: { taken[$0] == nil }) else {
                let got = nics.isEmpty && others.isEmpty ? "disks fit the virtio-mmio slots (got \(disks.count))"
                    : disks.isEmpty && others.isEmpty ? "network cards fit the virtio-mmio slots (got \(nics.count))"
                    : "virtio devices fit the virtio-mmio slots (got " + ([
                        disks.isEmpty ? nil : "\(disks.count) disk\(disks.count == 1 ? "" : "s")",
                        nics.isEmpty ? nil : "\(nics.count) network card\(nics.count == 1 ? "" : "s")",
                    ].compactMap { $0 } + others).joined(separator: ", ") + ")"
                throw .invalidConfiguration("at most \(count) \(got)")
            }
            taken[free] = i
            slots.append(free)
        }
        return slots
    }

    /// The image's bytes, read now (messages keep naming the file).
    static func resolve(_ source: ImageSource, role: String, ram: UInt64) throws(BootError) -> ImageSource {
        .bytes(try source.read(role: role, ram: ram), name: source.name)
    }

    static func stopReason(for event: FinisherEvent) -> StopReason {
        switch event {
        case .pass: .poweredOff(code: 0)
        case .fail(let code): .poweredOff(code: Int(truncatingIfNeeded: code))
        case .reset: .reset
        }
    }

    /// HTIF's words sit at the kernel's `tohost` and `fromhost` symbols (riscv-tests put them 64
    /// bytes apart). A symbol that is not an aligned RAM address, or that would overlap the other
    /// word, is ignored with a logged guest error rather than mapped over something else.
    static func attachHTIF(plan: BootPlan, machine: Machine, console: ConsoleCapture, errors: GuestErrorLog) -> HTIF? {
        guard let tohost = plan.kernelSymbol("tohost") else { return nil }
        let ram = RAMRegion(base: machine.configuration.ramBase, size: machine.configuration.ramSize)
        func usable(_ address: UInt64, _ name: String) -> Bool {
            guard address % 8 == 0, ram.contains(address, length: 8) else {
                errors.log("board", "\(name) at 0x\(String(address, radix: 16)) is not an aligned RAM address; not mapped")
                return false
            }
            return true
        }
        guard usable(tohost, "tohost") else { return nil }
        let device = HTIF(memory: machine, sink: console, onFinish: { [unowned machine] event in
            machine.requestStop(stopReason(for: event))
        }, errors: errors)
        machine.attach(device.tohostWindow, at: tohost)
        if let fromhost = plan.kernelSymbol("fromhost"), fromhost != tohost, usable(fromhost, "fromhost") {
            if fromhost &+ 8 <= tohost || tohost &+ 8 <= fromhost {
                machine.attach(device.fromhostWindow, at: fromhost)
            } else {
                errors.log("board", "fromhost at 0x\(String(fromhost, radix: 16)) overlaps tohost; not mapped")
            }
        }
        return device
    }
}
