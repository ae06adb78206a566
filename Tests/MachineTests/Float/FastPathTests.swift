// The fast paths (host RNE arithmetic, binary32 fma through binary64, binary64 fma for normal
// operands) must be indistinguishable from the general integer soft-float: same bits, same flags,
// for operands on both sides of their guards (exponent fields next to each limit) and at random.

import Testing
@testable import Machine

@Suite("Fast paths agree with the general soft-float")
struct FastPathTests {
    /// Operands whose exponent fields sit at and next to the fast path's limits, plus random ones.
    private func operands(_ g: inout OperandGenerator, limits: [Int], _ i: Int) -> UInt64 {
        if i % 2 == 0 { return g.any() }
        let e = limits[Int(g.rng.next() % UInt64(limits.count))] + Int(g.rng.next() % 3) - 1
        return g.value(exponent: e)
    }

    @Test("binary64 add, sub, mul, div, sqrt")
    func binary64() {
        var g = OperandGenerator(seed: 0xFA57_64, expBits: 11, fracBits: 52)
        var failures: [String] = []
        for i in 0..<60_000 {
            let a = operands(&g, limits: [1, 54, 1023, 2045, 2046], i)
            // For products, aim the second exponent so the sum of fields lands near 1024 or 3067.
            // The second exponent aims the product's field sum at 1024 or 3067, or the quotient's
            // difference at 2 or 2045 (the limits of the guards), or sits near a limit itself.
            let aim = [1024 - g.exponentOf(a), 3067 - g.exponentOf(a),
                       g.exponentOf(a) + 1021, g.exponentOf(a) - 1022][i % 4]
            let b = i % 3 == 0
                ? g.value(exponent: aim + Int(g.rng.next() % 5) - 2)
                : operands(&g, limits: [1, 54, 1023, 2045, 2046], i / 2)
            for op in 0..<5 {
                var fast: UInt8 = 0, soft: UInt8 = 0
                let r: UInt64, s: UInt64
                switch op {
                case 0: r = SoftFloat.add64(a, b, .rne, &fast); s = Binary64Format.add(a, b, subtract: false, .rne, &soft)
                case 1: r = SoftFloat.sub64(a, b, .rne, &fast); s = Binary64Format.add(a, b, subtract: true, .rne, &soft)
                case 2: r = SoftFloat.mul64(a, b, .rne, &fast); s = Binary64Format.mul(a, b, .rne, &soft)
                case 3: r = SoftFloat.div64(a, b, .rne, &fast); s = Binary64Format.div(a, b, .rne, &soft)
                default: r = SoftFloat.sqrt64(a, .rne, &fast); s = Binary64Format.sqrt(a, .rne, &soft)
                }
                if (r != s || fast != soft) && failures.count < 8 {
                    failures.append("op \(op) 0x\(String(a, radix: 16)) 0x\(String(b, radix: 16))")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("binary32 add, sub, mul, div, sqrt")
    func binary32() {
        var g = OperandGenerator(seed: 0xFA57_32, expBits: 8, fracBits: 23)
        var failures: [String] = []
        for i in 0..<60_000 {
            let a = UInt32(operands(&g, limits: [1, 25, 127, 253, 254], i))
            let ea = g.exponentOf(UInt64(a))
            let aim = [128 - ea, 380 - ea, ea + 125, ea - 126][i % 4]
            let b = UInt32(i % 3 == 0
                ? g.value(exponent: aim + Int(g.rng.next() % 5) - 2)
                : operands(&g, limits: [1, 25, 127, 253, 254], i / 2))
            for op in 0..<5 {
                var fast: UInt8 = 0, soft: UInt8 = 0
                let r: UInt32, s: UInt64
                switch op {
                case 0:
                    r = SoftFloat.add32(a, b, .rne, &fast)
                    s = Binary32Format.add(UInt64(a), UInt64(b), subtract: false, .rne, &soft)
                case 1:
                    r = SoftFloat.sub32(a, b, .rne, &fast)
                    s = Binary32Format.add(UInt64(a), UInt64(b), subtract: true, .rne, &soft)
                case 2:
                    r = SoftFloat.mul32(a, b, .rne, &fast)
                    s = Binary32Format.mul(UInt64(a), UInt64(b), .rne, &soft)
                case 3:
                    r = SoftFloat.div32(a, b, .rne, &fast)
                    s = Binary32Format.div(UInt64(a), UInt64(b), .rne, &soft)
                default:
                    r = SoftFloat.sqrt32(a, .rne, &fast)
                    s = Binary32Format.sqrt(UInt64(a), .rne, &soft)
                }
                if (UInt64(r) != s || fast != soft) && failures.count < 8 {
                    failures.append("op \(op) 0x\(String(a, radix: 16)) 0x\(String(b, radix: 16))")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test("exactness decided right at the edges")
    func exactness() {
        var f: UInt8 = 0
        // Products whose odd parts need exactly 53 bits, and one more.
        #expect(SoftFloat.mul64(0x4330_0000_0000_0001, 0x4000_0000_0000_0000, .rne, &f) == 0x4340_0000_0000_0001)
        #expect(f == 0)  // (2^52 + 1) × 2 is exact
        #expect(SoftFloat.mul64(0x4330_0000_0000_0001, 0x4008_0000_0000_0000, .rne, &f) == 0x4348_0000_0000_0002)
        #expect(f == FFlags.nx)  // (2^52 + 1) × 3 needs 54 bits
        f = 0
        #expect(SoftFloat.add64(0x3FF0_0000_0000_0000, 0x3CA0_0000_0000_0000, .rne, &f) == 0x3FF0_0000_0000_0000)
        #expect(f == FFlags.nx)  // 1 + 2^-53: a tie, rounded to even
        f = 0
        #expect(SoftFloat.add64(0x3FF8_0000_0000_0000, 0x3FE0_0000_0000_0000, .rne, &f) == 0x4000_0000_0000_0000)
        #expect(f == 0)  // 1.5 + 0.5: the low bits cancel into a carry, exactly
        #expect(SoftFloat.sub64(0x3FF0_0000_0000_0000, 0x3FF0_0000_0000_0000, .rne, &f) == 0)
        #expect(f == 0)  // x − x = +0
        #expect(SoftFloat.mul32(0x4B00_0001, 0x4040_0000, .rne, &f) == 0x4BC0_0002)
        #expect(f == FFlags.nx)  // (2^23 + 1) × 3 needs 25 bits
        f = 0
        #expect(SoftFloat.div64(0x4018_0000_0000_0000, 0x4008_0000_0000_0000, .rne, &f) == 0x4000_0000_0000_0000)
        #expect(f == 0)  // 6 / 3
        #expect(SoftFloat.div64(0x3FF0_0000_0000_0000, 0x4008_0000_0000_0000, .rne, &f) == 0x3FD5_5555_5555_5555)
        #expect(f == FFlags.nx)  // 1 / 3
        f = 0
        #expect(SoftFloat.sqrt64(0x4022_0000_0000_0000, .rne, &f) == 0x4008_0000_0000_0000)
        #expect(f == 0)  // √9
        #expect(SoftFloat.sqrt64(0x4000_0000_0000_0000, .rne, &f) == 0x3FF6_A09E_667F_3BCD)
        #expect(f == FFlags.nx)  // √2
        f = 0
        #expect(SoftFloat.sqrt32(0x4080_0000, .rne, &f) == 0x4000_0000 && f == 0)  // √4
        #expect(SoftFloat.div32(0x3F80_0000, 0x4040_0000, .rne, &f) == 0x3EAA_AAAB && f == FFlags.nx)
    }

    @Test("binary32 fma through binary64")
    func binary32FusedMultiplyAdd() {
        var g = OperandGenerator(seed: 0xFA57_F3A, expBits: 8, fracBits: 23)
        var failures: [String] = []
        for i in 0..<60_000 {
            let a = UInt32(operands(&g, limits: [1, 64, 127, 190, 254], i))
            let b = UInt32(operands(&g, limits: [1, 64, 127, 190, 254], i / 2))
            let ep = g.exponentOf(UInt64(a)) + g.exponentOf(UInt64(b)) - 127
            // Addends that cancel the product, sit just below its rounding point, or are random.
            let c: UInt32
            switch i % 4 {
            case 0: c = UInt32(g.any())
            case 1: c = UInt32(g.near(ep))
            case 2: c = UInt32(g.near(ep - 24))
            default: c = UInt32(g.near(ep - 48))
            }
            var fast: UInt8 = 0, soft: UInt8 = 0
            let r = SoftFloat.fma32(a, b, c, .rne, &fast)
            let s = Binary32Format.fma(UInt64(a), UInt64(b), UInt64(c), .rne, &soft)
            if (UInt64(r) != s || fast != soft) && failures.count < 8 {
                failures.append("0x\(String(a, radix: 16)) 0x\(String(b, radix: 16)) 0x\(String(c, radix: 16))")
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        // (1 + 2^-23)(1 − 2^-24) + 2^-47(1 + 2^-23) = 1 + 2^-24 + 2^-70: binary64 rounding lands
        // on the binary32 midpoint 1 + 2^-24, but the exact sum is above it, so it rounds up.
        var f: UInt8 = 0
        #expect(SoftFloat.fma32(0x3F80_0001, 0x3F7F_FFFF, 0x2800_0001, .rne, &f) == 0x3F80_0001)
        #expect(f == FFlags.nx)
        f = 0
        #expect(SoftFloat.fma32(0x3F80_0001, 0x3F7F_FFFF, 0xA800_0001, .rne, &f) == 0x3F80_0000)
        #expect(f == FFlags.nx)  // just below the midpoint: rounds down
    }

    @Test("binary64 fma normal-operand path", arguments: [RoundingMode.rne, .rtz, .rdn, .rup, .rmm])
    func binary64FusedMultiplyAdd(rm: RoundingMode) {
        var g = OperandGenerator(seed: 0xF3A_64 &+ UInt64(rm.rawValue), expBits: 11, fracBits: 52)
        var failures: [String] = []
        for i in 0..<40_000 {
            let a = operands(&g, limits: [1, 500, 1023, 1500, 2046], i)
            let b = operands(&g, limits: [1, 500, 1023, 1500, 2046], i / 2)
            let ep = g.exponentOf(a) + g.exponentOf(b) - 1023
            // Addends around every regime of the frame: far below, overlapping (cancellation),
            // just above the 74-bit limit and far above; and the product's own boundaries.
            let c: UInt64
            switch i % 6 {
            case 0: c = g.any()
            case 1: c = g.near(ep)
            case 2: c = g.near(ep - 60)
            case 3: c = g.near(ep + 53)
            case 4: c = g.near(ep + 100)
            default: c = g.near(ep - 120)
            }
            var fast: UInt8 = 0, soft: UInt8 = 0
            let r = SoftFloat.fma64(a, b, c, rm, &fast)
            let s = Binary64Format.fma(a, b, c, rm, &soft)
            if (r != s || fast != soft) && failures.count < 8 {
                failures.append("0x\(String(a, radix: 16)) 0x\(String(b, radix: 16)) 0x\(String(c, radix: 16))")
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }
}
