import Hypervisor
import Testing
@testable import VMLab

/// The Lua side of `bt`: the policy a spec carries reaches the Hypervisor, and a comparison's
/// columns keep each mode entry's policy and label.

@Test func theBinaryTranslationPolicyReachesTheGuestConfiguration() {
    var spec = VMSpec()
    spec.mode = .bt
    spec.binaryTranslationPolicy = BinaryTranslationPolicy(adaptThreshold: 0, inlineEmulation: false, afterburn: true)
    let configuration = spec.guestConfiguration()
    #expect(configuration.mode == .bt)
    #expect(configuration.binaryTranslationPolicy == spec.binaryTranslationPolicy)
    #expect(VMSpec().guestConfiguration().binaryTranslationPolicy == BinaryTranslationPolicy())
}

@Test func comparisonColumnsAreNamedByTheirModeUnlessLabelled() {
    let request = Comparison.Request(guest: "tinyos", kernel: "k.elf", benches: ["syscall"], modes: [.native, .trap])
    #expect(request.columns.map(\.label) == ["native", "trap"])
    #expect(request.modes == [.native, .trap])
    var afterburn = Comparison.Column(.bt, label: "afterburn")
    afterburn.binaryTranslationPolicy.afterburn = true
    #expect(afterburn.label == "afterburn" && afterburn != Comparison.Column(.bt))
    #expect(Comparison.Column(.bt).binaryTranslationPolicy == BinaryTranslationPolicy())
}
