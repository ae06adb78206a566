// The host FPU as a test oracle for the soft-float: x86-64 SSE arithmetic is IEEE 754 binary32 /
// binary64 with the rounding direction taken from MXCSR (set by glibc's `fesetround`) and sticky
// exception flags readable with `fetestexcept`. x86 SSE detects tininess after rounding, like
// RISC-V (the SSE underflow flag is raised for a tiny-after-rounding inexact result; the randomised
// tests compare UF and pass, which confirms it). The NaN a host produces is not RISC-V's canonical
// one, so NaN results are compared only as "is NaN". RMM has no host counterpart. x86 also leaves
// NV clear for 0 × ∞ + qNaN in fused multiply-add, where RISC-V raises it; the fma tests add it.
//
// Each oracle call runs unoptimised (`@_optimize(none)`) so that the compiler cannot move the
// operation across `feclearexcept`/`fetestexcept`, which it would otherwise treat as unrelated.

import GuestTestSupport

#if canImport(Glibc) && arch(x86_64)
import Glibc
@testable import Machine

// glibc's <fenv.h> values for x86-64 (bits/fenv.h); Swift imports the macros ambiguously, so they
// are restated here: exception bits match MXCSR/x87 status bits, rounding modes the x87 RC field.
private let FE_INVALID: Int32 = 0x01, FE_DIVBYZERO: Int32 = 0x04, FE_OVERFLOW: Int32 = 0x08
private let FE_UNDERFLOW: Int32 = 0x10, FE_INEXACT: Int32 = 0x20, FE_ALL_EXCEPT: Int32 = 0x3D
private let FE_TONEAREST: Int32 = 0, FE_DOWNWARD: Int32 = 0x400, FE_UPWARD: Int32 = 0x800
private let FE_TOWARDZERO: Int32 = 0xC00

enum HostOracle {
    static let modes: [(RoundingMode, Int32)] = [
        (.rne, (FE_TONEAREST)), (.rtz, (FE_TOWARDZERO)),
        (.rdn, (FE_DOWNWARD)), (.rup, (FE_UPWARD)),
    ]

    /// The host's flags translated to `fflags` bits.
    static func fflags(_ e: Int32) -> UInt8 {
        var f: UInt8 = 0
        if e & (FE_INEXACT) != 0 { f |= FFlags.nx }
        if e & (FE_UNDERFLOW) != 0 { f |= FFlags.uf }
        if e & (FE_OVERFLOW) != 0 { f |= FFlags.of }
        if e & (FE_DIVBYZERO) != 0 { f |= FFlags.dz }
        if e & (FE_INVALID) != 0 { f |= FFlags.nv }
        return f
    }

    /// Runs `body` in the host rounding mode `mode` with cleared flags; returns its result and the
    /// flags it raised. The rounding mode is restored to nearest afterwards.
    @_optimize(none)
    static func run<T>(_ mode: Int32, _ body: () -> T) -> (T, UInt8) {
        fesetround(mode)
        feclearexcept((FE_ALL_EXCEPT))
        let r = body()
        let e = fetestexcept((FE_ALL_EXCEPT))
        fesetround((FE_TONEAREST))
        return (r, fflags(e))
    }

