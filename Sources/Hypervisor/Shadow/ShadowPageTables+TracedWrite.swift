// Traced writes: the guest stored to one of its own page-table pages, which every shadow maps
// read-only. The VMM decodes the store at the guest's pc (or takes it from the bt callout that
// replaced it), performs it on the guest's memory as the hart would have (including AMOs and sc),
// drops the shadow entries that mirrored the bytes it changed, and moves the guest past the
// instruction. The guest cannot tell it happened, except by the time it took.

import RISCV
import Machine

/// The result of emulating a store that hit a write-protected guest page.
public enum TracedWriteOutcome: Sendable, Equatable {
    /// Performed; the hart's pc is past the store.
    case emulated
    /// The store faults in the guest's own view (a byte of it on a page the guest may not write).
    case guestFault(VirtualTrap)
    /// The instruction at pc is not a store (the guest changed it meanwhile): let the hart retry it.
    case retry
}

extension ShadowPageTables {
    /// Emulates the store at the guest's `pc` on `hart` that hit a write-protected page.
    /// `instruction` is the store when the caller has it already (a binary translator's callout
    /// carries the instruction it replaced, decoded from the same bytes); otherwise it is read
    /// from the guest's memory through its own tables.
    public func emulateTracedStore(pc: UInt64, hart h: Int, instruction: Instruction? = nil) -> TracedWriteOutcome {
        hart = h
        guard let inst = instruction ?? fetchInstruction(at: pc) else { return .retry }
        let x = { (n: UInt8) in self.withMachine { $0.register(Int(n), hart: h) } }
        let address: UInt64
        let size: Int
        var value: UInt64
        var result: ((UInt64) -> UInt64)?  // for AMOs: old value → value to store
        switch inst.opcode {
        case .sb, .sh, .sw, .sd:
            address = x(inst.rs1) &+ UInt64(bitPattern: Int64(inst.imm))
            size = inst.opcode == .sb ? 1 : inst.opcode == .sh ? 2 : inst.opcode == .sw ? 4 : 8
            value = x(inst.rs2)
        case .fsw, .fsd:
            address = x(inst.rs1) &+ UInt64(bitPattern: Int64(inst.imm))
            size = inst.opcode == .fsw ? 4 : 8
            value = withMachine { $0.floatRegister(Int(inst.rs2), hart: h) }
        case .sc_w, .sc_d:
            // The reservation is the hart's; a VMM-performed sc succeeds (sc may fail spuriously,
            // never succeed wrongly — a guest's retry loop tolerates either, and this never livelocks).
            address = x(inst.rs1)
            size = inst.opcode == .sc_w ? 4 : 8
            value = x(inst.rs2)
        default:
            guard inst.opcode.isAMO else { return .retry }
            address = x(inst.rs1)
            size = inst.opcode.memoryAccessWidth
            value = x(inst.rs2)
            let (opcode, operand) = (inst.opcode, value)
            result = { old in opcode.amoResult(old: old, operand: operand) }
        }
        guard address & UInt64(size - 1) == 0 || result == nil else {
            return .guestFault(.exception(.storeAddressMisaligned, tval: address))
        }
        // Translate every byte: a misaligned store may cross into another page. The bytes of one
        // page share its walk (and the A/D bits it sets), so each page is walked once. At most
        // eight addresses: on the stack, as this runs for every store to a page table.
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 8) { physical in
            var walkedPage = UInt64.max, frame: UInt64 = 0
            for i in 0..<size {
                let va = address &+ UInt64(i)
                if va & ~(Sv39.pageSize - 1) != walkedPage {
                    let result = GuestPageWalker.translate(va, .store, guestContext(view), map: map, memory: words, asGuestAccess: true)
                    guard case .translated(let gpa, _, _) = result else {
                        if case .fault(let cause) = result { return .guestFault(.exception(cause, tval: va)) }
                        return .retry
                    }
                    walkedPage = va & ~(Sv39.pageSize - 1)
                    frame = gpa & ~(Sv39.pageSize - 1)
                }
                guard let (ma, isRAM) = map.machineAddress(frame | (va & (Sv39.pageSize - 1))), isRAM else {
                    return .guestFault(.exception(.storeAccessFault, tval: va))
                }
                physical[i] = ma
            }
            if let f = result {
                var old: UInt64 = 0
                for i in 0..<size { old |= (withMachine { $0.readPhysical(littleEndianAt: physical[i], count: 1) } ?? 0) << (8 * UInt64(i)) }
                if size == 4 { old = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: old))) }
                value = f(old)
                withMachine { $0.setRegister(Int(inst.rd), old, hart: h) }
            } else if inst.opcode == .sc_w || inst.opcode == .sc_d {
                withMachine { $0.setRegister(Int(inst.rd), 0, hart: h) }
            }
            // The bytes in runs that are contiguous in machine memory (all of them, unless the store
            // crosses into a page mapped elsewhere), each run written, then its shadows told, at once.
            var start = 0
            while start < size {
                var end = start + 1
                while end < size && physical[end] == physical[start] &+ UInt64(end - start) { end += 1 }
                withMachine { $0.loadPhysical(littleEndian: value >> (8 * UInt64(start)), count: end - start, at: physical[start]) }
                if let gpa = map.guestAddress(ofMachine: physical[start]) {
                    guestWrote(guestPhysical: gpa, size: end - start)
                    noteTracedWrite(guestPhysical: gpa)
                }
                start = end
            }
            counters.tracedWrites &+= 1
            withMachine { $0.setPC(pc &+ UInt64(inst.length), hart: h) }
            return .emulated
        }
    }

    /// The instruction at guest virtual `pc`, read through the guest's own tables in the current view.
    public func fetchInstruction(at pc: UInt64) -> Instruction? {
        func machineAddress(_ va: UInt64) -> UInt64? {
            let gpa = GuestPageWalker.physicalAddress(va, .fetch, guestContext(view), map: map, memory: words, asGuestAccess: false)
            guard let gpa, let (ma, isRAM) = map.machineAddress(gpa), isRAM else { return nil }
            return ma
        }
        // One walk per page: the upper half of a 32-bit instruction within the page is two bytes
        // on from the lower half; one crossing into the next page takes that page's own walk.
        var walked: (page: UInt64, machinePage: UInt64)?
        return Decoder.decode(at: pc) { va in
            let page = va & ~(Sv39.pageSize - 1)
            let machinePage: UInt64
            if let w = walked, w.page == page {
                machinePage = w.machinePage
            } else {
                guard let ma = machineAddress(page) else { return nil }
                machinePage = ma
                walked = (page, ma)
            }
            return withMachine { $0.readPhysical(littleEndianAt: machinePage &+ (va & (Sv39.pageSize - 1)), count: 2) }
                .map { UInt16(truncatingIfNeeded: $0) }
        }
    }
}
