// The soft-float interface the hart calls for the F and D extensions: IEEE 754-2019 arithmetic on
// bit patterns, exact in every rounding mode, with RISC-V's NaN and flag rules (unpriv. spec, F and
// D extensions). The arithmetic is integer code on bit patterns; the one exception is
// `HostFastPath`, used for RNE add/sub/mul/div/sqrt (and binary32 fma) of ordinary operands
// where the host's IEEE result and flags are provably the same, so results never depend on it.
//
// Conventions for callers:
// - Operands and results are raw bit patterns (`UInt32` binary32, `UInt64` binary64). NaN-boxing
//   of binary32 values in 64-bit registers is the hart's business: it unboxes before calling
//   (an improperly boxed value reads as the canonical NaN) and boxes the result.
// - `rm` is a static mode; the hart resolves `rm = 7` (dynamic) to `frm` and rejects 5 and 6.
// - Exception flags are ORed into `flags` (the `fflags` bits of `FFlags`), never cleared.
// - Any NaN result is the canonical NaN (0x7fc00000 / 0x7ff8000000000000); sign flips the hart
//   applies to operands for FMSUB/FNMSUB/FNMADD therefore cannot show through.
// - `f32ToI32`/`f32ToU32`/`f64ToI32`/`f64ToU32` return the 32-bit result; on RV64, FCVT.W[U].S/D
//   write it SIGN-extended to XLEN — also for the unsigned forms — which is the caller's job
//   (`UInt64(bitPattern: Int64(Int32(bitPattern: r)))`).
// - `classify*` returns the FCLASS mask (one of bits 0–9).
public enum SoftFloat {

    // MARK: binary32

    /// a + b (FADD.S).
    @inline(__always)
    public static func add32(_ a: UInt32, _ b: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        if rm == .rne, let r = HostFastPath.add32(a, b, &flags) { return r }
        return UInt32(truncatingIfNeeded:
            Binary32Format.add(UInt64(a), UInt64(b), subtract: false, rm, &flags))
    }

    /// a − b (FSUB.S).
    @inline(__always)
    public static func sub32(_ a: UInt32, _ b: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        if rm == .rne, let r = HostFastPath.add32(a, b ^ (1 << 31), &flags) { return r }
        return UInt32(truncatingIfNeeded:
            Binary32Format.add(UInt64(a), UInt64(b), subtract: true, rm, &flags))
    }

    /// a × b (FMUL.S).
    @inline(__always)
    public static func mul32(_ a: UInt32, _ b: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        if rm == .rne, let r = HostFastPath.mul32(a, b, &flags) { return r }
        return UInt32(truncatingIfNeeded: Binary32Format.mul(UInt64(a), UInt64(b), rm, &flags))
    }

    /// a / b (FDIV.S); DZ for a finite non-zero dividend and a zero divisor.
    @inline(__always)
    public static func div32(_ a: UInt32, _ b: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        if rm == .rne, let r = HostFastPath.div32(a, b, &flags) { return r }
        return UInt32(truncatingIfNeeded: Binary32Format.div(UInt64(a), UInt64(b), rm, &flags))
    }

    /// √a (FSQRT.S); NV and the canonical NaN for a < 0 (−0 gives −0).
    @inline(__always)
    public static func sqrt32(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        if rm == .rne, let r = HostFastPath.sqrt32(a, &flags) { return r }
        return UInt32(truncatingIfNeeded: Binary32Format.sqrt(UInt64(a), rm, &flags))
    }

    /// a × b + c with one rounding (FMADD.S; the hart negates operands for the other three).
    @inline(__always)
    public static func fma32(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ rm: RoundingMode,
                             _ flags: inout UInt8) -> UInt32 {
        if rm == .rne, let r = HostFastPath.fma32(a, b, c, &flags) { return r }
        return UInt32(truncatingIfNeeded: Binary32Format.fma(UInt64(a), UInt64(b), UInt64(c), rm, &flags))
    }

