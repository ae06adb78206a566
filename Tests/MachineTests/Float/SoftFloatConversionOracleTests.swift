// Randomised comparison of conversions and comparisons with the host. Float → integer uses the
// host's `rint` in the same rounding mode for the rounded value and its inexact flag, and the
// RISC-V saturation table for values out of range; integer → float and binary64 ↔ binary32 use the
// host conversions directly (cvtsi2ss/cvtsd2ss honour MXCSR's rounding and raise its flags).

#if canImport(Glibc) && arch(x86_64)
import GuestTestSupport
import Glibc
import Testing
@testable import Machine

private let casesPerMode = 12_000
private func hex<T: BinaryInteger>(_ x: T) -> String { "0x" + String(x, radix: 16) }

/// The expected RISC-V float → integer result from the host's rounded value `r` (exact integer
/// or ±∞ or NaN) and the flags `rint` raised.
private func expectedInteger(_ r: Double, isNaN: Bool, rintFlags: UInt8, signed: Bool,
                             width: Int) -> (UInt64, UInt8) {
    let maxPositive: UInt64 = signed ? (1 << UInt64(width - 1)) - 1 : ~0 >> UInt64(64 - width)
    let minValue: UInt64 = signed ? 0 &- (1 << UInt64(width - 1)) : 0
    if isNaN { return (maxPositive, FFlags.nv) }
    let limit = Double(sign: .plus, exponent: signed ? width - 1 : width, significand: 1)
    let low = signed ? -limit : 0
    if r >= limit { return (maxPositive, FFlags.nv) }
    if r < low { return (minValue, FFlags.nv) }
    let value = r < 0 ? 0 &- UInt64(-r) : UInt64(r)
    return (value, rintFlags & FFlags.nx)
}

private let kinds: [(signed: Bool, width: Int)] = [(true, 32), (false, 32), (true, 64), (false, 64)]

