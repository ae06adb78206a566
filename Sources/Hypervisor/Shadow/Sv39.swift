// Page-table entries (privileged spec, "Sv39: Page-Based 39-bit Virtual-Memory System"; Sv48 and
// Sv57 use the same entry with one and two more levels): the format the shadow pager reads in the
// guest's tables and builds in its own, each shadow tree with as many levels as the guest's.

import Machine
import RISCV

/// Bits of an Sv39 page-table entry.
public enum Sv39 {
    public static let v: UInt64 = 1 << 0
    public static let r: UInt64 = 1 << 1
    public static let w: UInt64 = 1 << 2
    public static let x: UInt64 = 1 << 3
    public static let u: UInt64 = 1 << 4
    public static let g: UInt64 = 1 << 5
    public static let a: UInt64 = 1 << 6
    public static let d: UInt64 = 1 << 7
    public static let levels = 3
    public static let pageSize: UInt64 = 4096
    public static let satpMode: UInt64 = 8

    /// The physical address a PTE points at (its PPN, shifted).
    @inlinable public static func address(_ pte: UInt64) -> UInt64 { ((pte >> 10) & ((1 << 44) - 1)) << 12 }
    /// A PTE pointing at `physical` with `flags`.
    @inlinable public static func entry(_ physical: UInt64, _ flags: UInt64) -> UInt64 { ((physical >> 12) << 10) | flags }
    /// Entry `i` of a page-table page read as bytes (entries are little-endian 64-bit words).
    @inlinable public static func entry(_ i: Int, in table: [UInt8]) -> UInt64 {
        var e: UInt64 = 0
        for b in 0..<8 { e |= UInt64(table[i * 8 + b]) << (8 * UInt64(b)) }
        return e
    }
    /// Whether a valid PTE is a leaf (R or X set).
    @inlinable public static func isLeaf(_ pte: UInt64) -> Bool { pte & (r | x) != 0 }
    /// The 9-bit index of `va` at `level`.
    @inlinable public static func index(_ va: UInt64, level: Int) -> UInt64 { (va >> (12 + 9 * UInt64(level))) & 0x1FF }
    /// Whether `va` is canonical for Sv39: bits 63:39 copy bit 38.
    @inlinable public static func isCanonical(_ va: UInt64) -> Bool { isCanonical(va, levels: levels) }
    /// The canonical virtual address of `index`es at each level (the top bit sign-extended).
    @inlinable public static func virtualAddress(_ vpn: UInt64) -> UInt64 {
        virtualAddress(vpn, levels: levels)
    }

    // Sv48 and Sv57: the same entries, 9 more bits of virtual address per level.

    /// The levels of satp MODE `mode` (8 = Sv39, 9 = Sv48, 10 = Sv57), or nil for Bare or a
    /// reserved mode.
    @inlinable public static func levels(satpMode mode: UInt64) -> Int? { SatpWARL.levels(mode: mode) }
    /// The satp MODE of a translation with `levels` levels.
    @inlinable public static func satpMode(levels: Int) -> UInt64 { UInt64(levels + 5) }
    /// "sv39", "sv48" or "sv57".
    public static func modeName(levels: Int) -> String { "sv\(12 + 9 * levels)" }
    /// Whether `va` is canonical for a translation of `levels` levels: the bits above the
    /// virtual address copy its top bit.
    @inlinable public static func isCanonical(_ va: UInt64, levels: Int) -> Bool {
        let unused = UInt64(64 - 12 - 9 * levels)
        return UInt64(bitPattern: Int64(bitPattern: va << unused) >> unused) == va
    }
    /// The canonical virtual address of `index`es at each of `levels` levels.
    @inlinable public static func virtualAddress(_ vpn: UInt64, levels: Int) -> UInt64 {
        let unused = UInt64(64 - 12 - 9 * levels)
        return UInt64(bitPattern: Int64(bitPattern: (vpn << 12) << unused) >> unused)
    }
}

/// The entries of a page-table page in host memory, as little-endian 64-bit words.
struct TableEntries {
    let base: UnsafeMutableRawPointer

    subscript(i: Int) -> UInt64 {
        get { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)) }
        nonmutating set { base.storeBytes(of: newValue.littleEndian, toByteOffset: i &* 8, as: UInt64.self) }
    }
}

/// An access a guest makes, as the page walk sees it.
public enum GuestAccess: Sendable, Hashable, CaseIterable {
    case fetch, load, store

    public var pageFault: ExceptionCause {
        switch self { case .fetch: .instructionPageFault; case .load: .loadPageFault; case .store: .storePageFault }
    }
    public var accessFault: ExceptionCause {
        switch self { case .fetch: .instructionAccessFault; case .load: .loadAccessFault; case .store: .storeAccessFault }
    }
}
