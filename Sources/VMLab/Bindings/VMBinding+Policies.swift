import Devices
import Hypervisor
import LuaKit

/// The techniques' policy tables of `vmlab.vm` — `pv={...}`, `bt={...}`, `shadow={...}` and
/// `hw={...}` — read into the
/// Hypervisor's policies. `vmlab.compare` reads the same tables in a mode entry, so both spell a
/// policy, and reject a bad one, the same way.
extension VMBinding {
    static let paravirtualOptions: [LuaOption] = [
        LuaOption("batch_limit", .integer, "Most page-table updates one `mmu_update` hypercall may carry (default 2048, Xen's)."),
        LuaOption("trust_kernel_linear_map", .boolean, "Whether a supervisor-only global superpage over all RAM (the kernel's linear map) may cover page-table pages without counting as a writable mapping of them (default true; false checks strictly, as Xen does with 4 KiB mappings)."),
        LuaOption("trap_sret", .boolean, "Set mstatus.TSR so each `sret` of the guest kernel traps and is emulated (default false)."),
    ]

    static let binaryTranslationOptions: [LuaOption] = [
        LuaOption("adapt_threshold", .integer, "Traps a kernel store may take on a traced page-table page before it is retranslated into a callout that emulates it without a trap (VMware's adaptive binary translation; default 4; 0 never adapts)."),
        LuaOption("inline", .boolean, "Emulate simple privileged instructions (reads and writes of virtual CSRs whose only effect is the CSR) inline in translated code, priced `bt_inline_csr`, rather than by a callout, `bt_callout` (default true)."),
        LuaOption("afterburn", .boolean, "Patch the kernel's sensitive instructions once, at load time (L4Ka afterburning), instead of translating its code at run time (default false; see Afterburning in the Hypervisor documentation)."),
    ]

    static let shadowOptions: [LuaOption] = [
        LuaOption("unshadow_after", .integer, "Traced writes to a guest page-table page, with no shadow fault using a shadow table that mirrors it in between, after which that shadow table is dropped, and the page is no longer write-protected once no shadow mirrors it (write-flood detection, as KVM's shadow MMU; default \(ShadowPolicy.defaultUnshadowAfter), KVM's; 0 never unshadows: a page table the guest freed and reuses as memory stays traced while a cached shadow mirrors it)."),
        LuaOption("capacity", .integer, "Guest address spaces (satp values: root and ASID) whose shadows the VMM keeps at once, the least recently used evicted (default \(ShadowPolicy.defaultCapacity), 1 to \(ShadowPolicy.maximumCapacity)): 1 rebuilds the shadow, one hidden fault at a time, at every switch of address space."),
    ]

    static let hardwareAssistOptions: [LuaOption] = [
        LuaOption("paging", .choice(HardwarePaging.allCases.map(\.rawValue)), "How the guest's addresses are translated: \"nested\" (default: the G stage, the guest's page tables its own, a TLB miss walks both stages) or \"shadow\" (shadow-on-hw, VT-x before EPT: the G stage off, the VMM's shadow tables in vsatp; page faults, satp accesses, fences, stores to the guest's page tables and device accesses exit; `shadow = {...}` sets the shadow pager's policy). Counted in `vm:stats().technique.shadow`."),
        LuaOption("gstage_page_size", .integer, "The size of the G stage's leaves, in bytes: 4096 (default: a TLB miss of an Sv39 guest reads 15 entries) or 2 MiB, 2097152 (the G walk ends a level sooner: 11 entries; a guest superpage keeps a 2 MiB TLB entry). Nested paging only."),
        LuaOption("intercept", .list(.choice(HardwareIntercept.allCases.map(\.rawValue))), "What else of the guest kernel exits, each emulated by the VMM (its execution controls; default none): \"wfi\" (hstatus.VTW), \"sret\" (VTSR), \"satp\" (VTVM: satp accesses and sfence.vma, as CR3 loads under VT-x without EPT). Counted in `vm:stats().technique.intercepted`."),
        LuaOption("io", .choice(HardwareIO.allCases.map(\.rawValue)), "How the guest reaches its virtio devices: \"emulated\" (default: every register access is a guest-page fault, an exit, performed by the VMM) or \"assigned\" (direct assignment behind an IOMMU: the G stage maps the virtio registers, so the guest drives the devices without exits, and their DMA goes through an IOMMU that translates the guest-physical addresses its driver programs by the guest's G-stage table and refuses any other; their interrupts still exit). Nested paging only. Counted in `vm:stats().technique.iommu`; refused DMA fires `iommu_fault` events."),
        LuaOption("iommu", .boolean, "With `io = \"assigned\"`: whether an IOMMU stands between the devices and memory (default true). `false` assigns them without one: their DMA goes to the machine addresses the guest's driver wrote, anywhere in the machine's RAM, the VMM's own memory included — unsafe, there to show why an IOMMU is needed (lab 11, part 6)."),
        LuaOption("iotlb", .integer, "The IOMMU's IOTLB entries, with `io = \"assigned\"` (default 32, 1 to \(IOMMU.maximumIOTLBEntries)): translations cached per 4 KiB, 2 MiB or 1 GiB G-stage page; a miss walks the G-stage table (3 references for 4 KiB pages)."),
    ]

