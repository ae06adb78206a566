// FMIN/FMAX, FEQ/FLT/FLE and FCLASS (unpriv. spec, F extension, "Single-Precision Floating-Point
// Compare Instructions", "Single-Precision Floating-Point Classify Instruction"; D repeats them).
//
// - FMIN/FMAX follow IEEE 754-2019 minimumNumber/maximumNumber (§9.6): a NaN operand is ignored in
//   favour of the number, two NaNs give the canonical NaN, −0 orders below +0, and a signalling
//   NaN operand raises NV.
// - FEQ is a quiet comparison (NV only for signalling NaNs); FLT and FLE are signalling
//   comparisons (NV for any NaN, IEEE 754-2019 §5.11). All three write 0 when an operand is NaN.

extension IEEEFormat {
    /// a < b for non-NaN operands under the order that puts −0 below +0.
    @inline(__always)
    static func totalLess(_ a: UInt64, _ b: UInt64) -> Bool {
        let negA = a & signMask != 0, negB = b & signMask != 0
        if negA != negB { return negA }
        return negA ? a > b : a < b
    }

    static func minMax(_ a: UInt64, _ b: UInt64, max: Bool, _ flags: inout UInt8) -> UInt64 {
        let nanA = isNaN(a), nanB = isNaN(b)
        if nanA || nanB {
            if isSignalingNaN(a) || isSignalingNaN(b) { flags |= FFlags.nv }
            if nanA && nanB { return defaultNaN }
            return nanA ? b : a
        }
        return totalLess(a, b) != max ? a : b
    }

    static func equal(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        if isNaN(a) || isNaN(b) {
            if isSignalingNaN(a) || isSignalingNaN(b) { flags |= FFlags.nv }
            return false
        }
        return a == b || magnitude(a | b) == 0  // +0 == −0
    }

    static func less(_ a: UInt64, _ b: UInt64, orEqual: Bool, _ flags: inout UInt8) -> Bool {
        if isNaN(a) || isNaN(b) {
            flags |= FFlags.nv
            return false
        }
        if magnitude(a | b) == 0 { return orEqual }  // ±0 compare equal
        if a == b { return orEqual }
        return totalLess(a, b)
    }

    /// The FCLASS mask: exactly one of bits 0–9 set (−∞, −normal, −subnormal, −0, +0,
    /// +subnormal, +normal, +∞, signalling NaN, quiet NaN).
    static func classify(_ a: UInt64) -> UInt64 {
        let negative = a & signMask != 0
        let mag = magnitude(a)
        if mag > infinity { return a & quietBit != 0 ? 1 << 9 : 1 << 8 }
        if mag == infinity { return negative ? 1 << 0 : 1 << 7 }
        if mag == 0 { return negative ? 1 << 3 : 1 << 4 }
        if mag < fracMask + 1 { return negative ? 1 << 2 : 1 << 5 }
        return negative ? 1 << 1 : 1 << 6
    }
}
