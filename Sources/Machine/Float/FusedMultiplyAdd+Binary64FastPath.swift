// The common case of binary64 fused multiply-add — three normal operands and a normal result —
// in straight-line integer code: one 64×64 → 128-bit product, the addend placed in the same
// 128-bit frame, one 128-bit add or subtract, and rounding straight from the 128-bit sum. The
// general `fma` handles everything else (zeros, subnormals, infinities, NaNs, tiny or overflowing
// results); this path returns `nil` for those before it has touched `flags`.
//
// The frame: the product P = ma × mb (< 2^106) moved up 21 bits, so its lowest 21 bits are zero,
// and the addend's significand mc shifted by its exponent difference k to the same scale. While
// the addend fits (k ≤ 74) the sum is exact. Below the frame it is jammed into a sticky bit, and
// above it the product is jammed instead; in both cases the unshifted term has zero low bits and
// the sum's lead lies within two bits of the larger term's, so as in `add` the jammed sum stays on
// the same side of every rounding boundary as the exact one (the rounding point is 75 bits below
// the lead).

extension Binary64Format {
    @inline(__always)
    static func fmaNormal(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ rm: RoundingMode,
                          _ flags: inout UInt8) -> UInt64? {
        let fa = Int(truncatingIfNeeded: (a >> 52) & 0x7FF)
        let fb = Int(truncatingIfNeeded: (b >> 52) & 0x7FF)
        let fc = Int(truncatingIfNeeded: (c >> 52) & 0x7FF)
        guard UInt(bitPattern: fa &- 1) < 2046, UInt(bitPattern: fb &- 1) < 2046,
              UInt(bitPattern: fc &- 1) < 2046 else { return nil }
        let hidden: UInt64 = 1 << 52, mask: UInt64 = hidden - 1
        let ma = (a & mask) | hidden, mb = (b & mask) | hidden, mc = (c & mask) | hidden
        var p = Wide128(ma.multipliedFullWidth(by: mb))
        p = Wide128(high: (p.high << 21) | (p.low >> 43), low: p.low << 21)  // × 2^21, < 2^127
        // Lowest-bit weights: product frame 2^(fa + fb − 2171), addend 2^(fc − 1075).
        let k = fc &+ 1096 &- fa &- fb
        var q: Wide128
        var scale: Int  // weight of bit 0 of the frame is 2^scale
        if k > 74 {
            q = Wide128(high: mc << 10, low: 0)  // mc × 2^74
            p = p.shiftedRightJam(k &- 74)
            scale = fc &- 1149
        } else {
            if k >= 64 {
                q = Wide128(high: mc << UInt64(k &- 64), low: 0)
            } else if k >= 0 {
                q = Wide128(high: k == 0 ? 0 : mc >> UInt64(64 &- k), low: mc << UInt64(k))
            } else {
                q = Wide128(high: 0, low: shiftRightJam(mc, -k))
            }
            scale = fa &+ fb &- 2171
        }
        let productNegative = (a ^ b) >> 63 != 0, addendNegative = c >> 63 != 0
        var sum: Wide128
        var negative = productNegative
        if productNegative == addendNegative {
            sum = p &+ q
        } else if q < p {
            sum = p &- q
        } else {
            sum = q &- p
            negative = addendNegative
            if sum.isZero { return nil }  // exact cancellation: the general path signs the zero
        }
        // Normalise the lead to bit 127 (exactly: only zeros come in from the right).
        let lz = sum.leadingZeroBitCount
        let lead = 127 &- lz
        if lz >= 64 {
            sum = Wide128(high: sum.low << UInt64(lz &- 64), low: 0)
        } else if lz > 0 {
            sum = Wide128(high: (sum.high << UInt64(lz)) | (sum.low >> UInt64(64 &- lz)),
                          low: sum.low << UInt64(lz))
        }
        // The value lies in [2^(lead + scale), 2^(lead + scale + 1)): biased exponent field below.
        var field = lead &+ scale &+ 1023
        guard field >= 1 else { return nil }  // tiny: the general path handles underflow
        var sig = sum.high >> 11  // 53 bits, hidden bit included
        let roundBits = sum.high & 0x7FF, half: UInt64 = 0x400
        let inexact = roundBits != 0 || sum.low != 0
        let up: Bool
        switch rm {
        case .rne: up = roundBits > half || (roundBits == half && (sum.low != 0 || sig & 1 != 0))
        case .rmm: up = roundBits >= half
        case .rtz: up = false
        case .rdn: up = inexact && negative
        case .rup: up = inexact && !negative
        }
        if up {
            sig &+= 1
            if sig == hidden << 1 {  // carried into the next binade
                sig = hidden
                field &+= 1
            }
        }
        guard field <= 2046 else { return nil }  // overflow: the general path picks ∞ or maxFinite
        if inexact { flags |= FFlags.nx }
        return (negative ? 1 << 63 : 0) | (UInt64(truncatingIfNeeded: field) << 52) | (sig & mask)
    }
}