    @_optimize(none) static func add(_ a: Float, _ b: Float) -> Float { a + b }
    @_optimize(none) static func sub(_ a: Float, _ b: Float) -> Float { a - b }
    @_optimize(none) static func mul(_ a: Float, _ b: Float) -> Float { a * b }
    @_optimize(none) static func div(_ a: Float, _ b: Float) -> Float { a / b }
    @_optimize(none) static func sqrt(_ a: Float) -> Float { a.squareRoot() }
    @_optimize(none) static func fma(_ a: Float, _ b: Float, _ c: Float) -> Float { fmaf(a, b, c) }
    @_optimize(none) static func add(_ a: Double, _ b: Double) -> Double { a + b }
    @_optimize(none) static func sub(_ a: Double, _ b: Double) -> Double { a - b }
    @_optimize(none) static func mul(_ a: Double, _ b: Double) -> Double { a * b }
    @_optimize(none) static func div(_ a: Double, _ b: Double) -> Double { a / b }
    @_optimize(none) static func sqrt(_ a: Double) -> Double { a.squareRoot() }
    @_optimize(none) static func fma(_ a: Double, _ b: Double, _ c: Double) -> Double { Glibc.fma(a, b, c) }
    @_optimize(none) static func narrow(_ a: Double) -> Float { Float(a) }
    @_optimize(none) static func widen(_ a: Float) -> Double { Double(a) }
    @_optimize(none) static func rint(_ a: Double) -> Double { Glibc.rint(a) }
    @_optimize(none) static func rint(_ a: Float) -> Float { Glibc.rintf(a) }
    @_optimize(none) static func f32(_ x: Int64) -> Float { Float(x) }
    @_optimize(none) static func f32(_ x: UInt64) -> Float { Float(x) }
    @_optimize(none) static func f64(_ x: Int64) -> Double { Double(x) }
    @_optimize(none) static func f64(_ x: UInt64) -> Double { Double(x) }
    @_optimize(none) static func f32(_ x: Int32) -> Float { Float(x) }
    @_optimize(none) static func f32(_ x: UInt32) -> Float { Float(x) }
}
#endif

/// Random operands that visit the interesting places often: every exponent from subnormal to
/// NaN, significands with long runs of ones or zeros (rounding boundaries), and exponents close
/// to a reference (cancellation, fma alignment).
struct OperandGenerator {
    var rng: SplitMix64
    let expBits: Int
    let fracBits: Int

    init(seed: UInt64, expBits: Int, fracBits: Int) {
        rng = SplitMix64(seed: seed)
        self.expBits = expBits
        self.fracBits = fracBits
    }

    var expMax: Int { (1 << expBits) - 1 }

    mutating func fraction() -> UInt64 {
        let mask: UInt64 = (1 << UInt64(fracBits)) - 1
        let r = rng.next()
        switch r % 8 {
        case 0: return mask  // all ones
        case 1: return (rng.next() & 1) << UInt64(rng.next() % UInt64(fracBits))  // one bit or 0
        case 2: return mask >> (rng.next() % UInt64(fracBits))  // low run of ones
        case 3: return mask & ~(mask >> (rng.next() % UInt64(fracBits)))  // high run of ones
        default: return rng.next() & mask
        }
    }

    mutating func exponent() -> Int {
        switch rng.next() % 16 {
        case 0: return 0  // zero / subnormal
        case 1: return expMax  // inf / NaN (rare)
        case 2: return 1 + Int(rng.next() % 3)
        case 3: return expMax - 1 - Int(rng.next() % 3)
        default: return Int(rng.next() % UInt64(expMax + 1))
        }
    }

    /// Around the middle of the range, so products and quotients stay finite and normal mostly.
    mutating func centralExponent() -> Int {
        let bias = (1 << (expBits - 1)) - 1
        return bias - 20 + Int(rng.next() % 41)
    }

    mutating func value(exponent e: Int) -> UInt64 {
        let e = min(max(e, 0), expMax)
        let sign = rng.next() & 1
        return (sign << UInt64(expBits + fracBits)) | (UInt64(e) << UInt64(fracBits)) | fraction()
    }

    mutating func any() -> UInt64 {
        let e = exponent()
        return value(exponent: e)
    }

    /// A value whose exponent is within a few of `e`.
    mutating func near(_ e: Int) -> UInt64 {
        value(exponent: e + Int(rng.next() % 7) - 3)
    }

    func exponentOf(_ x: UInt64) -> Int {
        Int((x >> UInt64(fracBits)) & UInt64(expMax))
    }

    mutating func bool() -> Bool { rng.next() & 1 != 0 }
}