    /// The most traps `adapt_threshold` may wait for: more would never adapt in any lab run, and
    /// 0 says "never" plainly.
    static let maximumAdaptThreshold: Int64 = 1 << 20

    /// The para-virtual policy of a `pv={...}` table (checked against its declared options).
    static func paravirtualPolicy(_ pv: LuaValue, argument: Int32, context: String = "") throws -> ParavirtualPolicy {
        var policy = ParavirtualPolicy()
        if let limit = pv["batch_limit"].int64 {
            guard limit >= 1 && limit <= Int64(HypercallABI.defaultBatchLimit) * 16 else {
                throw LuaRaise.argument(argument, context + "option 'pv.batch_limit': must be 1 to \(HypercallABI.defaultBatchLimit * 16), got \(limit)")
            }
            policy.batchLimit = Int(limit)
        }
        if let trust = pv["trust_kernel_linear_map"].bool { policy.trustKernelLinearMap = trust }
        if let tsr = pv["trap_sret"].bool { policy.trapSupervisorReturn = tsr }
        return policy
    }

    /// The binary translator's policy of a `bt={...}` table (checked against its declared options).
    static func binaryTranslationPolicy(_ bt: LuaValue, argument: Int32, context: String = "") throws -> BinaryTranslationPolicy {
        var policy = BinaryTranslationPolicy()
        if let threshold = bt["adapt_threshold"].int64 {
            guard threshold >= 0 && threshold <= maximumAdaptThreshold else {
                throw LuaRaise.argument(argument, context + "option 'bt.adapt_threshold': must be 0 (never adapt) to \(maximumAdaptThreshold), got \(threshold)")
            }
            policy.adaptThreshold = Int(threshold)
        }
        if let inline = bt["inline"].bool { policy.inlineEmulation = inline }
        if let afterburn = bt["afterburn"].bool { policy.afterburn = afterburn }
        return policy
    }

