import RISCV

// SYSTEM instructions (privileged spec, "Privileged Instructions"; unprivileged "Zicsr") and the
// A extension ("Load-Reserved/Store-Conditional", "Atomic Memory Operations"). All run with
// `state.pc` at the instruction and set it to the next pc; they return how the slice goes on.

extension Hart {
    @inline(never)
    func illegal(_ op: DecodedOp) -> Flow {
        raise(.illegalInstruction, tval: UInt64(op.raw))
        return .trapped
    }

    /// A virtual-instruction exception (hypervisor extension): an instruction that HS-mode could
    /// execute, attempted in VS- or VU-mode where the hypervisor wants to see it. tval is written
    /// as for an illegal instruction.
    @inline(never)
    func virtualInstruction(_ op: DecodedOp) -> Flow {
        raise(.virtualInstruction, tval: UInt64(op.raw))
        return .trapped
    }

    @inline(never)
    func executeSystem(_ op: DecodedOp) -> Flow {
        let s = state
        s.pointee.privilegedExecuted &+= 1
        let observed = observes(.privileged)
        if observed {
            machine.deliver(.privileged(hart: id, pc: s.pointee.pc, instruction: op.raw), hart: id)
        }
        let flow = executeSystemOp(op)
        guard observed else { return flow }
        // The observer's changes must be seen: the slice ends after this instruction, and with a
        // stop or a pc of its own pending, the run loop must have it (a CSR write resets
        // `exitSlice` on its way).
        if s.pointee.refillHold != 0 { s.pointee.exitSlice = .stop }
        return flow == .next ? .exit : flow
    }

    @inline(__always)
    private func executeSystemOp(_ op: DecodedOp) -> Flow {
        let s = state
        let priv = s.pointee.priv
        let next = s.pointee.pc &+ UInt64(op.length)
        switch op.opcode {
        case .ecall:
            // Environment call from U (8), S (9), VS (10, hypervisor extension) or M (11); VU-mode's is 8.
            raise(s.pointee.virt && priv == 1 ? 10 : 8 + UInt64(priv), tval: 0)
            return .trapped
        case .ebreak:
            raise(.breakpoint, tval: s.pointee.pc)
            return .trapped
        case .mret:
            guard priv == 3 else { return refused(op, hole: .mret, next: next) }
            mret()
            return .exit
        case .sret:
            if s.pointee.virt {
                // VU-mode, or VS-mode under hstatus.VTSR: the hypervisor's to emulate.
                if priv == 0 || s.pointee.hyper.hstatus & Hstatus.vtsr != 0 { return virtualInstruction(op) }
                sret()
                return .exit
            }
            guard priv == 3 || (priv == 1 && s.pointee.mstatus & Mstatus.tsr == 0) else {
                return refused(op, hole: .sret, next: next)
            }
            sret()
            return .exit
        case .wfi:
            // U-mode WFI, and S-mode WFI under TW, trap at once (the "bounded time" is zero).
            // With V=1 and TW clear, VU-mode's and (under hstatus.VTW) VS-mode's are virtual
            // instructions.
            if s.pointee.virt && s.pointee.mstatus & Mstatus.tw == 0
                && (priv == 0 || s.pointee.hyper.hstatus & Hstatus.vtw != 0) {
                return virtualInstruction(op)
            }
            guard priv == 3 || (priv == 1 && s.pointee.mstatus & Mstatus.tw == 0) else {
                return refused(op, hole: .wfi, next: next)
            }
            s.pointee.pc = next
            if s.pointee.mip & s.pointee.mie == 0 {
                s.pointee.runState = .waitingForInterrupt
                waits &+= 1
            }
            return .exit
        case .sfence_vma:
            if s.pointee.virt {
                // VS-mode's flushes its own VMID's translations; VU-mode's, or VS-mode's under
                // hstatus.VTVM, is the hypervisor's to emulate (mstatus.TVM does not apply).
                if priv == 0 || s.pointee.hyper.hstatus & Hstatus.vtvm != 0 { return virtualInstruction(op) }
                return fence(op, space: .guest(guestSpace), next: next)
            }
            guard priv == 3 || (priv == 1 && s.pointee.mstatus & Mstatus.tvm == 0) else {
                return refused(op, hole: .sfenceVMA, next: next)
            }
            return fence(op, space: .host, next: next)
        case .hfence_vvma, .hfence_gvma:
            return executeHypervisorFence(op, next: next)
        default:
            return executeCSR(op, next: next)
        }
    }

