import LuaKit
import Machine

// The hart's own choices that `vmlab.vm{...}` exposes: the TLB's geometry and tagging, and the two
// behaviours the specifications leave to the implementation that a lab may want to compare (who
// sets page-table A/D bits, what a misaligned access does). They are the machine's, so they apply
// in every mode: under a VMM they shape the hart the guest runs on.
extension VMBinding {
    static let tlbOptions: [LuaOption] = [
        LuaOption("entries", .integer, "Entries in all (default 64), 1 to \(maximumTLBEntries); a multiple of `ways`."),
        LuaOption("ways", .integer, "Entries per set (default 4); `ways = entries` makes it fully associative, `ways = 1` direct-mapped."),
        LuaOption("tagged", .boolean, "Whether entries carry the ASID of `satp` (default true). With false, every `satp` write flushes the whole TLB, as x86's CR3 load did before PCIDs."),
    ]

    static let hardwareOptions: [LuaOption] = [
        LuaOption("tlb", .options(name: "vmlab.TLBOptions", tlbOptions), "The architectural TLB: unified, set-associative, FIFO within a set; its counters are `vm:stats().tlb`."),
        LuaOption("ad_bits", .choice(["hardware", "fault"]), "Who sets a PTE's A and D bits: \"hardware\" (default: the page walker, atomically, as QEMU does; Svadu) or \"fault\" (a page fault, for software to set them; Svade)."),
        LuaOption("misaligned", .choice(["hardware", "trap"]), "What a misaligned load or store does: \"hardware\" (default: performed, byte by byte, as QEMU does) or \"trap\" (an address-misaligned exception, as Spike does). Misaligned atomics always trap."),
    ]

    /// More entries than any TLB a lab could want to compare (a real L2 TLB has a few thousand).
    static let maximumTLBEntries: Int64 = 1 << 16

    /// The hart options of `vmlab.vm{...}` (already checked against their declared types) into `spec`.
    static func readHardware(_ o: LuaOptions, into spec: inout VMSpec, argument: Int32) throws {
        if o["tlb"] != .nil { spec.tlb = try tlbConfiguration(o["tlb"], argument: argument) }
        switch o.string("ad_bits") {
        case "fault": spec.adBits = .pageFault
        case "hardware": spec.adBits = .hardwareUpdate
        default: break
        }
        switch o.string("misaligned") {
        case "trap": spec.misaligned = .trap
        case "hardware": spec.misaligned = .handleInHardware
        default: break
        }
    }

    static func tlbConfiguration(_ tlb: LuaValue, argument: Int32) throws -> TLBConfiguration {
        let defaults = TLBConfiguration()
        let entries = tlb["entries"].int64 ?? Int64(defaults.entries)
        let ways = tlb["ways"].int64 ?? min(Int64(defaults.ways), entries)
        guard (1...maximumTLBEntries).contains(entries) else {
            throw LuaRaise.argument(argument, "option 'tlb.entries': must be 1 to \(maximumTLBEntries), got \(entries)")
        }
        guard ways >= 1 && ways <= entries && entries % ways == 0 else {
            let given = tlb["ways"] == .nil ? " (the default; give 'ways')" : ""
            throw LuaRaise.argument(argument, "option 'tlb.ways': must divide 'entries' (\(entries)), got \(ways)\(given)")
        }
        return TLBConfiguration(entries: Int(entries), ways: Int(ways), asidTagged: tlb["tagged"].bool ?? defaults.asidTagged)
    }
}
