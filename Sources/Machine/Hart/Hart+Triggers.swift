// Debug triggers: the Sdtrig extension (RISC-V Debug Specification 1.0, "Sdtrig (ISA Extension)"
// and its register descriptions, xml/hwbp_registers.xml). M-mode software (a debugger stub, a
// monitor, OpenSBI's debug-trigger SBI extension) programs hardware breakpoints and watchpoints
// through tselect/tdata1/tdata2; a trigger that fires raises a breakpoint exception (cause 3)
// before its instruction, with xtval the matched address.
//
// What this hart implements, per trigger (`TriggerModule.count` of them):
// - types 2 (mcontrol), 3 (icount), 4 (itrigger), 5 (etrigger) and 6 (mcontrol6), and 15
//   (disabled, the reset state); tinfo says so, with version 1 (the ratified 1.0). Writing another
//   type, or 0, disables the trigger.
// - icount: a single step for monitors and debuggers. It matches once per instruction that
//   retires or traps after being fetched in an enabled mode, and once per interrupt taken from an
//   enabled mode; each match takes one from count (14 bits), and the match that takes it to 0 sets
//   pending. A pending trigger fires before the next instruction in an enabled mode (so a U-mode
//   step over an ecall runs the whole M-mode handler first), with tval 0, and clears pending. An
//   instruction that writes tdata1 leaves the count it wrote (the spec lets pending go either way:
//   it stays as written). vs and vu read 0 (no H extension), action is 0.
// - itrigger and etrigger: tdata2 is a mask of interrupt (itrigger) or exception (etrigger)
//   codes, WARL: only the codes this hart can take stay set. A trap taken from an enabled mode
//   whose code is in the mask fires the trigger after the trap, before the handler's first
//   instruction, with tval 0. Under this hart's reentrancy rule (below) that happens only for
//   traps handled in S-mode, breakpoints going to M-mode: as the specification says of both of
//   its rules, they cannot act on traps handled in M-mode. No NMIs, so itrigger's nmi reads 0.
// - address matches only (select = 0), timing "before", any access size (size = 0), action 0
//   (breakpoint exception), no chaining: each of those fields is WARL and reads back 0 whatever
//   was written. match: equal, napot, ge, lt, mask low, mask high, and the four negations.
// - compare values: an instruction's pc (execute); every byte address an access touches (load,
//   store; LR is a load, SC a store, an AMO both), as the specification recommends.
// - dmode is only writable from Debug Mode, which this hart does not have: it reads 0.
// - tdata3 (textra) reads 0 and ignores writes (no context matching); tcontrol is not implemented.
//   Reentrancy follows the specification's first option instead: a trigger with action 0 does not
//   fire in M-mode while mstatus.MIE is 0, nor in S-mode while SIE is 0 when medeleg delegates
//   breakpoints to S-mode.
//
// Triggers cost nothing until one is armed (a type 2 or 6 trigger with a mode bit and an access
// bit set, an icount trigger with a mode bit and a count or pending, an itrigger or etrigger with
// a mode bit and a code). While one is, the hart runs one instruction per slice, as under a host
// breakpoint, and `takeTrigger` looks at each instruction before it runs: a trap trigger's match,
// icount's pending, its pc, and for a load or store trigger its decoded effective address, read
// without side effects. The run loop tells an icount trigger of each instruction that ran
// (`countInstruction`), `takeInterrupt` of each interrupt, and `enterTrap` the trap triggers of
// each trap (`trapTaken`).

import RISCV

/// The hart's debug triggers and the trigger select register.
struct TriggerModule: Codable {
    static let count = 4

    var select: UInt64 = 0
    var tdata1 = [UInt64](repeating: TriggerModule.disabled, count: TriggerModule.count)
    var tdata2 = [UInt64](repeating: 0, count: TriggerModule.count)
    /// Some trigger can fire: the run loop steps the hart one instruction at a time.
    private(set) var armed = false
    /// Some armed trigger watches loads or stores (so each instruction's address is worked out).
    private(set) var watchesData = false
    /// Some armed trigger is an icount: instructions and interrupts are counted for it.
    private(set) var countsInstructions = false
    /// Some armed trigger is an itrigger or etrigger: traps taken are shown to it.
    private(set) var watchesTraps = false
    /// The itriggers and etriggers (a bit per trigger) a trap just taken matched: they fire
    /// before the next instruction, the handler's first.
    private(set) var trapMatches: UInt8 = 0
    /// tdata1 writes so far: the run loop does not count the instruction that wrote it.
    private(set) var writes: UInt64 = 0