    private func executeCSR(_ op: DecodedOp, next: UInt64) -> Flow {
        let s = state
        let x = s.pointee.regs
        var n = UInt16(truncatingIfNeeded: op.imm) & 0xFFF
        let isImmediate = op.opcode == .csrrwi || op.opcode == .csrrsi || op.opcode == .csrrci
        let operand = isImmediate ? UInt64(op.rs1) : x[Int(op.rs1)]
        let isWrite = op.opcode == .csrrw || op.opcode == .csrrwi
        // csrrs/csrrc with x0 (or zimm 0) do not write, so read-only CSRs may be read that way.
        let writes = isWrite || op.rs1 != 0
        if s.pointee.virt {
            switch virtualCSRAccess(n, write: writes) {
            case .reach(let reached): n = reached
            case .virtualInstruction: return virtualInstruction(op)
            case .illegal: return illegal(op)
            }
        }
        guard csrAccessible(n, write: writes), let old = csrRead(n) else {
            return refusedCSR(op, n, writes: writes, next: next)
        }
        if writes {
            // mip's SEIP (and the other bits a device or the SBI drives beside the software one)
            // reads as the OR of the two, but a set or clear modifies the software bit alone
            // (privileged spec, "Machine Interrupt Registers"): M-mode firmware setting STIP
            // while the PLIC holds SEIP high must not latch SEIP for ever.
            let base = n == CSR.mip ? s.pointee.mipSoft | (old & ~Irq.mipWritable) : old
            let value: UInt64
            switch op.opcode {
            case .csrrw, .csrrwi: value = operand
            case .csrrs, .csrrsi: value = base | operand
            default: value = base & ~operand
            }
            s.pointee.exitSlice = .none
            let flushes = observes(.tlbFlush) ? tlb.counters.satpFlushes : 0
            guard csrWrite(n, value) else { return illegal(op) }
            if n & 0x300 != 0 { notePrivilegedCSRWrite() }
            if observes(.tlbFlush) && tlb.counters.satpFlushes != flushes {
                // An untagged TLB flushed on this satp write.
                machine.deliver(.tlbFlush(hart: id, va: nil, asid: nil), hart: id)
            }
        }
        x[Int(op.rd)] = old
        x[0] = 0
        s.pointee.pc = next
        return s.pointee.exitSlice != .none ? .exit : .next
    }

    // MARK: holes (SensitiveHole.swift)

    /// Counts and charges a write to a privileged CSR (bits 9:8 of the number, the lowest level
    /// that may access it, are not U: privileged spec, "CSR Address Mapping Conventions").
    func notePrivilegedCSRWrite() {
        privilegedCSRWrites &+= 1
        state.pointee.cycles &+= state.pointee.costs.csrWrite
    }

    /// sret/mret/wfi/sfence.vma refused for lack of privilege: illegal-instruction, unless the lab
    /// made it a hole, in which case it does nothing at all and execution goes on.
    @inline(never)
    private func refused(_ op: DecodedOp, hole: SensitiveHole, next: UInt64) -> Flow {
        guard machine.hasHoles, machine.holes.contains(hole) else { return illegal(op) }
        state.pointee.pc = next
        return .next
    }

    /// A CSR access `csrAccessible` refused. A hole applies only to a refusal for lack of
    /// privilege, and only if it covers every part of the instruction: the read when its result
    /// is observed (rd ≠ x0) or when the instruction does nothing but read, the write when it
    /// writes. A holed read returns the real value; a holed write is dropped.
    @inline(never)
    private func refusedCSR(_ op: DecodedOp, _ n: UInt16, writes: Bool, next: UInt64) -> Flow {
        guard machine.hasHoles, csrRefusedForPrivilege(n, write: writes) else { return illegal(op) }
        let holes = machine.holes
        let needsRead = op.rd != 0 || !writes
        if needsRead && !holes.contains(.csrRead(n)) { return illegal(op) }
        if writes && !holes.contains(.csrWrite(n)) { return illegal(op) }
        guard let value = csrRead(n) else { return illegal(op) }
        // The holed write is dropped, but the instruction ran without a trap like any CSR write.
        if writes && n & 0x300 != 0 { notePrivilegedCSRWrite() }
        let x = state.pointee.regs
        x[Int(op.rd)] = value
        x[0] = 0
        state.pointee.pc = next
        return .next
    }

    @inline(never)
    func executeAtomic(_ op: DecodedOp) -> Flow {
        let s = state
        let x = s.pointee.regs
        let word: Bool
        switch op.opcode {
        case .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w,
             .amominu_w, .amomaxu_w: word = true
        default: word = false
        }
        let size: UInt64 = word ? 4 : 8
        let va = x[Int(op.rs1)]
        let src = x[Int(op.rs2)]
        @inline(__always) func extend(_ v: UInt64) -> UInt64 {
            word ? UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: v))) : v
        }
        switch op.opcode {
        case .lr_w, .lr_d:
            guard let pa = atomicAddress(va, size: size, isLoadReserved: true) else { return .trapped }
            let v = Hart.loadRAM(host(pa), size: size)
            machine.reserve(pa, hart: self)
            x[Int(op.rd)] = extend(v)
        case .sc_w, .sc_d:
            guard let pa = atomicAddress(va, size: size, isLoadReserved: false, isStoreConditional: true) else { return .trapped }
            if s.pointee.reservation == pa & ~7 {
                Hart.storeRAM(host(pa), size: size, src)
                noteWrite(pa, count: size)
                x[Int(op.rd)] = 0
            } else {
                x[Int(op.rd)] = 1
            }
            s.pointee.reservation = noReservation
        default:
            var isRAM = true
            guard let pa = atomicAddress(va, size: size, isLoadReserved: false, isRAM: &isRAM) else { return .trapped }
            if isRAM {
                let p = host(pa)
                let a = extend(Hart.loadRAM(p, size: size))
                Hart.storeRAM(p, size: size, op.opcode.amoResult(old: a, operand: src))
                noteWrite(pa, count: size)
                x[Int(op.rd)] = a
            } else {
                // A device that accepts atomics: its read, then its write, within this instruction.
                guard let old = machine.mmioRead(pa, size: size, hart: self),
                      machine.mmioWrite(pa, size: size, value: op.opcode.amoResult(old: old, operand: src) & (word ? 0xFFFF_FFFF : .max),
                                        hart: self) else {
                    raise(.storeAccessFault, tval: va)
                    return .trapped
                }
                x[Int(op.rd)] = extend(old)
            }
        }
        x[0] = 0
        s.pointee.pc = s.pointee.pc &+ UInt64(op.length)
        // An observed event or a watchpoint hit during the access ends the slice.
        return s.pointee.exitSlice != .none ? .exit : .next
    }
}
