import LuaKit
import Machine

// The hardware's own choices that `vmlab.vm{...}` exposes: the TLB's geometry and tagging, and the
// behaviours the specifications leave to the implementation that a lab may want to compare (who
// sets page-table A/D bits, what a misaligned access does, how the PLIC's gateways sample device
// lines). They are the machine's, so they apply in every mode: under a VMM they shape the hardware
// the guest runs on.
extension VMBinding {
    static let tlbOptions: [LuaOption] = [
        LuaOption("entries", .integer, "Entries in all (default 64), 1 to \(VMSpec.maximumTLBEntries); a multiple of `ways`."),
        LuaOption("ways", .integer, "Entries per set (default 4); `ways = entries` makes it fully associative, `ways = 1` direct-mapped."),
        LuaOption("tagged", .boolean, "Whether entries carry the ASID of `satp` (default true). With false, every `satp` write flushes the TLB, as an x86 CR3 load does without PCIDs; under `hw` every switch between the guest and the VMM does too, as VT-x without VPIDs."),
        LuaOption("nested", .integer, "Entries of a nested TLB (default 0: none), 0 to \(VMSpec.maximumNestedTLBEntries): G-stage translations (guest physical page to host physical page) a two-stage walk looks up before walking the G stage, for each VS-stage entry it reads and for the final address ([B08]'s NTLB), fully associative, FIFO. Hits and misses are `vm:stats().tlb.nested_hits` and `nested_misses`. Needs the hypervisor extension (mode \"hw\" or `h_extension = true`)."),
        LuaOption("pwc", .integer, "Entries of a page-walk cache (default 0: none), 0 to \(VMSpec.maximumNestedTLBEntries): the guest's non-leaf page-table entries that two-stage walks read, so that a later walk under them starts at the deepest table it knows, skipping the upper levels' reads and their G walks ([B08]'s page-walk cache, Intel's paging-structure caches), tagged with the VMID, the guest's ASID and its root, fully associative, FIFO, dropped by every fence that reaches the guest. Hits and misses are `vm:stats().tlb.pwc_hits` and `pwc_misses`. Needs the hypervisor extension (mode \"hw\" or `h_extension = true`)."),
        LuaOption("keep_global", .boolean, "With `tagged = false`: whether a `satp` write spares the global entries (PTE.G), as an x86 CR3 load spares global pages with CR4.PGE (Pentium Pro onwards); default false, everything goes, as on the 386 and 486. Given with a tagged TLB, it raises."),
    ]

    static let hardwareOptions: [LuaOption] = [
        LuaOption("tlb", .options(name: "vmlab.TLBOptions", tlbOptions), "The architectural TLB: unified, set-associative, FIFO within a set; its counters are `vm:stats().tlb`."),
        LuaOption("ad_bits", .choice(VMSpec.adBitPolicies.names), "Who sets a PTE's A and D bits: \"hardware\" (default: the page walker, atomically, as QEMU does; Svadu) or \"fault\" (a page fault, for software to set them; Svade)."),
        LuaOption("misaligned", .choice(VMSpec.misalignedPolicies.names), "What a misaligned load or store does: \"hardware\" (default: performed, byte by byte, as QEMU does) or \"trap\" (an address-misaligned exception, as Spike does). Misaligned atomics always trap."),
        LuaOption("h_extension", .boolean, "Give the harts the hypervisor extension (`misa.H`: VS- and VU-modes, two-stage translation, the hypervisor CSRs and instructions), for a guest that is a hypervisor itself, such as a bare-metal program running a VM of its own (default false; mode \"hw\" gives its guest's machine the extension itself, and its guest does not see it)."),
        LuaOption("sstc", .boolean, "Give the harts the Sstc extension: S-mode's own timer compare, `stimecmp` (and with the hypervisor extension VS-mode's, `vstimecmp`), which the firmware enables and the device tree names (`riscv,isa` ends in `_sstc`), so that a kernel that looks for it (Linux) programs its timer without an SBI call (default false, as before; QEMU 7.2's hart has it). In every mode: under `trap` and `bt` the VMM emulates the guest's `stimecmp`, under `hw` the guest reaches `vstimecmp` without an exit, under `pv` the kernel runs on the hart's own."),
        LuaOption("plic", .choice(VMSpec.plicGateways.names), "How the PLIC's gateways turn a device's interrupt line into requests: \"qemu\" (default, as QEMU's PLIC: a request each time the device raises its line, none when a handler completes while it is still high) or \"level\" (the PLIC specification's level-triggered gateway: a completion while the line is high makes the source pending again at once). xv6, whose UART handler leaves THR-empty raised, takes an interrupt storm under \"level\"."),
    ]

    /// The hart options of `vmlab.vm{...}` (already checked against their declared types) into `spec`.
    static func readHardware(_ o: LuaOptions, into spec: inout VMSpec, argument: Int32) throws {
        if o["tlb"] != .nil { spec.tlb = try tlbConfiguration(o["tlb"], argument: argument) }
        // `.choice` has checked the names.
        if let name = o.string("ad_bits"), let policy = VMSpec.adBitPolicies[name] { spec.adBits = policy }
        if let name = o.string("misaligned"), let policy = VMSpec.misalignedPolicies[name] { spec.misaligned = policy }
        if let name = o.string("plic"), let gateway = VMSpec.plicGateways[name] { spec.plicGateway = gateway }
        if let h = o.boolean("h_extension") { spec.hypervisorExtension = h }
        if let sstc = o.boolean("sstc") { spec.sstc = sstc }
    }

    static func tlbConfiguration(_ tlb: LuaValue, argument: Int32) throws -> TLBConfiguration {
        do {
            return try VMSpec.tlbConfiguration(entries: tlb["entries"].int64, ways: tlb["ways"].int64, tagged: tlb["tagged"].bool,
                                               keepGlobal: tlb["keep_global"].bool, nested: tlb["nested"].int64,
                                               pwc: tlb["pwc"].int64)
        } catch {
            throw LuaRaise.argument(argument, "option 'tlb.\(error.field)': \(error.reason)")
        }
    }
}
