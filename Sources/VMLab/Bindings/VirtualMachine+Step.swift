// A single step of one named hart (`vm:step { vcpu = N }`, GDB's `vCont;s:N`). A run of one
// instruction steps whichever hart's turn it is, so stepping a given hart means running one
// instruction at a time, the others taking their turns of the round-robin schedule, until that
// hart has executed one. A hart may not move for a long time (asleep in `wfi`, or not started by
// its boot hart): the step waits at most a budget of instructions and says so.
extension VirtualMachine {
    /// Runs one instruction at a time until hart `hart` has executed one (retired it or trapped on
    /// it), or a stop other than the budget comes (a breakpoint or watchpoint another hart met, a
    /// hook, an idle machine, the guest's end: the hart's own instruction may have led to it), or
    /// `limit` instructions (at least 1) have passed with the hart not moving: then the stop is
    /// "budget" and `stepped` false. The stop's `instructions` counts the whole step, over all
    /// harts.
    func step(hart: Int, limit: UInt64) -> (stop: Stop, stepped: Bool) {
        guard let machine = guest?.machine, (0..<machine.hartCount).contains(hart) else {
            return (run(maxInstructions: 1), false)
        }
        let before = machine.instructionsExecuted(hart: hart)
        var spent: UInt64 = 0
        var instructions: UInt64 = 0
        while true {
            var stop = run(maxInstructions: 1)
            let ran = stop.instructions
            instructions &+= ran
            stop.instructions = instructions
            let stepped = machine.instructionsExecuted(hart: hart) != before
            if stop.name != "budget" { return (stop, stepped) }
            if stepped {
                stop.hart = hart
                stop.message = "vCPU \(hart) executed one instruction"
                return (stop, true)
            }
            // A run that executed nothing (the machine skipping time to a timer) still counts, so
            // that the wait ends.
            spent &+= max(ran, 1)
            if spent >= max(limit, 1) {
                stop.hart = hart
                stop.message = "vCPU \(hart) executed no instruction while the others ran \(spent) (asleep in wfi, or not started): step again to wait longer"
                return (stop, false)
            }
        }
    }
}
