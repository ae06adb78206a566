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

/// A bt VM's counters carry the translator's groups once each, beside the trap monitor's, and its
/// policy reaches the technique (adapt_threshold 0: nothing adapts).
@Test func binaryTranslationStatsShowTheTranslatorsGroups() throws {
    func run(_ policy: BinaryTranslationPolicy) throws -> VMStats {
        var spec = VMSpec()
        spec.mode = .bt
        spec.kernel = try Guests.path(of: "tinyos")
        spec.bootargs = "bench=pte n=6"
        spec.binaryTranslationPolicy = policy
        let vm = try VirtualMachine(spec)
        defer { vm.close() }
        #expect(vm.run(maxInstructions: 100_000_000).name == "poweroff")
        return try #require(vm.stats)
    }
    let adaptive = try run(BinaryTranslationPolicy())
    #expect(adaptive.text("mode") == "bt")
    #expect((adaptive["technique.bt.blocks_translated"] ?? 0) > 0)
    #expect((adaptive["technique.bt.adaptations"] ?? 0) > 0)
    #expect(adaptive["technique.callouts_by_kind.sret"] != nil)
    #expect(adaptive["technique.trap.traps"] == adaptive["exits.total"])
    #expect(adaptive.lines.filter { $0.hasPrefix("technique.bt.blocks_translated ") }.count == 1)
    let never = try run(BinaryTranslationPolicy(adaptThreshold: 0))
    #expect(never["technique.bt.adaptations"] == 0)
    #expect(never["technique.bt.traced_write_inline"] == 0)
}