    // tdata1 fields (mcontrol and mcontrol6 share every field used here except hit).
    static let typeShift: UInt64 = 60
    static let disabled: UInt64 = 15 << typeShift
    static let load: UInt64 = 1 << 0, store: UInt64 = 1 << 1, execute: UInt64 = 1 << 2
    static let u: UInt64 = 1 << 3, s: UInt64 = 1 << 4, m: UInt64 = 1 << 6
    static let matchShift: UInt64 = 7
    static let mcontrolHit: UInt64 = 1 << 20
    static let mcontrol6Hit0: UInt64 = 1 << 22, mcontrol6Hit1: UInt64 = 1 << 25
    // icount's own fields (Sdtrig, "icount").
    static let icountHit: UInt64 = 1 << 24
    static let countShift: UInt64 = 10, countMask: UInt64 = 0x3FFF
    static let icountM: UInt64 = 1 << 9, pending: UInt64 = 1 << 8, icountS: UInt64 = 1 << 7, icountU: UInt64 = 1 << 6
    /// itrigger's and etrigger's hit (bit XLEN-6); their m, s and u are icount's bits.
    static let trapHit: UInt64 = 1 << 58
    /// The interrupt codes this hart takes (SSI, MSI, STI, MTI, SEI, MEI) and its exception codes
    /// (0-9, 11, 12, 13, 15): the bits of tdata2 an itrigger or etrigger keeps.
    static let interruptCodes: UInt64 = 1 << 1 | 1 << 3 | 1 << 5 | 1 << 7 | 1 << 9 | 1 << 11
    static let exceptionCodes: UInt64 = 0x3FF | 1 << 11 | 1 << 12 | 1 << 13 | 1 << 15
    /// tinfo: types 2, 3, 4, 5, 6 and 15; version 1.
    static let info: UInt64 = 1 << 24 | 1 << 15 | 1 << 6 | 1 << 5 | 1 << 4 | 1 << 3 | 1 << 2

    static func type(_ tdata1: UInt64) -> UInt64 { tdata1 >> typeShift }

    /// tdata1 as written, made legal (WARL): the fields this hart does not implement read 0.
    static func legal(_ v: UInt64) -> UInt64 {
        let kept = load | store | execute | u | s | m
        var match = (v >> matchShift) & 0xF
        if ![0, 1, 2, 3, 4, 5, 8, 9, 12, 13].contains(match) { match = 0 }
        switch type(v) {
        case 2: return 2 << typeShift | (v & (kept | mcontrolHit)) | match << matchShift
        case 6: return 6 << typeShift | (v & (kept | mcontrol6Hit0 | mcontrol6Hit1)) | match << matchShift
        case 3: return 3 << typeShift | (v & (icountHit | countMask << countShift | icountM | pending | icountS | icountU))
        case 4, 5: return type(v) << typeShift | (v & (trapHit | icountM | icountS | icountU))
        default: return disabled
        }
    }

    mutating func write(tdata1 v: UInt64) {
        guard select < UInt64(Self.count) else { return }
        let i = Int(select)
        tdata1[i] = Self.legal(v)
        tdata2[i] = Self.legal(tdata2: tdata2[i], type: Self.type(tdata1[i]))
        writes &+= 1
        rearm()
    }

    mutating func write(tdata2 v: UInt64) {
        guard select < UInt64(Self.count) else { return }
        let i = Int(select)
        tdata2[i] = Self.legal(tdata2: v, type: Self.type(tdata1[i]))
        rearm()
    }

    /// tdata2 made legal for a trigger of `type` (WARL): an itrigger's or etrigger's keeps the
    /// codes this hart can take; an address trigger's is any value.
    static func legal(tdata2 v: UInt64, type: UInt64) -> UInt64 {
        switch type {
        case 4: v & interruptCodes
        case 5: v & exceptionCodes
        default: v
        }
    }

    private mutating func rearm() {
        armed = false
        watchesData = false
        countsInstructions = false
        watchesTraps = false
        for (i, t) in tdata1.enumerated() {
            switch Self.type(t) {
            case 2, 6:
                guard t & (Self.m | Self.s | Self.u) != 0 else { continue }
                if t & (Self.load | Self.store | Self.execute) != 0 { armed = true }
                if t & (Self.load | Self.store) != 0 { watchesData = true }
            case 3:
                guard t & (Self.icountM | Self.icountS | Self.icountU) != 0,
                      t & (Self.countMask << Self.countShift | Self.pending) != 0 else { continue }
                armed = true
                countsInstructions = true
            case 4, 5:
                guard t & (Self.icountM | Self.icountS | Self.icountU) != 0, tdata2[i] != 0 else { continue }
                armed = true
                watchesTraps = true
            default:
                break
            }
        }
        // A match left by a trap while the trigger was armed must not fire after it is rewritten.
        if !watchesTraps { trapMatches = 0 }
    }

