// Rounding an exact intermediate result to a format, with the exceptions IEEE 754-2019 §4.3 and §7
// define, as RISC-V specialises them:
// - overflow (§7.4) when the result rounded with an unbounded exponent exceeds the largest finite
//   number; the result is ±∞ or ±maxFinite depending on the rounding direction;
// - underflow (§7.5) when the result is tiny AND inexact, where RISC-V detects tininess AFTER
//   rounding (unpriv. spec, F extension, "Subnormal Arithmetic"): tiny means the value rounded
//   to full precision with an unbounded exponent is still below the smallest normal magnitude;
// - inexact whenever the delivered result differs from the exact one (including on overflow).

extension RoundingMode {
    /// Whether a result that overflows becomes ±∞ (`true`) or ±maxFinite (IEEE 754-2019 §7.4).
    @inline(__always)
    func overflowsToInfinity(negative: Bool) -> Bool {
        switch self {
        case .rne, .rmm: return true
        case .rtz: return false
        case .rdn: return negative
        case .rup: return !negative
        }
    }

    /// The amount added below the rounding point so that truncation afterwards rounds in this
    /// direction; `shift` is the number of round bits. Ties-to-even is finished by the caller.
    @inline(__always)
    func increment(negative: Bool, shift: Int) -> UInt64 {
        switch self {
        case .rne, .rmm: return 1 << UInt64(shift - 1)
        case .rtz: return 0
        case .rdn: return negative ? (1 << UInt64(shift)) - 1 : 0
        case .rup: return negative ? 0 : (1 << UInt64(shift)) - 1
        }
    }
}

extension IEEEFormat {
    /// Rounds sign × sig × 2^(e − 62) to this format. `sig` must be non-zero and may have its
    /// leading one anywhere (bit 63 included); its bit 0 may be a sticky bit standing for any
    /// non-zero tail below it.
    @inline(__always)
    static func roundPack(negative: Bool, e: Int, sig: UInt64, _ rm: RoundingMode,
                          _ flags: inout UInt8) -> UInt64 {
        var e = e, sig = sig
        let lz = sig.leadingZeroBitCount
        if lz == 0 {
            sig = (sig >> 1) | (sig & 1)
            e &+= 1
        } else {
            sig <<= UInt64(lz &- 1)
            e &-= lz &- 1
        }
        let shift = roundShift
        let roundMask: UInt64 = (1 << UInt64(shift)) - 1
        let half: UInt64 = 1 << UInt64(shift - 1)
        // RNE first: it is the mode nearly every guest runs in, and a compare beats the table jump.
        let inc = rm == .rne ? half : rm.increment(negative: negative, shift: shift)
        let signBit = negative ? signMask : 0
        var biased = e &+ bias
        if biased <= 0 {
            // Below the normal range. Tiny after rounding unless the value lies in the binade just
            // below 2^emin and rounding at full precision carries it up to 2^emin.
            let tiny = biased < 0 || sig &+ inc < (1 << 63)
            sig = shiftRightJam(sig, 1 &- biased)
            biased = 1
            if tiny && sig & roundMask != 0 { flags |= FFlags.uf }
        }
        let roundBits = sig & roundMask
        var r = (sig &+ inc) >> UInt64(shift)
        if rm == .rne && roundBits == half { r &= ~1 }
        if roundBits != 0 { flags |= FFlags.nx }
        // `r` still carries the hidden bit (or two units of it after a carry), so adding it to the
        // exponent field biased − 1 yields the right exponent, and a subnormal that rounds up into
        // the normal range gets exponent field 1 for free.
        if biased &- 1 &+ Int(truncatingIfNeeded: r >> UInt64(fracBits)) >= expMax {
            flags |= FFlags.of | FFlags.nx
            return signBit | (rm.overflowsToInfinity(negative: negative) ? infinity : maxFinite)
        }
        return signBit | ((UInt64(truncatingIfNeeded: biased &- 1) << UInt64(fracBits)) &+ r)
    }
}
