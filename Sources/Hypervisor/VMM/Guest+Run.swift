// Running a guest: budgets, `until` conditions, breakpoints and fault triggers. The machine runs in
// chunks that end exactly where something must happen (a fault's instruction count or cycle, a
// delayed interrupt's release), so every trigger is reached by the same instruction on every run.
import Machine

/// Where a run should stop, besides its budgets.
public enum StopCondition: Sendable {
    /// Before executing the instruction at this guest pc (a virtual address).
    case pc(UInt64)
    /// After the `count`th event of `kind` matching `filter`, counted from the start of the run.
    case event(GuestEventKind, EventFilter, count: Int)
    /// After this many more instructions (retired or trapped).
    case instructions(UInt64)
}

extension Guest {
    /// Runs until a budget is used (instructions retired or trapped, modelled cycles, both counted
    /// from this call), `until` is met (`untilReached` is then true), a breakpoint or watchpoint is
    /// hit, a hook stops the run, or the guest stops for good (`finalStop`: powered off, reset, or
    /// halted by its board, e.g. a trap no firmware handles).
    @discardableResult
    public func run(maxInstructions: UInt64 = .max, maxCycles: UInt64 = .max, until: StopCondition? = nil) -> StopReason {
        let stop = runUntilStop(maxInstructions: maxInstructions, maxCycles: maxCycles, until: until)
        if case .stuck(let hart, let pc, _)? = lastStop, case .stuck(hart, pc, _) = stop {
            return stop   // the same fault found again: the first report names the trap before it
        }
        lastStop = stop
        return stop
    }

    private func runUntilStop(maxInstructions: UInt64, maxCycles: UInt64, until: StopCondition?) -> StopReason {
        untilReached = false
        if let finalStop { return finalStop }
        let startInstructions = executedInstructions
        let startCycles = cycles
        var instructionBudget = maxInstructions
        var untilPC: UInt64?
        var untilHook: HookID?
        var untilMet = false
        switch until {
        case .pc(let pc)?: untilPC = pc
        case .instructions(let n)?: instructionBudget = min(instructionBudget, n)
        case .event(let kind, let filter, let count)?:
            var seen = 0
            let wanted = max(1, count)
            untilHook = events.add(kind, filter: filter, internal: true) { [unowned self] event in
                seen += 1
                if seen == wanted && !untilMet {
                    untilMet = true
                    if !self.events.stopsTheMachineItself(event) {
                        self.machine.requestStop(.hostStop("until: \(wanted) \(kind.rawValue) event\(wanted == 1 ? "" : "s")"))
                    }
                }
                return .proceed
            }
        case nil: break
        }
        defer {
            host?.charge(cycles &- startCycles)
            if let untilHook { events.remove(untilHook) }
            machine.breakpoints = breakpoints
        }

        while true {
            faults.fireDue()
            let usedInstructions = executedInstructions &- startInstructions
            let usedCycles = cycles &- startCycles
            if usedInstructions >= instructionBudget || usedCycles >= maxCycles {
                if case .instructions = until { untilReached = true }
                return .budgetExhausted
            }
            var chunkInstructions = instructionBudget - usedInstructions
            var chunkCycles = maxCycles == .max ? UInt64.max : maxCycles - usedCycles
            if let n = faults.instructionsUntilNext { chunkInstructions = min(chunkInstructions, max(1, n)) }
            if let n = faults.cyclesUntilNext { chunkCycles = min(chunkCycles, max(1, n)) }
            var stopAt = breakpoints
            if let untilPC { stopAt.insert(untilPC) }
            stopAt.formUnion(faults.pcTriggers)
            if machine.breakpoints != stopAt { machine.breakpoints = stopAt }

            events.stopRequested = false
            let stop = machine.run(maxInstructions: chunkInstructions, maxCycles: chunkCycles)
            switch stop {
            case .budgetExhausted:
                continue
            case .breakpoint(_, let pc):
                if breakpoints.contains(pc) { return stop }
                if pc == untilPC { untilReached = true; return stop }
                // Only a fault trigger stopped here: fire it and go on (the machine resumes past
                // the breakpoint it reported last).
                faults.reachedPC(pc)
                continue
            case .hostStop:
                // One stop slot serves hooks, `until` and the injector's re-planning; whoever asked,
                // the injector's request is spent.
                let injector = faults.consumeInternalStop()
                if untilMet { untilReached = true; return stop }
                if events.stopRequested { return stop }
                if injector { continue }
                // Nobody in the VMM asked: the board stopped the guest (its firmware met a trap it
                // cannot handle). The guest is halted for good.
                finalStop = stop
                return stop
            case .idle:
                // A delayed interrupt waiting for a time the idle machine will never reach is
                // released now rather than lost.
                if faults.releaseDelayedNow() { continue }
                return stop
            case .poweredOff, .reset:
                untilReached = untilMet
                finalStop = stop
                return stop
            default:
                return stop
            }
        }
    }

    /// Executes one instruction (or takes one interrupt).
    @discardableResult
    public func step() -> StopReason { run(maxInstructions: 1) }
}
