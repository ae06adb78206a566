// Guest memory as tools see it: guest-physical addresses (the VM's RAM, i.e. its carve-out, never
// the VMM's hidden memory after it), or guest-virtual ones translated through the guest's own page
// tables as they are in memory now (`Machine.translate`, or under trap and bt the monitor's walk of
// the guest's tables: no TLB fill, no A/D update, no trap). Accesses are byte copies with no side
// effect on the guest but one: written bytes drop decoded instructions and LR reservations on them,
// as a DMA write does, so the guest executes what was written.
import Machine
import RISCV

/// Which addresses a guest memory access means.
public enum AddressSpace: Sendable, Equatable {
    case guestPhysical
    /// Translated as vCPU `vcpu` would translate a load (or a store, for writes) at its current
    /// privilege and `satp`.
    case guestVirtual(vcpu: Int)
}

/// Why guest memory could not be read or written.
public enum GuestMemoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The range is not wholly the VM's RAM.
    case notRAM(address: UInt64, count: Int)
    /// The guest's page tables do not map the address (the exception a real access would raise).
    case translationFault(address: UInt64, cause: String)
    case noSuchVCPU(Int)

    public var description: String {
        switch self {
        case .notRAM(let a, let n): "guest-physical 0x\(String(a, radix: 16)) (+\(n) bytes) is not RAM of this VM"
        case .translationFault(let a, let cause): "guest-virtual 0x\(String(a, radix: 16)) does not translate (\(cause))"
        case .noSuchVCPU(let v): "no vCPU \(v)"
        }
    }
}

extension Guest {
    /// The guest's RAM, guest-physical: the board's memory, without the VMM's hidden memory that
    /// follows it in the machine (shadow page tables under trap and bt).
    public var ram: ClosedRange<UInt64> {
        let r = board.guestRAM
        return r.address...(r.end &- 1)
    }

    /// Whether `count` bytes at guest-physical `address` are all the guest's RAM.
    public func isRAM(_ address: UInt64, count: Int) -> Bool {
        count >= 0 && ram.contains(address) && UInt64(count) <= ram.upperBound - address + 1
    }

    /// `count` bytes at `address` in `space`.
    public func readMemory(_ address: UInt64, count: Int, space: AddressSpace = .guestPhysical) -> Result<[UInt8], GuestMemoryError> {
        guard count >= 0 else { return .failure(.notRAM(address: address, count: count)) }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var done = 0
        while done < count {
            let va = address &+ UInt64(done)
            let chunk = min(count - done, Int(4096 - (va & 4095)))
            switch physical(va, count: chunk, space: space, write: false) {
            case .failure(let e): return .failure(e)
            case .success(let pa):
                guard isRAM(pa, count: chunk), let bytes = machine.readPhysical(at: pa, count: chunk) else {
                    return .failure(.notRAM(address: pa, count: chunk))
                }
                out += bytes
            }
            done += chunk
        }
        return .success(out)
    }

    /// Writes `bytes` at `address` in `space`; nothing is written unless every byte can be.
    public func writeMemory(_ address: UInt64, _ bytes: [UInt8], space: AddressSpace = .guestPhysical) -> Result<Void, GuestMemoryError> {
        var pieces: [(UInt64, ArraySlice<UInt8>)] = []
        var done = 0
        while done < bytes.count {
            let va = address &+ UInt64(done)
            let chunk = min(bytes.count - done, Int(4096 - (va & 4095)))
            switch physical(va, count: chunk, space: space, write: true) {
            case .failure(let e): return .failure(e)
            case .success(let pa):
                guard isRAM(pa, count: chunk), machine.hostPointer(physical: pa, count: UInt64(chunk)) != nil else {
                    return .failure(.notRAM(address: pa, count: chunk))
                }
                pieces.append((pa, bytes[done..<done + chunk]))
            }
            done += chunk
        }
        for (pa, slice) in pieces {
            machine.loadPhysical(Array(slice), at: pa)
            // Under shadow paging, shadows derived from a guest page table follow a tool's write
            // (and the shadow pager's dirty log notes it); the G stage's log notes it too.
            shadowPageTables?.guestWrote(guestPhysical: pa, size: slice.count)
            (technique as? HardwareAssistedTechnique)?.noteVMMWrite(pa, slice.count)
        }
        return .success(())
    }

    /// The guest-physical address of `address` in `space` (within one page).
    func physical(_ address: UInt64, count: Int, space: AddressSpace, write: Bool) -> Result<UInt64, GuestMemoryError> {
        switch space {
        case .guestPhysical:
            return .success(address)
        case .guestVirtual(let vcpu):
            return translate(address, vcpu: vcpu, access: write ? .store : .load)
        }
    }

    /// The guest-physical address `va` translates to for vCPU `vcpu` (bare mode: itself), through
    /// the guest's own tables at the privilege the guest believes it has. Where the hart walks
    /// shadows (under trap and bt at U-mode, and under hw with shadow paging), which hold only what
    /// has been filled, the VMM's walk of the guest's tables answers instead.
    public func translate(_ va: UInt64, vcpu: Int = 0, access: MemoryAccessKind = .load) -> Result<UInt64, GuestMemoryError> {
        guard (0..<machine.hartCount).contains(vcpu) else { return .failure(.noSuchVCPU(vcpu)) }
        let kind: GuestAccess = switch access { case .fetch: .fetch; case .load: .load; case .store: .store }
        if let walk = guestTableWalk(va, vcpu: vcpu, access: kind) {
            switch walk.result {
            case .translated(let pa, _, _): return .success(pa)
            case .fault(let cause): return .failure(.translationFault(address: va, cause: cause.name))
            }
        }
        switch machine.translate(va, hart: vcpu, access: access) {
        case .physical(let pa): return .success(pa)
        case .fault(let cause): return .failure(.translationFault(address: va, cause: cause.name))
        }
    }
}
