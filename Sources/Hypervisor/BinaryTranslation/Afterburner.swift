// Load-time patching of the guest kernel (L4Ka pre-virtualisation's "afterburning" [LeVasseur05]):
// before the guest's first instruction, every sensitive instruction of the kernel's text is
// overwritten, in guest memory, by a patch word (AfterburnerPatchWord.swift) that calls the
// in-place VMM; the site table remembers where each was and what it was. At run time the binary
// translator shows the afterburner each decoded instruction: a patch word at its own site becomes
// a callout, which emulates the original instruction exactly as runtime BT would; everything else
// runs as decoded, so a sensitive instruction the loader did not patch (code written later, code
// outside the scanned text) traps and is emulated by the trap monitor, as in `trap`.
//
// A patch word is honoured only where the afterburner wrote it and only for the guest kernel: a
// custom-0 word at another address, one naming no site, or one executed in guest user mode is
// what it is on the hardware, an illegal instruction, which the monitor reflects into the guest.

import Boot
import Machine
import RISCV

/// What the afterburner needs of the runtime binary translator it plugs into, so both techniques
/// agree on what is sensitive and on how a sensitive instruction is emulated and charged.
public protocol AfterburnerEmulation: AnyObject {
    /// The kind of sensitive instruction `instruction` is (the translator's classification, the
    /// name its callout counters use), or nil when it is not sensitive.
    func sensitiveKind(of instruction: Instruction) -> String?
    /// Whether the vCPU on `hart` is running guest kernel code (virtual S-mode) now.
    func runsGuestKernel(hart: Int) -> Bool
    /// Emulates sensitive `instruction` at virtual `pc` on `hart` as a runtime-BT callout of it
    /// would, charged the same (`bt_inline` or `bt_callout`), with no trap taken.
    func emulateSensitive(_ instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome
}

/// One patched instruction.
public struct AfterburnSite: Sendable, Equatable {
    /// Its guest-physical address.
    public var physical: UInt64
    /// The instruction the patch word replaced.
    public var original: Instruction
    /// Its kind, in the translator's classification.
    public var kind: String
}

/// What the loader found and did, before the guest ran.
public struct AfterburnReport: Sendable, Equatable {
    /// The text scanned, and why anything was not.
    public var text = AfterburnerText()
    /// Instructions decoded by the linear sweep.
    public var scannedInstructions: UInt64 = 0
    /// Sensitive instructions overwritten by patch words.
    public var sitesPatched: UInt64 = 0
    public var sitesByKind: [String: UInt64] = [:]
    /// Sensitive instructions left in place: a 16-bit one (RV64GC has none) or one past the
    /// patch-word index space. They trap and are emulated at run time.
    public var unpatched: UInt64 = 0
}

/// What patched code did at run time.
public struct AfterburnCounters: Sendable, Equatable, Codable {
    /// Patch words executed by the guest kernel and emulated.
    public var patchedCalls: UInt64 = 0
    /// Patch words executed in guest user mode: illegal instructions for the guest.
    public var userModePatchWords: UInt64 = 0
    /// Custom-0 words decoded that are not one of the afterburner's (no such site, or not at the
    /// site's address): left as the illegal instructions they are.
    public var foreignPatchWords: UInt64 = 0
}

/// The load-time patcher of one guest and its site table.
public final class Afterburner {
    /// Callout ids of patch sites have this bit set (site index below it); the runtime
    /// translator's own callout ids keep it clear.
    public static let calloutTag: UInt32 = 0x8000_0000

    public private(set) var sites: [AfterburnSite] = []
    public private(set) var report = AfterburnReport()
    public internal(set) var counters = AfterburnCounters()
    /// Patch words executed and emulated, by site index (an array, not a dictionary of kinds:
    /// a callout counts with one increment).
    public internal(set) var callsPerSite: [UInt64] = []

    /// Scans `text` as it is in `machine`'s RAM and records every instruction `classify` calls
    /// sensitive as a site; nothing is written until `patch`.
    public init(text: AfterburnerText, in machine: Machine, classify: (Instruction) -> String?) {
        report.text = text
        for range in text.ranges {
            guard let bytes = machine.readPhysical(at: range.address, count: Int(range.size)) else { continue }
            let n = LinearSweep.sweep(bytes, base: range.address) { step in
                guard let kind = classify(step.instruction) else { return }
                guard step.instruction.length == 4, sites.count < AfterburnerPatchWord.capacity else {
                    report.unpatched &+= 1
                    return
                }
                sites.append(AfterburnSite(physical: step.physical, original: step.instruction, kind: kind))
            }
            report.scannedInstructions &+= UInt64(n)
        }
    }

