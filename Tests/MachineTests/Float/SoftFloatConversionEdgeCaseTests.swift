// Hand-picked conversions, comparisons and classifications: the saturation boundaries of the
// float → integer table in every rounding mode (unpriv. spec, F extension, "Domains of
// float-to-integer conversions and behavior for invalid inputs"), ties under RNE and RMM, and the
// ten FCLASS classes.

import Testing
@testable import Machine

private let NX = FFlags.nx, UF = FFlags.uf, OF = FFlags.of, NV = FFlags.nv

private enum Target: String { case i32, u32, i64, u64 }

/// A float → integer case: the input as binary64 bits (also converted to binary32 for the binary32
/// functions when `alsoBinary32`, only for inputs binary32 represents exactly), the result as a
/// 64-bit pattern.
private struct ToInt: CustomTestStringConvertible {
    let target: Target
    let rm: RoundingMode
    let a: UInt64
    let want: UInt64
    let flags: UInt8
    let alsoBinary32: Bool
    init(_ target: Target, _ rm: RoundingMode, _ a: UInt64, _ want: UInt64, _ flags: UInt8 = 0,
         alsoBinary32: Bool = true) {
        (self.target, self.rm, self.a, self.want, self.flags, self.alsoBinary32) =
            (target, rm, a, want, flags, alsoBinary32)
    }
    var testDescription: String { "\(target) \(rm) 0x\(String(a, radix: 16))" }
}

private let p2_31: UInt64 = 0x41E0_0000_0000_0000, m2_31: UInt64 = 0xC1E0_0000_0000_0000
private let p2_32: UInt64 = 0x41F0_0000_0000_0000, p2_63: UInt64 = 0x43E0_0000_0000_0000
private let m2_63: UInt64 = 0xC3E0_0000_0000_0000, p2_64: UInt64 = 0x43F0_0000_0000_0000
private let nan64: UInt64 = 0x7FF8_0000_0000_0000, negNaN64: UInt64 = 0xFFF8_0000_0000_0000
private let inf64: UInt64 = 0x7FF0_0000_0000_0000, negInf64: UInt64 = 0xFFF0_0000_0000_0000
private let i32Max: UInt64 = 0x7FFF_FFFF, i32Min: UInt64 = 0x8000_0000, u32Max: UInt64 = 0xFFFF_FFFF
private let i64Max: UInt64 = 0x7FFF_FFFF_FFFF_FFFF, i64Min: UInt64 = 0x8000_0000_0000_0000
private let u64Max: UInt64 = ~0
private let twoHalf: UInt64 = 0x4004_0000_0000_0000, minusTwoHalf: UInt64 = 0xC004_0000_0000_0000
private let pHalf: UInt64 = 0x3FE0_0000_0000_0000, mHalf: UInt64 = 0xBFE0_0000_0000_0000
private let x2147483647_5: UInt64 = 0x41DF_FFFF_FFE0_0000, xm2147483648_5: UInt64 = 0xC1E0_0000_0010_0000

