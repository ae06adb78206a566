// An IOMMU: the unit between the devices and memory that translates and checks every DMA address
// (the RISC-V IOMMU specification, "Address translation"; Intel VT-d and AMD-Vi are its x86 peers).
// Each device, named by its device ID, has a device context: `bare` (its addresses are machine
// addresses, as without an IOMMU) or `secondStage` (its addresses are guest-physical, translated by
// a G-stage table in memory with the hart's Sv39x4 rules, tagged by a guest-soft-context ID). A VMM
// that assigns a device to a guest points its context at the guest's own G-stage table: the guest's
// driver programs the device with guest-physical addresses, and the device can reach the guest's
// memory and nothing else.
//
// The translation is the specification's second stage: a 41-bit guest-physical address, a 16 KiB
// root; a leaf must be valid, user (every G-stage access is a U-mode one), readable for a read,
// writable for a write, accessed, and dirty for a write (this IOMMU does not set A/D: the
// specification's GADE clear); a superpage must be aligned. A translation it refuses is a fault:
// the DMA does not happen and the fault is recorded with the specification's cause code. The IOTLB
// caches translations (fully associative, FIFO), tagged by GSCID, and is flushed by `invalidate`
// (IOTINVAL.GVMA). Walk references read memory directly and are counted, not priced: a device's
// time is not modelled.
//
// Not modelled: the memory-mapped programming interface (capabilities, ddtp, the device directory
// table, command and fault queues in memory): a VMM sets contexts, flushes and reads faults through
// this API. No first stage (process contexts, PASIDs), no MSI translation, no ATS.

import Machine

/// How the IOMMU translates one device's DMA addresses.
public enum IOMMUDeviceContext: Sendable, Equatable {
    /// Machine addresses, untranslated (iohgatp Bare).
    case bare
    /// Guest-physical addresses, translated by the Sv39x4 table whose 16 KiB root is at machine
    /// address `root`, cached under guest-soft-context ID `gscid` (a VMID).
    case secondStage(root: UInt64, gscid: UInt16)
}

/// A DMA the IOMMU refused (the RISC-V IOMMU's fault record, in part).
public struct IOMMUFault: Sendable, Equatable, Codable {
    /// The specification's fault causes that this IOMMU reports.
    public enum Cause: UInt16, Error, Sendable, CaseIterable, Codable {
        case readAccessFault = 5
        case writeAccessFault = 7
        case readGuestPageFault = 21
        case writeGuestPageFault = 23
        /// The device has no context: its DMA is not allowed at all.
        case deviceContextNotValid = 258

        public var name: String {
            switch self {
            case .readAccessFault: "read_access_fault"
            case .writeAccessFault: "write_access_fault"
            case .readGuestPageFault: "read_guest_page_fault"
            case .writeGuestPageFault: "write_guest_page_fault"
            case .deviceContextNotValid: "device_context_not_valid"
            }
        }
    }
    public var cause: Cause
    public var device: Int
    /// The address the device presented (guest-physical under a second stage).
    public var address: UInt64
    public var isWrite: Bool

    public init(cause: Cause, device: Int, address: UInt64, isWrite: Bool) {
        self.cause = cause
        self.device = device
        self.address = address
        self.isWrite = isWrite
    }
}

/// What the IOMMU did.
public struct IOMMUCounters: Sendable, Equatable, Codable {
    /// Pages of DMA translated or refused (a transfer that spans pages asks once per page).
    public var translations: UInt64 = 0
    public var iotlbHits: UInt64 = 0
    public var iotlbMisses: UInt64 = 0
    /// G-stage entries read by the IOMMU's walks.
    public var walkReferences: UInt64 = 0
    public var faults: UInt64 = 0
    public var invalidations: UInt64 = 0

    public var dictionary: [String: UInt64] {
        ["translations": translations, "iotlb_hits": iotlbHits, "iotlb_misses": iotlbMisses,
         "walk_references": walkReferences, "faults": faults, "invalidations": invalidations]
    }
}

