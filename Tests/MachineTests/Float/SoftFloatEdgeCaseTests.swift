// Hand-picked cases with their expected bits and flags, worked out from IEEE 754-2019 and the
// RISC-V F/D chapters: signed zeros, subnormals, overflow per rounding mode, tininess after
// rounding, ties under RNE versus RMM (RMM has no host oracle, so it is pinned here), NaN
// propagation to the canonical NaN, invalid operations and division by zero.

import Testing
@testable import Machine

private let NX = FFlags.nx, UF = FFlags.uf, OF = FFlags.of, DZ = FFlags.dz, NV = FFlags.nv
private let rne = RoundingMode.rne, rtz = RoundingMode.rtz, rdn = RoundingMode.rdn
private let rup = RoundingMode.rup, rmm = RoundingMode.rmm

private enum Op: String { case add, sub, mul, div, sqrt, fma, min, max }

private struct Case: CustomTestStringConvertible {
    let op: Op
    let rm: RoundingMode
    let a: UInt64, b: UInt64, c: UInt64
    let want: UInt64
    let flags: UInt8
    init(_ op: Op, _ rm: RoundingMode, _ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0,
         _ want: UInt64, _ flags: UInt8 = 0) {
        (self.op, self.rm, self.a, self.b, self.c, self.want, self.flags) = (op, rm, a, b, c, want, flags)
    }
    var testDescription: String {
        "\(op) \(rm) 0x\(String(a, radix: 16)) 0x\(String(b, radix: 16)) 0x\(String(c, radix: 16))"
    }
}

// binary32 constants
private let one: UInt64 = 0x3F80_0000, minusOne: UInt64 = 0xBF80_0000, two: UInt64 = 0x4000_0000
private let inf: UInt64 = 0x7F80_0000, negInf: UInt64 = 0xFF80_0000
private let qNaN: UInt64 = 0x7FC0_0000, sNaN: UInt64 = 0x7F80_0001, payloadNaN: UInt64 = 0xFFC1_2345
private let maxF: UInt64 = 0x7F7F_FFFF, negMaxF: UInt64 = 0xFF7F_FFFF
private let minNormal: UInt64 = 0x0080_0000, minSub: UInt64 = 0x0000_0001
private let negZero: UInt64 = 0x8000_0000, half: UInt64 = 0x3F00_0000

