// The G stage a `hw` VMM builds for its guest (privileged spec, "Guest Physical Address
// Translation", Sv39x4): guest physical RAM mapped onto the machine RAM the VM was given, in pages
// of the VMM's hidden memory the guest cannot reach. Only the guest's RAM is mapped: everything
// else (the devices below RAM, the VMM's pages after it) faults into the VMM as a guest-page fault,
// which is how a device register access becomes an exit to be emulated.

import Machine

struct NestedPageTables {
    /// Sv39x4: 41-bit guest physical addresses, a 16 KiB root table.
    static let mode: UInt64 = 8
    static let rootSize: UInt64 = 16 << 10
    /// Leaf bits: V, R, W, X, U (every G-stage access is checked as a U-mode one), A, D.
    static let leafFlags: UInt64 = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80

    /// The hidden memory the tables for `memory` bytes of guest RAM take: the root, one level-1
    /// table per GiB and one level-0 table per 2 MiB (4 KiB leaves, the case [B08] counts), and a
    /// level-1 and a level-0 table for the virtio registers, which assigned devices need (reserved
    /// whatever the policy, so the hidden memory's size depends on the paging alone).
    static func size(forGuestMemory memory: UInt64) -> UInt64 {
        let gib = (memory + (1 << 30) - 1) >> 30
        let twoMiB = (memory + (2 << 20) - 1) >> 21
        return rootSize + (gib + twoMiB + 2) * 4096
    }

    unowned let machine: Machine
    let root: UInt64
    /// The pool's next free table. It moves when the dirty log splits a 2 MiB leaf, so a snapshot
    /// keeps it (`allocation`).
    private var next: UInt64
    private let end: UInt64
    /// Where `next` stood once the guest's RAM and devices were mapped: the tables any VM built
    /// alike has before its dirty log splits a leaf.
    private(set) var mapped: UInt64

    /// Tables allocated from `[base, base + size)`; `base` is 16 KiB-aligned.
    init(machine: Machine, base: UInt64, size: UInt64) {
        precondition(base % Self.rootSize == 0, "the G-stage root must be 16 KiB-aligned")
        self.machine = machine
        root = base
        next = base + Self.rootSize
        end = base + size
        mapped = next
        zero(root, count: Self.rootSize)
    }

    /// The pool's allocation, for snapshots: where the next table goes.
    var allocation: UInt64 {
        get { next }
        set { next = newValue }
    }

    /// Whether `allocation` could be this pool's (a snapshot file's is checked with this): a page
    /// between the tables mapped at build time and the end of the pool.
    func accepts(allocation: UInt64) -> Bool {
        allocation % 4096 == 0 && allocation >= mapped && allocation <= end
    }

    /// The tables are built: what is allocated now, any VM built alike has (`mapped`).
    mutating func sealMapping() { mapped = next }

    func hgatp(vmid: UInt64) -> UInt64 { Self.mode << 60 | vmid << 44 | root >> 12 }

    private func zero(_ address: UInt64, count: UInt64) {
        machine.loadPhysical([UInt8](repeating: 0, count: Int(count)), at: address)
    }

    /// Where `gpa`'s entry is in the root (one per GiB) and in a level-1 table (one per 2 MiB).
    private static func rootIndex(_ gpa: UInt64) -> UInt64 { (gpa >> 30) & 0x7FF }
    private static func level1Index(_ gpa: UInt64) -> UInt64 { (gpa >> 21) & 0x1FF }

    /// The table the entry at `pteAddress` points to, for the dirty log's scan; nil for an
    /// invalid entry or a leaf (which only a guest that escaped onto these tables could have
    /// written where a table belongs).
    private func existingTable(at pteAddress: UInt64) -> UInt64? {
        guard let pte = machine.readPhysicalWord(at: pteAddress), pte & 1 != 0, pte & 0b1010 == 0 else { return nil }
        return ((pte >> 10) & ((1 << 44) - 1)) << 12
    }

    private mutating func table(at pteAddress: UInt64) -> UInt64 {
        let pte = machine.readPhysicalWord(at: pteAddress) ?? 0
        if pte & 1 != 0 { return (pte >> 10) << 12 }
        precondition(next + 4096 <= end, "the G-stage pool is too small")
        let t = next
        next += 4096
        zero(t, count: 4096)
        machine.loadPhysical(littleEndian: (t >> 12) << 10 | 1, count: 8, at: pteAddress)
        return t
    }