/// One cached translation: the guest page (of 4 KiB, 2 MiB or 1 GiB) and where it is.
public struct IOTLBEntry: Sendable, Equatable, Codable {
    public var gscid: UInt16
    /// Guest-physical page number at the entry's level (address >> (12 + 9 * level)).
    public var tag: UInt64
    /// Machine address of the page's start.
    public var base: UInt64
    /// 0 for 4 KiB, 1 for 2 MiB, 2 for 1 GiB.
    public var level: Int
    public var readable: Bool
    public var writable: Bool
}

public final class IOMMU {
    /// Sv39x4: 41-bit guest-physical addresses.
    static let guestPhysicalBits: UInt64 = 41
    public static let maximumIOTLBEntries = 256

    unowned let machine: Machine
    /// Device contexts by device ID; a device without one may not DMA.
    public private(set) var contexts: [Int: IOMMUDeviceContext] = [:]
    public private(set) var counters = IOMMUCounters()
    /// The most recent faults, oldest first (at most `faultLogLimit`); `counters.faults` counts all.
    public private(set) var faultLog: [IOMMUFault] = []
    public static let faultLogLimit = 64
    /// Called with each fault as it is recorded.
    public var onFault: ((IOMMUFault) -> Void)?

    public let iotlbCapacity: Int
    public private(set) var iotlb: [IOTLBEntry] = []
    private var nextVictim = 0

    public init(machine: Machine, iotlbEntries: Int = 32) {
        precondition((1...Self.maximumIOTLBEntries).contains(iotlbEntries), "1 to \(Self.maximumIOTLBEntries) IOTLB entries")
        self.machine = machine
        iotlbCapacity = iotlbEntries
    }

    /// Gives device `device` its context (nil: none, its DMA refused). Its cached translations are
    /// dropped with its old context's tag.
    public func setContext(_ context: IOMMUDeviceContext?, device: Int) {
        if case .secondStage(_, let gscid)? = contexts[device] { invalidate(gscid: gscid) }
        contexts[device] = context
    }

    /// A port through which device `device` reaches memory.
    public func port(device: Int) -> IOMMUPort { IOMMUPort(iommu: self, device: device) }

    /// Drops cached translations: those of one GSCID, or all (IOTINVAL.GVMA).
    public func invalidate(gscid: UInt16? = nil) {
        counters.invalidations &+= 1
        // Kept in order of arrival, so the next victim is again the first.
        iotlb = iotlbByArrival.filter { gscid != nil && $0.gscid != gscid }
        nextVictim = 0
    }

    /// The IOTLB's entries, oldest first: the order in which they will be replaced.
    public var iotlbByArrival: [IOTLBEntry] {
        iotlb.count < iotlbCapacity || nextVictim == 0 ? iotlb : Array(iotlb[nextVictim...] + iotlb[..<nextVictim])
    }

    /// The machine address of device `device`'s `address`, or nil (the fault recorded) when the
    /// IOMMU refuses the access.
    public func translate(device: Int, address: UInt64, isWrite: Bool) -> UInt64? {
        counters.translations &+= 1
        switch contexts[device] {
        case nil:
            return refuse(.deviceContextNotValid, device: device, address: address, isWrite: isWrite)
        case .bare?:
            return address
        case .secondStage(let root, let gscid)?:
            for e in iotlb where e.gscid == gscid && e.tag == address >> (12 + 9 * UInt64(e.level)) {
                counters.iotlbHits &+= 1
                guard isWrite ? e.writable : e.readable else {
                    return refuse(isWrite ? .writeGuestPageFault : .readGuestPageFault, device: device, address: address, isWrite: isWrite)
                }
                return e.base | (address & ((1 << (12 + 9 * UInt64(e.level))) - 1))
            }
            counters.iotlbMisses &+= 1
            switch walk(root: root, address: address, isWrite: isWrite) {
            case .failure(let cause):
                return refuse(cause, device: device, address: address, isWrite: isWrite)
            case .success(var entry):
                entry.gscid = gscid
                insert(entry)
                return entry.base | (address & ((1 << (12 + 9 * UInt64(entry.level))) - 1))
            }
        }
    }

