// Correctly rounded addition, subtraction, multiplication, division and square root
// (IEEE 754-2019 §5.4.1) with RISC-V's NaN rule: any NaN result is the canonical NaN, and only a
// signalling NaN operand or an invalid operation raises NV (unpriv. spec, F extension, "NaN
// Generation and Propagation"). Operands and results are bit patterns of the format `Self`.

extension IEEEFormat {
    /// The NaN result of an operation with at least one NaN operand.
    @inline(__always)
    static func propagateNaN(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        if isSignalingNaN(a) || isSignalingNaN(b) { flags |= FFlags.nv }
        return defaultNaN
    }

    /// a + b, or a − b when `subtract` (the sign of b flipped first, IEEE 754-2019 §5.4.1).
    @inline(__always)
    static func add(_ a: UInt64, _ b: UInt64, subtract: Bool, _ rm: RoundingMode,
                    _ flags: inout UInt8) -> UInt64 {
        let b = subtract ? b ^ signMask : b
        let magA = magnitude(a), magB = magnitude(b)
        if magA >= infinity || magB >= infinity {
            if magA > infinity || magB > infinity { return propagateNaN(a, b, &flags) }
            if magA == magB && (a ^ b) & signMask != 0 {
                flags |= FFlags.nv  // ∞ − ∞ (§7.2 b)
                return defaultNaN
            }
            return magA == infinity ? a : b
        }
        if magA == 0 || magB == 0 {
            if magA != 0 { return a }
            if magB != 0 { return b }
            // Sum of two zeros (§6.3): the common sign, else +0 except −0 when rounding down.
            if (a ^ b) & signMask == 0 { return a }
            return rm == .rdn ? signMask : 0
        }
        // Order by magnitude (bit patterns of one sign order like their values) so the
        // subtraction below never goes negative.
        let (x, y) = magA >= magB ? (a, b) : (b, a)
        let negative = x & signMask != 0
        let (ex, sx) = unpack(x)
        let (ey, sy0) = unpack(y)
        // Jamming the shifted-out bits is exact enough even for a subtraction: sx has zero low
        // bits, so the difference is odd exactly when bits were lost, and it stays on the same
        // side of every rounding boundary as the true difference.
        let sy = shiftRightJam(sy0, ex &- ey)
        if (x ^ y) & signMask == 0 {
            return roundPack(negative: negative, e: ex, sig: sx &+ sy, rm, &flags)
        }
        let diff = sx &- sy
        if diff == 0 { return rm == .rdn ? signMask : 0 }  // exact cancellation (§6.3)
        return roundPack(negative: negative, e: ex, sig: diff, rm, &flags)
    }

    /// Collapses a 128-bit product with its leading one at bit 124 or 125 to the 64-bit
    /// significand shape (leading one at 62 or 63), jamming the discarded bits.
    @inline(__always)
    static func collapseProduct(_ p: (high: UInt64, low: UInt64)) -> UInt64 {
        (p.high << 2) | (p.low >> 62) | (p.low & ((1 << 62) - 1) != 0 ? 1 : 0)
    }

    static func mul(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        let magA = magnitude(a), magB = magnitude(b)
        let sign = (a ^ b) & signMask
        if magA >= infinity || magB >= infinity {
            if magA > infinity || magB > infinity { return propagateNaN(a, b, &flags) }
            if magA == 0 || magB == 0 {
                flags |= FFlags.nv  // 0 × ∞ (§7.2 b)
                return defaultNaN
            }
            return sign | infinity
        }
        if magA == 0 || magB == 0 { return sign }
        let (ea, sa) = unpack(a)
        let (eb, sb) = unpack(b)
        // sa × sb × 2^(ea + eb − 124); dropping 62 bits leaves sig × 2^(ea + eb − 62).
        let sig = collapseProduct(sa.multipliedFullWidth(by: sb))
        return roundPack(negative: sign != 0, e: ea &+ eb, sig: sig, rm, &flags)
    }

    static func div(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        let magA = magnitude(a), magB = magnitude(b)
        let sign = (a ^ b) & signMask
        if magA >= infinity || magB >= infinity {
            if magA > infinity || magB > infinity { return propagateNaN(a, b, &flags) }
            if magA == infinity {
                if magB == infinity {
                    flags |= FFlags.nv  // ∞ / ∞ (§7.2 b)
                    return defaultNaN
                }
                return sign | infinity
            }
            return sign  // finite / ∞
        }
        if magB == 0 {
            if magA == 0 {
                flags |= FFlags.nv  // 0 / 0 (§7.2 b)
                return defaultNaN
            }
            flags |= FFlags.dz  // finite non-zero / 0 (§7.3)
            return sign | infinity
        }
        if magA == 0 { return sign }
        let (ea, sa) = unpack(a)
        let (eb, sb) = unpack(b)
        // q = ⌊sa × 2^63 / sb⌋ lies in (2^62, 2^64); the dividend's high word sa >> 1 < 2^62 ≤ sb,
        // so the hardware-width division cannot overflow. A non-zero remainder is the sticky bit.
        let (q, r) = sb.dividingFullWidth((high: sa >> 1, low: sa << 63))
        return roundPack(negative: sign != 0, e: ea &- eb &- 1, sig: q | (r != 0 ? 1 : 0), rm, &flags)
    }

    static func sqrt(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        let mag = magnitude(a)
        if mag > infinity { return propagateNaN(a, a, &flags) }
        if mag == 0 { return a }  // √±0 = ±0 (§5.4.1)
        if a & signMask != 0 {
            flags |= FFlags.nv  // √ of a negative number, −∞ included (§7.2 g)
            return defaultNaN
        }
        if mag == infinity { return a }
        let (e, sig) = unpack(a)
        // Make the exponent even: radicand N = sig × 2^(62 + (e & 1)) < 2^126, value =
        // N × 2^(2·⌊e/2⌋ − 124), so √value = √N × 2^(⌊e/2⌋ − 62) with √N in [2^62, 2^63).
        let k = 62 + (e & 1)
        let (root, exact) = isqrt128(high: sig >> UInt64(64 - k), low: sig << UInt64(k))
        return roundPack(negative: false, e: e >> 1, sig: root | (exact ? 0 : 1), rm, &flags)
    }
}

/// ⌊√N⌋ for 2^124 ≤ N < 2^126, and whether the root is exact. The host FPU only supplies a
/// starting estimate (good to about 2^10 units); one integer Newton step brings it within a unit
/// and exact 128-bit comparisons settle the last unit, so the result does not depend on the host.
@inline(never)
func isqrt128(high: UInt64, low: UInt64) -> (root: UInt64, exact: Bool) {
    let estimate = (Double(high) * 18446744073709551616.0 + Double(low)).squareRoot()
    var r = UInt64(estimate)
    // high < √N / 2 < r, so the division fits; (r + q) stays below 2^64 because both are near √N.
    let (q, _) = r.dividingFullWidth((high: high, low: low))
    r = (r >> 1) &+ (q >> 1) &+ (r & q & 1)
    @inline(__always) func square(_ x: UInt64) -> (high: UInt64, low: UInt64) {
        let p = x.multipliedFullWidth(by: x)
        return (p.high, p.low)
    }
    @inline(__always) func greater(_ a: (high: UInt64, low: UInt64)) -> Bool {
        a.high > high || (a.high == high && a.low > low)
    }
    while greater(square(r)) { r -= 1 }
    while !greater(square(r + 1)) { r += 1 }
    let s = square(r)
    return (r, s.high == high && s.low == low)
}
