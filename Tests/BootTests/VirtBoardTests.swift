import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Boot

/// The `virt` board end to end: real firmware, the project's own payload, real devices.
@Suite(.serialized) struct VirtBoardTests {
    static let openSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
    static let budget: UInt64 = 50_000_000

    static func board(firmware: Firmware, kernel: String, harts: Int = 1) throws -> VirtBoard {
        var configuration = VirtBoardConfiguration()
        configuration.firmware = firmware
        configuration.kernel = .file(kernel)
        configuration.harts = harts
        configuration.bootargs = "console=ttyS0"
        return try VirtBoard(configuration)
    }

    /// The payload under one of Debian's OpenSBI firmwares, or nil (with a note) when it is not
    /// installed: the board before it ran, how the run stopped, and the console with OpenSBI's
    /// carriage returns (before each newline, its own and the payload's) taken out.
    static func payloadUnderOpenSBI(_ firmware: String, harts: Int = 1,
                                    before: (VirtBoard) throws -> Void = { _ in }) throws -> (stop: StopReason, text: String)? {
        guard FileManager.default.fileExists(atPath: firmware) else {
            print("skipping: \(firmware) not installed (apt install opensbi)")
            return nil
        }
        guard let payload = Guests.path("payload", "payload.bin") else { return nil }
        let board = try Self.board(firmware: .elf(.file(firmware)), kernel: payload, harts: harts)
        try before(board)
        let stop = board.run(maxInstructions: Self.budget)
        return (stop, board.console.text.replacingOccurrences(of: "\r\n", with: "\n"))
    }

    /// The acceptance test: Debian's OpenSBI prints its banner and hands over to the payload, which
    /// prints through the legacy SBI console and the UART and powers off through SRST.
    @Test func openSBIBootsThePayload() throws {
        guard let (stop, text) = try Self.payloadUnderOpenSBI(Self.openSBI) else { return }
        #expect(stop == .poweredOff(code: 0), "console:\n\(text)")
        #expect(text.contains("OpenSBI v1."))
        #expect(text.contains("Domain0 Next Address      : 0x0000000080200000"))
        #expect(text.contains("payload: hello through the legacy SBI console\n"))
        #expect(text.contains("payload: hello through the UART\n"))
        #expect(text.contains("payload: hart 0, device tree at 0x0000000082200000"))
        #expect(text.contains("payload: powering off through SBI SRST\n"))
        #expect(!text.contains("SRST returned"))
    }