    /// The hardware-assisted VMM's policy of an `hw={...}` table (checked against its declared options).
    static func hardwareAssistPolicy(_ hw: LuaValue, argument: Int32, context: String = "") throws -> HardwareAssistedPolicy {
        var policy = HardwareAssistedPolicy()
        // `.choice` has checked the name.
        if let name = hw["paging"].string, let paging = HardwarePaging(rawValue: name) { policy.paging = paging }
        if let size = hw["gstage_page_size"].int64 {
            guard policy.paging == .nested else {
                throw LuaRaise.argument(argument, context + "option 'hw.gstage_page_size': shadow paging has no G stage (paging = \"shadow\")")
            }
            guard size > 0, HardwareAssistedPolicy.gStagePageSizes.contains(UInt64(size)) else {
                throw LuaRaise.argument(argument, context + "option 'hw.gstage_page_size': must be 4096 or 2097152 (2 MiB), got \(size)")
            }
            policy.gStagePageSize = UInt64(size)
        }
        if let name = hw["io"].string, let io = HardwareIO(rawValue: name) {
            guard io == .emulated || policy.paging == .nested else {
                throw LuaRaise.argument(argument, context + "option 'hw.io': assigned devices need nested paging (the IOMMU translates their DMA through the G-stage table), not paging = \"shadow\"")
            }
            policy.io = io
        }
        if let iommu = hw["iommu"].bool {
            guard policy.io == .assigned else {
                throw LuaRaise.argument(argument, context + "option 'hw.iommu': only assigned devices (io = \"assigned\") have an IOMMU or not")
            }
            policy.iommu = iommu
        }
        if let entries = hw["iotlb"].int64 {
            guard policy.io == .assigned && policy.iommu else {
                throw LuaRaise.argument(argument, context + "option 'hw.iotlb': there is no IOMMU without io = \"assigned\" (and iommu = true)")
            }
            guard entries >= 1 && entries <= Int64(IOMMU.maximumIOTLBEntries) else {
                throw LuaRaise.argument(argument, context + "option 'hw.iotlb': must be 1 to \(IOMMU.maximumIOTLBEntries), got \(entries)")
            }
            policy.iotlbEntries = Int(entries)
        }
        for item in hw["intercept"].arrayItems {
            guard let name = item.string, let intercept = HardwareIntercept(rawValue: name) else {
                let valid = HardwareIntercept.allCases.map(\.rawValue).joined(separator: ", ")
                throw LuaRaise.argument(argument, context + "option 'hw.intercept': unknown intercept '\(item.string ?? item.typeName)' (expected one of: \(valid))")
            }
            policy.intercepts.insert(intercept)
        }
        return policy
    }

    /// The shadow pager's policy of a `shadow={...}` table (checked against its declared options).
    static func shadowPolicy(_ shadow: LuaValue, argument: Int32, context: String = "") throws -> ShadowPolicy {
        var policy = ShadowPolicy()
        if let after = shadow["unshadow_after"].int64 {
            guard after >= 0 && after <= Int64(ShadowPolicy.maximumUnshadowAfter) else {
                throw LuaRaise.argument(argument, context + "option 'shadow.unshadow_after': must be 0 (never unshadow) to \(ShadowPolicy.maximumUnshadowAfter), got \(after)")
            }
            policy.unshadowAfter = Int(after)
        }
        if let capacity = shadow["capacity"].int64 {
            guard capacity >= 1 && capacity <= Int64(ShadowPolicy.maximumCapacity) else {
                throw LuaRaise.argument(argument, context + "option 'shadow.capacity': must be 1 to \(ShadowPolicy.maximumCapacity), got \(capacity)")
            }
            policy.capacity = Int(capacity)
        }
        return policy
    }

    /// Raises when a technique's policy table is given for another mode: it would be silently unused.
    static func requireMode(_ mode: ExecutionMode, for option: String, got actual: ExecutionMode, argument: Int32, context: String = "") throws {
        try requireMode([mode], for: option, got: actual, argument: argument, context: context)
    }

    static func requireMode(_ modes: [ExecutionMode], for option: String, got actual: ExecutionMode, argument: Int32, context: String = "") throws {
        guard modes.contains(actual) else {
            let names = modes.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            throw LuaRaise.argument(argument, context + "option '\(option)' needs mode \(names) (got mode \"\(actual.rawValue)\")")
        }
    }

    /// The modes that shadow the guest's page tables, which `shadow={...}` applies to (`hw` with
    /// `paging = "shadow"` only).
    static let shadowingModes: [ExecutionMode] = [.trap, .bt, .hw]

    /// Refuses `shadow={...}` for a mode without shadow page tables.
    static func requireShadowing(got mode: ExecutionMode, hardware: HardwareAssistedPolicy, argument: Int32, context: String = "") throws {
        try requireMode(shadowingModes, for: "shadow", got: mode, argument: argument, context: context)
        guard mode != .hw || hardware.paging == .shadow else {
            throw LuaRaise.argument(argument, context + "option 'shadow' needs hw = { paging = \"shadow\" } under mode \"hw\" (nested paging has no shadows)")
        }
    }
}
