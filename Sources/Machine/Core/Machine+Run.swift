// The scheduler: harts take turns in slices of at most `quantum` instructions (round-robin, one host
// thread, so results never depend on host timing). A slice also ends at the next device deadline,
// so timers fire at a deterministic instruction. Between slices the machine advances timed devices,
// takes interrupts, and, when every hart waits, skips time to the next deadline.

extension Machine {
    /// A flag the host sets asynchronously to stop every machine's `run` (a command-line tool's
    /// Ctrl-C: `LuaState.interruptFlag`), or nil. Polled between slices, which are then at most
    /// `interruptibleSlice` instructions long; `run` returns `.hostStop("interrupted")`. A slice
    /// boundary is invisible to the guest and to every counter (the engines are exact across
    /// them), so the shorter slices change no result.
    nonisolated(unsafe) public static var hostInterrupt: UnsafePointer<Int32>? = nil
    static let interruptibleSlice: UInt64 = 1 << 24
    static let interruptedMessage = "interrupted"

    static var hostInterrupted: Bool {
        guard let flag = hostInterrupt else { return false }
        return flag.pointee != 0
    }

    /// The stop `run` returns now, if any: one requested (`requestStop`, consumed here), else the
    /// host's interrupt.
    private func takeStop() -> StopReason? {
        if let stop = pendingStop { pendingStop = nil; return stop }
        return Machine.hostInterrupted ? .hostStop(Machine.interruptedMessage) : nil
    }

    /// `body` applied to the M-mode trap handler, or nil when none is installed: while the machine
    /// runs, through the run's hold, with no retain.
    @inline(__always)
    func withTrapHandler<R>(_ body: (any MachineModeTrapHandler) -> R) -> R? {
        if let held = trapHandlerHolds.held { return held._withUnsafeGuaranteedRef { body($0.value) } }
        guard trapHandlerHolds.runs == 0, let handler = trapHandler else { return nil }
        return body(handler)
    }