    /// Scans the kernel `guest` was booted with, by the translator's classification, and patches
    /// it: what a technique calls before the guest's first instruction.
    public static func burn(_ guest: Guest, emulation: any AfterburnerEmulation) -> Afterburner {
        let text = AfterburnerText.of(guest.board, in: guest.machine)
        let burner = Afterburner(text: text, in: guest.machine) { emulation.sensitiveKind(of: $0) }
        burner.patch(guest.machine)
        return burner
    }

    /// Writes each site's patch word into guest memory through the machine, which drops any
    /// decoded copy of the bytes (and tells the translator), so no stale original can run.
    public func patch(_ machine: Machine) {
        for (index, site) in sites.enumerated() {
            let word = AfterburnerPatchWord.encode(index)
            let bytes: [UInt8] = [UInt8(truncatingIfNeeded: word), UInt8(truncatingIfNeeded: word >> 8),
                                  UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 24)]
            // The scan read these bytes from RAM, so the write cannot miss it.
            let written = machine.loadPhysical(bytes, at: site.physical)
            precondition(written, "patch site \(site.physical) left RAM")
            report.sitesPatched &+= 1
            report.sitesByKind[site.kind, default: 0] &+= 1
        }
        callsPerSite = [UInt64](repeating: 0, count: sites.count)
    }

    /// The site a decoded `instruction` at `physical` calls, if it is one of the afterburner's
    /// patch words at its own address.
    public func site(of instruction: Instruction, physical: UInt64) -> Int? {
        guard let index = AfterburnerPatchWord.index(of: instruction), index < sites.count,
              sites[index].physical == physical else { return nil }
        return index
    }

    /// The translator's `translate` under afterburning: a patch word at its site becomes a callout
    /// of the site; everything else (sensitive or not) runs as decoded.
    public func rewrite(_ instruction: Instruction, physical: UInt64) -> CodeRewrite {
        if let index = site(of: instruction, physical: physical) { return .callout(Self.calloutTag | UInt32(index)) }
        if AfterburnerPatchWord.index(of: instruction) != nil { counters.foreignPatchWords &+= 1 }
        return .keep
    }

    /// Whether callout `id` is a patch site's (rather than the runtime translator's own).
    public static func isPatchCallout(_ id: UInt32) -> Bool { id & calloutTag != 0 }

    /// The translator's `callout` for a patch site: the original instruction emulated for the
    /// guest kernel; in guest user mode the patch word is the illegal instruction it is
    /// (`.native`: the hardware traps and the monitor reflects it).
    public func callout(_ id: UInt32, pc: UInt64, hart: Int, emulation: any AfterburnerEmulation) -> CalloutOutcome {
        let index = Int(id & ~Self.calloutTag)
        guard index < callsPerSite.count else { return .native }
        guard emulation.runsGuestKernel(hart: hart) else {
            counters.userModePatchWords &+= 1
            return .native
        }
        counters.patchedCalls &+= 1
        callsPerSite[index] &+= 1
        return emulation.emulateSensitive(sites[index].original, pc: pc, hart: hart)
    }

    /// Patch words executed and emulated, by the kind of the instruction they replaced.
    public var callsByKind: [String: UInt64] {
        var byKind: [String: UInt64] = [:]
        for (index, n) in callsPerSite.enumerated() where n > 0 { byKind[sites[index].kind, default: 0] &+= n }
        return byKind
    }

    /// Counter groups for `Technique.counters`: "afterburn" (totals), "afterburn_sites_by_kind",
    /// "afterburn_calls_by_kind".
    public var counterGroups: [String: [String: UInt64]] {
        ["afterburn": ["sites_patched": report.sitesPatched, "scanned_instructions": report.scannedInstructions,
                       "unpatched": report.unpatched, "patched_calls": counters.patchedCalls,
                       "user_mode_patch_words": counters.userModePatchWords,
                       "foreign_patch_words": counters.foreignPatchWords],
         "afterburn_sites_by_kind": report.sitesByKind,
         "afterburn_calls_by_kind": callsByKind]
    }
}