private let cases32: [Case] = [
    // Sums of zeros and exact cancellation: +0 except −0 when rounding down (§6.3).
    Case(.add, rne, 0, negZero, 0, 0), Case(.add, rdn, 0, negZero, 0, negZero),
    Case(.add, rne, negZero, negZero, 0, negZero), Case(.sub, rne, 0, 0, 0, 0),
    Case(.sub, rdn, 0, 0, 0, negZero), Case(.add, rne, one, minusOne, 0, 0),
    Case(.add, rdn, one, minusOne, 0, negZero), Case(.add, rup, one, minusOne, 0, 0),
    Case(.add, rne, 0x4049_0FDB, 0, 0, 0x4049_0FDB),  // x + 0 = x exactly
    // Infinities and NaNs: every NaN result is canonical; NV only for sNaN or ∞ − ∞.
    Case(.add, rne, inf, negInf, 0, qNaN, NV), Case(.sub, rne, inf, inf, 0, qNaN, NV),
    Case(.add, rne, inf, inf, 0, inf), Case(.add, rne, negInf, maxF, 0, negInf),
    Case(.add, rne, sNaN, one, 0, qNaN, NV), Case(.add, rne, one, sNaN, 0, qNaN, NV),
    Case(.add, rne, payloadNaN, one, 0, qNaN), Case(.sub, rne, payloadNaN, payloadNaN, 0, qNaN),
    Case(.add, rne, qNaN, sNaN, 0, qNaN, NV), Case(.add, rne, inf, qNaN, 0, qNaN),
    // Overflow: ∞ or the largest finite number depending on the direction (§7.4).
    Case(.add, rne, maxF, maxF, 0, inf, OF | NX), Case(.add, rmm, maxF, maxF, 0, inf, OF | NX),
    Case(.add, rtz, maxF, maxF, 0, maxF, OF | NX), Case(.add, rdn, maxF, maxF, 0, maxF, OF | NX),
    Case(.add, rup, maxF, maxF, 0, inf, OF | NX), Case(.add, rdn, negMaxF, negMaxF, 0, negInf, OF | NX),
    Case(.add, rup, negMaxF, negMaxF, 0, negMaxF, OF | NX), Case(.add, rtz, negMaxF, negMaxF, 0, negMaxF, OF | NX),
    Case(.mul, rne, maxF, two, 0, inf, OF | NX),
    // maxF + half an ulp is a tie: RNE picks the even neighbour 2^128 → overflow; RTZ stays.
    Case(.add, rne, maxF, 0x7300_0000, 0, inf, OF | NX), Case(.add, rtz, maxF, 0x7300_0000, 0, maxF, NX),
    Case(.add, rne, maxF, 0x72FF_FFFF, 0, maxF, NX),
    // Ties: 1 + 2^-24 lies halfway between 1 and 1 + 2^-23.
    Case(.add, rne, one, 0x3380_0000, 0, one, NX), Case(.add, rmm, one, 0x3380_0000, 0, 0x3F80_0001, NX),
    Case(.add, rtz, one, 0x3380_0000, 0, one, NX), Case(.add, rdn, one, 0x3380_0000, 0, one, NX),
    Case(.add, rup, one, 0x3380_0000, 0, 0x3F80_0001, NX),
    Case(.add, rmm, minusOne, 0xB380_0000, 0, 0xBF80_0001, NX), Case(.add, rdn, minusOne, 0xB380_0000, 0, 0xBF80_0001, NX),
    Case(.add, rup, minusOne, 0xB380_0000, 0, minusOne, NX),
    // (1 + 2^-23) + 2^-24: the tie's lower neighbour is odd, so RNE and RMM both round up.
    Case(.add, rne, 0x3F80_0001, 0x3380_0000, 0, 0x3F80_0002, NX),
    Case(.add, rmm, 0x3F80_0001, 0x3380_0000, 0, 0x3F80_0002, NX),
    Case(.add, rne, one, 0x3380_0001, 0, 0x3F80_0001, NX),  // just above the tie
    // Subnormals in and out: exact results raise nothing, even when tiny.
    Case(.add, rne, minSub, minSub, 0, 0x0000_0002), Case(.sub, rne, minNormal, 0x007F_FFFF, 0, minSub),
    Case(.add, rne, 0x007F_FFFF, minSub, 0, minNormal), Case(.mul, rne, minNormal, half, 0, 0x0040_0000),
    Case(.sub, rne, minSub, minSub, 0, 0),
    // 2^-150 is halfway between 0 and the smallest subnormal.
    Case(.mul, rne, minSub, half, 0, 0, UF | NX), Case(.mul, rmm, minSub, half, 0, minSub, UF | NX),
    Case(.mul, rtz, minSub, half, 0, 0, UF | NX), Case(.mul, rup, minSub, half, 0, minSub, UF | NX),
    Case(.mul, rdn, minSub, half, 0, 0, UF | NX), Case(.mul, rdn, minSub, 0xBF00_0000, 0, 0x8000_0001, UF | NX),
    Case(.mul, rne, minSub, 0xBF00_0000, 0, negZero, UF | NX),
    Case(.mul, rne, minSub, 0x3F40_0000, 0, minSub, UF | NX),  // 0.75 × 2^-149
    // Tininess after rounding: 2^-126 − 2^-150 rounds (unbounded exponent) to itself, so it is tiny
    // even though the delivered RNE result is 2^-126.
    Case(.mul, rne, 0x3F7F_FFFF, minNormal, 0, minNormal, UF | NX),
    // A product in (2^-126 − 2^-151, 2^-126) rounds to 2^-126 at full precision: not tiny under
    // RNE, RMM and RUP (NX only); tiny under RTZ.
    Case(.mul, rne, 0x3F2D_C6C5, 0x00BC_9069, 0, minNormal, NX),
    Case(.mul, rmm, 0x3F2D_C6C5, 0x00BC_9069, 0, minNormal, NX),
    Case(.mul, rup, 0x3F2D_C6C5, 0x00BC_9069, 0, minNormal, NX),
    Case(.mul, rtz, 0x3F2D_C6C5, 0x00BC_9069, 0, 0x007F_FFFF, UF | NX),
    // Multiplication and division specials.
    Case(.mul, rne, 0, inf, 0, qNaN, NV), Case(.mul, rne, negInf, 0, 0, qNaN, NV),
    Case(.mul, rne, negZero, one, 0, negZero), Case(.mul, rne, negInf, minusOne, 0, inf),
    Case(.mul, rne, sNaN, 0, 0, qNaN, NV), Case(.mul, rne, qNaN, inf, 0, qNaN),
    Case(.div, rne, one, 0, 0, inf, DZ), Case(.div, rne, minusOne, 0, 0, negInf, DZ),
    Case(.div, rne, one, negZero, 0, negInf, DZ), Case(.div, rne, 0, 0, 0, qNaN, NV),
    Case(.div, rne, inf, negInf, 0, qNaN, NV), Case(.div, rne, one, inf, 0, 0),
    Case(.div, rne, minusOne, inf, 0, negZero), Case(.div, rne, inf, 0, 0, inf),
    Case(.div, rne, negZero, one, 0, negZero), Case(.div, rne, qNaN, 0, 0, qNaN),
    Case(.div, rne, one, 0x4040_0000, 0, 0x3EAA_AAAB, NX), Case(.div, rtz, one, 0x4040_0000, 0, 0x3EAA_AAAA, NX),
    Case(.div, rmm, one, 0x4040_0000, 0, 0x3EAA_AAAB, NX), Case(.div, rdn, one, 0x4040_0000, 0, 0x3EAA_AAAA, NX),
    Case(.div, rne, 0x40C0_0000, two, 0, 0x4040_0000),  // 6 / 2 = 3 exactly
    Case(.div, rne, maxF, 0x3E80_0000, 0, inf, OF | NX), Case(.div, rne, minNormal, 0x4B00_0000, 0, 0x0000_0001),
    // Square root.
    Case(.sqrt, rne, minusOne, 0, 0, qNaN, NV), Case(.sqrt, rne, negInf, 0, 0, qNaN, NV),
    Case(.sqrt, rne, negZero, 0, 0, negZero), Case(.sqrt, rne, 0, 0, 0, 0), Case(.sqrt, rne, inf, 0, 0, inf),
    Case(.sqrt, rne, sNaN, 0, 0, qNaN, NV), Case(.sqrt, rne, payloadNaN, 0, 0, qNaN),
    Case(.sqrt, rne, 0x4080_0000, 0, 0, two), Case(.sqrt, rne, two, 0, 0, 0x3FB5_04F3, NX),
    Case(.sqrt, rtz, two, 0, 0, 0x3FB5_04F3, NX), Case(.sqrt, rup, two, 0, 0, 0x3FB5_04F4, NX),
    Case(.sqrt, rmm, two, 0, 0, 0x3FB5_04F3, NX),
    Case(.sqrt, rne, 0x0000_0002, 0, 0, 0x1A80_0000),  // √2^-148 = 2^-74, a subnormal input
    Case(.sqrt, rne, 0x8000_0001, 0, 0, qNaN, NV),  // negative subnormal
    // Fused multiply-add: one rounding, RISC-V's NV for 0 × ∞ even with a quiet-NaN addend.
    Case(.fma, rne, 0, inf, qNaN, qNaN, NV), Case(.fma, rne, inf, negZero, payloadNaN, qNaN, NV),
    Case(.fma, rne, 0, inf, one, qNaN, NV), Case(.fma, rne, one, qNaN, inf, qNaN),
    Case(.fma, rne, one, one, sNaN, qNaN, NV), Case(.fma, rne, inf, one, negInf, qNaN, NV),
    Case(.fma, rne, inf, minusOne, negInf, negInf), Case(.fma, rne, maxF, maxF, negInf, negInf),
    Case(.fma, rne, one, one, minusOne, 0), Case(.fma, rdn, one, one, minusOne, negZero),
    Case(.fma, rne, negZero, one, negZero, negZero), Case(.fma, rne, 0, one, negZero, 0),
    Case(.fma, rdn, 0, one, negZero, negZero), Case(.fma, rne, 0, one, two, two),
    Case(.fma, rne, minSub, minSub, 0, 0, UF | NX), Case(.fma, rup, minSub, minSub, 0, minSub, UF | NX),
    Case(.fma, rne, minSub, minSub, negZero, 0, UF | NX),
    // (1 + 2^-23)² − 1 = 2^-22 + 2^-46: a tie only the fused operation sees.
    Case(.fma, rne, 0x3F80_0001, 0x3F80_0001, minusOne, 0x3480_0000, NX),
    Case(.fma, rmm, 0x3F80_0001, 0x3F80_0001, minusOne, 0x3480_0001, NX),
    Case(.fma, rup, 0x3F80_0001, 0x3F80_0001, minusOne, 0x3480_0001, NX),
    // A huge addend swallows a tiny product: only the direction of the product shows.
    Case(.fma, rne, minSub, minSub, one, one, NX), Case(.fma, rup, minSub, minSub, one, 0x3F80_0001, NX),
    Case(.fma, rdn, minSub, 0x8000_0001, one, 0x3F7F_FFFF, NX),
    Case(.fma, rne, maxF, two, negMaxF, maxF),  // the intermediate product is beyond the range
    // min/max: minimumNumber/maximumNumber, −0 < +0, NV only for a signalling NaN.
    Case(.min, rne, 0, negZero, 0, negZero), Case(.min, rne, negZero, 0, 0, negZero),
    Case(.max, rne, 0, negZero, 0, 0), Case(.max, rne, negZero, 0, 0, 0),
    Case(.min, rne, qNaN, one, 0, one), Case(.max, rne, one, payloadNaN, 0, one),
    Case(.min, rne, sNaN, one, 0, one, NV), Case(.max, rne, one, sNaN, 0, one, NV),
    Case(.min, rne, qNaN, payloadNaN, 0, qNaN), Case(.max, rne, sNaN, qNaN, 0, qNaN, NV),
    Case(.min, rne, negInf, maxF, 0, negInf), Case(.max, rne, negInf, maxF, 0, maxF),
    Case(.min, rne, minusOne, 0xBF80_0001, 0, 0xBF80_0001), Case(.max, rne, minusOne, 0xBF80_0001, 0, minusOne),
]

