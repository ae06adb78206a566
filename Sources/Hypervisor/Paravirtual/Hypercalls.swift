// Hypercall dispatch: one request in, one result out. Every argument is untrusted: a bogus one is
// an error code (counted by hypercall and error), never a trap and never a host crash.
import Boot
import Machine

extension ParavirtualDomain {
    /// Serves hypercall `request` made by vCPU `hart`.
    public func handle(_ request: HypercallRequest, hart: Int = 0) -> HypercallResult {
        checkTimer()
        updateSharedTime()
        let result = dispatch(request, hart: hart, nested: false)
        record(request, result)
        // Any entry is a chance to deliver an upcall the guest unmasked with a store.
        deliverUpcall(hart: hart)
        return result
    }

    func record(_ request: HypercallRequest, _ result: HypercallResult) {
        let name = Hypercall(rawValue: request.number)?.name ?? "unknown"
        calls[name, default: 0] &+= 1
        if let error = result.error { errors["\(name).\(error)", default: 0] &+= 1 }
    }

    func dispatch(_ request: HypercallRequest, hart: Int, nested: Bool) -> HypercallResult {
        guard let call = Hypercall(rawValue: request.number) else { return .failure(.notSupported) }
        switch call {
        case .domainInfo:
            return domainInfo(request[0])
        case .mmuUpdate:
            return mmuUpdate(list: request[0], count: request[1], hart: hart)
        case .pinTable:
            // a1: the root's levels, 3 (Sv39, also 0: the ABI's first callers passed nothing) or 4 (Sv48).
            do { try pin(request[0], levels: request[1] == 0 ? 3 : Int(clamping: request[1])) } catch { return .failure(error) }
            return .success()
        case .unpinTable:
            do { try unpin(request[0]) } catch { return .failure(error) }
            return .success()
        case .setSATP:
            return setSATP(request[0], flush: request[1], hart: hart)
        case .tlbFlush:
            return tlbFlush(va: request[0], asid: request[1], hart: hart)
        case .multicall:
            // A multicall inside a multicall would let one hypercall run unbounded work.
            guard !nested else { return .failure(.invalidParam) }
            return multicall(list: request[0], count: request[1], hart: hart)
        case .registerSharedInfo:
            return registerSharedInfo(request[0])
        case .setTimer:
            return setTimer(request[0], hart: hart)
        case .consoleWrite:
            return consoleWrite(address: request[0], count: request[1])
        case .eventChannelAlloc:
            return eventChannelAlloc()
        case .eventChannelBind:
            return eventChannelBind(port: request[0], source: request[1])
        case .eventChannelNotify:
            return eventChannelNotify(port: request[0])
        case .eventChannelUnmask:
            return eventChannelUnmask(port: request[0])
        case .eventChannelClose:
            return eventChannelClose(port: request[0])
        case .yield:
            // One VM per machine: the host scheduler switches at slice ends, so yielding is
            // counted and returns.
            return .success()
        case .block:
            // Returns at once with 1 when an unmasked event is pending; else the vCPU sleeps
            // as a `wfi` would (Machine.waitForInterrupt: until an interrupt enabled in `mie`
            // is pending — the upcall's SSIP, the timer's STIP, a device's SEIP) and returns 0.
            if eventPending { return .success(1) }
            machine.waitForInterrupt(hart: hart)
            return .success(0)
        case .grantAccess:
            return grantAccess(frame: request[0], readOnly: request[1])
        case .grantRevoke:
            return grantRevoke(request[0])
        case .blockConnect:
            return blockConnect(ring: request[0])
        }
    }

    var eventPending: Bool {
        if pendingWithoutPage != 0 { return true }
        guard let page = sharedInfo else { return false }
        let info = SharedInfo(page)
        return (load64(info.pending) ?? 0) & ~(load64(info.mask) ?? 0) != 0
    }