private let toIntCases: [ToInt] = [
    // NaN of either sign and +∞ give the largest value; −∞ the smallest; NV, no NX.
    ToInt(.i32, .rne, nan64, i32Max, NV), ToInt(.i32, .rne, negNaN64, i32Max, NV),
    ToInt(.u32, .rne, negNaN64, u32Max, NV), ToInt(.i64, .rne, nan64, i64Max, NV),
    ToInt(.u64, .rne, nan64, u64Max, NV), ToInt(.i32, .rne, inf64, i32Max, NV),
    ToInt(.i32, .rne, negInf64, i32Min, NV), ToInt(.u32, .rne, negInf64, 0, NV),
    ToInt(.i64, .rne, negInf64, i64Min, NV), ToInt(.u64, .rne, inf64, u64Max, NV),
    // The boundaries themselves.
    ToInt(.i32, .rne, p2_31, i32Max, NV), ToInt(.i32, .rne, m2_31, i32Min),
    ToInt(.u32, .rne, p2_31, 0x8000_0000), ToInt(.u32, .rne, p2_32, u32Max, NV),
    ToInt(.i64, .rne, p2_63, i64Max, NV), ToInt(.i64, .rne, m2_63, i64Min),
    ToInt(.u64, .rne, p2_63, 0x8000_0000_0000_0000), ToInt(.u64, .rne, p2_64, u64Max, NV),
    ToInt(.i64, .rne, 0x43DF_FFFF_FFFF_FFFF, 0x7FFF_FFFF_FFFF_FC00, alsoBinary32: false),
    ToInt(.u64, .rne, 0x43EF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_F800, alsoBinary32: false),
    ToInt(.u64, .rne, m2_63, 0, NV), ToInt(.i32, .rne, p2_63, i32Max, NV), ToInt(.i32, .rne, m2_63, i32Min, NV),
    // 2147483647.5 rounds to 2^31 (out of range: NV only) or 2^31 − 1 (in range: NX).
    ToInt(.i32, .rne, x2147483647_5, i32Max, NV, alsoBinary32: false),
    ToInt(.i32, .rmm, x2147483647_5, i32Max, NV, alsoBinary32: false),
    ToInt(.i32, .rup, x2147483647_5, i32Max, NV, alsoBinary32: false),
    ToInt(.i32, .rtz, x2147483647_5, i32Max, NX, alsoBinary32: false),
    ToInt(.i32, .rdn, x2147483647_5, i32Max, NX, alsoBinary32: false),
    // −2147483648.5: RNE's tie picks the even −2^31 (valid), RMM and RDN go past it.
    ToInt(.i32, .rne, xm2147483648_5, i32Min, NX, alsoBinary32: false),
    ToInt(.i32, .rtz, xm2147483648_5, i32Min, NX, alsoBinary32: false),
    ToInt(.i32, .rup, xm2147483648_5, i32Min, NX, alsoBinary32: false),
    ToInt(.i32, .rmm, xm2147483648_5, i32Min, NV, alsoBinary32: false),
    ToInt(.i32, .rdn, xm2147483648_5, i32Min, NV, alsoBinary32: false),
    // 4294967295.5 for u32.
    ToInt(.u32, .rtz, 0x41EF_FFFF_FFF0_0000, u32Max, NX, alsoBinary32: false),
    ToInt(.u32, .rne, 0x41EF_FFFF_FFF0_0000, u32Max, NV, alsoBinary32: false),
    // Ties and directions on ±2.5.
    ToInt(.i32, .rne, twoHalf, 2, NX), ToInt(.i32, .rmm, twoHalf, 3, NX), ToInt(.i32, .rtz, twoHalf, 2, NX),
    ToInt(.i32, .rdn, twoHalf, 2, NX), ToInt(.i32, .rup, twoHalf, 3, NX),
    ToInt(.i64, .rne, minusTwoHalf, 0 &- 2, NX), ToInt(.i64, .rmm, minusTwoHalf, 0 &- 3, NX),
    ToInt(.i64, .rtz, minusTwoHalf, 0 &- 2, NX), ToInt(.i64, .rdn, minusTwoHalf, 0 &- 3, NX),
    ToInt(.i64, .rup, minusTwoHalf, 0 &- 2, NX), ToInt(.i32, .rne, minusTwoHalf, 0xFFFF_FFFE, NX),
    ToInt(.i32, .rne, 0x3FF8_0000_0000_0000, 2, NX),  // 1.5 → 2 (even)
    ToInt(.i32, .rne, pHalf, 0, NX), ToInt(.i32, .rmm, pHalf, 1, NX), ToInt(.i32, .rup, pHalf, 1, NX),
    ToInt(.i32, .rne, 0x3FE0_0000_0000_0001, 1, NX, alsoBinary32: false),  // just above ½
    // Negative inputs for unsigned targets: valid only if they round to 0.
    ToInt(.u32, .rtz, mHalf, 0, NX), ToInt(.u32, .rne, mHalf, 0, NX), ToInt(.u32, .rup, mHalf, 0, NX),
    ToInt(.u32, .rmm, mHalf, 0, NV), ToInt(.u32, .rdn, mHalf, 0, NV), ToInt(.u64, .rdn, mHalf, 0, NV),
    ToInt(.u64, .rne, 0xBFF0_0000_0000_0000, 0, NV), ToInt(.u64, .rtz, 0xBFEF_FFFF_FFFF_FFFF, 0, NX, alsoBinary32: false),
    // Zeros and tiny values.
    ToInt(.i32, .rne, 0x8000_0000_0000_0000, 0), ToInt(.u64, .rne, 0x8000_0000_0000_0000, 0),
    ToInt(.i64, .rne, 1, 0, NX, alsoBinary32: false), ToInt(.i64, .rup, 1, 1, NX, alsoBinary32: false),
    ToInt(.i64, .rdn, 0x8000_0000_0000_0001, 0 &- 1, NX, alsoBinary32: false),
    ToInt(.u64, .rup, 1, 1, NX, alsoBinary32: false),
    ToInt(.i32, .rne, 0x41DF_FFFF_FFC0_0000, 0x7FFF_FFFF, alsoBinary32: false),  // 2^31 − 1 exactly
]

