// The built-in cost profiles. Every price names its source; the references are those of
// /work/shared/reference/cost-model.md, repeated in the "Cost profiles" documentation article:
//   [AA06] Adams & Agesen, ASPLOS 2006 — 3.8 GHz Pentium 4 672, with Core 2 figures for VT.
//   [X03]  Barham et al., "Xen and the Art of Virtualization", SOSP 2003 — 2.4 GHz Xeon.
//   [B08]  Bhargava et al., "Accelerating Two-Dimensional Page Walks", ASPLOS 2008.
//   [S01]  Sugerman et al., "Virtualizing I/O Devices on VMware Workstation", USENIX ATC 2001.
//
// `classic-2006` is the reference: every value comes from a figure (or a difference of figures)
// of those papers, or says plainly that it is a convention or an estimate. `core2-2006` replaces
// what [AA06] measured on Core 2 (the VT transitions) and carries the rest over. `modern` is an
// estimate for a recent 3 GHz core built around a ~1000-cycle VM exit + entry round trip.

extension CostProfile {
    /// [AA06]'s Pentium 4 and the other 2001–2008 figures: the profile the labs' expected
    /// orderings are calibrated against.
    public static let classic2006 = CostProfile(
        name: "classic-2006",
        summary: "Pentium 4 (Prescott) at 3.8 GHz, first-generation VT-x, software shadow paging [AA06]",
        clockHz: 3_800_000_000,
        clockSource: "[AA06] test machine: 3.8 GHz Pentium 4 672",
        values: classicValues)

    /// [AA06]'s Core 2 figures for the hardware transitions; everything else as `classic-2006`.
    public static let core2_2006 = CostProfile(
        name: "core2-2006",
        summary: "Core 2 with VT-x: [AA06]'s faster transitions, other prices carried over from classic-2006",
        clockHz: 2_660_000_000,
        clockSource: "assumed 2.66 GHz (a 2006 Core 2 Duo E6700); [AA06] quotes Core 2 cycle counts without a clock",
        values: carriedOver(from: "classic-2006", classicValues, reason: "not measured on Core 2", replacing: [
            .vmExit: CostValue(1186, .measured, "[AA06] page-fault VM exit, Core 2"),
            .vmEntry: CostValue(937, .measured, "[AA06] VM entry, Core 2"),
            .vmcsRead: CostValue(52, .measured, "[AA06] VMCS read, Core 2"),
            .vmcsWrite: CostValue(44, .measured, "[AA06] VMCS write, Core 2"),
        ]))

    /// A documented estimate for a recent core: cheap transitions (VM exit + entry ≈ 1000 cycles
    /// round trip), cheaper system calls, slower device registers; software paths as classic-2006.
    public static let modern = CostProfile(
        name: "modern",
        summary: "estimate for a recent 3 GHz server core: VM exit + entry round trip ≈ 1000 cycles",
        clockHz: 3_000_000_000,
        clockSource: "assumed 3.0 GHz, a typical recent server core clock (estimate)",
        values: carriedOver(from: "classic-2006", classicValues, reason: "no newer figure in the sources", replacing: [
            .trap: CostValue(150, .estimate,
                "a system call round trip on recent cores takes roughly 100–200 cycles without page-table isolation ([AA06] P4: 242)"),
            .interrupt: CostValue(150, .derived, "= trap (150): the same entry and return path"),
            .firmwareCall: CostValue(150, .derived, "= trap (150): one trap into firmware and its return"),
            .vmExit: CostValue(500, .estimate,
                "half of a ≈ 1000-cycle VM exit + entry round trip on recent cores ([AA06] Core 2: 1186 + 937)"),
            .vmEntry: CostValue(500, .estimate, "the other half of the ≈ 1000-cycle round trip (see vm_exit)"),
            .vmcsRead: CostValue(26, .estimate, "half of [AA06]'s Core 2 VMCS read (52): later cores keep the VMCS on chip"),
            .vmcsWrite: CostValue(22, .estimate, "half of [AA06]'s Core 2 VMCS write (44): later cores keep the VMCS on chip"),
            .worldSwitch: CostValue(3000, .estimate,
                "about three VM exit + entry round trips: a hosted world switch reloads all host state ([S01]: 8.90 µs on a 733 MHz Pentium III)"),
            .hypercall: CostValue(1000, .derived, "= vm_exit + vm_entry (500 + 500): a hardware-assisted hypercall is one exit and one entry"),
            .mmioAccess: CostValue(1500, .estimate,
                "an uncached device register read across PCIe takes about 0.5 µs = 1500 cycles at 3 GHz ([AA06] P4 port read: 3209)"),
        ]))

