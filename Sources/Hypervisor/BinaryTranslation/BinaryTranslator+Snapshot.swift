// What the `bt` translator keeps, for snapshots (BinaryTranslationTechnique+Snapshot.swift): its
// counters, what it has learnt (stores adapted and the traced-write faults counted towards it,
// device accesses), the pages holding translated code, its guards' state, the afterburner's
// counts, and the translation cache itself. The cache is the machine's decoded-code cache, which a
// machine's restore drops; the translator saves which instructions it holds and what each was
// made into (`Machine.decodedCodeState`) and puts them back, so that a restored VM does not pay
// again for translations it had made: it runs on as it did, translation charges included.
//
// The blocks the engine built from the cache are not saved: they are the engine's, built again on
// demand with nothing charged (`block_cache.built` and `bt.blocks_translated` count them, as the
// engine's work, and run on from there).

import Machine
import RISCV

/// The afterburner's run-time counts (its sites are found again by the same loader in a VM built
/// with the same kernel).
struct AfterburnerState: Codable {
    var counters: AfterburnCounters
    var callsPerSite: [UInt64]
}

/// A `bt` translator's state.
struct BinaryTranslatorState: Codable {
    var policy: BinaryTranslationPolicy
    var counters: BinaryTranslationCounters
    @SortedKeysCoding var tracedFaults: [UInt64: Int]
    @SortedSetCoding var adaptedStores: Set<UInt64>
    @SortedSetCoding var deviceAccesses: Set<UInt64>
    var deviceAccessesInTranslatedCode: UInt64
    @SortedSetCoding var translatedPages: Set<UInt64>
    var guardsSuspended: Bool
    var afterburner: AfterburnerState?
    var code: DecodedCodeState
}

extension BinaryTranslator {
    func saveState() -> BinaryTranslatorState {
        BinaryTranslatorState(
            policy: policy, counters: counters, tracedFaults: tracedFaults, adaptedStores: adaptedStores,
            deviceAccesses: deviceAccesses, deviceAccessesInTranslatedCode: deviceAccessesInTranslatedCode,
            translatedPages: translatedPages, guardsSuspended: guardsSuspended,
            afterburner: afterburner.map { AfterburnerState(counters: $0.counters, callsPerSite: $0.callsPerSite) },
            code: machine.decodedCodeState())
    }

    /// Why `state` cannot be restored onto this translator (nil when it can): another policy, or
    /// what no translator of this machine could have saved.
    func refusal(_ state: BinaryTranslatorState) -> String? {
        if state.policy != policy { return "the snapshot is of a VM under bt with \(state.policy.summary), not \(policy.summary)" }
        if (state.afterburner == nil) != (afterburner == nil) || state.counters.calloutsByKind.count != counters.calloutsByKind.count
            || state.afterburner.map({ $0.callsPerSite.count != afterburner!.callsPerSite.count }) == true {
            return "the snapshot's translator state does not fit this VM's (a malformed file)"
        }
        if let flaw = state.code.flaw(ramBase: machine.configuration.ramBase, ramSize: machine.configuration.ramSize) {
            return "the snapshot is malformed: \(flaw)"
        }
        return nil
    }

    /// Puts `state` back (after the machine's restore, whose RAM the translation cache is decoded
    /// from again). `state` passed `refusal`. Without `translationCache` the cache stays as the
    /// machine's restore left it, empty: everything is translated, and charged, again.
    func restoreState(_ state: BinaryTranslatorState, translationCache: Bool = true) {
        counters = state.counters
        tracedFaults = state.tracedFaults
        adaptedStores = state.adaptedStores
        deviceAccesses = state.deviceAccesses
        deviceAccessesInTranslatedCode = state.deviceAccessesInTranslatedCode
        translatedPages = translationCache ? state.translatedPages : []
        guardsSuspended = state.guardsSuspended
        machine.guardedStoresAlwaysCallOut = state.guardsSuspended
        if let afterburner, let saved = state.afterburner {
            afterburner.counters = saved.counters
            afterburner.callsPerSite = saved.callsPerSite
        }
        guard translationCache else { return }
        machine.restoreDecodedCode(state.code) { instruction, physical, saved in
            restoredRewrite(saved, of: instruction, at: physical)
        }
    }

    /// The rewrite a restored instruction gets: the one saved when it is one this translator
    /// makes of the instruction (from a file, anything else is a doctored one), else none (the
    /// instruction runs as decoded, as code first decoded in guest user mode does). Its learnt
    /// stores and devices are restored before this is asked.
    func restoredRewrite(_ saved: CodeRewrite, of instruction: Instruction, at physical: UInt64) -> CodeRewrite {
        guard saved != .keep else { return .keep }
        let made: CodeRewrite
        if let afterburner {
            made = afterburner.site(of: instruction, physical: physical).map { .callout(Afterburner.calloutTag | UInt32($0)) } ?? .keep
        } else {
            made = rewrite(of: instruction, at: physical)
        }
        if saved == made { return saved }
        // The one rewrite that reads more than its instruction: a `jalr` is direct when the word
        // before it sets its base (`isDirect`), and that word may have been written since.
        if afterburner == nil && instruction.opcode == .jalr && saved == .callout(CalloutKind.indirectJump.id) { return saved }
        return .keep
    }
}

extension BinaryTranslationPolicy {
    /// The policy as `vmlab.vm { bt = {...} }` spells it, for messages.
    var summary: String {
        "adapt_threshold \(adaptThreshold), inline \(inlineEmulation), afterburn \(afterburn)" + (guardedStores ? "" : ", unguarded stores")
    }
}