    /// The second-stage walk (privileged spec, "Two-Stage Address Translation"; the IOMMU
    /// specification's "Process to translate an IOVA", second stage only).
    private func walk(root: UInt64, address: UInt64, isWrite: Bool) -> Result<IOTLBEntry, IOMMUFault.Cause> {
        let pageFault: IOMMUFault.Cause = isWrite ? .writeGuestPageFault : .readGuestPageFault
        guard address >> Self.guestPhysicalBits == 0 else { return .failure(pageFault) }
        var table = root
        var level = 2
        while true {
            // The root level indexes 11 bits (Sv39x4's four-times-wider root), the others 9.
            let index = level == 2 ? (address >> 30) & 0x7FF : (address >> (12 + 9 * UInt64(level))) & 0x1FF
            counters.walkReferences &+= 1
            guard let pte = machine.readPhysicalWord(at: table + index * 8) else {
                return .failure(isWrite ? .writeAccessFault : .readAccessFault)
            }
            // The hart's checks of an entry (Machine's `PTE`): valid, no reserved bits or
            // encodings; a pointer with no D/A/U and above level 0; an aligned leaf.
            guard !PTE.isInvalid(pte) else { return .failure(pageFault) }
            let ppn = (pte >> 10) & ((1 << 44) - 1)
            if !PTE.isLeaf(pte) {
                guard !PTE.isBadPointer(pte, level: level) else { return .failure(pageFault) }
                table = ppn << 12
                level -= 1
                continue
            }
            // Every G-stage access is a U-mode one; A (and D for a write) must already be set.
            let readable = pte & PTE.r != 0, writable = pte & PTE.w != 0 && pte & PTE.d != 0
            guard pte & PTE.u != 0, pte & PTE.a != 0, !PTE.isMisalignedSuperpage(pte, level: level),
                  isWrite ? writable : readable else { return .failure(pageFault) }
            return .success(IOTLBEntry(gscid: 0, tag: address >> (12 + 9 * UInt64(level)), base: ppn << 12,
                                       level: level, readable: readable, writable: writable))
        }
    }

    private func insert(_ entry: IOTLBEntry) {
        if iotlb.count < iotlbCapacity {
            iotlb.append(entry)
        } else {
            iotlb[nextVictim] = entry
            nextVictim = (nextVictim + 1) % iotlbCapacity
        }
    }

    /// A translation whose machine address is not memory a device may reach.
    func recordAccessFault(device: Int, address: UInt64, isWrite: Bool) {
        _ = refuse(isWrite ? .writeAccessFault : .readAccessFault, device: device, address: address, isWrite: isWrite)
    }

    private func refuse(_ cause: IOMMUFault.Cause, device: Int, address: UInt64, isWrite: Bool) -> UInt64? {
        let fault = IOMMUFault(cause: cause, device: device, address: address, isWrite: isWrite)
        counters.faults &+= 1
        if faultLog.count == Self.faultLogLimit { faultLog.removeFirst() }
        faultLog.append(fault)
        onFault?(fault)
        return nil
    }

    /// Everything that changes as devices use it (contexts are the VMM's configuration).
    public struct State: Sendable, Equatable, Codable {
        var counters: IOMMUCounters
        var faultLog: [IOMMUFault]
        var iotlb: [IOTLBEntry]
        var nextVictim: Int
    }

    public func saveState() -> State { State(counters: counters, faultLog: faultLog, iotlb: iotlb, nextVictim: nextVictim) }

    /// Whether `state` came from an IOMMU with this one's IOTLB size.
    public func fits(_ state: State) -> Bool { state.iotlb.count <= iotlbCapacity && (0..<iotlbCapacity).contains(state.nextVictim) }

    public func restoreState(_ state: State) {
        precondition(fits(state), "an IOMMU state of another IOTLB size")
        counters = state.counters
        faultLog = state.faultLog
        iotlb = state.iotlb
        nextVictim = state.nextVictim
    }
}
