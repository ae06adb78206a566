import Testing
@testable import Hypervisor

/// The orderings a lab must reproduce (cost-model.md, "Results a lab must reproduce") follow from
/// the prices under the compositions the "Cost profiles" article documents. These check the data
/// supports them under every profile, before any mode exists to run them.
@Suite struct ProfileOrderingTests {
    @Test(arguments: CostProfile.all)
    func deviceRegisterAccess(_ p: CostProfile) {
        // bt (inline emulation) < native < hw (exit, device model, entry)
        let bt = p.cycles(.btInline)
        let native = p.cycles(.mmioAccess)
        let hw = p.cycles(.vmExit) + p.cycles(.deviceEmulated) + p.cycles(.vmEntry)
        #expect(bt < native && native < hw)
    }

    @Test(arguments: CostProfile.all)
    func pageFault(_ p: CostProfile) {
        // native < bt (trap + shadow work) < hw with shadow paging (exit + shadow work + entry)
        let native = p.cycles(.trap)
        let bt = p.cycles(.trap) + p.cycles(.shadowFault)
        let hwShadow = p.cycles(.vmExit) + p.cycles(.shadowFault) + p.cycles(.vmEntry)
        #expect(native < bt && bt < hwShadow)
    }

    @Test(arguments: CostProfile.all)
    func storeToAGuestPTE(_ p: CostProfile) {
        // native ≪ pv (batched: one hypercall per 2048 updates [X03]) < bt (adaptive) ≪ hw-shadow, trap
        let native = Double(p.cycles(.instruction))
        let pv = Double(p.cycles(.pvUpdate)) + Double(p.cycles(.hypercall)) / 2048
        let bt = Double(p.cycles(.tracedWriteInline))
        let hwShadow = Double(p.cycles(.vmExit) + p.cycles(.tracedWrite) + p.cycles(.vmEntry))
        let trap = Double(p.cycles(.trap) + p.cycles(.tracedWrite))
        #expect(native * 10 < pv && pv < bt)
        #expect(bt * 10 < hwShadow && bt * 10 < trap)
    }

    @Test(arguments: CostProfile.all)
    func privilegedInstruction(_ p: CostProfile) {
        // [AA06] rdtsc: inline < callout < trap-and-emulate
        #expect(p.cycles(.btInline) < p.cycles(.btCallout))
        #expect(p.cycles(.btCallout) < p.cycles(.trap) + p.cycles(.privilegedEmulated))
    }
}
