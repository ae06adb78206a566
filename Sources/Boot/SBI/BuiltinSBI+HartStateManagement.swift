// SBI Hart State Management extension (EID "HSM"; SBI v2.0 chapter 9).
//
//   FID 0 hart_start(hartid, start_addr, opaque)   FID 2 hart_get_status(hartid)
//   FID 1 hart_stop()                              FID 3 hart_suspend(type, resume_addr, opaque)
//
// Host code changes a hart's state at once, so the *_PENDING states are never observed: a hart is
// STARTED, STOPPED or SUSPENDED. The state is derived from what the machine says the hart is doing
// plus whether the SBI put it to sleep; a hart's own WFI is still STARTED.

/// The HSM state ids (SBI v2.0 table "HSM Hart States").
public enum SBIHartState: UInt64, Sendable, Equatable {
    case started = 0, stopped = 1, startPending = 2, stopPending = 3
    case suspended = 4, suspendPending = 5, resumePending = 6
}

extension BuiltinSBI {
    static let defaultRetentiveSuspend: UInt32 = 0x0000_0000
    static let defaultNonRetentiveSuspend: UInt32 = 0x8000_0000

    /// The HSM state of `hart` as `hart_get_status` reports it.
    public func hartState(_ hart: Int) -> SBIHartState {
        switch platform.activity(ofHart: hart) {
        case .stopped:
            return .stopped
        case .waitingForInterrupt:
            return suspended[hart] ? .suspended : .started
        case .running:
            suspended[hart] = false
            return .started
        }
    }

    func hartStateManagement(_ fid: UInt64, _ call: SBICall, hart: Int) -> SBIOutcome {
        switch fid {
        case 0:
            return .returns(hartStart(call[0], at: call[1], opaque: call[2]))
        case 1:
            suspended[hart] = false
            platform.stopHart(hart)
            return .noReturn
        case 2:
            guard call[0] < UInt64(platform.hartCount) else { return .returns(.failure(.invalidParam)) }
            return .returns(.success(hartState(Int(call[0])).rawValue))
        case 3:
            return hartSuspend(hart: hart, type: UInt32(truncatingIfNeeded: call[0]), resume: call[1], opaque: call[2])
        default:
            return .returns(.failure(.notSupported))
        }
    }

    private func hartStart(_ target: UInt64, at address: UInt64, opaque: UInt64) -> SBIResult {
        guard target < UInt64(platform.hartCount) else { return .failure(.invalidParam) }
        let hart = Int(target)
        guard hartState(hart) == .stopped else { return .failure(.alreadyAvailable) }
        guard platform.isExecutable(physicalAddress: address) else { return .failure(.invalidAddress) }
        suspended[hart] = false
        platform.enterSupervisor(hart: hart, at: address, a0: target, a1: opaque)
        return .success()
    }

    private func hartSuspend(hart: Int, type: UInt32, resume: UInt64, opaque: UInt64) -> SBIOutcome {
        switch type {
        case Self.defaultRetentiveSuspend:
            // Registers survive; the call returns SBI_SUCCESS once an interrupt wakes the hart.
            suspended[hart] = true
            platform.waitForInterrupt(hart: hart)
            return .returns(.success())
        case Self.defaultNonRetentiveSuspend:
            guard platform.isExecutable(physicalAddress: resume) else { return .returns(.failure(.invalidAddress)) }
            // Nothing survives a non-retentive suspend, so the resume state (S-mode at resume_addr,
            // a0 = hartid, a1 = opaque, satp = 0, SIE = 0) can be set before the hart sleeps.
            platform.enterSupervisor(hart: hart, at: resume, a0: UInt64(hart), a1: opaque)
            suspended[hart] = true
            platform.waitForInterrupt(hart: hart)
            return .noReturn
        default:
            // Reserved and platform-specific types: vmlab implements none of the latter.
            return .returns(.failure(.invalidParam))
        }
    }
}
