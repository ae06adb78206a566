// Randomised comparison of the soft-float with the host FPU in the four rounding modes x86-64 has
// (RNE, RTZ, RDN, RUP): result bits (NaNs compared as "is NaN") and all five exception flags.
// Seeded, so a failure reproduces; the first mismatches are reported with operands in hex.

#if canImport(Glibc) && arch(x86_64)
import GuestTestSupport
import Glibc
import Testing
@testable import Machine

private let casesPerMode = 20_000

private func hex<T: BinaryInteger>(_ x: T) -> String { "0x" + String(x, radix: 16) }

/// Collects mismatches; reports at most a few so a systematic bug does not flood the log.
private struct Mismatches {
    var count = 0
    var first: [String] = []
    mutating func check(_ ok: Bool, _ what: @autoclosure () -> String) {
        if ok { return }
        count += 1
        if first.count < 8 { first.append(what()) }
    }
    func expectNone(_ label: String) {
        #expect(count == 0, "\(label): \(count) mismatches, e.g.\n\(first.joined(separator: "\n"))")
    }
}

/// The soft result `a` matches the host's `b`: the same bits, or the canonical NaN where the host
/// produced any NaN.
private func sameFloat(_ a: UInt32, _ b: UInt32) -> Bool {
    a == b || (a == 0x7FC0_0000 && Float(bitPattern: b).isNaN)
}
private func sameDouble(_ a: UInt64, _ b: UInt64) -> Bool {
    a == b || (a == 0x7FF8_0000_0000_0000 && Double(bitPattern: b).isNaN)
}

private let modeIndices = Array(0..<4)

/// x86 leaves NV clear for 0 × ∞ + qNaN; RISC-V raises it (see `FusedMultiplyAdd.swift`).
private func riscvOnlyInvalid<T: BinaryFloatingPoint>(_ a: T, _ b: T, _ c: T) -> UInt8 {
    let zeroTimesInfinity = (a.isInfinite && b == 0) || (a == 0 && b.isInfinite)
    return zeroTimesInfinity && c.isNaN ? FFlags.nv : 0
}

extension OperandGenerator {
    /// The second operand: random, or close in exponent to the first (cancellation in add/sub),
    /// or placing the product or the quotient next to the subnormal boundary (tininess).
    mutating func second(for a: UInt64, _ i: Int) -> UInt64 {
        let bias = (1 << (expBits - 1)) - 1
        let ea = exponentOf(a)
        switch i % 4 {
        case 0: return any()
        case 1: return near(ea)
        case 2: return near(bias + 1 - ea)  // product around 2^(1 − bias)
        default: return near(ea - 1)  // quotient around 1, sums with one-bit shifts
        }
    }
}

@Suite("SoftFloat against the host FPU")
struct SoftFloatOracleTests {
    @Test("binary32 add/sub/mul/div/sqrt/fma", arguments: modeIndices)
    func binary32Arithmetic(modeIndex: Int) {
        let (rm, hostMode) = HostOracle.modes[modeIndex]
        var g = OperandGenerator(seed: 0xF32 &+ UInt64(modeIndex), expBits: 8, fracBits: 23)
        var bad = Mismatches()
        for i in 0..<casesPerMode {
            let a = UInt32(g.any())
            let b = UInt32(g.second(for: UInt64(a), i))
            let fa = Float(bitPattern: a), fb = Float(bitPattern: b)
            typealias Op = (String, (UInt32, UInt32, RoundingMode, inout UInt8) -> UInt32,
                            (Float, Float) -> Float)
            let ops: [Op] = [
                ("add", SoftFloat.add32, HostOracle.add), ("sub", SoftFloat.sub32, HostOracle.sub),
                ("mul", SoftFloat.mul32, HostOracle.mul), ("div", SoftFloat.div32, HostOracle.div),
            ]
            for (name, soft, host) in ops {
                var flags: UInt8 = 0
                let r = soft(a, b, rm, &flags)
                let (h, hf) = HostOracle.run(hostMode) { host(fa, fb) }
                bad.check(sameFloat(r, h.bitPattern) && flags == hf,
                          "\(name) \(rm) \(hex(a)) \(hex(b)): soft \(hex(r)) flags \(flags), host \(hex(h.bitPattern)) flags \(hf)")
            }
            var flags: UInt8 = 0
            let r = SoftFloat.sqrt32(a, rm, &flags)
            let (h, hf) = HostOracle.run(hostMode) { HostOracle.sqrt(fa) }
            bad.check(sameFloat(r, h.bitPattern) && flags == hf,
                      "sqrt \(rm) \(hex(a)): soft \(hex(r)) flags \(flags), host \(hex(h.bitPattern)) flags \(hf)")
            // fma: the addend near the product's exponent half of the time, for cancellation.
            let ea = g.exponentOf(UInt64(a)), eb = g.exponentOf(UInt64(b))
            let c = UInt32(g.bool() ? g.any() : g.near(ea + eb - 127))
            var ff: UInt8 = 0
            let rf = SoftFloat.fma32(a, b, c, rm, &ff)
            let (hfma, hostFlags) = HostOracle.run(hostMode) { HostOracle.fma(fa, fb, Float(bitPattern: c)) }
            let hff = hostFlags | riscvOnlyInvalid(fa, fb, Float(bitPattern: c))
            bad.check(sameFloat(rf, hfma.bitPattern) && ff == hff,
                      "fma \(rm) \(hex(a)) \(hex(b)) \(hex(c)): soft \(hex(rf)) flags \(ff), host \(hex(hfma.bitPattern)) flags \(hff)")
        }
        bad.expectNone("binary32 \(rm)")
    }

