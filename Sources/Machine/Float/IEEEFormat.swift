// The two IEEE 754-2019 binary interchange formats RISC-V F and D use (IEEE 754-2019 §3.6,
// "Interchange format parameters"), and the facts about their bit patterns every operation needs.
//
// One soft-float implementation serves both formats: every algorithm is written once as a static
// method of `IEEEFormat`, over bit patterns held in a `UInt64` (binary32 zero-extended), and the two
// conforming types supply the field widths as compile-time constants. The module is built with
// whole-module optimisation, so each call site is specialised for one format and the constants fold.
//
// Internal representation of a finite non-zero value between unpacking and rounding: a sign, an
// unbiased exponent `e` and a significand `sig` with its leading one at bit 62, meaning
// value = sig × 2^(e − 62). Bit 63 stays free for the carry of an addition; the bits below the
// format's precision are round bits, and the lowest one doubles as a "sticky" bit (jamming).

protocol IEEEFormat {
    /// Width of the biased-exponent field.
    static var expBits: Int { get }
    /// Width of the trailing-significand field (precision − 1).
    static var fracBits: Int { get }
}

/// binary32, the F extension's format.
enum Binary32Format: IEEEFormat {
    @inline(__always) static var expBits: Int { 8 }
    @inline(__always) static var fracBits: Int { 23 }
}

/// binary64, the D extension's format.
enum Binary64Format: IEEEFormat {
    @inline(__always) static var expBits: Int { 11 }
    @inline(__always) static var fracBits: Int { 52 }
}

extension IEEEFormat {
    @inline(__always) static var bias: Int { (1 << (expBits - 1)) - 1 }
    /// The all-ones biased exponent of infinities and NaNs.
    @inline(__always) static var expMax: Int { (1 << expBits) - 1 }
    @inline(__always) static var signMask: UInt64 { 1 << UInt64(expBits + fracBits) }
    @inline(__always) static var fracMask: UInt64 { (1 << UInt64(fracBits)) - 1 }
    /// The exponent field in place; as a magnitude it is +∞, the boundary between finite and NaN.
    @inline(__always) static var infinity: UInt64 { UInt64(expMax) << UInt64(fracBits) }
    /// Largest finite magnitude: exponent expMax − 1, trailing significand all ones.
    @inline(__always) static var maxFinite: UInt64 { infinity - 1 }
    /// The most significant trailing-significand bit, set in quiet NaNs (IEEE 754-2019 §6.2.1).
    @inline(__always) static var quietBit: UInt64 { 1 << UInt64(fracBits - 1) }
    /// The canonical NaN every RISC-V operation returns when its result is NaN
    /// (unpriv. spec, F extension, "NaN Generation and Propagation"): positive, quiet, payload 0 —
    /// 0x7fc00000 and 0x7ff8000000000000.
    @inline(__always) static var defaultNaN: UInt64 { infinity | quietBit }
    /// Shift that places the leading significand bit at bit 62 (see the file comment).
    @inline(__always) static var roundShift: Int { 62 - fracBits }

    @inline(__always) static func magnitude(_ x: UInt64) -> UInt64 { x & ~signMask }
    @inline(__always) static func isNaN(_ x: UInt64) -> Bool { magnitude(x) > infinity }
    @inline(__always) static func isSignalingNaN(_ x: UInt64) -> Bool {
        isNaN(x) && x & quietBit == 0
    }

    /// Splits a finite non-zero value into exponent and significand normalised to bit 62. Subnormal
    /// inputs are normalised too, so every algorithm sees one shape of operand.
    @inline(__always)
    static func unpack(_ x: UInt64) -> (e: Int, sig: UInt64) {
        let field = Int(truncatingIfNeeded: (x >> UInt64(fracBits))) & expMax
        let frac = x & fracMask
        if field != 0 {
            return (field &- bias, (frac | (fracMask + 1)) << UInt64(roundShift))
        }
        // Subnormal: value = frac × 2^(1 − bias − fracBits).
        let lz = frac.leadingZeroBitCount
        return (1 &- bias &+ roundShift &- (lz &- 1), frac << UInt64(lz &- 1))
    }
}

/// Shifts right by `n` ≥ 0, ORing every bit shifted out into bit 0 ("jamming"), so the result
/// still tells whether the true value was exact, which is all rounding needs from the low bits.
@inline(__always)
func shiftRightJam(_ x: UInt64, _ n: Int) -> UInt64 {
    if n == 0 { return x }
    if n >= 64 { return x != 0 ? 1 : 0 }
    return (x >> UInt64(n)) | (x << UInt64(64 - n) != 0 ? 1 : 0)
}