@Suite("SoftFloat conversions and comparisons against the host")
struct SoftFloatConversionOracleTests {
    @Test("float → integer", arguments: Array(0..<4))
    func floatToInteger(modeIndex: Int) {
        let (rm, hostMode) = HostOracle.modes[modeIndex]
        var g32 = OperandGenerator(seed: 0xC32 &+ UInt64(modeIndex), expBits: 8, fracBits: 23)
        var g64 = OperandGenerator(seed: 0xC64 &+ UInt64(modeIndex), expBits: 11, fracBits: 52)
        var failures: [String] = []
        for i in 0..<casesPerMode {
            // Exponents from 2^-3 to 2^66 mostly, where rounding and saturation happen.
            let a32 = UInt32(i % 4 == 0 ? g32.any() : g32.value(exponent: 124 + Int(g32.rng.next() % 70)))
            let a64 = i % 4 == 0 ? g64.any() : g64.value(exponent: 1020 + Int(g64.rng.next() % 70))
            let f = Float(bitPattern: a32), d = Double(bitPattern: a64)
            let (r32, fl32) = HostOracle.run(hostMode) { HostOracle.rint(f) }
            let (r64, fl64) = HostOracle.run(hostMode) { HostOracle.rint(d) }
            for (signed, width) in kinds {
                var flags: UInt8 = 0
                let got: UInt64
                switch (signed, width) {
                case (true, 32): got = UInt64(UInt32(bitPattern: SoftFloat.f32ToI32(a32, rm, &flags)))
                case (false, 32): got = UInt64(SoftFloat.f32ToU32(a32, rm, &flags))
                case (true, _): got = UInt64(bitPattern: SoftFloat.f32ToI64(a32, rm, &flags))
                default: got = SoftFloat.f32ToU64(a32, rm, &flags)
                }
                var (want, wantFlags) = expectedInteger(Double(r32), isNaN: f.isNaN, rintFlags: fl32,
                                                        signed: signed, width: width)
                if width == 32 { want &= 0xFFFF_FFFF }
                if got != want || flags != wantFlags, failures.count < 8 {
                    failures.append("f32→\(signed ? "i" : "u")\(width) \(rm) \(hex(a32)): got \(hex(got)) flags \(flags), want \(hex(want)) flags \(wantFlags)")
                }
                var flags64: UInt8 = 0
                let got64: UInt64
                switch (signed, width) {
                case (true, 32): got64 = UInt64(UInt32(bitPattern: SoftFloat.f64ToI32(a64, rm, &flags64)))
                case (false, 32): got64 = UInt64(SoftFloat.f64ToU32(a64, rm, &flags64))
                case (true, _): got64 = UInt64(bitPattern: SoftFloat.f64ToI64(a64, rm, &flags64))
                default: got64 = SoftFloat.f64ToU64(a64, rm, &flags64)
                }
                var (want64, wantFlags64) = expectedInteger(r64, isNaN: d.isNaN, rintFlags: fl64,
                                                            signed: signed, width: width)
                if width == 32 { want64 &= 0xFFFF_FFFF }
                if got64 != want64 || flags64 != wantFlags64, failures.count < 8 {
                    failures.append("f64→\(signed ? "i" : "u")\(width) \(rm) \(hex(a64)): got \(hex(got64)) flags \(flags64), want \(hex(want64)) flags \(wantFlags64)")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test("integer → float and between formats", arguments: Array(0..<4))
    func integerToFloat(modeIndex: Int) {
        let (rm, hostMode) = HostOracle.modes[modeIndex]
        var rng = SplitMix64(seed: 0x1F &+ UInt64(modeIndex))
        var g64 = OperandGenerator(seed: 0xD2F &+ UInt64(modeIndex), expBits: 11, fracBits: 52)
        var g32 = OperandGenerator(seed: 0xF2D &+ UInt64(modeIndex), expBits: 8, fracBits: 23)
        var failures: [String] = []
        func check(_ ok: Bool, _ what: @autoclosure () -> String) {
            if !ok && failures.count < 8 { failures.append(what()) }
        }
        for i in 0..<casesPerMode {
            // Integers of every bit length, with runs of ones near the rounding point.
            let bits = rng.next() % 65
            var x = bits == 64 ? rng.next() : rng.next() & ((1 << bits) - 1)
            if i % 3 == 0 { x |= (1 << (bits == 0 ? 0 : bits - 1)) - 1 }
            let s = Int64(bitPattern: x), u32 = UInt32(truncatingIfNeeded: x)
            let s32 = Int32(truncatingIfNeeded: x)
            var fl: UInt8 = 0
            var (hf, hfl) = HostOracle.run(hostMode) { HostOracle.f32(s) }
            var rf = SoftFloat.i64ToF32(s, rm, &fl)
            check(rf == hf.bitPattern && fl == hfl, "i64→f32 \(rm) \(s): \(hex(rf)) \(fl) vs \(hex(hf.bitPattern)) \(hfl)")
            fl = 0; (hf, hfl) = HostOracle.run(hostMode) { HostOracle.f32(x) }
            rf = SoftFloat.u64ToF32(x, rm, &fl)
            check(rf == hf.bitPattern && fl == hfl, "u64→f32 \(rm) \(x): \(hex(rf)) \(fl) vs \(hex(hf.bitPattern)) \(hfl)")
            fl = 0; (hf, hfl) = HostOracle.run(hostMode) { HostOracle.f32(s32) }
            rf = SoftFloat.i32ToF32(s32, rm, &fl)
            check(rf == hf.bitPattern && fl == hfl, "i32→f32 \(rm) \(s32): \(hex(rf)) \(fl) vs \(hex(hf.bitPattern)) \(hfl)")
            fl = 0; (hf, hfl) = HostOracle.run(hostMode) { HostOracle.f32(u32) }
            rf = SoftFloat.u32ToF32(u32, rm, &fl)
            check(rf == hf.bitPattern && fl == hfl, "u32→f32 \(rm) \(u32): \(hex(rf)) \(fl) vs \(hex(hf.bitPattern)) \(hfl)")
            fl = 0
            var (hd, hdl) = HostOracle.run(hostMode) { HostOracle.f64(s) }
            var rd = SoftFloat.i64ToF64(s, rm, &fl)
            check(rd == hd.bitPattern && fl == hdl, "i64→f64 \(rm) \(s): \(hex(rd)) \(fl) vs \(hex(hd.bitPattern)) \(hdl)")
            fl = 0; (hd, hdl) = HostOracle.run(hostMode) { HostOracle.f64(x) }
            // The compiler lowers UInt64 → Double with a subtraction of 2^52 that yields −0 for 0
            // when rounding down; IEEE conversion of integer 0 gives +0.
            if x == 0 { hd = 0 }
            rd = SoftFloat.u64ToF64(x, rm, &fl)
            check(rd == hd.bitPattern && fl == hdl, "u64→f64 \(rm) \(x): \(hex(rd)) \(fl) vs \(hex(hd.bitPattern)) \(hdl)")
            fl = 0
            rd = SoftFloat.i32ToF64(s32, rm, &fl)
            check(rd == Double(s32).bitPattern && fl == 0, "i32→f64 \(s32)")
            rd = SoftFloat.u32ToF64(u32, rm, &fl)
            check(rd == Double(u32).bitPattern && fl == 0, "u32→f64 \(u32)")

            // binary64 → binary32 rounds (overflow, underflow, NaN); binary32 → binary64 is exact.
            let d = i % 2 == 0 ? g64.any() : g64.value(exponent: 1023 - 160 + Int(g64.rng.next() % 300))
            fl = 0
            let (hn, hnl) = HostOracle.run(hostMode) { HostOracle.narrow(Double(bitPattern: d)) }
            let rn = SoftFloat.f64ToF32(d, rm, &fl)
            check((rn == hn.bitPattern || (hn.isNaN && rn == 0x7FC0_0000)) && fl == hnl,
                  "f64→f32 \(rm) \(hex(d)): \(hex(rn)) \(fl) vs \(hex(hn.bitPattern)) \(hnl)")
            let f = UInt32(g32.any())
            fl = 0
            let (hw, hwl) = HostOracle.run(hostMode) { HostOracle.widen(Float(bitPattern: f)) }
            let rw = SoftFloat.f32ToF64(f, rm, &fl)
            check((rw == hw.bitPattern || (hw.isNaN && rw == 0x7FF8_0000_0000_0000)) && fl == hwl,
                  "f32→f64 \(rm) \(hex(f)): \(hex(rw)) \(fl) vs \(hex(hw.bitPattern)) \(hwl)")
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test("comparisons, min and max")
    func comparisons() {
        var g32 = OperandGenerator(seed: 0xC0, expBits: 8, fracBits: 23)
        var g64 = OperandGenerator(seed: 0xC1, expBits: 11, fracBits: 52)
        var failures: [String] = []
        for i in 0..<casesPerMode * 2 {
            let a = UInt32(g32.any())
            let b = UInt32(i % 3 == 0 ? UInt64(a) ^ (g32.rng.next() & 0x8000_0001) : g32.any())
            let fa = Float(bitPattern: a), fb = Float(bitPattern: b)
            let anyNaN = fa.isNaN || fb.isNaN
            let anySNaN = fa.isSignalingNaN || fb.isSignalingNaN
            var f1: UInt8 = 0, f2: UInt8 = 0, f3: UInt8 = 0
            let eq = SoftFloat.eq32(a, b, &f1), lt = SoftFloat.lt32(a, b, &f2), le = SoftFloat.le32(a, b, &f3)
            let ok = eq == (fa == fb) && lt == (fa < fb) && le == (fa <= fb)
                && f1 == (anySNaN ? FFlags.nv : 0) && f2 == (anyNaN ? FFlags.nv : 0) && f3 == f2
            if !ok && failures.count < 8 { failures.append("cmp32 \(hex(a)) \(hex(b))") }
            var fm: UInt8 = 0
            let mn = SoftFloat.min32(a, b, &fm), mx = SoftFloat.max32(a, b, &fm)
            let expectMin: UInt32, expectMax: UInt32
            if fa.isNaN && fb.isNaN { (expectMin, expectMax) = (0x7FC0_0000, 0x7FC0_0000) }
            else if fa.isNaN { (expectMin, expectMax) = (b, b) }
            else if fb.isNaN { (expectMin, expectMax) = (a, a) }
            else if fa == 0 && fb == 0 {
                let aNeg = fa.sign == .minus
                (expectMin, expectMax) = aNeg ? (a, b) : (b, a)
            } else { (expectMin, expectMax) = fa < fb ? (a, b) : (b, a) }
            if (mn != expectMin || mx != expectMax || fm != (anySNaN ? FFlags.nv : 0)) && failures.count < 8 {
                failures.append("minmax32 \(hex(a)) \(hex(b)): \(hex(mn)) \(hex(mx))")
            }

            let c = g64.any()
            let d = i % 3 == 0 ? c ^ (g64.rng.next() & 0x8000_0000_0000_0001) : g64.any()
            let dc = Double(bitPattern: c), dd = Double(bitPattern: d)
            var g1: UInt8 = 0, g2: UInt8 = 0, g3: UInt8 = 0
            let ok64 = SoftFloat.eq64(c, d, &g1) == (dc == dd) && SoftFloat.lt64(c, d, &g2) == (dc < dd)
                && SoftFloat.le64(c, d, &g3) == (dc <= dd)
                && g1 == (dc.isSignalingNaN || dd.isSignalingNaN ? FFlags.nv : 0)
                && g2 == (dc.isNaN || dd.isNaN ? FFlags.nv : 0) && g3 == g2
            if !ok64 && failures.count < 8 { failures.append("cmp64 \(hex(c)) \(hex(d))") }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
#endif
