// A fast path for the most frequent floating-point work — addition, subtraction, multiplication,
// division and square root in round-to-nearest-even with ordinary operands — that lets the host
// FPU compute the result and proves the flags in a few instructions. It is used only where it
// provably gives the soft-float's bits and flags, so results stay identical on every host:
//
// - IEEE 754-2019 §4.3 and §5.4.1 require +, −, ×, / and √ to be correctly rounded, and every host
//   Swift targets (x86-64 SSE2, AArch64) implements binary32/binary64 arithmetic to the standard.
//   vmlab never moves the host's rounding direction from round-to-nearest-even (the C and Swift
//   default); flush-to-zero or denormals-are-zero could not matter, as everything here is normal.
// - The guards exclude zeros, subnormals, infinities and NaNs as operands, and any result that
//   could overflow or be tiny; so NV, DZ, OF and UF cannot arise and the only flag is NX.
// - NX for a sum: with |x| ≥ |y| and round-to-nearest, z = (x + y) − x is exact and y − z is the
//   exact rounding error (Dekker's Fast2Sum theorem), so the sum is exact iff z == y.
// - NX for a product: the exact product is (odd part of x) × (odd part of y) × 2^k; it is
//   representable iff the product of the odd parts fits in the precision.
// - NX for a quotient q = x / y or a root q = √x: the result is exact iff q × y = x (q × q = x),
//   which is an integer identity between significands, checked with a full-width product.
// - binary32 fused multiply-add goes through binary64 (see `fma32`).
// Anything outside the guards returns `nil` and takes the integer soft-float path.
//
// Measured (callgrind, instructions per operation on normal operands in [1, 2), release build,
// before → after): add64 101 → 29, mul64 111 → 40, div64 149 → 61, sqrt64 181 → 41,
// add32 123 → 43, mul32 119 → 36, fma32 204 → 62. fma64 stays integer (a host fused
// multiply-add is a library call on baseline x86-64, and its exactness is not cheap to prove);
// its normal-operand path in `FusedMultiplyAdd+Binary64FastPath.swift` takes it from 195 to 133.

enum HostFastPath {
    /// Both binary64 exponent fields in [54, 2045]: every non-zero sum or difference is a multiple
    /// of 2^(54 − 1023 − 52) = 2^−1021 (normal), and |x| + |y| ≤ maxFinite, so nothing overflows.
    @inline(__always)
    static func add64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64? {
        let ea = (a >> 52) & 0x7FF, eb = (b >> 52) & 0x7FF
        guard ea &- 54 < 2045 - 54 + 1, eb &- 54 < 2045 - 54 + 1 else { return nil }
        let x = Double(bitPattern: a), y = Double(bitPattern: b)
        let s = x + y
        let aIsBigger = a & ~(1 << 63) >= b & ~(1 << 63)
        let big = aIsBigger ? x : y, small = aIsBigger ? y : x
        if s - big != small { flags |= FFlags.nx }
        return s.bitPattern
    }

    /// Both binary64 operands normal and the product's exponent field before normalisation in
    /// [1, 2044]: the product is at least 2^−1022 (normal) and below 2^1023 (far from overflow).
    @inline(__always)
    static func mul64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64? {
        let ea = (a >> 52) & 0x7FF, eb = (b >> 52) & 0x7FF
        guard ea &- 1 < 2046, eb &- 1 < 2046, (ea &+ eb) &- 1024 < 2044 else { return nil }
        let p = Double(bitPattern: a) * Double(bitPattern: b)
        let ma = (a & 0xF_FFFF_FFFF_FFFF) | (1 << 52), mb = (b & 0xF_FFFF_FFFF_FFFF) | (1 << 52)
        let odd = (ma >> UInt64(ma.trailingZeroBitCount))
            .multipliedReportingOverflow(by: mb >> UInt64(mb.trailingZeroBitCount))
        if odd.overflow || odd.partialValue >= 1 << 53 { flags |= FFlags.nx }
        return p.bitPattern
    }

    /// binary32 version of `add64`: exponent fields in [25, 253] (multiples of 2^−125, sums up to
    /// maxFinite).
    @inline(__always)
    static func add32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32? {
        let ea = (a >> 23) & 0xFF, eb = (b >> 23) & 0xFF
        guard ea &- 25 < 253 - 25 + 1, eb &- 25 < 253 - 25 + 1 else { return nil }
        let x = Float(bitPattern: a), y = Float(bitPattern: b)
        let s = x + y
        let aIsBigger = a & ~(1 << 31) >= b & ~(1 << 31)
        let big = aIsBigger ? x : y, small = aIsBigger ? y : x
        if s - big != small { flags |= FFlags.nx }
        return s.bitPattern
    }

    /// binary32 version of `mul64`: product exponent field in [1, 252], so below 2^127.
    @inline(__always)
    static func mul32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32? {
        let ea = (a >> 23) & 0xFF, eb = (b >> 23) & 0xFF
        guard ea &- 1 < 254, eb &- 1 < 254, (ea &+ eb) &- 128 < 252 else { return nil }
        let p = Float(bitPattern: a) * Float(bitPattern: b)
        let ma = UInt64((a & 0x7F_FFFF) | (1 << 23)), mb = UInt64((b & 0x7F_FFFF) | (1 << 23))
        let odd = (ma >> UInt64(ma.trailingZeroBitCount)) &* (mb >> UInt64(mb.trailingZeroBitCount))
        if odd >= 1 << 24 { flags |= FFlags.nx }
        return p.bitPattern
    }

