// A VM's para-virtual policy comes from its configuration, so a lab can change the batch limit or
// the trust in the kernel's linear map per VM.
import Testing
@testable import Hypervisor

@Suite struct ParavirtualPolicyTests {
    @Test func theConfigurationsPolicyReachesTheDomain() throws {
        var config = try TestKernels.configuration(ParavirtualTechniqueTests.pvMacros + "\n" + ParavirtualTechniqueTests.kernel, mode: .pv)
        config.paravirtualPolicy.batchLimit = 7
        config.paravirtualPolicy.trustKernelLinearMap = false
        let guest = try Guest(config)
        defer { guest.close() }
        let technique = try #require(guest.technique as? ParavirtualTechnique)
        #expect(technique.policy.batchLimit == 7)
        #expect(technique.policy.trustKernelLinearMap == false)
    }

    @Test func theDefaultPolicyIsXensBatchLimit() throws {
        let config = try TestKernels.configuration(ParavirtualTechniqueTests.pvMacros + "\n" + ParavirtualTechniqueTests.kernel, mode: .pv)
        let guest = try Guest(config)
        defer { guest.close() }
        let technique = try #require(guest.technique as? ParavirtualTechnique)
        #expect(technique.policy.batchLimit == 2048)
    }
}

/// Hooks see a pv hypercall by its name, not as an unknown SBI extension.
@Suite struct ParavirtualEventTests {
    @Test func hypercallEventsAreNamedByTheCall() throws {
        let source = ParavirtualTechniqueTests.pvMacros + "\n" + ParavirtualTechniqueTests.kernel
        let guest = try Guest(TestKernels.configuration(source, mode: .pv))
        defer { guest.close() }
        var causes: [String] = []
        _ = guest.events.add(.hypercall) { causes.append($0.cause ?? "?"); return .proceed }
        _ = guest.run(maxInstructions: 100_000)
        #expect(causes.contains("pv_console_write"))
        #expect(causes.contains("pv_pin_table"))
        #expect(!causes.contains { $0.hasPrefix("sbi_0x") })
    }
}