    /// fw_dynamic, QEMU's default -bios, learns where the kernel is from the fw_dynamic_info that
    /// a2 points at on every hart.
    @Test func openSBIDynamicFirmwareBootsThePayload() throws {
        let dynamic = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf"
        guard let (stop, text) = try Self.payloadUnderOpenSBI(dynamic, harts: 2, before: { board in
            let info = try #require(board.plan.firmwareInfoAddress)
            for hart in 0..<2 { #expect(board.machine.register(12, hart: hart) == info) }
        }) else { return }
        #expect(stop == .poweredOff(code: 0), "console:\n\(text)")
        #expect(text.contains("Firmware Base             : 0x80000000"))
        #expect(text.contains("Domain0 Next Address      : 0x0000000080200000"))
        #expect(text.contains("Domain0 Next Mode         : S-mode"))
        #expect(text.contains("payload: powering off through SBI SRST\n"))
    }

    @Test func builtinSBIBootsThePayload() throws {
        guard let payload = Guests.path("payload", "payload.bin") else { return }
        let board = try Self.board(firmware: .builtin, kernel: payload)
        let stop = board.run(maxInstructions: Self.budget)
        let text = board.console.text
        #expect(stop == .poweredOff(code: 0), "console:\n\(text)")
        #expect(text.hasPrefix("payload: hello through the legacy SBI console\n"
                               + "payload: hello through the SBI debug console\n"
                               + "payload: hello through the UART\n"), "console:\n\(text)")
        #expect(text.contains("payload: hart 0, device tree at 0x0000000087e00000"))
        #expect(text.contains("payload: SBI specification 2.0, implementation 0x00000000766d6c62\n"))
        #expect(board.machine.privilege() == .supervisor)
        #expect(board.errors.messages.isEmpty, "\(board.errors.messages)")
        // Every SBI call was served in Swift: counted per extension.
        let calls = try #require(board.firmware?.sbi.callCounts)
        #expect(calls[0x01, default: 0] == UInt64("payload: hello through the legacy SBI console\n".utf8.count))
        #expect(calls[0x5352_5354] == 1)
        #expect(board.firmware?.sbi.callsByExtension["SRST"] == 1)
        #expect(board.firmware?.sbi.callsByExtension["DBCN"] == 1)
    }

    /// The M-mode state the built-in firmware leaves, as OpenSBI would before its first mret.
    @Test func builtinFirmwarePreparesEveryHart() throws {
        var configuration = VirtBoardConfiguration()
        configuration.kernel = .bytes([0x6f, 0, 0, 0], name: "loop")
        configuration.harts = 2
        let board = try VirtBoard(configuration)
        for hart in 0..<2 {
            #expect(board.machine.readCSR(0x302, hart: hart) == 0xB1FF)   // medeleg
            #expect(board.machine.readCSR(0x303, hart: hart) == 0x222)    // mideleg
            #expect(board.machine.readCSR(0x306, hart: hart) == 0xFFFF_FFFF)   // mcounteren
            #expect(board.machine.readCSR(0x3B0, hart: hart) == UInt64.max >> 10)   // pmpaddr0: everything
        }
        #expect(board.machine.privilege(hart: 0) == .supervisor)
        #expect(board.machine.pc(hart: 0) == 0x8020_0000)
        #expect(board.machine.register(10, hart: 0) == 0)
        #expect(board.machine.register(11, hart: 0) == board.plan.deviceTreeAddress)
        #expect(board.machine.runState(hart: 0) == .started)
        #expect(board.machine.runState(hart: 1) == .stopped)
    }

    @Test func builtinSBIBootsThePayloadELFOnTwoHarts() throws {
        guard let payload = Guests.path("payload", "payload.elf") else { return }
        let board = try Self.board(firmware: .builtin, kernel: payload, harts: 2)
        #expect(board.machine.runState(hart: 1) == .stopped)   // waits for HSM hart_start
        let stop = board.run(maxInstructions: Self.budget)
        #expect(stop == .poweredOff(code: 0), "console:\n\(board.console.text)")
    }

    /// SBI calls through real interrupts: set_timer → STIP, send_ipi → SSIP, HSM start/stop of hart
    /// 1 — served by the built-in SBI, or by OpenSBI through the CLINT and M-mode interrupts.
    @Test(arguments: [(false, 1), (false, 2), (true, 1), (true, 2)])
    func sbitestPasses(openSBI: Bool, harts: Int) throws {
        if openSBI && !FileManager.default.fileExists(atPath: Self.openSBI) {
            print("skipping: \(Self.openSBI) not installed")
            return
        }
        guard let sbitest = Guests.path("payload", "sbitest.bin") else { return }
        let board = try Self.board(firmware: openSBI ? .elf(.file(Self.openSBI)) : .builtin, kernel: sbitest, harts: harts)
        let stop = board.run(maxInstructions: 4 * Self.budget)
        let text = board.console.text.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(stop == .poweredOff(code: 0), "console:\n\(text)")
        #expect(text.contains("sbitest: IPI delivered\n"))
        #expect(text.contains("sbitest: timer interrupt after "))
        #expect(text.contains(" started, reported and stopped\n") == (harts > 1))
        #expect(text.contains("sbitest: remote fences done\n"))
        #expect(text.hasSuffix("sbitest: all checks passed\n"), "console:\n\(text)")
    }

    /// Same images, same budget: the same console, instruction count and modelled time, bit for bit.
    @Test func bootsAreDeterministic() throws {
        guard let sbitest = Guests.path("payload", "sbitest.bin") else { return }
        func run() throws -> (String, UInt64, UInt64, StopReason) {
            let board = try Self.board(firmware: .builtin, kernel: sbitest, harts: 2)
            let stop = board.run(maxInstructions: Self.budget)
            let instructions = (0..<2).map { board.machine.counters(hart: $0).instructions }.reduce(0, +)
            return (board.console.text, instructions, board.machine.mtime, stop)
        }
        let first = try run(), second = try run()
        #expect(first.3 == .poweredOff(code: 0))
        #expect(first.0 == second.0)
        #expect(first.1 == second.1)
        #expect(first.2 == second.2)
    }

    /// After a stop, `reboot` runs the same boot again from power-on: same output, same result.
    @Test(arguments: [false, true])
    func rebootRunsTheBootAgain(openSBI: Bool) throws {
        if openSBI && !FileManager.default.fileExists(atPath: Self.openSBI) { return }
        guard let payload = Guests.path("payload", "payload.bin") else { return }
        let board = try Self.board(firmware: openSBI ? .elf(.file(Self.openSBI)) : .builtin, kernel: payload)
        #expect(board.run(maxInstructions: Self.budget) == .poweredOff(code: 0))
        let first = board.console.text
        board.machine.setRegister(11, 0xdead, hart: 0)   // state a reboot must not keep
        try board.reboot()
        #expect(board.machine.register(11, hart: 0) == board.plan.deviceTreeAddress)
        #expect(board.run(maxInstructions: Self.budget) == .poweredOff(code: 0))
        #expect(board.console.text == first + first, "console:\n\(board.console.text)")
    }

    @Test func aBareMetalProgramRunsWithoutFirmware() throws {
        guard let hello = Guests.path("examples", "hello.elf") else { return }
        let board = try Self.board(firmware: .none, kernel: hello)
        let stop = board.run(maxInstructions: Self.budget)
        #expect(stop == .poweredOff(code: 0), "console:\n\(board.console.text)")
        #expect(!board.console.text.isEmpty)
    }

    /// With no M-mode firmware, a trap that reaches M-mode other than an S-mode ecall (everything
    /// else is delegated, so only a hart bug or a future cause gets here) stops the run with a
    /// message instead of vectoring to an mtvec nobody set.
    @Test func aTrapNoFirmwareHandlesStopsTheRun() throws {
        var configuration = VirtBoardConfiguration()
        configuration.kernel = .bytes([0x6f, 0, 0, 0], name: "loop")   // j .
        let board = try VirtBoard(configuration)
        let firmware = try #require(board.firmware)
        firmware.stopForUnhandledTrap(cause: 19, privilege: .supervisor, pc: 0x8020_0000, tval: 0x1234,
                                      machine: board.machine, hart: 0)
        let message = "no firmware handles hardwareError from supervisor mode at pc 0x80200000 (tval 0x1234) on hart 0"
        #expect(board.run(maxInstructions: 1000) == .hostStop(message))
        #expect(board.errors.messages.last?.contains(message) == true)
    }

    @Test func misconfigurationsAreErrors() {
        func message(_ change: (inout VirtBoardConfiguration) -> Void) -> String? {
            var configuration = VirtBoardConfiguration()
            configuration.kernel = .bytes([0x6f, 0, 0, 0], name: "loop")
            change(&configuration)
            do { _ = try VirtBoard(configuration); return nil } catch { return error.description }
        }
        #expect(message { $0.harts = 0 } == "harts must be 1...64 (got 0)")
        #expect(message { $0.memory = 12345 }?.hasPrefix("memory must be at least 1 MiB") == true)
        #expect(message { $0.memory = UInt64(Int64.max) } == "memory must be at most 1 TiB (got 9223372036854775807 bytes)")
        #expect(message { $0.memory = (1 << 20) + 1 } == "memory must be a whole number of 4 KiB pages (got 1048577 bytes)")
        #expect(message { $0.kernel = .file("/nonexistent/payload.bin") } == "kernel '/nonexistent/payload.bin' does not exist")
        #expect(message { $0.disks = [DiskConfiguration(path: "/nonexistent/disk.img")] } == "disk '/nonexistent/disk.img' does not exist")
        #expect(message { $0.memory = 2 << 20 }?.hasPrefix("kernel at 0x80200000") == true)
        // A disk image must be a regular file: a directory's size is no image's (it had 2^54-1 sectors).
        let folder = FileManager.default.temporaryDirectory.path
        #expect(message { $0.disks = [DiskConfiguration(path: folder)] } == "disk '\(folder)' is a directory")
        #expect(message { $0.disks = [DiskConfiguration(path: "/dev/zero", mode: .writable)] }
                == "disk '/dev/zero' is not a regular file (a character device)")
    }

    /// Disks without a slot take the free slots from the top, as QEMU places its devices; a disk
    /// may name its slot (QEMU's `bus=virtio-mmio-bus.N`; xv6 looks only at slot 0).
    @Test func disksTakeTheirSlotOrQEMUsOrder() throws {
        func slots(_ wanted: [Int?]) throws(BootError) -> [Int] {
            try VirtBoard.virtioSlots(disks: wanted.map { DiskConfiguration(path: "d", slot: $0) })
        }
        #expect(try slots([nil, nil, nil]) == [7, 6, 5])
        #expect(try slots([0]) == [0])
        #expect(try slots([nil, 7, nil, 0]) == [6, 7, 5, 0], "named slots first, the others around them")
        #expect(try slots(Array(repeating: nil, count: 8)) == [7, 6, 5, 4, 3, 2, 1, 0])
        func problem(_ wanted: [Int?]) -> String? {
            do { _ = try slots(wanted); return nil } catch { return error.description }
        }
        #expect(problem([8]) == "disk 1 (d): slot 8 does not exist (virtio-mmio slots are 0 to 7)")
        #expect(problem([nil, -1]) == "disk 2 (d): slot -1 does not exist (virtio-mmio slots are 0 to 7)")
        #expect(problem([3, nil, 3]) == "disks 1 and 3 both ask for virtio-mmio slot 3")
        #expect(problem(Array(repeating: nil, count: 9)) == "at most 8 disks fit the virtio-mmio slots (got 9)")

        // The board puts the device there: slot 0 answers as a block device (ID 2), slot 7 as none.
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("slot-\(getpid()).img").path
        FileManager.default.createFile(atPath: image, contents: Data(count: 4096))
        defer { try? FileManager.default.removeItem(atPath: image) }
        var configuration = VirtBoardConfiguration()
        configuration.kernel = .bytes([0x6f, 0, 0, 0], name: "loop")
        configuration.disks = [DiskConfiguration(path: image, slot: 0)]
        let board = try VirtBoard(configuration)
        #expect(board.virtio[0].mmioRead(offset: 8, size: 4) == 2)
        #expect(board.virtio[7].mmioRead(offset: 8, size: 4) == 0)
    }

    /// Network cards take the slots the disks leave, from the top, unless they name one; a slot
    /// asked for by a disk and a card is refused naming both, as is a ninth device.
    @Test func networkCardsTakeTheSlotsTheDisksLeave() throws {
        func slots(disks: [Int?], nics: [Int?]) throws(BootError) -> [Int] {
            try VirtBoard.virtioSlots(disks: disks.map { DiskConfiguration(path: "d", slot: $0) },
                                      nics: nics.map { NICConfiguration(slot: $0) })
        }
        #expect(try slots(disks: [nil], nics: [nil, nil]) == [7, 6, 5], "disks first, as when qemu's command line names them first")
        #expect(try slots(disks: [nil], nics: [7]) == [6, 7], "a card's slot is taken before a disk looks for a free one")
        #expect(try slots(disks: [], nics: [nil, 0]) == [7, 0])
        func problem(disks: [Int?], nics: [Int?]) -> String? {
            do { _ = try slots(disks: disks, nics: nics); return nil } catch { return error.description }
        }
        #expect(problem(disks: [3], nics: [3]) == "disk 1 and nic 1 both ask for virtio-mmio slot 3")
        #expect(problem(disks: [], nics: [nil, 2, 2]) == "nics 2 and 3 both ask for virtio-mmio slot 2")
        #expect(problem(disks: [], nics: [9]) == "nic 1: slot 9 does not exist (virtio-mmio slots are 0 to 7)")
        #expect(problem(disks: [nil, nil, nil], nics: Array(repeating: nil, count: 6))
                == "at most 8 virtio devices fit the virtio-mmio slots (got 3 disks, 6 network cards)")
        // The console and the RNG take the free slots after the cards.
        #expect(try VirtBoard.virtioSlots(disks: [DiskConfiguration(path: "d")], nics: [NICConfiguration(slot: 6)],
                                          others: ["a console", "an RNG"]) == [7, 6, 5, 4])
        do {
            _ = try VirtBoard.virtioSlots(disks: [], nics: Array(repeating: NICConfiguration(), count: 7), others: ["a console", "an RNG"])
            Issue.record("nine devices fitted eight slots")
        } catch {
            #expect(error.description == "at most 8 virtio devices fit the virtio-mmio slots (got 7 network cards, a console, an RNG)")
        }
        #expect(problem(disks: [], nics: Array(repeating: nil, count: 9)) == "at most 8 network cards fit the virtio-mmio slots (got 9)")
    }

    /// The board builds each card where its slot says: the transport reads device ID 1 (network)
    /// and the card's address in its configuration space. Cards without an address get QEMU's
    /// defaults, counted over those cards only; a malformed or group address is refused.
    @Test func theBoardBuildsNetworkCards() throws {
        var configuration = VirtBoardConfiguration()
        configuration.kernel = .bytes([0x6f, 0, 0, 0], name: "loop")
        configuration.nics = [NICConfiguration(), NICConfiguration(mac: [0x52, 0x54, 0, 0, 0, 0x0a], slot: 0), NICConfiguration(loopback: true)]
        let board = try VirtBoard(configuration)
        #expect(board.nics.map(\.macString) == ["52:54:00:12:34:56", "52:54:00:00:00:0a", "52:54:00:12:34:57"])
        #expect(board.nics.map(\.loopback) == [false, false, true])
        #expect([7, 0, 6].map { board.virtio[$0].mmioRead(offset: 8, size: 4) } == [1, 1, 1])
        #expect(board.virtio[5].mmioRead(offset: 8, size: 4) == 0)
        // Configuration space at 0x100: the MAC, a byte at a time.
        #expect((0..<6).map { board.virtio[0].mmioRead(offset: 0x100 + $0, size: 1) } == [0x52, 0x54, 0, 0, 0, 0x0a])

        func message(_ mac: [UInt8]) -> String? {
            var c = configuration
            c.nics = [NICConfiguration(), NICConfiguration(mac: mac)]
            do { _ = try VirtBoard(c); return nil } catch { return error.description }
        }
        #expect(message([0x52, 0x54, 0, 0, 0]) == "nic 2: a MAC address is 6 bytes (got 5)")
        #expect(message([0x33, 0x33, 0, 0, 0, 1]) == "nic 2: 33:33:00:00:00:01 is a multicast address (the low bit of its first byte is set); a card needs a unicast one")
    }

    /// The virtio-console and virtio-rng go after the disks and cards: device IDs 3 and 4; the
    /// console writes to the board's capture and reads the board's input.
    @Test func theBoardBuildsAConsoleAndAnRNG() throws {
        var configuration = VirtBoardConfiguration()
        configuration.kernel = .bytes([0x6f, 0, 0, 0], name: "loop")
        configuration.nics = [NICConfiguration()]
        configuration.virtioConsole = true
        configuration.rngSeed = 7
        let board = try VirtBoard(configuration)
        #expect([7, 6, 5, 4].map { board.virtio[$0].mmioRead(offset: 8, size: 4) } == [1, 3, 4, 0])
        #expect(board.rng?.seed == 7)
        board.enqueueInput(Array("typed".utf8))
        #expect(board.virtioConsole?.pendingInputCount == 5)
        var without = configuration
        without.virtioConsole = false
        without.rngSeed = nil
        let plain = try VirtBoard(without)
        #expect(plain.virtioConsole == nil && plain.rng == nil)
        #expect(plain.virtio[6].mmioRead(offset: 8, size: 4) == 0)
    }

    @Test func dumpsTheDeviceTreeItBooted() throws {
        var configuration = VirtBoardConfiguration()
        configuration.kernel = .bytes([0x6f, 0, 0, 0], name: "loop")
        configuration.bootargs = "quiet"
        let board = try VirtBoard(configuration)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-board-\(getpid()).dtb").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try board.writeDeviceTree(to: path)
        let blob = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try DeviceTree(flattened: blob) == board.deviceTree)
        #expect(board.machine.readPhysical(at: board.plan.deviceTreeAddress, count: blob.count) == blob)
    }

    /// Every CPU node's `mmu-type` names the widest translation mode the harts implement: Sv57,
    /// or Sv48 on a machine configured without it (QEMU 7.2 says Sv48 while implementing Sv57).
    @Test(arguments: [(true, "riscv,sv57"), (false, "riscv,sv48")])
    func theDeviceTreeNamesTheWidestTranslationMode(sv57: Bool, mmuType: String) throws {
        var configuration = VirtBoardConfiguration()
        configuration.kernel = .bytes([0x6f, 0, 0, 0], name: "loop")
        configuration.harts = 2
        configuration.machine.sv57 = sv57
        let board = try VirtBoard(configuration)
        for hart in 0..<2 {
            #expect(board.deviceTree.root.node(at: "/cpus/cpu@\(hart)")?.property("mmu-type")?.stringValues == [mmuType])
        }
        // The harts agree: satp takes mode 10 (Sv57) only when the device tree says so.
        board.machine.writeCSR(0x180, 10 << 60)
        #expect(board.machine.readCSR(0x180)! >> 60 == (sv57 ? 10 : 0))
    }

    /// A device tree that cannot be written says why in the system's words (a directory gave
    /// "NSCocoaErrorDomain error 512").
    @Test func aDeviceTreeThatCannotBeWrittenSaysWhy() throws {
        var configuration = VirtBoardConfiguration()
        configuration.kernel = .bytes([0x6f, 0, 0, 0], name: "loop")
        let board = try VirtBoard(configuration)
        let folder = FileManager.default.temporaryDirectory.path
        #expect(throws: BootError.unwritableFile(path: folder, reason: "Is a directory")) { try board.writeDeviceTree(to: folder) }
        #expect(throws: BootError.unwritableFile(path: "/nonexistent/x.dtb", reason: "No such file or directory")) {
            try board.writeDeviceTree(to: "/nonexistent/x.dtb")
        }
    }
}