    /// FMIN.S: the smaller of a and b (−0 < +0); one NaN operand yields the other operand.
    @inline(__always)
    public static func min32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: Binary32Format.minMax(UInt64(a), UInt64(b), max: false, &flags))
    }

    /// FMAX.S: the larger of a and b (−0 < +0); one NaN operand yields the other operand.
    @inline(__always)
    public static func max32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: Binary32Format.minMax(UInt64(a), UInt64(b), max: true, &flags))
    }

    /// FEQ.S: quiet equality (NV only for a signalling NaN).
    @inline(__always)
    public static func eq32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        Binary32Format.equal(UInt64(a), UInt64(b), &flags)
    }

    /// FLT.S: signalling less-than (NV for any NaN).
    @inline(__always)
    public static func lt32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        Binary32Format.less(UInt64(a), UInt64(b), orEqual: false, &flags)
    }

    /// FLE.S: signalling less-or-equal (NV for any NaN).
    @inline(__always)
    public static func le32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        Binary32Format.less(UInt64(a), UInt64(b), orEqual: true, &flags)
    }

    /// FCLASS.S.
    @inline(__always)
    public static func classify32(_ a: UInt32) -> UInt64 {
        Binary32Format.classify(UInt64(a))
    }

    /// FCVT.W.S (sign-extend the result on RV64).
    @inline(__always)
    public static func f32ToI32(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> Int32 {
        Int32(truncatingIfNeeded: Binary32Format.toInteger(UInt64(a), signed: true, width: 32, rm, &flags))
    }

    /// FCVT.WU.S (sign-extend the result on RV64, although it is unsigned).
    @inline(__always)
    public static func f32ToU32(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: Binary32Format.toInteger(UInt64(a), signed: false, width: 32, rm, &flags))
    }

    /// FCVT.L.S.
    @inline(__always)
    public static func f32ToI64(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> Int64 {
        Int64(truncatingIfNeeded: Binary32Format.toInteger(UInt64(a), signed: true, width: 64, rm, &flags))
    }

    /// FCVT.LU.S.
    @inline(__always)
    public static func f32ToU64(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        UInt64(truncatingIfNeeded: Binary32Format.toInteger(UInt64(a), signed: false, width: 64, rm, &flags))
    }

    /// FCVT.S.W.
    @inline(__always)
    public static func i32ToF32(_ x: Int32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded:
               Binary32Format.fromInteger(magnitude: UInt64(x.magnitude), negative: x < 0, rm, &flags))
    }

    /// FCVT.S.WU.
    @inline(__always)
    public static func u32ToF32(_ x: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded:
               Binary32Format.fromInteger(magnitude: UInt64(x), negative: false, rm, &flags))
    }

    /// FCVT.S.L.
    @inline(__always)
    public static func i64ToF32(_ x: Int64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded:
               Binary32Format.fromInteger(magnitude: UInt64(x.magnitude), negative: x < 0, rm, &flags))
    }

    /// FCVT.S.LU.
    @inline(__always)
    public static func u64ToF32(_ x: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded:
               Binary32Format.fromInteger(magnitude: UInt64(x), negative: false, rm, &flags))
    }

    // MARK: binary64

    /// a + b (FADD.D).
    @inline(__always)
    public static func add64(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        if rm == .rne, let r = HostFastPath.add64(a, b, &flags) { return r }
        return Binary64Format.add(a, b, subtract: false, rm, &flags)
    }

    /// a − b (FSUB.D).
    @inline(__always)
    public static func sub64(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        if rm == .rne, let r = HostFastPath.add64(a, b ^ (1 << 63), &flags) { return r }
        return Binary64Format.add(a, b, subtract: true, rm, &flags)
    }

    /// a × b (FMUL.D).
    @inline(__always)
    public static func mul64(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        if rm == .rne, let r = HostFastPath.mul64(a, b, &flags) { return r }
        return Binary64Format.mul(a, b, rm, &flags)
    }

    /// a / b (FDIV.D); DZ for a finite non-zero dividend and a zero divisor.
    @inline(__always)
    public static func div64(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        if rm == .rne, let r = HostFastPath.div64(a, b, &flags) { return r }
        return Binary64Format.div(a, b, rm, &flags)
    }

    /// √a (FSQRT.D); NV and the canonical NaN for a < 0 (−0 gives −0).
    @inline(__always)
    public static func sqrt64(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        if rm == .rne, let r = HostFastPath.sqrt64(a, &flags) { return r }
        return Binary64Format.sqrt(a, rm, &flags)
    }

    /// a × b + c with one rounding (FMADD.D; the hart negates operands for the other three).
    @inline(__always)
    public static func fma64(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ rm: RoundingMode,
                             _ flags: inout UInt8) -> UInt64 {
        if let r = Binary64Format.fmaNormal(a, b, c, rm, &flags) { return r }
        return Binary64Format.fma(a, b, c, rm, &flags)
    }

    /// FMIN.D: the smaller of a and b (−0 < +0); one NaN operand yields the other operand.
    @inline(__always)
    public static func min64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        Binary64Format.minMax(a, b, max: false, &flags)
    }

    /// FMAX.D: the larger of a and b (−0 < +0); one NaN operand yields the other operand.
    @inline(__always)
    public static func max64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        Binary64Format.minMax(a, b, max: true, &flags)
    }

    /// FEQ.D: quiet equality (NV only for a signalling NaN).
    @inline(__always)
    public static func eq64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        Binary64Format.equal(a, b, &flags)
    }

    /// FLT.D: signalling less-than (NV for any NaN).
    @inline(__always)
    public static func lt64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        Binary64Format.less(a, b, orEqual: false, &flags)
    }

    /// FLE.D: signalling less-or-equal (NV for any NaN).
    @inline(__always)
    public static func le64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        Binary64Format.less(a, b, orEqual: true, &flags)
    }

    /// FCLASS.D.
    @inline(__always)
    public static func classify64(_ a: UInt64) -> UInt64 {
        Binary64Format.classify(a)
    }

    /// FCVT.W.D (sign-extend the result on RV64).
    @inline(__always)
    public static func f64ToI32(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> Int32 {
        Int32(truncatingIfNeeded: Binary64Format.toInteger(a, signed: true, width: 32, rm, &flags))
    }

    /// FCVT.WU.D (sign-extend the result on RV64, although it is unsigned).
    @inline(__always)
    public static func f64ToU32(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: Binary64Format.toInteger(a, signed: false, width: 32, rm, &flags))
    }

    /// FCVT.L.D.
    @inline(__always)
    public static func f64ToI64(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> Int64 {
        Int64(truncatingIfNeeded: Binary64Format.toInteger(a, signed: true, width: 64, rm, &flags))
    }

    /// FCVT.LU.D.
    @inline(__always)
    public static func f64ToU64(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        UInt64(truncatingIfNeeded: Binary64Format.toInteger(a, signed: false, width: 64, rm, &flags))
    }

    /// FCVT.D.W.
    @inline(__always)
    public static func i32ToF64(_ x: Int32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Binary64Format.fromInteger(magnitude: UInt64(x.magnitude), negative: x < 0, rm, &flags)
    }

    /// FCVT.D.WU.
    @inline(__always)
    public static func u32ToF64(_ x: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Binary64Format.fromInteger(magnitude: UInt64(x), negative: false, rm, &flags)
    }

    /// FCVT.D.L.
    @inline(__always)
    public static func i64ToF64(_ x: Int64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Binary64Format.fromInteger(magnitude: UInt64(x.magnitude), negative: x < 0, rm, &flags)
    }

    /// FCVT.D.LU.
    @inline(__always)
    public static func u64ToF64(_ x: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Binary64Format.fromInteger(magnitude: UInt64(x), negative: false, rm, &flags)
    }

    // MARK: between the formats

    /// FCVT.D.S: exact (binary64 holds every binary32 value); `rm` is accepted for symmetry with
    /// the instruction encoding, and only a signalling NaN raises a flag (NV).
    @inline(__always)
    public static func f32ToF64(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Binary64Format.convert(UInt64(a), from: Binary32Format.self, rm, &flags)
    }

    /// FCVT.S.D: rounds like any operation (NX, UF, OF); NaNs become the canonical NaN, with NV
    /// only for a signalling one.
    @inline(__always)
    public static func f64ToF32(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: Binary32Format.convert(a, from: Binary64Format.self, rm, &flags))
    }
}
