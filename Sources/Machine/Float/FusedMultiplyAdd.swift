// Fused multiply-add a × b + c with a single rounding (IEEE 754-2019 §5.4.1 fusedMultiplyAdd),
// as the RISC-V FMADD family uses it; the hart forms FMSUB/FNMSUB/FNMADD by flipping operand signs.
//
// RISC-V departs from IEEE's "may" in one case: 0 × ∞ + qNaN raises NV (unpriv. spec, F extension,
// "Single-Precision Floating-Point Computational Instructions": the fused multiply-add
// instructions set NV when the multiplicands are ∞ and zero even if the addend is a quiet NaN).

/// A 128-bit unsigned value as two words; only the operations fused multiply-add needs.
struct Wide128 {
    var high: UInt64
    var low: UInt64

    @inline(__always) init(high: UInt64, low: UInt64) { self.high = high; self.low = low }
    @inline(__always) init(_ p: (high: UInt64, low: UInt64)) { self.high = p.high; self.low = p.low }

    @inline(__always) var isZero: Bool { high | low == 0 }
    @inline(__always) var leadingZeroBitCount: Int {
        high != 0 ? high.leadingZeroBitCount : 64 + low.leadingZeroBitCount
    }
    @inline(__always) static func < (a: Wide128, b: Wide128) -> Bool {
        a.high < b.high || (a.high == b.high && a.low < b.low)
    }
    @inline(__always) static func &+ (a: Wide128, b: Wide128) -> Wide128 {
        let (low, carry) = a.low.addingReportingOverflow(b.low)
        return Wide128(high: a.high &+ b.high &+ (carry ? 1 : 0), low: low)
    }
    @inline(__always) static func &- (a: Wide128, b: Wide128) -> Wide128 {
        let (low, borrow) = a.low.subtractingReportingOverflow(b.low)
        return Wide128(high: a.high &- b.high &- (borrow ? 1 : 0), low: low)
    }

    /// Shift right by `n` ≥ 0, jamming the lost bits into bit 0 (see `shiftRightJam`).
    @inline(__always)
    func shiftedRightJam(_ n: Int) -> Wide128 {
        if n == 0 { return self }
        if n >= 128 { return Wide128(high: 0, low: isZero ? 0 : 1) }
        if n >= 64 {
            let lost = low != 0 || (n > 64 && high << UInt64(128 - n) != 0)
            return Wide128(high: 0, low: (high >> UInt64(n - 64)) | (lost ? 1 : 0))
        }
        let lost = low << UInt64(64 - n) != 0
        return Wide128(high: high >> UInt64(n),
                       low: (low >> UInt64(n)) | (high << UInt64(64 - n)) | (lost ? 1 : 0))
    }

    /// The value as a 64-bit significand with its leading one at bit 62 and the discarded bits
    /// jammed, and the power of two that was divided out (negative when it was shifted left).
    @inline(__always)
    func normalizedTo62() -> (sig: UInt64, shift: Int) {
        let shift = (128 - leadingZeroBitCount) - 63
        if shift <= 0 {
            return (low << UInt64(-shift), shift)  // fits in the low word already
        }
        return (shiftedRightJam(shift).low, shift)
    }
}

extension IEEEFormat {
    static func fma(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ rm: RoundingMode,
                    _ flags: inout UInt8) -> UInt64 {
        let magA = magnitude(a), magB = magnitude(b), magC = magnitude(c)
        let signP = (a ^ b) & signMask
        if magA >= infinity || magB >= infinity || magC >= infinity {
            let zeroTimesInf = (magA == infinity && magB == 0) || (magA == 0 && magB == infinity)
            if magA > infinity || magB > infinity || magC > infinity {
                if isSignalingNaN(a) || isSignalingNaN(b) || isSignalingNaN(c) || zeroTimesInf {
                    flags |= FFlags.nv
                }
                return defaultNaN
            }
            if zeroTimesInf {
                flags |= FFlags.nv
                return defaultNaN
            }
            if magA == infinity || magB == infinity {
                if magC == infinity && c & signMask != signP {
                    flags |= FFlags.nv  // ∞ − ∞
                    return defaultNaN
                }
                return signP | infinity
            }
            return c  // finite product + ∞
        }
        if magA == 0 || magB == 0 {
            // Exact zero product: the sum is c exactly, or a zero signed as for addition (§6.3).
            if magC != 0 { return c }
            if c & signMask == signP { return c }
            return rm == .rdn ? signMask : 0
        }
        let (ea, sa) = unpack(a)
        let (eb, sb) = unpack(b)
        let product = sa.multipliedFullWidth(by: sb)  // × 2^(ea + eb − 124), lead at bit 124/125
        if magC == 0 {
            // x × y + 0 = x × y: rounding the product alone also gets the sign of a zero right,
            // since the product is non-zero.
            return roundPack(negative: signP != 0, e: ea + eb, sig: collapseProduct(product),
                             rm, &flags)
        }
        let (ec, sc) = unpack(c)
        // Both terms on the scale 2^(e − 124): the addend's significand moves up by 62 bits.
        let p = Wide128(product)
        let q = Wide128(high: sc >> 2, low: sc << 62)
        let ep = ea &+ eb
        // Align to the larger exponent. As in `add`, jamming is exact enough for a subtraction
        // because the unshifted term has zero low bits (at least 20 in either case).
        let big: Wide128, small: Wide128, e: Int, bigSign: UInt64, smallSign: UInt64
        if ep >= ec {
            (big, small, e, bigSign, smallSign) = (p, q.shiftedRightJam(ep &- ec), ep, signP, c & signMask)
        } else {
            (big, small, e, bigSign, smallSign) = (q, p.shiftedRightJam(ec &- ep), ec, c & signMask, signP)
        }
        let sum: Wide128
        let sign: UInt64
        if bigSign == smallSign {
            sum = big &+ small  // the lead reaches at most bit 126
            sign = bigSign
        } else if small < big {
            sum = big &- small
            sign = bigSign
        } else {
            sum = small &- big
            sign = smallSign
            if sum.isZero { return rm == .rdn ? signMask : 0 }  // exact cancellation (§6.3)
        }
        let (sig, shift) = sum.normalizedTo62()
        // sum × 2^(e − 124) = sig × 2^(e − 124 + shift) = sig × 2^((e − 62 + shift) − 62).
        return roundPack(negative: sign != 0, e: e &- 62 &+ shift, sig: sig, rm, &flags)
    }
}
