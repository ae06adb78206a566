import Testing
import Machine

// A power-off or reset already pending is the machine's last word: a later stop request on the same
// instruction (a hook, a fault trigger) must not replace it.
@Test func aPendingPowerOffSurvivesALaterHostStop() {
    let machine = Machine(MachineConfiguration())
    machine.requestStop(.poweredOff(code: 3))
    machine.requestStop(.hostStop("a hook stopped the run"))
    #expect(machine.run(maxInstructions: 10) == .poweredOff(code: 3))
}

@Test func aPendingResetSurvivesALaterHostStopButAPowerOffReplacesIt() {
    let machine = Machine(MachineConfiguration())
    machine.requestStop(.reset)
    machine.requestStop(.hostStop("until reached"))
    #expect(machine.run(maxInstructions: 10) == .reset)
    machine.requestStop(.reset)
    machine.requestStop(.poweredOff(code: 0))
    #expect(machine.run(maxInstructions: 10) == .poweredOff(code: 0))
}

@Test func aHostStopIsReplacedByALaterOne() {
    let machine = Machine(MachineConfiguration())
    machine.requestStop(.hostStop("first"))
    machine.requestStop(.hostStop("second"))
    #expect(machine.run(maxInstructions: 10) == .hostStop("second"))
}
