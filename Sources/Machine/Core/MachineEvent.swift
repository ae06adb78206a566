// Observation: the machine reports what happens on its slow paths (traps, device accesses, page
// walks, TLB flushes, privileged instructions, DMA, interrupt pins) to one observer, synchronously
// and in order. The fast path (a soft-TLB hit, a cached fetch, an ALU instruction) never reports
// anything and never checks anything; a slow path checks one word of the machine.

import RISCV

/// Something that happened in the machine, as reported to a `MachineObserver`.
public enum MachineEvent: Sendable, Equatable {
    /// An exception taken by a hart: reported after delivery (`pc` is the trapping instruction; the
    /// hart is already at its handler), or after firmware in Swift consumed it (`handledByFirmware`).
    case exception(hart: Int, cause: UInt64, tval: UInt64, pc: UInt64, from: PrivilegeMode, handledByFirmware: Bool)
    /// An interrupt taken by a hart (after delivery; `pc` is where the hart was interrupted).
    case interrupt(hart: Int, cause: UInt64, pc: UInt64, from: PrivilegeMode)
    /// A device register access by a hart, after it completed; `value` is what was read or written.
    case mmio(hart: Int, address: UInt64, size: Int, value: UInt64, isWrite: Bool, pc: UInt64)
    /// A hardware page walk on a TLB miss (references = PTE reads + A/D write-backs), after it ended.
    case pageWalk(hart: Int, va: UInt64, references: Int, asid: UInt16, faulted: Bool)
    /// A TLB flush: sfence.vma (nil = all addresses / all address spaces), an untagged TLB's satp
    /// write (both nil), or a host flush (`Machine.flushTLB`).
    case tlbFlush(hart: Int, va: UInt64?, asid: UInt16?)
    /// A SYSTEM-class instruction (ecall, ebreak, xRET, wfi, sfence.vma, a CSR access) about to
    /// execute, before its effect and before its privilege check.
    case privileged(hart: Int, pc: UInt64, instruction: UInt32)
    /// A device moved guest memory through `DMAMemory` (loaders and `loadPhysical` do not count).
    case dma(address: UInt64, count: Int, isWrite: Bool)
    /// An interrupt pin of a hart changed level (platform hardware or firmware in Swift).
    case pin(hart: Int, pin: InterruptPin, level: Bool)

    /// The kind of this event.
    public var kind: MachineEventKinds {
        switch self {
        case .exception: .exception
        case .interrupt: .interrupt
        case .mmio: .mmio
        case .pageWalk: .pageWalk
        case .tlbFlush: .tlbFlush
        case .privileged: .privileged
        case .dma: .dma
        case .pin: .pin
        }
    }
}

/// A set of event kinds (which events reach the observer).
public struct MachineEventKinds: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let exception = MachineEventKinds(rawValue: 1 << 0)
    public static let interrupt = MachineEventKinds(rawValue: 1 << 1)
    public static let mmio = MachineEventKinds(rawValue: 1 << 2)
    public static let pageWalk = MachineEventKinds(rawValue: 1 << 3)
    public static let tlbFlush = MachineEventKinds(rawValue: 1 << 4)
    public static let privileged = MachineEventKinds(rawValue: 1 << 5)
    public static let dma = MachineEventKinds(rawValue: 1 << 6)
    public static let pin = MachineEventKinds(rawValue: 1 << 7)
    public static let all: MachineEventKinds = [.exception, .interrupt, .mmio, .pageWalk, .tlbFlush, .privileged, .dma, .pin]
}

/// Receives the machine's events.
public protocol MachineObserver: AnyObject {
    /// Called synchronously on the slow path where the event happens. The observer may read and
    /// write registers, CSRs, pc and memory through the Machine API; such changes take effect when
    /// the hart resumes (the machine ends the slice after an observed event, so they are seen). The
    /// instruction that caused the event still completes; if the observer moved the pc of the
    /// event's hart, the hart continues at the new pc afterwards.
    /// It may call `machine.requestStop(_:)`, which stops the run right after this instruction.
    /// Events the observer itself causes (a pin it raises, say) are not reported to it. It must not
    /// call `run` or `step`.
    func machine(_ machine: Machine, observed event: MachineEvent)
}