    /// The classic-2006 price list.
    private static let classicValues: [CostEvent: CostValue] = [
        .instruction: CostValue(1, .convention,
            "CPI 1 in every profile: [AA06] and [X03] find compute-bound code at native speed under every technique, so this price cancels in comparisons"),
        .csrWrite: CostValue(149, .derived,
            "[AA06] cr8 write (interrupt priority), native, P4: 150 cycles, less the instruction's own cycle (instruction, 1)"),
        .walkReference: CostValue(11, .measured,
            "[B08] default per-reference cost without a page-walk cache: an L2 hit"),
        .tlbMiss: CostValue(0, .convention,
            "[B08] prices a TLB miss by its memory references alone (3 for native Sv39, 15 for Sv39 on Sv39x4)"),
        .tlbFlush: CostValue(60, .estimate,
            "no flush figure in the sources: priced as one serialising privileged instruction, [AA06] native cli 60, P4"),
        .trap: CostValue(242, .measured,
            "[AA06] syscall round trip, native, P4: trap entry and return of a null system call"),
        .interrupt: CostValue(242, .derived,
            "= trap (242): the same entry and return path; [AA06] gives no interrupt figure"),
        .firmwareCall: CostValue(242, .derived,
            "= trap (242): one trap into M-mode firmware and its return; the firmware's own work is not priced"),
        .exceptionReflected: CostValue(2334, .derived,
            "[AA06] divide-by-zero BT 3223 − native 889, P4: the VMM catches the fault and delivers it to the guest kernel in software"),
        .interruptInjected: CostValue(2334, .derived,
            "= exception_reflected (2334): a software VMM delivers a virtual interrupt as it reflects an exception"),
        .vmExit: CostValue(1931, .measured, "[AA06] page-fault VM exit, P4"),
        .vmEntry: CostValue(2409, .measured, "[AA06] VM entry, P4"),
        .vmcsRead: CostValue(178, .measured, "[AA06] VMCS read, P4"),
        .vmcsWrite: CostValue(171, .measured, "[AA06] VMCS write, P4"),
        .worldSwitch: CostValue(6524, .derived,
            "[S01] hosted world switch round trip 8.90 µs × 733 MHz Pentium III = 6524 cycles, kept in cycles"),
        .privilegedEmulated: CostValue(1788, .derived,
            "[AA06] rdtsc trap-and-emulate 2030 − the trap that brings the VMM in (trap, 242), P4"),
        .btCallout: CostValue(1254, .measured, "[AA06] rdtsc emulated by a callout from translated code, P4"),
        .btInline: CostValue(216, .measured,
            "[AA06] rdtsc emulated inline in translated code, P4 (an `in` from an emulated port under BT: also 216)"),
        .btInlineCSR: CostValue(34, .derived,
            "[AA06] cr8 write under BT, P4: 35 cycles, less the rewritten instruction's own cycle (instruction, 1); translated code updates the virtual register in memory, no call into the VMM"),
        .shadowFault: CostValue(2834, .derived,
            "[AA06] page fault BT 3927 − native 1093, P4: BT adds no hardware transition, so the difference is shadow-paging software"),
        .tracedWrite: CostValue(8393, .derived,
            "[AA06] traced PTE store under VT 12733 − VM exit 1931 − VM entry 2409, P4: decoding, emulating and propagating the store"),
        .tracedWriteInline: CostValue(390, .derived,
            "[AA06] traced PTE store under adaptive BT 391 − the store itself (native 1), P4"),
        .hypercall: CostValue(1572, .derived,
            "[X03] page fault Xen 2.73 µs − native 1.42 µs = two extra hypervisor entries; 0.655 µs × 2.4 GHz = 1572"),
        .pvUpdate: CostValue(110, .estimate,
            "no per-update figure in [X03]: validating one entry reads it and its frame's type and writes it, about ten cache hits of [B08]'s 11 cycles"),
        .translation: CostValue(2300, .measured, "[AA06] translation costs about 2300 cycles per guest instruction, P4"),
        .btIndirectJump: CostValue(40, .derived,
            "[AA06] call/ret pair under BT 51 − native 11, P4: the call, a direct jump, is translated in place; the return, an indirect jump, looks up its target's translation"),
        .mmioAccess: CostValue(3209, .measured, "[AA06] `in` from a port, native, P4: an uncached device register access"),
        .deviceEmulated: CostValue(11486, .derived,
            "[AA06] `in` under VT 15826 − VM exit 1931 − VM entry 2409, P4: the device model's work for one access"),
        .dma: CostValue(11, .estimate, "one cache-hit memory reference per 64-byte line moved ([B08]: 11 cycles)"),
        .interpretation: CostValue(40, .estimate,
            "no figure in the sources: a decode-and-dispatch interpreter runs ~60 host instructions per guest instruction at ~1.5 IPC (vmlab's own decoder alone takes ~45 per compressed instruction, callgrind)"),
    ]

    /// `base` with `replacing` applied; every value not replaced says it was carried over, and
    /// why, and a measurement made on the other machine becomes an estimate for this one.
    private static func carriedOver(from baseName: String, _ base: [CostEvent: CostValue], reason: String,
                                    replacing: [CostEvent: CostValue]) -> [CostEvent: CostValue] {
        var out: [CostEvent: CostValue] = [:]
        for (event, value) in base {
            if let replacement = replacing[event] { out[event] = replacement; continue }
            let basis: CostBasis = value.basis == .convention ? .convention : .estimate
            out[event] = CostValue(value.cycles, basis, "as \(baseName), \(reason): \(value.source)")
        }
        return out
    }
}
