// A machine as the SBI sees it, recording every effect so tests can check them.
import Machine
@testable import Boot

final class FakeSBIPlatform: SBIPlatform {
    let hartCount: Int
    var mtime: UInt64 = 0
    let ram = FakeRAM()
    var memory: any DMAMemory { ram }
    var hasHypervisorExtension = false
    var machineIDs: (vendor: UInt64, architecture: UInt64, implementation: UInt64) = (0, 0x1234, 7)

    var registers: [[UInt64]]
    var pins: [String: Bool] = [:]
    var deadlineNotifications = 0
    var activities: [SBIHartActivity]
    var entered: [(hart: Int, pc: UInt64, a0: UInt64, a1: UInt64)] = []
    var icacheFlushes: [Int] = []
    var tlbFlushes: [(Int, SBITLBFlush)] = []
    var resets: [SBIResetRequest] = []
    var console: [UInt8] = []
    var input: [UInt8] = []

    init(harts: Int = 1) {
        hartCount = harts
        registers = Array(repeating: Array(repeating: 0, count: 32), count: harts)
        activities = [.running] + Array(repeating: .stopped, count: harts - 1)
    }

    func register(_ index: Int, hart: Int) -> UInt64 { registers[hart][index] }
    func setRegister(_ index: Int, hart: Int, value: UInt64) { if index != 0 { registers[hart][index] = value } }
    func setPin(_ pin: InterruptPin, hart: Int, level: Bool) { pins["\(pin)\(hart)"] = level }
    func setSupervisorTimerPending(hart: Int, _ pending: Bool) { setPin(.stip, hart: hart, level: pending) }
    func raiseSupervisorSoftwareInterrupt(hart: Int) { setPin(.ssip, hart: hart, level: true) }
    func pin(_ pin: InterruptPin, _ hart: Int) -> Bool? { pins["\(pin)\(hart)"] }
    func timerDeadlineChanged(_ timer: any TimedDevice) { deadlineNotifications += 1 }
    func activity(ofHart hart: Int) -> SBIHartActivity { activities[hart] }
    func isExecutable(physicalAddress address: UInt64) -> Bool { ram.region.contains(address, length: 2) }
    func enterSupervisor(hart: Int, at address: UInt64, a0: UInt64, a1: UInt64) {
        entered.append((hart, address, a0, a1))
        activities[hart] = .running
    }
    func stopHart(_ hart: Int) { activities[hart] = .stopped }
    func waitForInterrupt(hart: Int) { activities[hart] = .waitingForInterrupt }
    func flushInstructionCache(hart: Int) { icacheFlushes.append(hart) }
    func flushTLB(hart: Int, _ flush: SBITLBFlush) { tlbFlushes.append((hart, flush)) }
    func requestReset(_ request: SBIResetRequest) { resets.append(request) }
    func consoleWrite(_ bytes: [UInt8]) { console += bytes }
    func consoleRead(max: Int) -> [UInt8] {
        let taken = Array(input.prefix(max))
        input.removeFirst(taken.count)
        return taken
    }
}