private func convert(_ c: ToInt, binary32: Bool, _ flags: inout UInt8) -> UInt64 {
    if binary32 {
        var ignored: UInt8 = 0
        let a = SoftFloat.f64ToF32(c.a, .rne, &ignored)
        switch c.target {
        case .i32: return UInt64(UInt32(bitPattern: SoftFloat.f32ToI32(a, c.rm, &flags)))
        case .u32: return UInt64(SoftFloat.f32ToU32(a, c.rm, &flags))
        case .i64: return UInt64(bitPattern: SoftFloat.f32ToI64(a, c.rm, &flags))
        case .u64: return SoftFloat.f32ToU64(a, c.rm, &flags)
        }
    }
    switch c.target {
    case .i32: return UInt64(UInt32(bitPattern: SoftFloat.f64ToI32(c.a, c.rm, &flags)))
    case .u32: return UInt64(SoftFloat.f64ToU32(c.a, c.rm, &flags))
    case .i64: return UInt64(bitPattern: SoftFloat.f64ToI64(c.a, c.rm, &flags))
    case .u64: return SoftFloat.f64ToU64(c.a, c.rm, &flags)
    }
}

@Suite("SoftFloat conversion, comparison and classification edge cases")
struct SoftFloatConversionEdgeCaseTests {
    @Test("float → integer", arguments: toIntCases)
    fileprivate func toInteger(_ c: ToInt) {
        let mask: UInt64 = c.target == .i32 || c.target == .u32 ? 0xFFFF_FFFF : ~0
        for binary32 in c.alsoBinary32 ? [false, true] : [false] {
            var flags: UInt8 = 0
            let r = convert(c, binary32: binary32, &flags)
            #expect(r == c.want & mask, "binary32: \(binary32), got 0x\(String(r, radix: 16))")
            #expect(flags == c.flags, "binary32: \(binary32), flags \(flags)")
        }
    }

    @Test("integer → float")
    func fromInteger() {
        var f: UInt8 = 0
        // 2^24 + 1 is a tie between 2^24 and 2^24 + 2.
        #expect(SoftFloat.i32ToF32(16_777_217, .rne, &f) == 0x4B80_0000 && f == NX)
        f = 0
        #expect(SoftFloat.i32ToF32(16_777_217, .rmm, &f) == 0x4B80_0001 && f == NX)
        f = 0
        #expect(SoftFloat.i32ToF32(-16_777_217, .rmm, &f) == 0xCB80_0001 && f == NX)
        f = 0
        #expect(SoftFloat.i32ToF32(-16_777_217, .rup, &f) == 0xCB80_0000 && f == NX)
        f = 0
        #expect(SoftFloat.i32ToF32(16_777_219, .rne, &f) == 0x4B80_0002 && f == NX)  // up to even
        f = 0
        #expect(SoftFloat.i64ToF32(Int64.min, .rne, &f) == 0xDF00_0000 && f == 0)
        #expect(SoftFloat.i32ToF32(Int32.min, .rne, &f) == 0xCF00_0000 && f == 0)
        #expect(SoftFloat.i32ToF32(0, .rdn, &f) == 0 && f == 0)  // +0 in every mode
        #expect(SoftFloat.u64ToF64(0, .rdn, &f) == 0 && f == 0)
        #expect(SoftFloat.u64ToF32(UInt64.max, .rne, &f) == 0x5F80_0000 && f == NX)
        f = 0
        #expect(SoftFloat.u64ToF32(UInt64.max, .rtz, &f) == 0x5F7F_FFFF && f == NX)
        f = 0
        #expect(SoftFloat.u64ToF64(UInt64.max, .rmm, &f) == 0x43F0_0000_0000_0000 && f == NX)
        f = 0
        #expect(SoftFloat.i64ToF64((1 << 53) + 1, .rne, &f) == 0x4340_0000_0000_0000 && f == NX)
        f = 0
        #expect(SoftFloat.i64ToF64((1 << 53) + 1, .rmm, &f) == 0x4340_0000_0000_0001 && f == NX)
        f = 0
        #expect(SoftFloat.u32ToF64(UInt32.max, .rne, &f) == 0x41EF_FFFF_FFE0_0000 && f == 0)
        #expect(SoftFloat.i32ToF64(-1, .rne, &f) == 0xBFF0_0000_0000_0000 && f == 0)
        #expect(SoftFloat.u32ToF32(UInt32.max, .rtz, &f) == 0x4F7F_FFFF && f == NX)
    }