    @Test("binary64 add/sub/mul/div/sqrt/fma", arguments: modeIndices)
    func binary64Arithmetic(modeIndex: Int) {
        let (rm, hostMode) = HostOracle.modes[modeIndex]
        var g = OperandGenerator(seed: 0xF64 &+ UInt64(modeIndex), expBits: 11, fracBits: 52)
        var bad = Mismatches()
        for i in 0..<casesPerMode {
            let a = g.any()
            let b = g.second(for: a, i)
            let fa = Double(bitPattern: a), fb = Double(bitPattern: b)
            typealias Op = (String, (UInt64, UInt64, RoundingMode, inout UInt8) -> UInt64,
                            (Double, Double) -> Double)
            let ops: [Op] = [
                ("add", SoftFloat.add64, HostOracle.add), ("sub", SoftFloat.sub64, HostOracle.sub),
                ("mul", SoftFloat.mul64, HostOracle.mul), ("div", SoftFloat.div64, HostOracle.div),
            ]
            for (name, soft, host) in ops {
                var flags: UInt8 = 0
                let r = soft(a, b, rm, &flags)
                let (h, hf) = HostOracle.run(hostMode) { host(fa, fb) }
                bad.check(sameDouble(r, h.bitPattern) && flags == hf,
                          "\(name) \(rm) \(hex(a)) \(hex(b)): soft \(hex(r)) flags \(flags), host \(hex(h.bitPattern)) flags \(hf)")
            }
            var flags: UInt8 = 0
            let r = SoftFloat.sqrt64(a, rm, &flags)
            let (h, hf) = HostOracle.run(hostMode) { HostOracle.sqrt(fa) }
            bad.check(sameDouble(r, h.bitPattern) && flags == hf,
                      "sqrt \(rm) \(hex(a)): soft \(hex(r)) flags \(flags), host \(hex(h.bitPattern)) flags \(hf)")
            let ea = g.exponentOf(a), eb = g.exponentOf(b)
            let c = g.bool() ? g.any() : g.near(ea + eb - 1023)
            var ff: UInt8 = 0
            let rf = SoftFloat.fma64(a, b, c, rm, &ff)
            let (hfma, hostFlags) = HostOracle.run(hostMode) { HostOracle.fma(fa, fb, Double(bitPattern: c)) }
            let hff = hostFlags | riscvOnlyInvalid(fa, fb, Double(bitPattern: c))
            bad.check(sameDouble(rf, hfma.bitPattern) && ff == hff,
                      "fma \(rm) \(hex(a)) \(hex(b)) \(hex(c)): soft \(hex(rf)) flags \(ff), host \(hex(hfma.bitPattern)) flags \(hff)")
        }
        bad.expectNone("binary64 \(rm)")
    }

    /// Products within a few units of the smallest normal number, where tininess after rounding
    /// and tininess before rounding disagree: b is 2^emin / a nudged by a few units.
    @Test("products at the subnormal boundary", arguments: modeIndices)
    func tininessBoundary(modeIndex: Int) {
        let (rm, hostMode) = HostOracle.modes[modeIndex]
        var rng = SplitMix64(seed: 0x71D &+ UInt64(modeIndex))
        var bad = Mismatches()
        for _ in 0..<casesPerMode / 4 {
            let a = UInt32(0x3F80_0000 | (rng.next() & 0x7F_FFFF)) ^ UInt32(rng.next() & 0x8000_0000)
            let quotient = Float.leastNormalMagnitude / Float(bitPattern: a).magnitude
            let b = quotient.bitPattern &+ UInt32(truncatingIfNeeded: Int(rng.next() % 7) - 3)
            var flags: UInt8 = 0
            let r = SoftFloat.mul32(a, b, rm, &flags)
            let (h, hf) = HostOracle.run(hostMode) { HostOracle.mul(Float(bitPattern: a), Float(bitPattern: b)) }
            bad.check(r == h.bitPattern && flags == hf,
                      "mul \(rm) \(hex(a)) \(hex(b)): soft \(hex(r)) flags \(flags), host \(hex(h.bitPattern)) flags \(hf)")

            let c = 0x3FF0_0000_0000_0000 | (rng.next() & 0xF_FFFF_FFFF_FFFF)
            let dq = Double.leastNormalMagnitude / Double(bitPattern: c)
            let d = dq.bitPattern &+ UInt64(bitPattern: Int64(rng.next() % 7) - 3)
            var flags64: UInt8 = 0
            let r64 = SoftFloat.mul64(c, d, rm, &flags64)
            let (h64, hf64) = HostOracle.run(hostMode) { HostOracle.mul(Double(bitPattern: c), Double(bitPattern: d)) }
            bad.check(r64 == h64.bitPattern && flags64 == hf64,
                      "mul \(rm) \(hex(c)) \(hex(d)): soft \(hex(r64)) flags \(flags64), host \(hex(h64.bitPattern)) flags \(hf64)")
        }
        bad.expectNone("boundary \(rm)")
    }
}
#endif