    /// Maps guest physical `[gpa, gpa + size)` onto machine `[ma, ma + size)` with leaves of
    /// `pageSize` (4 KiB or 2 MiB; 4 KiB where a 2 MiB page would not fit the range or the
    /// alignment). `gpa` and `ma` are equally aligned.
    mutating func map(guestPhysical gpa: UInt64, size: UInt64, to ma: UInt64, pageSize: UInt64 = 4096) {
        let mega: UInt64 = 2 << 20
        var offset: UInt64 = 0
        while offset < size {
            let g = gpa + offset
            let l1 = table(at: root + Self.rootIndex(g) * 8)
            if pageSize == mega && g % mega == 0 && (ma + offset) % mega == 0 && size - offset >= mega {
                let pte = ((ma + offset) >> 12) << 10 | Self.leafFlags
                machine.loadPhysical(littleEndian: pte, count: 8, at: l1 + Self.level1Index(g) * 8)
                offset += mega
                continue
            }
            let l0 = table(at: l1 + Self.level1Index(g) * 8)
            // A whole level-0 table at once: 512 leaves, as far as the range goes.
            let first = (g >> 12) & 0x1FF
            let count = min(512 - first, (size - offset) >> 12)
            writeLeaves(count, mapping: ma + offset, flags: Self.leafFlags, at: l0 + first * 8)
            offset += count * 4096
        }
    }

    /// The guest pages of `[gpa, gpa + size)` whose leaves have D set (a 2 MiB leaf: all 512 of
    /// its pages), in ascending order, how many leaves were read, and how many 2 MiB leaves were
    /// split; with `clear`, D is cleared in each (the dirty log, DirtyLog.swift), and a 2 MiB
    /// leaf is split into 512 leaves of 4 KiB with D clear, so that from then on the log tells
    /// the pages apart (as KVM splits huge pages once it logs dirty pages). Entries the VMM did
    /// not write are passed over.
    mutating func dirtyPages(guestPhysical gpa: UInt64, size: UInt64, clear: Bool)
        -> (pages: [UInt64], leavesRead: UInt64, split: UInt64) {
        let dirty: UInt64 = 0x80
        var pages: [UInt64] = []
        var leaves: UInt64 = 0, split: UInt64 = 0
        var g = gpa
        while g < gpa + size {
            let span = min(UInt64(2 << 20), gpa + size - g)
            defer { g += span }
            guard let l1 = existingTable(at: root + Self.rootIndex(g) * 8) else { continue }
            let level1Entry = l1 + Self.level1Index(g) * 8
            guard let entry = machine.readPhysicalWord(at: level1Entry), entry & 1 != 0 else { continue }
            if entry & 0b1010 != 0 {
                leaves += 1
                if entry & dirty != 0 { pages.append(contentsOf: stride(from: g, to: g + span, by: 4096)) }
                if clear {
                    if splitLeaf(entry & ~dirty, at: level1Entry) {
                        split += 1
                    } else {
                        machine.loadPhysical(littleEndian: entry & ~dirty, count: 8, at: level1Entry)
                    }
                }
                continue
            }
            guard let l0 = existingTable(at: level1Entry) else { continue }
            let first = (g >> 12) & 0x1FF
            let count = Int(span >> 12)
            guard var entries = machine.readPhysical(at: l0 + first * 8, count: count * 8) else { continue }
            var cleared = false
            for i in 0..<count {
                leaves += 1
                // D is bit 7: the entry's first byte holds it, and V.
                guard entries[i * 8] & 1 != 0, entries[i * 8] & UInt8(dirty) != 0 else { continue }
                pages.append(g + UInt64(i) * 4096)
                if clear {
                    entries[i * 8] &= ~UInt8(dirty)
                    cleared = true
                }
            }
            if cleared { machine.loadPhysical(entries, at: l0 + first * 8) }
        }
        return (pages, leaves, split)
    }

    /// Replaces the 2 MiB leaf `leaf` at `pteAddress` by a table of 512 leaves of 4 KiB over the
    /// same machine pages, with its permissions and A, D as in `leaf`. The pool holds a table per
    /// 2 MiB of guest RAM (`size(forGuestMemory:)`), so it has one for every leaf there is; false
    /// (nothing split) only when a snapshot file set the allocation past where it could be.
    private mutating func splitLeaf(_ leaf: UInt64, at pteAddress: UInt64) -> Bool {
        guard next + 4096 <= end else { return false }
        let t = next
        next += 4096
        writeLeaves(512, mapping: (leaf >> 10) << 12, flags: leaf & 0x3FF, at: t)
        machine.loadPhysical(littleEndian: (t >> 12) << 10 | 1, count: 8, at: pteAddress)
        return true
    }

    /// Writes `count` consecutive 4 KiB leaves with `flags` at `address`, the first mapping
    /// machine page `ma`, one write for the lot.
    private func writeLeaves(_ count: UInt64, mapping ma: UInt64, flags: UInt64, at address: UInt64) {
        var leaves = [UInt8](repeating: 0, count: Int(count) * 8)
        for i in 0..<Int(count) {
            let pte = ((ma >> 12) + UInt64(i)) << 10 | flags
            for b in 0..<8 { leaves[i * 8 + b] = UInt8(truncatingIfNeeded: pte >> (8 * UInt64(b))) }
        }
        machine.loadPhysical(leaves, at: address)
    }
}