    /// Runs until a budget is used up or something stops the machine.
    ///
    /// - Parameters:
    ///   - maxInstructions: instructions retired or trapped (an exception) by all harts together in
    ///     this call.
    ///   - maxCycles: modelled cycles the machine's clock may advance in this call.
    public func run(maxInstructions: UInt64 = .max, maxCycles: UInt64 = .max) -> StopReason {
        code.runStarted()
        trapHandlerHolds.runStarted(current: trapHandler)
        // The host may have changed anything since the last run: harts stuck then must say so again.
        if harts.count > 1 { stuckHarts.forget() }
        defer {
            code.runEnded()
            trapHandlerHolds.runEnded()
        }
        var account = TurnAccount(maxInstructions: maxInstructions, maxCycles: maxCycles, startCycles: globalCycles)
        var resumeFromBreakpoint = lastBreakpoint
        lastBreakpoint = nil
        var resumed = interruptedTurn
        interruptedTurn = nil
        while true {
            if let stop = takeStop() {
                interruptedTurn = resumed
                return stop
            }
            advanceDevices()
            var anyRan = resumed?.anyRan ?? false
            for h in harts[(resumed?.hart ?? 0)...] {
                let s = h.state
                // The hart's turn: up to `quantum` instructions (retired or trapped), in slices
                // that end at traps, interrupts, CSR side effects and device deadlines.
                account.turnLeft = harts.count == 1 ? UInt64.max : configuration.quantum
                if let turn = resumed {
                    account.turnLeft = turn.left
                    resumed = nil
                }
                // Every return inside the turn leaves the schedule where it stands (interruptedTurn).
                while account.turnLeft > 0 {
                    h.checkInterrupts()
                    guard s.pointee.runState == .started else { break }
                    if account.done >= maxInstructions {
                        interruptedTurn = InterruptedTurn(hart: h.id, left: account.turnLeft, anyRan: anyRan)
                        return .budgetExhausted
                    }
                    let cyclesUsed = currentCyclesOf(h) &- account.startCycles
                    if cyclesUsed >= maxCycles {
                        interruptedTurn = InterruptedTurn(hart: h.id, left: account.turnLeft, anyRan: anyRan)
                        return .budgetExhausted
                    }
                    var limit = sliceLimit(h, account, cyclesUsed: cyclesUsed)
                    if !breakpoints.isEmpty {
                        let pc = s.pointee.pc
                        if breakpoints.contains(pc) && resumeFromBreakpoint.map({ $0.hart != h.id || $0.pc != pc }) ?? true {
                            lastBreakpoint = (h.id, pc)
                            interruptedTurn = InterruptedTurn(hart: h.id, left: account.turnLeft, anyRan: anyRan)
                            return .breakpoint(hart: h.id, pc: pc)
                        }
                        resumeFromBreakpoint = nil
                        limit = 1
                    }
                    // Armed debug triggers look at every instruction before it runs.
                    let triggers = h.triggers.armed
                    if triggers { limit = 1 }
                    account.sliceStart = s.pointee.instret &+ s.pointee.exceptionsTaken
                    // For an icount trigger: the mode the step's instruction is fetched in.
                    let fetchedIn = s.pointee.priv, triggerWrites = triggers ? h.triggers.writes : 0
                    currentHart = h.id
                    if !triggers || !h.takeTrigger() {
                        withUnsafeMutablePointer(to: &account) { p in
                            h.turn = p
                            // The engine: native code where the machine has it (ExecutionEngine.jit),
                            // else the interpreter or the block engine (Hart.run).
                            _ = h.jit != nil ? h.runJIT(limit: limit) : h.run(limit: limit)
                            h.turn = nil
                        }
                    }
                    currentHart = nil
                    let used = (s.pointee.instret &+ s.pointee.exceptionsTaken) &- account.sliceStart
                    // The one instruction stepped retired or trapped (a trigger's breakpoint too),
                    // unless it wrote tdata1 itself: then the count is what it wrote.
                    if triggers && used != 0 && h.triggers.countsInstructions && h.triggers.writes == triggerWrites {
                        h.triggers.countInstruction(priv: fetchedIn)
                    }
                    account.done &+= used
                    account.turnLeft &-= min(account.turnLeft, max(used, 1))
                    if s.pointee.cycles > globalCycles { globalCycles = s.pointee.cycles }
                    anyRan = true
                    if let stop = takeStop() {
                        interruptedTurn = InterruptedTurn(hart: h.id, left: account.turnLeft, anyRan: true)
                        return stop
                    }
                    advanceDevices()
                }
            }
            // Harts that waited kept time with the others.
            for h in harts where h.state.pointee.runState != .started {
                h.state.pointee.cycles = max(h.state.pointee.cycles, globalCycles)
            }
            if anyRan { continue }
            // Nobody can run: wake on a pending interrupt, or skip to the next device deadline.
            if harts.contains(where: { $0.state.pointee.runState == .waitingForInterrupt
                                       && $0.state.pointee.mip & $0.state.pointee.mie != 0 }) { continue }
            guard let deadline = nextDeadline else { return .idle }
            let target = deadline &* configuration.cyclesPerTick
            if target > globalCycles {
                if maxCycles != .max && target &- account.startCycles > maxCycles {
                    let end = account.startCycles &+ maxCycles
                    if end > globalCycles { sleptCycles &+= end &- globalCycles }
                    globalCycles = end
                    syncIdleHarts()
                    return .budgetExhausted
                }
                sleptCycles &+= target &- globalCycles
                globalCycles = target
            } else if (earliestDeadline ?? .max) > mtime {
                return .idle
            }
            syncIdleHarts()
        }
    }

    /// The instruction limit of the next slice of `h`: the budgets, the rest of the turn, and the
    /// next device deadline (so that timers fire at a deterministic instruction).
    @inline(__always)
    private func sliceLimit(_ h: Hart, _ a: TurnAccount, cyclesUsed: UInt64) -> UInt64 {
        var limit = min(a.maxInstructions - a.done, a.turnLeft)
        if a.maxCycles != .max {
            limit = min(limit, max(1, (a.maxCycles - cyclesUsed) / max(1, instructionCost)))
        }
        // Where the host can be interrupted, no slice runs so long that Ctrl-C waits for it.
        if Machine.hostInterrupt != nil { limit = min(limit, Machine.interruptibleSlice) }
        if let deadline = earliestDeadline {
            let dc = deadline &* configuration.cyclesPerTick
            let now = h.state.pointee.cycles
            limit = min(limit, dc > now ? max(1, (dc - now + max(1, instructionCost) - 1) / max(1, instructionCost)) : 1)
        }
        return limit
    }

