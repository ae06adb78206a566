// Validated direct paging: the guest kernel's page tables are the ones the MMU walks (no shadow
// copy), and the guest changes them only through `mmu_update`, which checks every entry before
// writing it (Xen's model, [X03] §3.3.2). Sv39 and Sv48 (Privileged spec 4.4, 4.5): a root is
// pinned as one or the other (`pin_table`'s levels; an implicit pin makes an Sv39 root), and
// `set_satp` takes a root of its mode only; other satp modes are refused.
//
// Rules for one entry of a table of level L (PTE format, Privileged spec 4.4.1 / 4.3.1):
// - reserved encodings are refused: W without R, bits 63:54 set (no Svpbmt/Svnapot here),
//   a non-leaf entry at level 0;
// - a non-leaf entry must point to a RAM frame, which becomes (or already is) a page table of
//   level L-1 — validated entry by entry when it first becomes one;
// - a leaf maps 4 KiB << 9L bytes, naturally aligned (4.3.1: a misaligned superpage faults);
//   it may map only the VM's own guest-physical space: its RAM, or (never executable) its
//   device window below RAM; frames above RAM do not exist in the VM;
// - a writable leaf may not cover a page-table frame, and counts as a writable mapping of every
//   RAM frame it covers (except a trusted kernel linear map, see `ParavirtualPolicy`).
// Updates take the new entry's references before dropping the old one's, so rewriting an entry
// with itself never releases a table in between.
import RISCV

/// Sv39 and Sv48 PTE bits (Privileged spec 4.4.1).
enum PTE {
    static let v: UInt64 = 1 << 0, r: UInt64 = 1 << 1, w: UInt64 = 1 << 2, x: UInt64 = 1 << 3
    static let u: UInt64 = 1 << 4, g: UInt64 = 1 << 5
    static let leafBits: UInt64 = r | w | x
    static let reservedHigh: UInt64 = 0x3FF << 54
    static func address(_ pte: UInt64) -> UInt64 { ((pte >> 10) & ((1 << 44) - 1)) << 12 }
    static func isLeaf(_ pte: UInt64) -> Bool { pte & leafBits != 0 }
}

extension ParavirtualDomain {
    /// Bytes a leaf at `level` maps.
    static func pageSize(level: Int) -> UInt64 { 4096 << UInt64(9 * level) }

    /// Whether a writable leaf is the trusted kernel linear map (not counted per frame).
    func isTrustedLinearMap(_ pte: UInt64, level: Int) -> Bool {
        policy.trustKernelLinearMap && level > 0 && pte & PTE.u == 0 && pte & PTE.g != 0
    }

    /// The RAM frames `[first, end)` a leaf covers (empty when it covers no RAM).
    func ramFrames(of pte: UInt64, level: Int) -> Range<Int> {
        let start = PTE.address(pte), end = start &+ Self.pageSize(level: level)
        let lo = max(start, ramBase), hi = min(end, ramEnd)
        guard lo < hi else { return 0..<0 }
        return frames.frame(of: lo)!..<(frames.frame(of: hi - 1)! + 1)
    }

    // MARK: entries

    /// Checks `pte` as an entry of a level-`level` table and takes its references.
    func acquire(_ pte: UInt64, level: Int) throws(HypercallError) {
        guard pte & PTE.v != 0 else { return }
        guard pte & PTE.reservedHigh == 0 else { throw .invalidParam }
        let target = PTE.address(pte)
        if !PTE.isLeaf(pte) {
            guard level > 0 else { throw .invalidParam }
            guard let child = frames.frame(of: target) else { throw .invalidAddress }
            try acquireTable(child, level: level - 1)
            return
        }
        guard pte & PTE.w == 0 || pte & PTE.r != 0 else { throw .invalidParam }
        let size = Self.pageSize(level: level)
        guard target & (size - 1) == 0 else { throw .invalidParam }
        if target < ramBase {
            // The device window: emulated devices, never code.
            guard pte & PTE.x == 0 else { throw .denied }
            return
        }
        guard target < ramEnd else { throw .invalidAddress }
        guard pte & PTE.w != 0, !isTrustedLinearMap(pte, level: level) else { return }
        let covered = ramFrames(of: pte, level: level)
        for f in covered where !frames.mayMapWritable(f) { throw .denied }
        for f in covered { frames.addWritableMapping(f) }
    }

    /// Drops the references `pte` (an entry of a level-`level` table) holds.
    func release(_ pte: UInt64, level: Int) {
        guard pte & PTE.v != 0, pte & PTE.reservedHigh == 0 else { return }
        let target = PTE.address(pte)
        if !PTE.isLeaf(pte) {
            guard level > 0, let child = frames.frame(of: target) else { inconsistencies &+= 1; return }
            releaseTable(child, expectedLevel: level - 1)
            return
        }
        guard target >= ramBase, target < ramEnd, pte & PTE.w != 0, !isTrustedLinearMap(pte, level: level) else { return }
        for f in ramFrames(of: pte, level: level) { frames.removeWritableMapping(f) }
    }