// binary64 constants
private let one64: UInt64 = 0x3FF0_0000_0000_0000, minusOne64: UInt64 = 0xBFF0_0000_0000_0000
private let inf64: UInt64 = 0x7FF0_0000_0000_0000, negInf64: UInt64 = 0xFFF0_0000_0000_0000
private let qNaN64: UInt64 = 0x7FF8_0000_0000_0000, sNaN64: UInt64 = 0x7FF0_0000_0000_0001
private let max64: UInt64 = 0x7FEF_FFFF_FFFF_FFFF, negZero64: UInt64 = 0x8000_0000_0000_0000
private let minSub64: UInt64 = 1, half64: UInt64 = 0x3FE0_0000_0000_0000
private let ulpHalf64: UInt64 = 0x3CA0_0000_0000_0000  // 2^-53

private let cases64: [Case] = [
    Case(.add, rne, 0, negZero64, 0, 0), Case(.add, rdn, 0, negZero64, 0, negZero64),
    Case(.add, rdn, one64, minusOne64, 0, negZero64),
    Case(.add, rne, inf64, negInf64, 0, qNaN64, NV), Case(.add, rne, sNaN64, one64, 0, qNaN64, NV),
    Case(.add, rne, 0xFFF8_0000_0000_1234, one64, 0, qNaN64),
    Case(.add, rne, max64, max64, 0, inf64, OF | NX), Case(.add, rtz, max64, max64, 0, max64, OF | NX),
    Case(.add, rdn, max64, max64, 0, max64, OF | NX), Case(.add, rmm, max64, max64, 0, inf64, OF | NX),
    Case(.add, rne, one64, ulpHalf64, 0, one64, NX), Case(.add, rmm, one64, ulpHalf64, 0, one64 + 1, NX),
    Case(.add, rup, one64, ulpHalf64, 0, one64 + 1, NX),
    Case(.add, rne, one64 + 1, ulpHalf64, 0, one64 + 2, NX), Case(.add, rmm, one64 + 1, ulpHalf64, 0, one64 + 2, NX),
    Case(.add, rne, minSub64, minSub64, 0, 2), Case(.sub, rne, 0x0010_0000_0000_0000, 0x000F_FFFF_FFFF_FFFF, 0, 1),
    Case(.mul, rne, minSub64, half64, 0, 0, UF | NX), Case(.mul, rmm, minSub64, half64, 0, 1, UF | NX),
    Case(.mul, rup, minSub64, half64, 0, 1, UF | NX), Case(.mul, rtz, minSub64, half64, 0, 0, UF | NX),
    // 2^-1022 × (1 − 2^-53): tiny after rounding, delivered as 2^-1022 under RNE.
    Case(.mul, rne, 0x3FEF_FFFF_FFFF_FFFF, 0x0010_0000_0000_0000, 0, 0x0010_0000_0000_0000, UF | NX),
    Case(.mul, rne, 0, inf64, 0, qNaN64, NV), Case(.mul, rne, max64, 0x4000_0000_0000_0000, 0, inf64, OF | NX),
    Case(.div, rne, one64, 0, 0, inf64, DZ), Case(.div, rne, 0, 0, 0, qNaN64, NV),
    Case(.div, rne, one64, 0x4008_0000_0000_0000, 0, 0x3FD5_5555_5555_5555, NX),
    Case(.div, rup, one64, 0x4008_0000_0000_0000, 0, 0x3FD5_5555_5555_5556, NX),
    Case(.sqrt, rne, minusOne64, 0, 0, qNaN64, NV), Case(.sqrt, rne, negZero64, 0, 0, negZero64),
    Case(.sqrt, rne, 0x4000_0000_0000_0000, 0, 0, 0x3FF6_A09E_667F_3BCD, NX),
    Case(.sqrt, rup, 0x4000_0000_0000_0000, 0, 0, 0x3FF6_A09E_667F_3BCD, NX),
    Case(.sqrt, rtz, 0x4000_0000_0000_0000, 0, 0, 0x3FF6_A09E_667F_3BCC, NX),
    Case(.sqrt, rne, 0x4010_0000_0000_0000, 0, 0, 0x4000_0000_0000_0000),
    Case(.sqrt, rne, minSub64, 0, 0, 0x1E60_0000_0000_0000),  // √2^-1074 = 2^-537 exactly
    Case(.sqrt, rne, 2, 0, 0, 0x1E66_A09E_667F_3BCD, NX),  // √2^-1073 = 2^-537 × √2
    Case(.fma, rne, 0, inf64, qNaN64, qNaN64, NV), Case(.fma, rne, one64, one64, minusOne64, 0),
    Case(.fma, rdn, one64, one64, minusOne64, negZero64),
    Case(.fma, rne, one64 + 1, one64 + 1, minusOne64, 0x3CC0_0000_0000_0000, NX),
    Case(.fma, rmm, one64 + 1, one64 + 1, minusOne64, 0x3CC0_0000_0000_0001, NX),
    Case(.min, rne, 0, negZero64, 0, negZero64), Case(.max, rne, negZero64, 0, 0, 0),
    Case(.min, rne, sNaN64, one64, 0, one64, NV), Case(.max, rne, qNaN64, 0xFFF8_0000_0000_0001, 0, qNaN64),
]

