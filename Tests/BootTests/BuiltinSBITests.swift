import Testing
@testable import Boot

@Suite struct BuiltinSBITests {
    static let base: UInt64 = 0x10, time: UInt64 = 0x5449_4D45, ipi: UInt64 = 0x73_5049
    static let rfence: UInt64 = 0x5246_4E43, hsm: UInt64 = 0x48_534D, srst: UInt64 = 0x5352_5354
    static let dbcn: UInt64 = 0x4442_434E

    func call(_ sbi: BuiltinSBI, _ eid: UInt64, _ fid: UInt64 = 0, hart: Int = 0, _ args: UInt64...) -> SBIOutcome {
        var call = SBICall(extensionID: eid, functionID: fid)
        var a = [UInt64](repeating: 0, count: 6)
        for (index, value) in args.enumerated() { a[index] = value }
        call.arguments = (a[0], a[1], a[2], a[3], a[4], a[5])
        return sbi.handle(call, hart: hart)
    }

    // MARK: base

    @Test func baseReportsVersionsAndProbes() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.base, 0) == .returns(.success(0x0200_0000)))
        #expect(call(sbi, Self.base, 1) == .returns(.success(BuiltinSBI.implementationID)))
        #expect(call(sbi, Self.base, 5) == .returns(.success(0x1234)))
        #expect(call(sbi, Self.base, 6) == .returns(.success(7)))
        for eid in [Self.base, Self.time, Self.ipi, Self.rfence, Self.hsm, Self.srst, Self.dbcn, 0, 1, 2, 8] {
            #expect(call(sbi, Self.base, 3, eid) == .returns(.success(1)), "extension \(eid)")
        }
        for eid: UInt64 in [3, 4, 0x504D55, 0x5355_5350, 0x0A00_0000_0000_0010] {
            #expect(call(sbi, Self.base, 3, eid) == .returns(.success(0)), "extension \(eid)")
        }
        #expect(call(sbi, Self.base, 7) == .returns(.failure(.notSupported)))
    }

    @Test func unknownExtensionsAndFunctionsAreNotSupported() {
        let sbi = BuiltinSBI(platform: FakeSBIPlatform())
        #expect(call(sbi, 0x504D55) == .returns(.failure(.notSupported)))
        #expect(call(sbi, Self.time, 1) == .returns(.failure(.notSupported)))
        #expect(call(sbi, Self.dbcn, 3) == .returns(.failure(.notSupported)))
        #expect(call(sbi, Self.srst, 1) == .returns(.failure(.notSupported)))
        // Legacy EIDs answer in a0 alone.
        #expect(call(sbi, 0x04) == .legacy(-2))
    }

    /// EIDs and FIDs are sign-extended 32-bit values; stray upper bits name nothing.
    @Test func extensionIDsWithStrayUpperBitsAreNotSupported() {
        let sbi = BuiltinSBI(platform: FakeSBIPlatform())
        #expect(call(sbi, 0xffff_ffff_0000_0010, 0) == .returns(.failure(.notSupported)))
        #expect(call(sbi, Self.base, 1 << 32) == .returns(.failure(.notSupported)))
        #expect(call(sbi, Self.base, 3, 1 << 40 | Self.hsm) == .returns(.success(0)))
    }

    @Test func handleEcallReadsAndWritesRegisters() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        platform.registers[0][17] = Self.base   // a7
        platform.registers[0][16] = 3           // a6: probe_extension
        platform.registers[0][10] = Self.hsm    // a0
        platform.registers[0][12] = 0xdead      // a2 must survive
        sbi.handleEcall(hart: 0)
        #expect(platform.registers[0][10] == 0)
        #expect(platform.registers[0][11] == 1)
        #expect(platform.registers[0][12] == 0xdead)
        // An error code is written as its two's-complement bit pattern.
        platform.registers[0][17] = 0x1234_5678
        sbi.handleEcall(hart: 0)
        #expect(platform.registers[0][10] == UInt64(bitPattern: -2))
        // A legacy call leaves a1 alone.
        platform.registers[0][17] = 1
        platform.registers[0][10] = 0x41
        platform.registers[0][11] = 0x99
        sbi.handleEcall(hart: 0)
        #expect(platform.console == [0x41])
        #expect(platform.registers[0][10] == 0)
        #expect(platform.registers[0][11] == 0x99)
    }

    // MARK: TIME

    @Test func timerRaisesSTIPWhenMtimeReachesTheDeadline() {
        let platform = FakeSBIPlatform(harts: 2)
        let sbi = BuiltinSBI(platform: platform)
        platform.setPin(.stip, hart: 1, level: true)
        platform.mtime = 100
        #expect(call(sbi, Self.time, 0, hart: 1, 500) == .returns(.success()))
        #expect(platform.pin(.stip, 1) == false)                 // set_timer clears the pending bit
        #expect(sbi.nextDeadline == 500)
        #expect(platform.deadlineNotifications == 1)
        sbi.advance(to: 499)
        #expect(platform.pin(.stip, 1) == false)
        sbi.advance(to: 500)
        #expect(platform.pin(.stip, 1) == true)
        #expect(platform.pin(.stip, 0) == nil)                   // other harts untouched
        #expect(sbi.nextDeadline == nil)
    }

    @Test func timerInThePastFiresAtOnceAndMaxNeverFires() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        platform.mtime = 1000
        _ = call(sbi, Self.time, 0, 999)
        #expect(platform.pin(.stip, 0) == true)
        #expect(sbi.nextDeadline == nil)
        _ = call(sbi, Self.time, 0, UInt64.max)
        #expect(platform.pin(.stip, 0) == false)
        sbi.advance(to: 1 << 62)
        #expect(platform.pin(.stip, 0) == false)
        // The legacy set_timer does the same and returns 0 in a0.
        #expect(call(sbi, 0x00, 0, 10) == .legacy(0))
        #expect(platform.pin(.stip, 0) == true)
    }

    @Test func nextDeadlineIsTheEarliestOfAllHarts() {
        let platform = FakeSBIPlatform(harts: 3)
        let sbi = BuiltinSBI(platform: platform)
        _ = call(sbi, Self.time, 0, hart: 0, 300)
        _ = call(sbi, Self.time, 0, hart: 2, 200)
        #expect(sbi.nextDeadline == 200)
        sbi.advance(to: 250)
        #expect(sbi.nextDeadline == 300)
        #expect(platform.pin(.stip, 2) == true && platform.pin(.stip, 0) == false)
    }

    // MARK: IPI and RFENCE

    @Test func ipiRaisesSSIPOnTheMaskedHarts() {
        let platform = FakeSBIPlatform(harts: 4)
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.ipi, 0, 0b101, 1) == .returns(.success()))   // harts 1 and 3
        #expect(platform.pin(.ssip, 1) == true && platform.pin(.ssip, 3) == true)
        #expect(platform.pin(.ssip, 0) == nil && platform.pin(.ssip, 2) == nil)
        _ = call(sbi, Self.ipi, 0, 0, UInt64.max)                            // base -1: all harts
        #expect((0..<4).allSatisfy { platform.pin(.ssip, $0) == true })
    }

    @Test func hartMasksNamingMissingHartsAreInvalid() {
        let platform = FakeSBIPlatform(harts: 2)
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.ipi, 0, 0b100, 0) == .returns(.failure(.invalidParam)))
        #expect(call(sbi, Self.ipi, 0, 1, 2) == .returns(.failure(.invalidParam)))
        #expect(call(sbi, Self.ipi, 0, 1 << 63, UInt64.max - 1) == .returns(.failure(.invalidParam)))   // wraps
        #expect(platform.pins.isEmpty)   // nothing raised on a partly valid mask
        #expect(call(sbi, Self.rfence, 1, 0b11, 1) == .returns(.failure(.invalidParam)))
        #expect(platform.tlbFlushes.isEmpty)
    }

    @Test func remoteFencesFlushTheTargets() {
        let platform = FakeSBIPlatform(harts: 2)
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.rfence, 0, 0b11, 0) == .returns(.success()))
        #expect(platform.icacheFlushes == [0, 1])
        _ = call(sbi, Self.rfence, 1, 0b10, 0, 0x4000, 0x2000)
        #expect(platform.tlbFlushes.count == 1)
        #expect(platform.tlbFlushes[0].0 == 1)
        #expect(platform.tlbFlushes[0].1 == SBITLBFlush(stage: .supervisor, range: MemoryRange(address: 0x4000, size: 0x2000), asid: nil))
        _ = call(sbi, Self.rfence, 2, 0b1, 0, 0, 0, 5)
        #expect(platform.tlbFlushes[1].1 == SBITLBFlush(stage: .supervisor, range: nil, asid: 5))
        _ = call(sbi, Self.rfence, 1, 0b1, 0, 0x1000, UInt64.max)
        #expect(platform.tlbFlushes[2].1.range == nil)   // size 2^64-1: everything
        #expect(call(sbi, Self.rfence, 1, 0b1, 0, UInt64.max - 4, 0x10) == .returns(.failure(.invalidAddress)))
    }

    @Test func hypervisorFencesNeedTheHExtension() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.rfence, 3, 1, 0, 0, 0, 9) == .returns(.failure(.notSupported)))
        platform.hasHypervisorExtension = true
        #expect(call(sbi, Self.rfence, 3, 1, 0, 0, 0, 9) == .returns(.success()))
        #expect(platform.tlbFlushes.last?.1.stage == .guestPhysical(vmid: 9))
        _ = call(sbi, Self.rfence, 6, 1, 0)
        #expect(platform.tlbFlushes.last?.1.stage == .virtualSupervisor)
        #expect(call(sbi, Self.rfence, 7, 1, 0) == .returns(.failure(.notSupported)))
    }

    // MARK: HSM

    @Test func hartStartStopAndStatus() {
        let platform = FakeSBIPlatform(harts: 2)
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.hsm, 2, 1) == .returns(.success(SBIHartState.stopped.rawValue)))
        #expect(call(sbi, Self.hsm, 0, 1, 0x8000_1000, 0xfeed) == .returns(.success()))
        #expect(platform.entered.count == 1)
        #expect(platform.entered[0].hart == 1 && platform.entered[0].pc == 0x8000_1000)
        #expect(platform.entered[0].a0 == 1 && platform.entered[0].a1 == 0xfeed)
        #expect(call(sbi, Self.hsm, 2, 1) == .returns(.success(0)))
        #expect(call(sbi, Self.hsm, 0, 1, 0x8000_1000, 0) == .returns(.failure(.alreadyAvailable)))
        #expect(call(sbi, Self.hsm, 1, hart: 1) == .noReturn)
        #expect(platform.activities[1] == .stopped)
        #expect(call(sbi, Self.hsm, 2, 1) == .returns(.success(1)))
    }

    @Test func hartStartChecksItsArguments() {
        let platform = FakeSBIPlatform(harts: 2)
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.hsm, 0, 2, 0x8000_0000, 0) == .returns(.failure(.invalidParam)))
        #expect(call(sbi, Self.hsm, 0, UInt64.max, 0x8000_0000, 0) == .returns(.failure(.invalidParam)))
        #expect(call(sbi, Self.hsm, 0, 1, 0x1000, 0) == .returns(.failure(.invalidAddress)))
        #expect(call(sbi, Self.hsm, 2, 7) == .returns(.failure(.invalidParam)))
        #expect(platform.entered.isEmpty)
    }

    @Test func retentiveSuspendSleepsAndReturnsSuccess() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.hsm, 3, 0) == .returns(.success()))
        #expect(platform.activities[0] == .waitingForInterrupt)
        #expect(sbi.hartState(0) == .suspended)
        platform.activities[0] = .running   // an interrupt woke it
        #expect(sbi.hartState(0) == .started)
        platform.activities[0] = .waitingForInterrupt   // its own WFI later is not a suspend
        #expect(sbi.hartState(0) == .started)
    }

    @Test func nonRetentiveSuspendResumesAtTheGivenAddress() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.hsm, 3, 0x8000_0000, 0x8000_0400, 42) == .noReturn)
        #expect(platform.entered.last?.pc == 0x8000_0400 && platform.entered.last?.a1 == 42)
        #expect(platform.activities[0] == .waitingForInterrupt)
        #expect(call(sbi, Self.hsm, 3, 0x8000_0000, 0x10, 0) == .returns(.failure(.invalidAddress)))
        for type: UInt64 in [1, 0x1000_0000, 0x8000_0001, 0x9000_0000] {
            #expect(call(sbi, Self.hsm, 3, type, 0x8000_0000, 0) == .returns(.failure(.invalidParam)))
        }
    }

    // MARK: SRST and legacy shutdown

    @Test func systemResetStopsTheMachine() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.srst, 0, 0, 0) == .noReturn)
        #expect(call(sbi, Self.srst, 0, 0, 1) == .noReturn)
        #expect(call(sbi, Self.srst, 0, 1, 0) == .noReturn)
        #expect(call(sbi, Self.srst, 0, 2, 0) == .noReturn)
        #expect(call(sbi, 0x08) == .noReturn)
        #expect(platform.resets == [.shutdown(failure: false), .shutdown(failure: true), .coldReboot, .warmReboot,
                                    .shutdown(failure: false)])
    }

    @Test func systemResetRejectsReservedTypesAndReasons() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        for (type, reason): (UInt64, UInt64) in [(3, 0), (0xF000_0000, 0), (0, 2), (0, 0xE000_0000), (0, 0xF000_0000)] {
            #expect(call(sbi, Self.srst, 0, type, reason) == .returns(.failure(.invalidParam)))
        }
        #expect(platform.resets.isEmpty)
    }

    // MARK: DBCN and legacy console

    @Test func debugConsoleWritesFromPhysicalMemory() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        let text = Array("hello, vmlab\n".utf8)
        _ = text.withUnsafeBytes { platform.ram.dmaWrite(0x8000_0100, from: $0) }
        #expect(call(sbi, Self.dbcn, 0, UInt64(text.count), 0x8000_0100, 0) == .returns(.success(UInt64(text.count))))
        #expect(platform.console == text)
        #expect(call(sbi, Self.dbcn, 2, 0x121) == .returns(.success(0)))   // only the low byte
        #expect(platform.console.last == 0x21)
    }

    @Test func debugConsoleRejectsBadBuffersAndCapsLength() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.dbcn, 0, 16, 0x1000, 0) == .returns(.failure(.invalidParam)))
        #expect(call(sbi, Self.dbcn, 0, 16, 0x8000_0000, 1) == .returns(.failure(.invalidParam)))
        #expect(call(sbi, Self.dbcn, 0, 16, 0x800f_fff8, 0) == .returns(.failure(.invalidParam)))  // runs off RAM
        #expect(call(sbi, Self.dbcn, 0, UInt64.max, 0x8000_0000, 0)
                == .returns(.success(UInt64(BuiltinSBI.debugConsoleChunk))))
        #expect(platform.console.count == BuiltinSBI.debugConsoleChunk)
        #expect(call(sbi, Self.dbcn, 0, 0, 0, 0) == .returns(.success(0)))
    }

    @Test func debugConsoleReadsIntoPhysicalMemory() {
        let platform = FakeSBIPlatform()
        let sbi = BuiltinSBI(platform: platform)
        #expect(call(sbi, Self.dbcn, 1, 8, 0x8000_0200, 0) == .returns(.success(0)))   // nothing pending
        platform.input = Array("abc".utf8)
        #expect(call(sbi, Self.dbcn, 1, 2, 0x1000, 0) == .returns(.failure(.invalidParam)))
        #expect(platform.input.count == 3)   // a bad buffer consumes no input
        #expect(call(sbi, Self.dbcn, 1, 2, 0x8000_0200, 0) == .returns(.success(2)))
        #expect(platform.ram.read(0x8000_0200, count: 2) == Array("ab".utf8))
        #expect(call(sbi, 0x02) == .legacy(0x63))
        #expect(call(sbi, 0x02) == .legacy(-1))
    }

    @Test func callsFromAHartThatDoesNotExistFail() {
        let sbi = BuiltinSBI(platform: FakeSBIPlatform())
        #expect(call(sbi, Self.base, 0, hart: 5) == .returns(.failure(.failed)))
    }
}