    /// Both binary64 operands normal and the quotient's exponent field ea − eb + 1023 in
    /// [2, 2045]: the quotient (significand ratio in (½, 2)) is at least 2^−1022 and below 2^1023.
    @inline(__always)
    static func div64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64? {
        let ea = (a >> 52) & 0x7FF, eb = (b >> 52) & 0x7FF
        guard ea &- 1 < 2046, eb &- 1 < 2046, (ea &+ 1021) &- eb < 2044 else { return nil }
        let q = (Double(bitPattern: a) / Double(bitPattern: b)).bitPattern
        let eq = (q >> 52) & 0x7FF
        // q × b = a  ⇔  mq × mb = ma × 2^t with t = ea − eq − eb + 1075 (52 or 53 if exact).
        let t = (ea &+ 1075) &- eq &- eb
        let mq = (q & 0xF_FFFF_FFFF_FFFF) | (1 << 52), mb = (b & 0xF_FFFF_FFFF_FFFF) | (1 << 52)
        let ma = (a & 0xF_FFFF_FFFF_FFFF) | (1 << 52)
        let p = mq.multipliedFullWidth(by: mb)
        if t &- 52 > 1 || p.high != ma >> (64 - t) || p.low != ma << t { flags |= FFlags.nx }
        return q
    }

    /// A positive normal binary64 operand: its root is normal, finite and non-zero.
    @inline(__always)
    static func sqrt64(_ a: UInt64, _ flags: inout UInt8) -> UInt64? {
        let ea = a >> 52  // the sign bit included: negative operands fail the guard
        guard ea &- 1 < 2046 else { return nil }
        let q = Double(bitPattern: a).squareRoot().bitPattern
        let eq = q >> 52
        // q × q = a  ⇔  mq² = ma × 2^t with t = ea − 2·eq + 1075 (52 or 53 if exact).
        let t = (ea &+ 1075) &- 2 &* eq
        let mq = (q & 0xF_FFFF_FFFF_FFFF) | (1 << 52), ma = (a & 0xF_FFFF_FFFF_FFFF) | (1 << 52)
        let p = mq.multipliedFullWidth(by: mq)
        if t &- 52 > 1 || p.high != ma >> (64 - t) || p.low != ma << t { flags |= FFlags.nx }
        return q
    }

    /// binary32 version of `div64`: quotient exponent field ea − eb + 127 in [2, 253].
    @inline(__always)
    static func div32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32? {
        let ea = (a >> 23) & 0xFF, eb = (b >> 23) & 0xFF
        guard ea &- 1 < 254, eb &- 1 < 254, (ea &+ 125) &- eb < 252 else { return nil }
        let q = (Float(bitPattern: a) / Float(bitPattern: b)).bitPattern
        let eq = (q >> 23) & 0xFF
        // q × b = a  ⇔  mq × mb = ma × 2^t with t = ea − eq − eb + 150 (23 or 24 if exact).
        let t = (ea &+ 150) &- eq &- eb
        let mq = UInt64((q & 0x7F_FFFF) | (1 << 23)), mb = UInt64((b & 0x7F_FFFF) | (1 << 23))
        let ma = UInt64((a & 0x7F_FFFF) | (1 << 23))
        if t &- 23 > 1 || mq &* mb != ma << UInt64(t) { flags |= FFlags.nx }
        return q
    }

    /// binary32 version of `sqrt64`.
    @inline(__always)
    static func sqrt32(_ a: UInt32, _ flags: inout UInt8) -> UInt32? {
        let ea = a >> 23
        guard ea &- 1 < 254 else { return nil }
        let q = Float(bitPattern: a).squareRoot().bitPattern
        let eq = q >> 23
        // q × q = a  ⇔  mq² = ma × 2^t with t = ea − 2·eq + 150 (23 or 24 if exact).
        let t = (ea &+ 150) &- 2 &* eq
        let mq = UInt64((q & 0x7F_FFFF) | (1 << 23)), ma = UInt64((a & 0x7F_FFFF) | (1 << 23))
        if t &- 23 > 1 || mq &* mq != ma << UInt64(t) { flags |= FFlags.nx }
        return q
    }

    /// binary32 a × b + c with one rounding, computed in binary64: the product of two 24-bit
    /// significands is exact in 53 bits; s = a × b + c rounded to binary64 has the exact error
    /// e from TwoSum (Knuth), and rounding s again to binary32 is the correct rounding of the
    /// exact sum unless the first rounding landed exactly on a binary32 midpoint (double rounding
    /// can only go wrong there: midpoints and binary32 numbers are binary64 numbers, so the first
    /// rounding cannot cross one). That case, and sums outside [2^−125, 2^127), fall back.
    @inline(__always)
    static func fma32(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ flags: inout UInt8) -> UInt32? {
        let ea = (a >> 23) & 0xFF, eb = (b >> 23) & 0xFF, ec = (c >> 23) & 0xFF
        guard ea &- 1 < 254, eb &- 1 < 254, ec &- 1 < 254 else { return nil }
        let p = Double(Float(bitPattern: a)) * Double(Float(bitPattern: b))
        let z = Double(Float(bitPattern: c))
        let s = p + z
        let pp = s - z, zz = s - pp
        let error = (p - pp) + (z - zz)
        let bits = s.bitPattern
        // binary32 exponent field = binary64 field − 896; keep it in [2, 253].
        guard ((bits >> 52) & 0x7FF) &- 898 < 253 - 2 + 1 else { return nil }
        // The 29 binary64 fraction bits below binary32 precision; 1 << 28 marks a midpoint.
        let below = bits & ((1 << 29) - 1)
        if error != 0 && below == 1 << 28 { return nil }
        if error != 0 || below != 0 { flags |= FFlags.nx }
        return Float(s).bitPattern
    }
}