private func run32(_ c: Case) -> (UInt64, UInt8) {
    var f: UInt8 = 0
    let a = UInt32(c.a), b = UInt32(c.b), cc = UInt32(c.c)
    let r: UInt32
    switch c.op {
    case .add: r = SoftFloat.add32(a, b, c.rm, &f)
    case .sub: r = SoftFloat.sub32(a, b, c.rm, &f)
    case .mul: r = SoftFloat.mul32(a, b, c.rm, &f)
    case .div: r = SoftFloat.div32(a, b, c.rm, &f)
    case .sqrt: r = SoftFloat.sqrt32(a, c.rm, &f)
    case .fma: r = SoftFloat.fma32(a, b, cc, c.rm, &f)
    case .min: r = SoftFloat.min32(a, b, &f)
    case .max: r = SoftFloat.max32(a, b, &f)
    }
    return (UInt64(r), f)
}

private func run64(_ c: Case) -> (UInt64, UInt8) {
    var f: UInt8 = 0
    let r: UInt64
    switch c.op {
    case .add: r = SoftFloat.add64(c.a, c.b, c.rm, &f)
    case .sub: r = SoftFloat.sub64(c.a, c.b, c.rm, &f)
    case .mul: r = SoftFloat.mul64(c.a, c.b, c.rm, &f)
    case .div: r = SoftFloat.div64(c.a, c.b, c.rm, &f)
    case .sqrt: r = SoftFloat.sqrt64(c.a, c.rm, &f)
    case .fma: r = SoftFloat.fma64(c.a, c.b, c.c, c.rm, &f)
    case .min: r = SoftFloat.min64(c.a, c.b, &f)
    case .max: r = SoftFloat.max64(c.a, c.b, &f)
    }
    return (r, f)
}

@Suite("SoftFloat edge cases")
struct SoftFloatEdgeCaseTests {
    @Test("binary32", arguments: cases32)
    fileprivate func binary32(_ c: Case) {
        let (r, f) = run32(c)
        #expect(r == c.want, "result 0x\(String(r, radix: 16)), want 0x\(String(c.want, radix: 16))")
        #expect(f == c.flags, "flags \(f), want \(c.flags)")
    }

    @Test("binary64", arguments: cases64)
    fileprivate func binary64(_ c: Case) {
        let (r, f) = run64(c)
        #expect(r == c.want, "result 0x\(String(r, radix: 16)), want 0x\(String(c.want, radix: 16))")
        #expect(f == c.flags, "flags \(f), want \(c.flags)")
    }
}
