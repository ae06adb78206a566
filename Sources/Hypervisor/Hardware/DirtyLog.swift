// The `hw` VMM's dirty log: which guest pages were written since the last look, as a VMM needs for
// pre-copy live migration (KVM's KVM_GET_DIRTY_LOG on EPT with accessed/dirty bits). The G stage's
// leaves are built with D set (NestedPageTables.swift); harvesting reads every leaf over the
// guest's RAM, reports the pages whose D is set and, with `clear`, clears it and flushes every
// vCPU's TLB (the hfence.gvma a hypervisor issues), so that the next store to such a page walks
// the G stage again and the hart sets D (hardware A/D updates, privileged spec "Guest Physical
// Address Translation"). The hart never sees a page written by the VMM itself or by an emulated
// device's DMA, so those are noted in software as they happen (as KVM marks its own writes) and
// reported with the rest.
//
// The scan is the migration thread's work on another host CPU, not the guest's: it is counted
// (`dirty_log` in the technique's statistics), not charged to a vCPU's clock. What the guest pays
// is what it does after: the TLB misses of the flush and the walks that set D again.

import Machine

/// Why a VM keeps no dirty log.
public struct DirtyLogError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// What the dirty log has done.
public struct DirtyLogCounters: Sendable, Equatable, Codable {
    /// Harvests (`dirtyPages`), and how many of them cleared the log.
    public var harvests: UInt64 = 0
    public var clears: UInt64 = 0
    /// G-stage leaves read, and pages reported dirty, over all harvests.
    public var leavesScanned: UInt64 = 0
    public var pagesReported: UInt64 = 0
    /// Pages the VMM noted in software: written by DMA, which the hart's D bits do not see.
    public var pagesWrittenByDMA: UInt64 = 0

    public var dictionary: [String: UInt64] {
        ["harvests": harvests, "clears": clears, "leaves_scanned": leavesScanned, "pages_reported": pagesReported,
         "pages_written_by_dma": pagesWrittenByDMA]
    }
}

extension HardwareAssistedTechnique {
    /// The guest-physical addresses of the pages written since the log was last cleared (at
    /// first: since the VM was built, so every page), in ascending order; with `clear`, the log
    /// starts again from here. Nested paging with the hardware's A/D updates only.
    public func dirtyPages(clear: Bool) throws(DirtyLogError) -> [UInt64] {
        guard let vmm, let root = gStageRoot else {
            throw DirtyLogError(description: "no dirty log under hw with paging = \"shadow\": it reads the G stage's D bits, and shadow paging has no G stage")
        }
        let machine = vmm.machine
        guard machine.configuration.adBits == .hardwareUpdate else {
            throw DirtyLogError(description: "no dirty log with ad_bits = \"fault\": the hart does not set the G stage's D bits itself (Svade)")
        }
        let (base, size) = guestRAM
        let dirtyBit: UInt64 = 0x80
        var pages: [UInt64] = []
        var scanned: UInt64 = 0
        var gpa = base
        // One level-1 entry per 2 MiB: a 2 MiB leaf (policy.gStagePageSize), or a table of 512.
        while gpa < base + size {
            let span = min(UInt64(2 << 20), base + size - gpa)
            defer { gpa += span }
            // Entries the VMM did not write (only a guest that escaped could change them) are
            // passed over: nothing there is logged.
            guard let l1Table = Self.nextTable(machine.readPhysicalWord(at: root + ((gpa >> 30) & 0x7FF) * 8)),
                  let l1Entry = machine.readPhysicalWord(at: l1Table + ((gpa >> 21) & 0x1FF) * 8) else { continue }
            if l1Entry & 1 != 0 && l1Entry & 0b1010 != 0 {
                scanned += 1
                if l1Entry & dirtyBit != 0 {
                    pages.append(contentsOf: stride(from: gpa, to: gpa + span, by: 4096))
                    if clear { _ = machine.loadPhysical(littleEndian: l1Entry & ~dirtyBit, count: 8, at: l1Table + ((gpa >> 21) & 0x1FF) * 8) }
                }
            } else if let l0 = Self.nextTable(l1Entry) {
                let first = (gpa >> 12) & 0x1FF
                let count = Int(span >> 12)
                guard let bytes = machine.readPhysical(at: l0 + first * 8, count: count * 8) else { continue }
                var cleared = bytes
                var changed = false
                for i in 0..<count {
                    var pte: UInt64 = 0
                    for b in 0..<8 { pte |= UInt64(bytes[i * 8 + b]) << (8 * UInt64(b)) }
                    scanned += 1
                    guard pte & 1 != 0, pte & dirtyBit != 0 else { continue }
                    pages.append(gpa + UInt64(i) * 4096)
                    if clear {
                        cleared[i * 8] &= ~UInt8(dirtyBit)
                        changed = true
                    }
                }
                if changed { _ = machine.loadPhysical(cleared, at: l0 + first * 8) }
            }
        }
        var all = Set(pages)
        all.formUnion(writtenByDMA)
        let sorted = all.sorted()
        dirtyLog.harvests &+= 1
        dirtyLog.leavesScanned &+= scanned
        dirtyLog.pagesReported &+= UInt64(sorted.count)
        if clear {
            dirtyLog.clears &+= 1
            writtenByDMA = []
            // Translations cached with D set would let stores go by without setting it again.
            for hart in 0..<machine.hartCount { machine.flushTLB(hart: hart) }
        }
        return sorted
    }

    /// The table a non-leaf G-stage entry points to (nil: not valid, or a leaf).
    private static func nextTable(_ pte: UInt64?) -> UInt64? {
        guard let pte, pte & 1 != 0, pte & 0b1010 == 0 else { return nil }
        return ((pte >> 10) & ((1 << 44) - 1)) << 12
    }

    /// A device's DMA wrote `[address, address + count)`: the pages it touched are dirty.
    func noteDMAWrite(_ address: UInt64, _ count: Int) {
        guard count > 0 else { return }
        let (base, size) = guestRAM
        var page = address & ~0xFFF
        while page < address &+ UInt64(count) {
            if page >= base && page < base + size && writtenByDMA.insert(page).inserted { dirtyLog.pagesWrittenByDMA &+= 1 }
            page += 4096
        }
    }
}
