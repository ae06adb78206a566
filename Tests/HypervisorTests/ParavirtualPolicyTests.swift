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