    // MARK: tables

    /// Takes a type reference on `frame` as a level-`level` table, validating its 512 entries if it
    /// was not one; on a refused entry every reference taken so far is given back.
    func acquireTable(_ frame: Int, level: Int) throws(HypercallError) {
        guard try frames.takeType(frame, level: level) else { return }
        let base = frames.address(of: frame)
        for i in 0..<512 {
            let pte = load64(base + UInt64(i) * 8) ?? 0
            do {
                try acquire(pte, level: level)
                entriesValidated &+= 1
            } catch {
                for j in 0..<i { release(load64(base + UInt64(j) * 8) ?? 0, level: level) }
                _ = frames.dropType(frame)
                throw error
            }
        }
    }

    /// Drops a type reference; the last one releases every entry of the table.
    func releaseTable(_ frame: Int, expectedLevel: Int) {
        guard frames.references(of: frame) > 0, frames.type(of: frame) == .pageTable(level: expectedLevel) else {
            inconsistencies &+= 1
            return
        }
        guard frames.dropType(frame) else { return }
        let base = frames.address(of: frame)
        for i in 0..<512 { release(load64(base + UInt64(i) * 8) ?? 0, level: expectedLevel) }
    }

    // MARK: pins

    /// The levels of the roots `pin_table` accepts: Sv39 and Sv48.
    static let rootLevels = 3...4

    /// Validates `address` as the root of a `levels`-level translation (Sv39: a table of level 2;
    /// Sv48: of level 3) and pins it.
    func pin(_ address: UInt64, levels: Int = 3) throws(HypercallError) {
        guard address & 0xFFF == 0, Self.rootLevels.contains(levels) else { throw .invalidParam }
        guard let frame = frames.frame(of: address) else { throw .invalidAddress }
        guard !frames.isPinned(frame) else { throw .alreadyAvailable }
        try acquireTable(frame, level: levels - 1)
        frames.setPinned(frame, true)
    }

    func unpin(_ address: UInt64) throws(HypercallError) {
        guard address & 0xFFF == 0 else { throw .invalidParam }
        guard let frame = frames.frame(of: address) else { throw .invalidAddress }
        guard frames.isPinned(frame) else { throw .invalidState }
        // The MMU may be walking it: a root in use stays typed.
        for h in 0..<machine.hartCount {
            let satp = machine.readCSR(RISCV.CSR.satp, hart: h) ?? 0
            if satp >> 60 != 0 && (satp & ((1 << 44) - 1)) << 12 == address { throw .invalidState }
        }
        guard case .pageTable(let level) = frames.type(of: frame) else { throw .invalidState }
        frames.setPinned(frame, false)
        releaseTable(frame, expectedLevel: level)
    }

    // MARK: mmu_update

    /// Applies one request: the entry at guest-physical `pointer` becomes `value`.
    func update(pointer: UInt64, value: UInt64) throws(HypercallError) {
        guard pointer & 7 == 0 else { throw .invalidParam }
        guard let frame = frames.frame(of: pointer) else { throw .invalidAddress }
        if frames.references(of: frame) == 0 {
            // Not a page table: only an implicit pin may make it one (as a root).
            guard policy.implicitPin else { throw .denied }
            try pin(pointer & ~0xFFF)
            implicitPins &+= 1
        }
        guard case .pageTable(let level) = frames.type(of: frame) else { throw .denied }
        let old = load64(pointer) ?? 0
        try acquire(value, level: level)
        store64(pointer, value)
        release(old, level: level)
    }

    /// `mmu_update(list, count)`: applies requests in order, stopping at the first refused one.
    func mmuUpdate(list: UInt64, count: UInt64, hart: Int = 0) -> HypercallResult {
        guard count <= UInt64(policy.batchLimit) else { return .failure(.invalidParam) }
        guard count > 0 else { return .success(0) }
        guard list & 7 == 0 else { return .failure(.invalidParam) }
        guard inRAM(list, count: count * HypercallABI.mmuUpdateEntrySize) else { return .failure(.invalidAddress) }
        for i in 0..<count {
            let entry = list + i * HypercallABI.mmuUpdateEntrySize
            guard let pointer = load64(entry), let value = load64(entry + 8) else { return .failure(.invalidAddress, value: i) }
            do {
                try update(pointer: pointer, value: value)
                updatesApplied &+= 1
                charge(.update, hart: hart)
            } catch {
                updatesRefused &+= 1
                return .failure(error, value: i)
            }
        }
        return .success(count)
    }
}
