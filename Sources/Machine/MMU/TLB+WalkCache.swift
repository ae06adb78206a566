// The page-walk cache ([B08]'s page-walk cache for the two-dimensional walk; Intel's
// paging-structure caches, AMD's page-directory cache): the non-leaf entries of the guest's own
// (VS-stage) page tables that two-stage walks read. An entry says "under these upper levels of
// this address space, the table for level L is at guest physical address T", so a later walk of
// an address under the same entries starts there: the upper levels' PTE reads, and the G-stage
// walk each of them needs, are skipped. For Sv39 on Sv39x4 a walk that finds its level-0 table
// reads 1 + 3 + 3 = 7 entries instead of 15.
//
// The privileged spec lets hardware cache non-leaf entries ("Supervisor Memory-Management Fence
// Instruction": software that changes a non-leaf PTE runs sfence.vma with rs1 = x0, and the
// same in VS-mode or hfence.vvma for a guest's). Entries are tagged with the guest's space (its
// VMID), the VS-stage ASID and the vsatp root and mode they were found under (so a new root under
// the same ASID, which software should fence, finds nothing stale either); every flush that reaches a guest space drops that space's entries
// (of the ASID, when tagged), whatever the address, which is more than the spec requires. The G
// stage is not cached here: each skipped-to table is still found through the G stage (or the
// nested TLB), so a change of hgatp needs nothing from this cache.

/// One cached non-leaf VS-stage entry: where the table for `level` is, for the addresses whose
/// bits above that table's index match `tag`.
struct WalkCacheEntry: Codable {
    var valid = false
    var space: UInt16 = 0
    var asid: UInt16 = 0
    /// vsatp's MODE and PPN when it was found.
    var root: UInt64 = 0
    /// The level of the table it points to (0 ... levels - 2).
    var level: UInt8 = 0
    /// va >> (12 + 9 * (level + 1)): the index bits of every level above the table.
    var tag: UInt64 = 0
    /// The table's guest physical address.
    var table: UInt64 = 0
}

extension TLB {
    /// The deepest table cached for `va` in `space`, `asid` and under `root`: its level and guest physical
    /// address. The deepest first, since it skips the most.
    @inline(__always)
    func walkCacheLookup(_ va: UInt64, space: UInt16, asid: UInt16, root: UInt64, levels: Int) -> (level: Int, table: UInt64)? {
        var best: (level: Int, table: UInt64)? = nil
        for i in 0..<walkCacheCount {
            let e = walkCache[i]
            guard e.valid, e.space == space, e.root == root, !tagged || e.asid == asid, Int(e.level) < levels - 1,
                  va >> (12 + 9 * (UInt64(e.level) + 1)) == e.tag else { continue }
            if best == nil || Int(e.level) < best!.level { best = (Int(e.level), e.table) }
        }
        return best
    }

    /// Remembers that, for `va` in `space`, `asid` and under `root`, the table for `level` is at `table`.
    mutating func walkCacheInsert(_ va: UInt64, level: Int, table: UInt64, space: UInt16, asid: UInt16, root: UInt64) {
        guard walkCacheCount > 0 else { return }
        walkCache[walkCacheNext] = WalkCacheEntry(valid: true, space: space, asid: asid, root: root, level: UInt8(level),
                                                  tag: va >> (12 + 9 * (UInt64(level) + 1)), table: table)
        walkCacheNext = (walkCacheNext + 1) % walkCacheCount
    }

    /// Drops the entries of `space` (of `asid` only, when given and the TLB is tagged).
    func flushWalkCache(_ space: TLBSpace, asid: UInt16?) {
        for i in 0..<walkCacheCount where walkCache[i].valid && space.contains(walkCache[i].space) {
            if let a = asid, tagged, walkCache[i].asid != a { continue }
            walkCache[i].valid = false
        }
    }

    /// The valid entries, in slot order, as plain data.
    func publicWalkCacheEntries() -> [WalkCacheEntryView] {
        (0..<walkCacheCount).compactMap { i in
            let e = walkCache[i]
            guard e.valid else { return nil }
            return WalkCacheEntryView(vmid: e.space & 0x7FFF, asid: e.asid, level: Int(e.level),
                                      virtualBase: e.tag << (12 + 9 * (UInt64(e.level) + 1)), table: e.table)
        }
    }
}

/// One page-walk cache entry as plain data.
public struct WalkCacheEntryView: Sendable, Equatable {
    public var vmid: UInt16
    public var asid: UInt16
    /// The level of the table the entry points to.
    public var level: Int
    /// The first guest virtual address under the entry.
    public var virtualBase: UInt64
    /// The table's guest physical address.
    public var table: UInt64
}