/// Counters of what observation and DMA saw (per machine; per hart where noted).
public struct ObservationCounters: Sendable, Equatable {
    /// SYSTEM-class instructions (privileged instructions and CSR accesses) executed, per hart,
    /// including those that raised illegal instruction.
    public var privileged: [UInt64] = []
    /// DMA transfers (device reads and writes of guest memory through `DMAMemory`) and their bytes.
    public var dmaReads: UInt64 = 0
    public var dmaWrites: UInt64 = 0
    public var dmaBytesRead: UInt64 = 0
    public var dmaBytesWritten: UInt64 = 0
    /// Watchpoint hits (each stopped a run).
    public var watchpointHits: UInt64 = 0
    /// Events delivered to the observer.
    public var eventsDelivered: UInt64 = 0

    public init() {}
}

/// The machine's plain counters behind `ObservationCounters` (no arrays, so updating them on a slow
/// path touches nothing but integers).
struct ObservationTally: Codable {
    var dmaReads: UInt64 = 0
    var dmaWrites: UInt64 = 0
    var dmaBytesRead: UInt64 = 0
    var dmaBytesWritten: UInt64 = 0
    var watchpointHits: UInt64 = 0
}

extension Machine {
    /// Receives the events whose kinds are in `observedEvents`; nil = nobody listens. Held weakly
    /// (an observer typically owns the machine, or both belong to one VM object), so keep a strong
    /// reference to it elsewhere.
    public var observer: (any MachineObserver)? {
        get { observerRef }
        set { observerRef = newValue }
    }

    /// Which kinds reach the observer; an empty set costs one load-and-branch on slow paths.
    public var observedEvents: MachineEventKinds {
        get { MachineEventKinds(rawValue: observedMask) }
        set { observedMask = newValue.rawValue }
    }

    /// Counters of privileged instructions, DMA and watchpoints.
    public var observationCounters: ObservationCounters {
        var c = ObservationCounters()
        c.privileged = harts.map { $0.state.pointee.privilegedExecuted }
        c.dmaReads = tally.dmaReads
        c.dmaWrites = tally.dmaWrites
        c.dmaBytesRead = tally.dmaBytesRead
        c.dmaBytesWritten = tally.dmaBytesWritten
        c.watchpointHits = tally.watchpointHits
        c.eventsDelivered = eventsDelivered
        return c
    }

    /// True when events of `kind` reach an observer. Slow paths test this before building an event.
    @inline(__always)
    func observes(_ kind: MachineEventKinds) -> Bool { observedMask & kind.rawValue != 0 }

    /// Delivers `event` to the observer (the caller checked `observes`). `hart` is the hart whose
    /// instruction caused it, if any: its slice ends after this instruction so that changes the
    /// observer makes are seen, and a pc the observer set is kept as a redirect (the instruction in
    /// flight still completes, see `applyRedirect`).
    @inline(never)
    func deliver(_ event: MachineEvent, hart: Int?) {
        guard !delivering, let o = observerRef else { return }
        delivering = true
        defer { delivering = false }
        eventsDelivered &+= 1
        var pcBefore: UInt64 = 0
        if let h = hart { pcBefore = harts[h].state.pointee.pc }
        o.machine(self, observed: event)
        guard let h = hart else { return }
        let t = harts[h]
        let s = t.state
        s.pointee.eventsSeen &+= 1
        if s.pointee.pc != pcBefore {
            // The engine writes the pc of the completed instruction when the slice ends; the
            // observer's pc wins once the instruction is over.
            s.pointee.redirectPC = s.pointee.pc
            s.pointee.refillHold |= holdRedirect
            s.pointee.pc = pcBefore
            t.invalidateFetch()
            // Back to the run loop after this instruction (an engine must not go on to its next
            // slice by itself), which applies the pc before the next slice.
            s.pointee.exitSlice = .stop
        }
        if s.pointee.exitSlice == .none { s.pointee.exitSlice = .checkInterrupts }
    }

}

extension Hart {
    /// True when events of `kind` reach an observer (the hart's copy of the machine's mask, so
    /// the test touches no object).
    @inline(__always)
    func observes(_ kind: MachineEventKinds) -> Bool { state.pointee.observedMask & kind.rawValue != 0 }

    /// Forgets a pc an observer set (the host set the pc itself, or restarted the hart).
    func dropRedirect() {
        state.pointee.redirectPC = noRedirect
        state.pointee.refillHold &= ~holdRedirect
    }

    /// Applies a pc an observer set while an instruction was in flight. Called between slices
    /// (before interrupts are checked) and before the host reads the pc.
    @inline(never)
    func applyRedirect() {
        let pc = state.pointee.redirectPC
        state.pointee.refillHold &= ~holdRedirect
        guard pc != noRedirect else { return }
        state.pointee.redirectPC = noRedirect
        state.pointee.pc = pc & ~1
        invalidateFetch()
    }
}
