// The scheduler: harts take turns in slices of at most `quantum` instructions (round-robin, one host
// thread, so results never depend on host timing). A slice also ends at the next device deadline,
// so timers fire at a deterministic instruction. Between slices the machine advances timed devices,
// takes interrupts, and, when every hart waits, skips time to the next deadline.

extension Machine {
    /// Runs until a budget is used up or something stops the machine.
    ///
    /// - Parameters:
    ///   - maxInstructions: instructions retired or trapped (an exception) by all harts together in
    ///     this call.
    ///   - maxCycles: modelled cycles the machine's clock may advance in this call.
    public func run(maxInstructions: UInt64 = .max, maxCycles: UInt64 = .max) -> StopReason {
        var done: UInt64 = 0
        let startCycles = globalCycles
        var resumeFromBreakpoint = lastBreakpoint
        lastBreakpoint = nil
        while true {
            if let stop = pendingStop { pendingStop = nil; return stop }
            advanceDevices()
            var anyRan = false
            for h in harts {
                let s = h.state
                // The hart's turn: up to `quantum` instructions (retired or trapped), in slices
                // that end at traps, interrupts, CSR side effects and device deadlines.
                var turnLeft = harts.count == 1 ? UInt64.max : configuration.quantum
                while turnLeft > 0 {
                    h.checkInterrupts()
                    guard s.pointee.runState == .started else { break }
                    if done >= maxInstructions { return .budgetExhausted }
                    let cyclesUsed = currentCyclesOf(h) &- startCycles
                    if cyclesUsed >= maxCycles { return .budgetExhausted }
                    var limit = min(maxInstructions - done, turnLeft)
                    if maxCycles != .max {
                        limit = min(limit, max(1, (maxCycles - cyclesUsed) / max(1, instructionCost)))
                    }
                    if let deadline = earliestDeadline {
                        let dc = deadline &* configuration.cyclesPerTick
                        let now = s.pointee.cycles
                        limit = min(limit, dc > now ? max(1, (dc - now + max(1, instructionCost) - 1) / max(1, instructionCost)) : 1)
                    }
                    if !breakpoints.isEmpty {
                        let pc = s.pointee.pc
                        if breakpoints.contains(pc) && resumeFromBreakpoint.map({ $0.hart != h.id || $0.pc != pc }) ?? true {
                            lastBreakpoint = (h.id, pc)
                            return .breakpoint(hart: h.id, pc: pc)
                        }
                        resumeFromBreakpoint = nil
                        limit = 1
                    }
                    let before = s.pointee.instret &+ s.pointee.exceptionsTaken
                    currentHart = h.id
                    _ = h.run(limit: limit)
                    currentHart = nil
                    let used = (s.pointee.instret &+ s.pointee.exceptionsTaken) &- before
                    done &+= used
                    turnLeft &-= min(turnLeft, max(used, 1))
                    if s.pointee.cycles > globalCycles { globalCycles = s.pointee.cycles }
                    anyRan = true
                    if let stop = pendingStop { pendingStop = nil; return stop }
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
                if maxCycles != .max && target &- startCycles > maxCycles {
                    globalCycles = startCycles &+ maxCycles
                    syncIdleHarts()
                    return .budgetExhausted
                }
                globalCycles = target
            } else if (earliestDeadline ?? .max) > mtime {
                return .idle
            }
            syncIdleHarts()
        }
    }

    /// Executes one instruction (or takes one interrupt) on the first runnable hart.
    public func step() -> StopReason { run(maxInstructions: 1) }

    private func syncIdleHarts() {
        for h in harts where h.state.pointee.runState != .started {
            h.state.pointee.cycles = max(h.state.pointee.cycles, globalCycles)
        }
    }

    private func currentCyclesOf(_ h: Hart) -> UInt64 { max(globalCycles, h.state.pointee.cycles) }

    /// Instructions retired plus instructions that trapped, over all harts: what the instruction
    /// budget counts, so that a guest stuck in a loop of faults still comes back.
    var totalInstructions: UInt64 {
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