    /// Called by an engine after an instruction that ended its slice (a trap, xRET, a CSR write
    /// with side effects...): when the run loop would do nothing between this slice and the next
    /// slice of the same hart (no stop requested, no device due, no interrupt to take, the turn and
    /// the budgets not used up, no breakpoints, no armed debug triggers), settles the slice as the
    /// run loop would and returns the next slice's limit, so the engine goes on without leaving
    /// its loop. Returns 0 otherwise; the engine then returns and the run loop does the rest.
    /// Either way the slices, and so every interrupt point and deadline, are the run loop's.
    @inline(never)
    func continueTurn(_ h: Hart) -> UInt64 {
        guard let a = h.turn else { return 0 }
        let s = h.state
        guard pendingStop == nil, breakpoints.isEmpty, !h.triggers.armed, s.pointee.runState == .started,
              !Machine.hostInterrupted else { return 0 }
        let now = s.pointee.instret &+ s.pointee.exceptionsTaken
        let used = now &- a.pointee.sliceStart
        let turnLeft = a.pointee.turnLeft &- min(a.pointee.turnLeft, max(used, 1))
        let done = a.pointee.done &+ used
        guard turnLeft > 0, done < a.pointee.maxInstructions else { return 0 }
        let global = max(globalCycles, s.pointee.cycles)
        // advanceDevices would bring a device up to date (and might raise an interrupt).
        if let e = earliestDeadline, e <= global / configuration.cyclesPerTick { return 0 }
        // checkInterrupts would take one.
        if s.pointee.mip & s.pointee.mie != 0 && h.pendingInterrupt() != nil { return 0 }
        let cyclesUsed = global &- a.pointee.startCycles
        guard cyclesUsed < a.pointee.maxCycles else { return 0 }
        globalCycles = global
        a.pointee.done = done
        a.pointee.turnLeft = turnLeft
        a.pointee.sliceStart = now
        return sliceLimit(h, a.pointee, cyclesUsed: cyclesUsed)
    }

    /// Executes one instruction (or takes one interrupt) on the hart whose turn it is: steps go
    /// through the harts as one long run would.
    public func step() -> StopReason { run(maxInstructions: 1) }

    private func syncIdleHarts() {
        for h in harts where h.state.pointee.runState != .started {
            h.state.pointee.cycles = max(h.state.pointee.cycles, globalCycles)
        }
    }

    func currentCyclesOf(_ h: Hart) -> UInt64 { max(globalCycles, h.state.pointee.cycles) }

    /// Instructions retired plus instructions that trapped (an exception, or a translator's
    /// callout that delivered a trap in software), over all harts: what the instruction budget
    /// counts, so that a guest stuck in a loop of faults still comes back. Traps a VMM took for
    /// itself (`uncountMonitorTrap`) are not among them.
    public var totalInstructions: UInt64 {
        var n: UInt64 = 0
        for h in harts { n &+= h.state.pointee.instret &+ h.state.pointee.exceptionsTaken }
        return n
    }

    /// The earliest deadline of any timed device, in mtime ticks.
    var nextDeadline: UInt64? { earliestDeadline }

    /// Brings every device whose deadline has come up to the present.
    @inline(__always)
    func advanceDevices() {
        guard let e = earliestDeadline, e <= mtime else { return }
        let now = mtime
        for (i, d) in timedDevices.enumerated() {
            if let t = deadlines[i], t <= now {
                d.advance(to: now)
                deadlines[i] = d.nextDeadline
            }
        }
        recomputeEarliestDeadline()
    }
}

/// Where `run` left the round-robin (`Machine.interruptedTurn`).
struct InterruptedTurn: Codable {
    /// The hart whose turn it was.
    var hart: Int
    /// Instructions left of that turn (0: the turn was over; the next hart's comes next).
    var left: UInt64
    /// Whether some hart ran earlier in the same pass (else the machine may be idle after it).
    var anyRan: Bool
}

/// The run loop's accounts while a hart has its turn, shared with the engine through
/// `Hart.turn` so that `continueTurn` can settle a slice exactly as the run loop does.
struct TurnAccount {
    /// Instructions (retired or trapped) by all harts in this `run` call.
    var done: UInt64 = 0
    let maxInstructions: UInt64
    let maxCycles: UInt64
    /// The machine's clock when `run` was called.
    let startCycles: UInt64
    /// Instructions left in the current hart's turn.
    var turnLeft: UInt64 = 0
    /// The hart's retired + trapped instructions when the current slice began.
    var sliceStart: UInt64 = 0

    init(maxInstructions: UInt64, maxCycles: UInt64, startCycles: UInt64) {
        self.maxInstructions = maxInstructions
        self.maxCycles = maxCycles
        self.startCycles = startCycles
    }
}