    /// Whether trigger `i`, of `type` (3, 4 or 5), is enabled in privilege `priv` (the mode an
    /// instruction was fetched in, or a trap taken from): their m, s and u are the same bits.
    private func enabled(_ i: Int, type: UInt64, priv: UInt8) -> Bool {
        let t = tdata1[i]
        guard Self.type(t) == type else { return false }
        switch priv {
        case 3: return t & Self.icountM != 0
        case 1: return t & Self.icountS != 0
        default: return t & Self.icountU != 0
        }
    }

    /// A trap with code `code` was taken from `priv`: the itriggers (interrupts) or etriggers
    /// (exceptions) enabled there with the code in tdata2 match, to fire before the handler runs.
    mutating func trapTaken(code: UInt64, interrupt: Bool, from priv: UInt8) {
        guard code < 64 else { return }
        for i in 0..<Self.count where enabled(i, type: interrupt ? 4 : 5, priv: priv) && (tdata2[i] >> code) & 1 != 0 {
            trapMatches |= 1 << UInt8(i)
        }
    }

    /// Takes the trap matches waiting to fire (none are left, whether or not they may fire); when
    /// `fire`, sets the hit bits of those that fire. Whether any fired.
    mutating func takeTrapMatches(fire: Bool) -> Bool {
        let matches = trapMatches
        trapMatches = 0
        guard fire && matches != 0 else { return false }
        for i in 0..<Self.count where (matches >> UInt8(i)) & 1 != 0 { tdata1[i] |= Self.trapHit }
        return true
    }

    /// An instruction fetched in `priv` retired or trapped, or an interrupt was taken from `priv`:
    /// each icount trigger enabled there matches once (count - 1; from 1, count 0 and pending).
    mutating func countInstruction(priv: UInt8) {
        var changed = false
        for i in 0..<Self.count where enabled(i, type: 3, priv: priv) {
            let t = tdata1[i]
            let count = (t >> Self.countShift) & Self.countMask
            guard count != 0 else { continue }
            var next = t & ~(Self.countMask << Self.countShift) | (count - 1) << Self.countShift
            if count == 1 { next |= Self.pending }
            tdata1[i] = next
            changed = true
        }
        if changed { rearm() }
    }

    /// Fires the pending icount triggers enabled in `priv` (clearing pending, setting hit);
    /// whether any fired.
    mutating func firePendingCounts(priv: UInt8) -> Bool {
        var fired = false
        for i in 0..<Self.count where enabled(i, type: 3, priv: priv) && tdata1[i] & Self.pending != 0 {
            tdata1[i] = tdata1[i] & ~Self.pending | Self.icountHit
            fired = true
        }
        if fired { rearm() }
        return fired
    }

    /// Whether trigger `i` (armed, of type 2 or 6) is enabled in privilege `priv` for `access`.
    func enabled(_ i: Int, priv: UInt8, access: UInt64) -> Bool {
        let t = tdata1[i]
        guard Self.type(t) == 2 || Self.type(t) == 6, t & access != 0 else { return false }
        switch priv {
        case 3: return t & Self.m != 0
        case 1: return t & Self.s != 0
        default: return t & Self.u != 0
        }
    }

    /// Whether trigger `i`'s match condition holds for any of the compare values
    /// `first ..< first + count` ("match" field of mcontrol/mcontrol6).
    func matches(_ i: Int, first: UInt64, count: UInt64) -> Bool {
        let t = tdata1[i], data = tdata2[i]
        let match = (t >> Self.matchShift) & 0xF
        var any = false
        for k in 0..<count where !any {
            let value = first &+ k
            switch match & 7 {
            case 0: any = value == data
            case 1:
                // napot: all but the bits up to and including tdata2's lowest clear bit.
                let ones = UInt64((~data).trailingZeroBitCount)
                let ignored: UInt64 = ones >= 63 ? .max : (1 << (ones + 1)) - 1
                any = value & ~ignored == data & ~ignored
            case 2: any = value >= data
            case 3: any = value < data
            case 4: any = (value & 0xFFFF_FFFF) & (data >> 32) == data & 0xFFFF_FFFF
            default: any = (value >> 32) & (data >> 32) == data & 0xFFFF_FFFF
            }
        }
        return match & 8 != 0 ? !any : any
    }

    /// Records that trigger `i` fired before its instruction (hit, or hit1:hit0 = 01).
    mutating func recordHit(_ i: Int) {
        tdata1[i] |= Self.type(tdata1[i]) == 2 ? Self.mcontrolHit : Self.mcontrol6Hit0
    }
}