    func domainInfo(_ selector: UInt64) -> HypercallResult {
        guard let which = DomainInfo(rawValue: selector) else { return .failure(.notSupported) }
        switch which {
        case .domainID: return .success(UInt64(id))
        case .ramBase: return .success(ramBase)
        case .ramSize: return .success(ramEnd - ramBase)
        case .batchLimit: return .success(UInt64(policy.batchLimit))
        case .abiVersion: return .success(HypercallABI.version)
        case .vcpus: return .success(UInt64(machine.hartCount))
        case .sharedInfo: return .success(sharedInfo ?? 0)
        case .asidBits: return .success(UInt64(machine.configuration.asidBits))
        }
    }

    /// `set_satp(satp, flush)`: Bare, or Sv39 or Sv48 whose root is a validated table of its
    /// mode's top level (2 or 3).
    func setSATP(_ satp: UInt64, flush: UInt64, hart: Int) -> HypercallResult {
        guard flush <= 1 else { return .failure(.invalidParam) }
        switch satp >> 60 {
        case 0:
            // Bare: the PPN must be zero; an ASID is accepted (a kernel probes satp.ASID's
            // width by writing ones there in Bare mode, Privileged spec 4.1.11).
            guard satp & ((1 << 44) - 1) == 0 else { return .failure(.invalidParam) }
        case 8, 9:
            // Sv39 or Sv48: the root must be a validated table of its mode's top level.
            let root = (satp & ((1 << 44) - 1)) << 12
            guard let frame = frames.frame(of: root) else { return .failure(.invalidAddress) }
            guard frames.type(of: frame) == .pageTable(level: Int(satp >> 60) - 6) else { return .failure(.denied) }
        default:
            return .failure(.invalidParam)
        }
        guard machine.writeCSR(0x180, satp, hart: hart) else { return .failure(.invalidParam) }
        if flush == 1 { flushTLB(hart: hart) }
        return .success()
    }

    func tlbFlush(va: UInt64, asid: UInt64, hart: Int) -> HypercallResult {
        // Any address and any ASID are fine to flush; the Machine offers a VMM only whole-TLB
        // flushes, which are correct (if coarser) for a single address too.
        _ = (va, asid)
        flushTLB(hart: hart)
        return .success()
    }

    func flushTLB(hart: Int) {
        machine.flushTLB(hart: hart)
        flushes &+= 1
        charge(.flush, hart: hart)
    }

    func setTimer(_ deadline: UInt64, hart: Int) -> HypercallResult {
        timerDeadline = deadline == .max ? nil : deadline
        // The TIME extension programs the deadline and clears a pending STIP, as on native.
        if let firmware {
            let r = firmware.handle(SBICall(extensionID: SBIExtension.timer.rawValue, functionID: 0, deadline), hart: hart)
            if case .returns(let result) = r, result.error != .success { return .failure(.invalidParam) }
        }
        return .success()
    }

    func consoleWrite(address: UInt64, count: UInt64) -> HypercallResult {
        let length = min(count, UInt64(HypercallABI.consoleChunk))
        guard length > 0 else { return .success(0) }
        guard inRAM(address, count: length), let bytes = machine.readPhysical(at: address, count: Int(length)) else {
            return .failure(.invalidAddress)
        }
        console?.consoleWrite(bytes)
        return .success(length)
    }

    /// `multicall(list, count)`: runs each entry { op, a0..a4, error out, value out } and writes
    /// its result back; a refused entry does not stop the others (each reports its own).
    func multicall(list: UInt64, count: UInt64, hart: Int) -> HypercallResult {
        guard count <= UInt64(HypercallABI.multicallLimit) else { return .failure(.invalidParam) }
        guard count > 0 else { return .success(0) }
        guard list & 7 == 0 else { return .failure(.invalidParam) }
        guard inRAM(list, count: count * HypercallABI.multicallEntrySize) else { return .failure(.invalidAddress) }
        for i in 0..<count {
            let entry = list + i * HypercallABI.multicallEntrySize
            var words = [UInt64](repeating: 0, count: 6)
            for k in 0..<6 { words[k] = load64(entry + UInt64(k) * 8) ?? 0 }
            let request = HypercallRequest(number: words[0], arguments: Array(words[1...]))
            let result = dispatch(request, hart: hart, nested: true)
            record(request, result)
            store64(entry + 48, result.a0)
            store64(entry + 56, result.value)
        }
        return .success(count)
    }
}