    @Test("between binary32 and binary64")
    func betweenFormats() {
        var f: UInt8 = 0
        #expect(SoftFloat.f32ToF64(0x0000_0001, .rne, &f) == 0x36A0_0000_0000_0000 && f == 0)
        #expect(SoftFloat.f32ToF64(0x8000_0000, .rne, &f) == 0x8000_0000_0000_0000 && f == 0)
        #expect(SoftFloat.f32ToF64(0xFF80_0000, .rne, &f) == 0xFFF0_0000_0000_0000 && f == 0)
        #expect(SoftFloat.f32ToF64(0xFFC1_2345, .rne, &f) == 0x7FF8_0000_0000_0000 && f == 0)
        #expect(SoftFloat.f32ToF64(0x7F80_0001, .rne, &f) == 0x7FF8_0000_0000_0000 && f == NV)
        f = 0
        #expect(SoftFloat.f64ToF32(0x7FF0_0000_0000_0001, .rne, &f) == 0x7FC0_0000 && f == NV)
        f = 0
        #expect(SoftFloat.f64ToF32(0xFFF8_0000_0000_1234, .rne, &f) == 0x7FC0_0000 && f == 0)
        // maxFloat + half an ulp: a tie RNE and RMM send to ∞, RTZ keeps maxFloat without OF.
        let tie: UInt64 = 0x47EF_FFFF_F000_0000
        #expect(SoftFloat.f64ToF32(tie, .rne, &f) == 0x7F80_0000 && f == OF | NX)
        f = 0
        #expect(SoftFloat.f64ToF32(tie, .rmm, &f) == 0x7F80_0000 && f == OF | NX)
        f = 0
        #expect(SoftFloat.f64ToF32(tie, .rtz, &f) == 0x7F7F_FFFF && f == NX)
        f = 0
        #expect(SoftFloat.f64ToF32(0xC7EF_FFFF_F000_0000, .rup, &f) == 0xFF7F_FFFF && f == NX)
        f = 0
        #expect(SoftFloat.f64ToF32(0x7FEF_FFFF_FFFF_FFFF, .rtz, &f) == 0x7F7F_FFFF && f == OF | NX)
        f = 0
        // 2^-150: halfway between 0 and the smallest binary32 subnormal.
        #expect(SoftFloat.f64ToF32(0x3690_0000_0000_0000, .rne, &f) == 0 && f == UF | NX)
        f = 0
        #expect(SoftFloat.f64ToF32(0x3690_0000_0000_0000, .rmm, &f) == 1 && f == UF | NX)
        f = 0
        #expect(SoftFloat.f64ToF32(0x3690_0000_0000_0001, .rne, &f) == 1 && f == UF | NX)
        f = 0
        #expect(SoftFloat.f64ToF32(0x3FF0_0000_1000_0000, .rne, &f) == 0x3F80_0000 && f == NX)  // tie
        f = 0
        #expect(SoftFloat.f64ToF32(0x3FF0_0000_1000_0000, .rmm, &f) == 0x3F80_0001 && f == NX)
        f = 0
        #expect(SoftFloat.f64ToF32(0x3810_0000_0000_0000, .rne, &f) == 0x0080_0000 && f == 0)  // 2^-126
        #expect(SoftFloat.f64ToF32(0x0000_0000_0000_0001, .rup, &f) == 1 && f == UF | NX)
    }