extension Hart {
    func readTriggerCSR(_ n: UInt16) -> UInt64? {
        let t = triggers
        let i = Int(t.select)
        switch n {
        case CSR.tselect: return t.select
        case CSR.tdata1: return i < TriggerModule.count ? t.tdata1[i] : 0
        case CSR.tdata2: return i < TriggerModule.count ? t.tdata2[i] : 0
        case CSR.tdata3: return 0
        case CSR.tinfo: return i < TriggerModule.count ? TriggerModule.info : 1
        default: return nil
        }
    }

    func writeTriggerCSR(_ n: UInt16, _ v: UInt64) -> Bool {
        switch n {
        // WARL: an index past the last trigger keeps the old one (a debugger reads back to check).
        case CSR.tselect: if v < UInt64(TriggerModule.count) { triggers.select = v }
        case CSR.tdata1: triggers.write(tdata1: v)
        case CSR.tdata2: triggers.write(tdata2: v)
        // tdata3 (textra) is not implemented, and tinfo's fields are read-only: writes do nothing.
        case CSR.tdata3, CSR.tinfo: break
        default: return false
        }
        // The run loop looks at `triggers.armed` between slices.
        state.pointee.exitSlice = .checkInterrupts
        return true
    }

    /// Before the instruction at pc runs: if an armed trigger matches it, raises the breakpoint
    /// exception it asks for (instead of the instruction) and returns true. A trap trigger's match
    /// and a pending icount come first, then execute triggers: they come before the instruction's
    /// fetch faults. Load and store triggers
    /// come after illegal-instruction and before address-translation faults (Sdtrig, "Priority"):
    /// the instruction must decode to a legal access, and its address is compared before any
    /// translation.
    func takeTrigger() -> Bool {
        let s = state
        let priv = s.pointee.priv
        // Reentrancy: no breakpoint exception where its handler would run with interrupts off.
        let mayFire: Bool
        switch priv {
        case 3: mayFire = s.pointee.mstatus & Mstatus.mie != 0
        case 1: mayFire = (s.pointee.medeleg >> 3) & 1 == 0 || s.pointee.mstatus & Mstatus.sie != 0
        default: mayFire = true
        }
        // A trap just taken that an itrigger or etrigger matched fires now, before the handler's
        // first instruction, or never (the reentrancy rule prevents matching there).
        let trapFired = triggers.watchesTraps && triggers.takeTrapMatches(fire: mayFire)
        guard mayFire else { return false }
        // icount too fires "just before" the next instruction, ahead of that instruction's own
        // execute trigger (Sdtrig, "Priority"); with a trap trigger, as one breakpoint.
        let countFired = triggers.countsInstructions && triggers.firePendingCounts(priv: priv)
        if trapFired || countFired {
            raise(.breakpoint, tval: 0)
            return true
        }
        let pc = s.pointee.pc
        if fire(first: pc, count: 1, access: TriggerModule.execute, priv: priv, tval: pc) { return true }
        guard triggers.watchesData, let insn = instructionForTriggers(at: pc) else { return false }
        let op = insn.opcode
        guard op.accessesMemory, !op.usesFloatingPoint || s.pointee.fpEnabled else { return false }
        let regs = s.pointee.regs
        let address = regs[Int(insn.rs1)] &+ UInt64(bitPattern: Int64(insn.imm))
        let width = UInt64(op.memoryAccessWidth)
        var access: UInt64 = 0
        if op.isLoad || op.isAMO { access |= TriggerModule.load }
        if op.isStore || op.isAMO { access |= TriggerModule.store }
        return fire(first: address, count: width, access: access, priv: priv, tval: address)
    }

    private func fire(first: UInt64, count: UInt64, access: UInt64, priv: UInt8, tval: UInt64) -> Bool {
        var fired = false
        for i in 0..<TriggerModule.count
        where triggers.enabled(i, priv: priv, access: access) && triggers.matches(i, first: first, count: count) {
            triggers.recordHit(i)
            fired = true
        }
        if fired { raise(.breakpoint, tval: tval) }
        return fired
    }

    /// The instruction at `pc`, read as the hart would fetch it but without any side effect (no
    /// TLB fill, no A bit, no counter); nil where the fetch would fault, which the instruction
    /// then raises itself.
    private func instructionForTriggers(at pc: UInt64) -> Instruction? {
        Decoder.decode(at: pc) { va in
            guard case .physical(let pa) = machine.translate(va, hart: id, access: .fetch),
                  let v = machine.readPhysical(littleEndianAt: pa, count: 2) else { return nil }
            return UInt16(truncatingIfNeeded: v)
        }
    }
}
