// Conversions between the formats and to and from integers (unpriv. spec, F extension,
// "Single-Precision Floating-Point Conversion and Move Instructions", D extension "Double-Precision
// Floating-Point Conversion and Move Instructions").
//
// Float → integer rounds in the given mode; when the rounded value does not fit, or the input is
// ∞ or NaN, the result saturates and NV is raised instead of NX (spec table "Domains of
// float-to-integer conversions and behavior for invalid inputs"): NaN and +∞ give the largest
// value of the type, −∞ and too-negative values the smallest (0 for unsigned). A negative input
// that rounds to 0 is valid for the unsigned types (only NX). Integer → float and binary32 →
// binary64 are exact or rounded like any operation; NaNs become the canonical NaN.

extension IEEEFormat {
    /// The integer bit pattern (two's complement in 64 bits) of `a` converted to a `width`-bit
    /// integer; callers truncate to their type.
    static func toInteger(_ a: UInt64, signed: Bool, width: Int, _ rm: RoundingMode,
                          _ flags: inout UInt8) -> UInt64 {
        let negative = a & signMask != 0
        let mag = magnitude(a)
        let maxPositive: UInt64 = signed ? (1 << UInt64(width - 1)) - 1 : ~0 >> UInt64(64 - width)
        // The magnitude of the most negative value, and that value as a bit pattern.
        let minMagnitude: UInt64 = signed ? 1 << UInt64(width - 1) : 0
        let minValue: UInt64 = 0 &- minMagnitude
        if mag > infinity {
            flags |= FFlags.nv
            return maxPositive
        }
        if mag == 0 { return 0 }
        var magnitudeOut: UInt64
        var inexact = false
        if mag == infinity {
            flags |= FFlags.nv
            return negative ? minValue : maxPositive
        }
        let (e, sig) = unpack(a)
        if e >= 64 {
            flags |= FFlags.nv
            return negative ? minValue : maxPositive
        } else if e >= 62 {
            magnitudeOut = sig << UInt64(e - 62)  // an integer already (2^62 ≤ |a| < 2^64)
        } else {
            // Drop `s` ≥ 1 fraction bits, then round like `roundPack` does.
            let s = 62 - e
            let kept: UInt64, rest: UInt64, half: UInt64
            if s < 64 {
                kept = sig >> UInt64(s)
                rest = sig & ((1 << UInt64(s)) - 1)
                half = 1 << UInt64(s - 1)
            } else {
                kept = 0  // |a| < 1/2: sig < 2^63 ≤ the half point
                rest = 1
                half = 2
            }
            inexact = rest != 0
            let up: Bool
            switch rm {
            case .rne: up = rest > half || (rest == half && kept & 1 != 0)
            case .rmm: up = rest >= half
            case .rtz: up = false
            case .rdn: up = inexact && negative
            case .rup: up = inexact && !negative
            }
            magnitudeOut = kept + (up ? 1 : 0)
        }
        if negative {
            if magnitudeOut > minMagnitude {
                flags |= FFlags.nv
                return minValue
            }
            if inexact { flags |= FFlags.nx }
            return 0 &- magnitudeOut
        }
        if magnitudeOut > maxPositive {
            flags |= FFlags.nv
            return maxPositive
        }
        if inexact { flags |= FFlags.nx }
        return magnitudeOut
    }

    /// An integer of magnitude `m` and the given sign, rounded to this format.
    @inline(__always)
    static func fromInteger(magnitude m: UInt64, negative: Bool, _ rm: RoundingMode,
                            _ flags: inout UInt8) -> UInt64 {
        if m == 0 { return 0 }
        return roundPack(negative: negative, e: 62, sig: m, rm, &flags)
    }

    /// `a`, a value of format `Source`, rounded to this format.
    static func convert<Source: IEEEFormat>(_ a: UInt64, from _: Source.Type, _ rm: RoundingMode,
                                            _ flags: inout UInt8) -> UInt64 {
        let negative = a & Source.signMask != 0
        let sign = negative ? signMask : 0
        let mag = Source.magnitude(a)
        if mag > Source.infinity {
            if Source.isSignalingNaN(a) { flags |= FFlags.nv }
            return defaultNaN
        }
        if mag == Source.infinity { return sign | infinity }
        if mag == 0 { return sign }
        let (e, sig) = Source.unpack(a)
        return roundPack(negative: negative, e: e, sig: sig, rm, &flags)
    }
}
