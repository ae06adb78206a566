import Devices
import Hypervisor
import LuaKit

/// `vm:iommu()`: what the IOMMU of a `hw` VM with assigned devices holds now, as plain data: the
/// device contexts the VMM set, the IOTLB's entries, the faults it recorded, its counters — the
/// IOMMU as a teaching object, as `vm:tlb()` is the TLB.
enum IOMMUBinding {
    static func contribute(to module: inout LuaModule) {
        module.classes.append(viewClass)
        module.classes.append(contextClass)
        module.classes.append(entryClass)
        module.classes.append(faultClass)
    }

    static let methods: [LuaFunction] = [
        .method("iommu", of: "vmlab.VM",
                summary: "The IOMMU of a `hw` VM whose devices are assigned (`hw = { io = \"assigned\" }`) as it stands, as plain data: each device's context, the IOTLB's entries in the order they arrived, the most recent faults (up to 64, oldest first) and the counters of `vm:stats().technique.iommu`. Reading changes nothing. `nil` for a VM without one.",
                returns: [LuaReturn(.documented("vmlab.IOMMUView?"), "iommu")]) { call in
            let vm = try VMBinding.machine(call)
            let guest = try VMBinding.misuse { () throws(VirtualMachine.Misuse) in try vm.live() }
            guard let iommu = (guest.technique as? HardwareAssistedTechnique)?.iommu else { return [.nil] }
            return [view(iommu)]
        },
    ]

    static func view(_ iommu: IOMMU) -> LuaValue {
        let contexts: [LuaValue] = iommu.contexts.keys.sorted().map { device in
            switch iommu.contexts[device]! {
            case .bare:
                return .record(["device": .integer(Int64(device)), "mode": .string("bare")])
            case .secondStage(let root, let gscid):
                return .record(["device": .integer(Int64(device)), "mode": .string("second_stage"),
                                "root": .unsigned(root), "gscid": .integer(Int64(gscid))])
            }
        }
        let entries: [LuaValue] = iommu.iotlbByArrival.map { e in
            let shift = 12 + 9 * UInt64(e.level)
            return .record(["gscid": .integer(Int64(e.gscid)), "guest_physical": .unsigned(e.tag << shift),
                            "machine": .unsigned(e.base), "page_size": .unsigned(1 << shift),
                            "readable": .boolean(e.readable), "writable": .boolean(e.writable)])
        }
        let faults: [LuaValue] = iommu.faultLog.map { f in
            .record(["cause": .string(f.cause.name), "cause_code": .integer(Int64(f.cause.rawValue)),
                     "device": .integer(Int64(f.device)), "address": .unsigned(f.address), "write": .boolean(f.isWrite)])
        }
        return .record([
            "contexts": .array(contexts), "iotlb": .array(entries), "iotlb_capacity": .integer(Int64(iommu.iotlbCapacity)),
            "faults": .array(faults),
            "counters": .record(iommu.counters.dictionary.mapValues { .unsigned($0) }),
        ])
    }

    static let viewClass = LuaDocClass(
        "vmlab.IOMMUView", summary: "A `hw` VM's IOMMU (`vm:iommu()`).",
        fields: [
            .required("contexts", .list(.documented("vmlab.IOMMUContext")), "Each device's context, by device ID (the virtio slot)."),
            .required("iotlb", .list(.documented("vmlab.IOTLBEntry")), "The IOTLB's entries, oldest first (it replaces in order of arrival)."),
            .required("iotlb_capacity", .integer, "Its entries at most (`hw = { iotlb = }`)."),
            .required("faults", .list(.documented("vmlab.IOMMUFault")), "The most recent faults, oldest first (at most 64; `counters.faults` counts them all)."),
            .required("counters", .documented("{ translations: integer, iotlb_hits: integer, iotlb_misses: integer, walk_references: integer, faults: integer, invalidations: integer }"), "As `vm:stats().technique.iommu`."),
        ])

    static let contextClass = LuaDocClass(
        "vmlab.IOMMUContext", summary: "How the IOMMU translates one device's DMA (the RISC-V IOMMU's device context).",
        fields: [
            .required("device", .integer, "The device ID: the virtio-mmio slot (0 at 0x10001000)."),
            .required("mode", .choice(["bare", "second_stage"]), "\"second_stage\": its addresses are guest-physical, translated by a G-stage table; \"bare\": machine addresses."),
            .optional("root", .integer, "The G-stage table's root (machine address; the same table as the vCPUs' hgatp)."),
            .optional("gscid", .integer, "The guest-soft-context ID its IOTLB entries are tagged with (the VM's VMID)."),
        ])

    static let entryClass = LuaDocClass(
        "vmlab.IOTLBEntry", summary: "One cached DMA translation (`vm:iommu().iotlb`).",
        fields: [
            .required("gscid", .integer, "The context's tag."),
            .required("guest_physical", .integer, "The first guest-physical address of the page."),
            .required("machine", .integer, "Where that page is in the machine."),
            .required("page_size", .integer, "4096, 2 MiB or 1 GiB: the G-stage leaf's level."),
            .required("readable", .boolean, "A device may read it."),
            .required("writable", .boolean, "A device may write it (W and D set)."),
        ])

    static let faultClass = LuaDocClass(
        "vmlab.IOMMUFault", summary: "A DMA the IOMMU refused (`vm:iommu().faults`; the event `iommu_fault` reports each as it happens).",
        fields: [
            .required("cause", .choice(IOMMUFault.Cause.allCases.map(\.name)), "The fault: a guest-page fault (the G stage does not map the page for the access), an access fault (the page is not RAM a device may reach) or a device without a context."),
            .required("cause_code", .integer, "The RISC-V IOMMU's cause code (21, 23, 5, 7, 258)."),
            .required("device", .integer, "The device ID."),
            .required("address", .integer, "The address the device presented (guest-physical), or for an access fault the machine address it translated to."),
            .required("write", .boolean, "Whether the device was writing memory."),
        ])
}