    @Test("comparisons")
    func comparisons() {
        let sNaN: UInt32 = 0x7F80_0001, qNaN: UInt32 = 0x7FC0_0000
        let one: UInt32 = 0x3F80_0000, negZero: UInt32 = 0x8000_0000
        var f: UInt8 = 0
        #expect(SoftFloat.eq32(0, negZero, &f) && f == 0)
        #expect(SoftFloat.le32(0, negZero, &f) && SoftFloat.le32(negZero, 0, &f) && f == 0)
        #expect(!SoftFloat.lt32(negZero, 0, &f) && !SoftFloat.lt32(0, negZero, &f) && f == 0)
        #expect(!SoftFloat.eq32(qNaN, qNaN, &f) && f == 0)  // FEQ is quiet
        #expect(!SoftFloat.eq32(sNaN, one, &f) && f == NV)
        f = 0
        #expect(!SoftFloat.lt32(qNaN, one, &f) && f == NV)  // FLT/FLE signal on any NaN
        f = 0
        #expect(!SoftFloat.le32(one, qNaN, &f) && f == NV)
        f = 0
        #expect(SoftFloat.lt32(0xFF80_0000, 0xFF7F_FFFF, &f) && SoftFloat.lt32(0x8000_0001, 0, &f))
        #expect(SoftFloat.lt32(0xBF80_0001, 0xBF80_0000, &f) && !SoftFloat.lt32(one, one, &f))
        #expect(SoftFloat.le32(one, one, &f) && SoftFloat.eq32(one, one, &f) && f == 0)
        #expect(SoftFloat.lt64(0x8000_0000_0000_0000, 1, &f) && !SoftFloat.lt64(1, 0, &f) && f == 0)
        #expect(!SoftFloat.eq64(0x7FF0_0000_0000_0001, 0x7FF0_0000_0000_0001, &f) && f == NV)
        f = 0
        #expect(!SoftFloat.le64(0x7FF8_0000_0000_0000, 0, &f) && f == NV)
        f = 0
        #expect(SoftFloat.eq64(0x8000_0000_0000_0000, 0, &f) && f == 0)
    }

    @Test("classify")
    func classify() {
        let c32: [(UInt32, UInt64)] = [
            (0xFF80_0000, 1 << 0), (0xBF80_0000, 1 << 1), (0x807F_FFFF, 1 << 2), (0x8000_0000, 1 << 3),
            (0x0000_0000, 1 << 4), (0x0000_0001, 1 << 5), (0x0080_0000, 1 << 6), (0x7F7F_FFFF, 1 << 6),
            (0x7F80_0000, 1 << 7), (0x7F80_0001, 1 << 8), (0xFFBF_FFFF, 1 << 8), (0x7FC0_0000, 1 << 9),
            (0xFFC0_0001, 1 << 9),
        ]
        for (x, want) in c32 { #expect(SoftFloat.classify32(x) == want, "0x\(String(x, radix: 16))") }
        let c64: [(UInt64, UInt64)] = [
            (0xFFF0_0000_0000_0000, 1 << 0), (0xC000_0000_0000_0000, 1 << 1),
            (0x800F_FFFF_FFFF_FFFF, 1 << 2), (0x8000_0000_0000_0000, 1 << 3), (0, 1 << 4),
            (1, 1 << 5), (0x0010_0000_0000_0000, 1 << 6), (0x7FF0_0000_0000_0000, 1 << 7),
            (0x7FF0_0000_0000_0001, 1 << 8), (0x7FF8_0000_0000_0000, 1 << 9),
            (0xFFFF_FFFF_FFFF_FFFF, 1 << 9),
        ]
        for (x, want) in c64 { #expect(SoftFloat.classify64(x) == want, "0x\(String(x, radix: 16))") }
    }
}
