// Physical Memory Protection (privileged spec, "Physical Memory Protection"): up to 64 entries, each
// a cfg byte (R, W, X, A, L) and an address register; TOR, NA4 and NAPOT matching; the lowest-numbered
// matching entry decides; locked entries bind M-mode too; an S/U access no entry matches fails when
// any entry is implemented. The grain is 4 bytes (G = 0), so NA4 is available.

struct PMP {
    static let r: UInt8 = 1, w: UInt8 = 2, x: UInt8 = 4, locked: UInt8 = 0x80
    static let aShift: UInt8 = 3

    /// Entries implemented (0, 16 or 64).
    let count: Int
    // Raw storage owned by the hart (freed in `deallocate`): no reference counting on checks.
    let cfg: UnsafeMutablePointer<UInt8>
    let addr: UnsafeMutablePointer<UInt64>
    /// Decoded ranges [lo, hi) per entry (lo == hi when OFF); rebuilt on every write.
    private let lo: UnsafeMutablePointer<UInt64>
    private let hi: UnsafeMutablePointer<UInt64>
    /// Highest active entry + 1: entries above it cannot match.
    private(set) var activeLimit = 0

    var anyActive: Bool { activeLimit > 0 }
    /// No entry is locked: M-mode accesses always pass.
    private(set) var noneLocked = true
    /// The highest-priority active entry covers all addresses with R, W and X: every S/U access
    /// passes (the usual firmware set-up), so checks cost nothing.
    private(set) var openForSU = false

    init(count: Int) {
        self.count = count
        cfg = .allocate(capacity: 64); cfg.initialize(repeating: 0, count: 64)
        addr = .allocate(capacity: 64); addr.initialize(repeating: 0, count: 64)
        lo = .allocate(capacity: 64); lo.initialize(repeating: 0, count: 64)
        hi = .allocate(capacity: 64); hi.initialize(repeating: 0, count: 64)
    }

    /// All entries OFF and unlocked, addresses zero (the reset state).
    mutating func reset() {
        for i in 0..<64 { cfg[i] = 0; addr[i] = 0; lo[i] = 0; hi[i] = 0 }
        activeLimit = 0
        noneLocked = true
        openForSU = false
    }

    func deallocate() {
        cfg.deallocate(); addr.deallocate(); lo.deallocate(); hi.deallocate()
    }

    private func isLocked(_ i: Int) -> Bool { cfg[i] & PMP.locked != 0 }

    // MARK: CSR access (RV64: pmpcfg0, 2, 4, ... each hold eight entries; odd numbers do not exist)

    func readCfg(_ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<8 where n * 4 + k < count { v |= UInt64(cfg[n * 4 + k]) << (8 * UInt64(k)) }
        return v
    }

    mutating func writeCfg(_ n: Int, _ value: UInt64) {
        for k in 0..<8 {
            let i = n * 4 + k
            guard i < count, !isLocked(i) else { continue }
            var b = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) & 0x9F  // bits 6:5 are zero
            // R=0, W=1 is reserved: WARL keeps such an entry without write permission.
            if b & PMP.r == 0 { b &= ~PMP.w }
            cfg[i] = b
        }
        rebuild()
    }

    func readAddr(_ i: Int) -> UInt64 { i < count ? addr[i] : 0 }

    mutating func writeAddr(_ i: Int, _ value: UInt64) {
        guard i < count, !isLocked(i) else { return }
        // A locked TOR entry also locks the address register below it.
        if i + 1 < count, isLocked(i + 1), (cfg[i + 1] >> PMP.aShift) & 3 == 1 { return }
        addr[i] = value & ((1 << 54) - 1)
        rebuild()
    }

    /// Puts back saved registers as they were, locked entries included (a snapshot's restore is
    /// not a CSR write: the lock bits bind the guest, not the machine's owner).
    mutating func restore(configuration: [UInt8], addresses: [UInt64]) {
        for i in 0..<64 { cfg[i] = configuration[i]; addr[i] = addresses[i] }
        rebuild()
    }

    private mutating func rebuild() {
        activeLimit = 0
        for i in 0..<count {
            let a = (cfg[i] >> PMP.aShift) & 3
            switch a {
            case 1:  // TOR: [pmpaddr(i-1), pmpaddr(i)) in 4-byte units
                lo[i] = i == 0 ? 0 : addr[i - 1] << 2
                hi[i] = addr[i] << 2
            case 2:  // NA4
                lo[i] = addr[i] << 2
                hi[i] = (addr[i] << 2) + 4
            case 3:  // NAPOT: trailing ones k give 2^(k+3) bytes
                let k = UInt64((~addr[i]).trailingZeroBitCount)
                if k >= 54 {
                    lo[i] = 0
                    hi[i] = .max
                } else {
                    lo[i] = (addr[i] & ~((1 << k) - 1)) << 2
                    hi[i] = lo[i] &+ (1 << (k + 3))
                }
            default:
                lo[i] = 0
                hi[i] = 0
            }
            if a != 0 { activeLimit = i + 1 }
        }
        noneLocked = !(0..<count).contains { cfg[$0] & PMP.locked != 0 }
        openForSU = false
        if let first = (0..<activeLimit).first(where: { (cfg[$0] >> PMP.aShift) & 3 != 0 }) {
            openForSU = lo[first] == 0 && hi[first] == .max && cfg[first] & 7 == 7
        }
    }

    // MARK: checks

    private func allowed(_ i: Int, _ type: AccessType, _ priv: UInt8) -> Bool {
        if priv == 3 && !isLocked(i) { return true }
        switch type {
        case .load: return cfg[i] & PMP.r != 0
        case .store: return cfg[i] & PMP.w != 0
        case .fetch: return cfg[i] & PMP.x != 0
        }
    }

    /// Whether an access of `size` bytes at physical `address` with effective privilege `priv` passes.
    func check(_ address: UInt64, size: UInt64, type: AccessType, priv: UInt8) -> Bool {
        if priv == 3 ? noneLocked : openForSU { return true }
        if !anyActive { return priv == 3 || count == 0 }
        let end = address &+ size
        for i in 0..<activeLimit {
            let l = lo[i], h = hi[i]
            guard l < h, address < h && end > l else { continue }
            // The matching entry must cover every byte of the access.
            guard address >= l && end <= h else { return false }
            return allowed(i, type, priv)
        }
        return priv == 3 || count == 0
    }

    /// Whether every access of this type within the 4 KiB page at `page` passes, so the page may
    /// take a hart's fast path without per-access checks.
    func pageAllowed(_ page: UInt64, type: AccessType, priv: UInt8) -> Bool {
        check(page, size: 4096, type: type, priv: priv)
    }
}
