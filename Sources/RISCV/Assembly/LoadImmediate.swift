// `li rd, constant` for any 64-bit constant: the shortest sequence of lui/addi(w)/slli/srli/xori
// we can find. The search is the one LLVM's RISC-V backend performs for the base ISA (no Zba/Zbb/
// Zbs), so that vmlab's output equals clang's byte for byte:
//
// 1. Recursive split: a 32-bit signed value is `lui` + `addi` (`addiw` where the sum must wrap
//    at 32 bits), or a lone `addi`/`lui`. Otherwise peel off the sign-extended low 12 bits (a
//    final `addi`), shift out the trailing zeros of the rest (a `slli`) — keeping 12 of them when
//    that makes the remainder `lui`-shaped — and recurse.
// 2. Alternatives, kept only when strictly shorter: strip trailing zeros of the whole value and
//    finish with `slli` (also preferred when the stripped value is a 6-bit `c.li` constant); turn a
//    low part like 0x17ff into 0x1800 and finish with `addi -1`; for positive values, shift the
//    leading zeros out (filling with ones, or zeros) and finish with `srli`; for negative values,
//    build the complement that way and finish with `xori -1`.

enum LoadImmediate {
    enum Step: Equatable {
        case lui(Int64)      // the 20-bit field value
        case addi(Int64)
        case addiw(Int64)
        case slli(Int64)
        case srli(Int64)
        case xori(Int64)
    }

    static func isInt(_ v: Int64, bits: Int) -> Bool {
        v >= -(Int64(1) << (bits - 1)) && v < (Int64(1) << (bits - 1))
    }

    /// The basic recursive sequence (step 1).
    static func basic(_ value: Int64, into seq: inout [Step]) {
        if isInt(value, bits: 32) {
            let hi20 = ((value &+ 0x800) >> 12) & 0xfffff
            let lo12 = signExtend12(value)
            if hi20 != 0 { seq.append(.lui(hi20)) }
            if lo12 != 0 || hi20 == 0 {
                // addiw only where lui + addi would leave the 32-bit range (LLVM prefers addi).
                let sum = Int64(Int32(truncatingIfNeeded: hi20 << 12)) + lo12
                seq.append(hi20 != 0 && !isInt(sum, bits: 32) ? .addiw(lo12) : .addi(lo12))
            }
            return
        }
        let lo12 = signExtend12(value)
        var v = value &- lo12
        var shift: Int64 = 0
        if !isInt(v, bits: 32) {
            shift = Int64(UInt64(bitPattern: v).trailingZeroBitCount)
            v >>= shift
            if shift > 12 && !isInt(v, bits: 12) && isInt(v << 12, bits: 32) && (v << 12) >> 12 == v {
                shift -= 12
                v <<= 12
            }
        }
        basic(v, into: &seq)
        if shift != 0 { seq.append(.slli(shift)) }
        if lo12 != 0 { seq.append(.addi(lo12)) }
    }

    /// Step 2's leading-zeros alternative for a positive value.
    static func leadingZeros(_ value: Int64, into result: inout [Step]) {
        let lz = UInt64(bitPattern: value).leadingZeroBitCount
        var shifted = UInt64(bitPattern: value) << UInt64(lz)
        shifted |= lz == 0 ? 0 : (UInt64.max >> UInt64(64 - lz))  // fill the vacated low bits with ones
        for candidate in [shifted, shifted & ~(lz == 0 ? 0 : (UInt64.max >> UInt64(64 - lz)))] {
            var tmp: [Step] = []
            basic(Int64(bitPattern: candidate), into: &tmp)
            if tmp.count + 1 < result.count || (result.isEmpty && candidate != 0) {
                tmp.append(.srli(Int64(lz)))
                result = tmp
            }
        }
    }

    /// The sequence for `value`.
    static func sequence(_ value: Int64) -> [Step] {
        var result: [Step] = []
        basic(value, into: &result)

        if value & 0xfff != 0 && value & 1 == 0 && result.count >= 2 {
            let tz = UInt64(bitPattern: value).trailingZeroBitCount
            let shifted = value >> Int64(tz)
            var tmp: [Step] = []
            basic(shifted, into: &tmp)
            if tmp.count + 1 < result.count || isInt(shifted, bits: 6) {
                tmp.append(.slli(Int64(tz)))
                result = tmp
            }
        }
        if result.count <= 2 { return result }

        if value & 0xfff != 0 && value & 0x1800 == 0x1000 {
            let imm12 = -(0x800 - (value & 0xfff))
            var tmp: [Step] = []
            basic(value &- imm12, into: &tmp)
            if tmp.count + 1 < result.count {
                tmp.append(.addi(imm12))
                result = tmp
            }
        }
        if value > 0 && result.count > 2 {
            leadingZeros(value, into: &result)
        }
        if value < 0 && result.count > 3 {
            var tmp: [Step] = []
            leadingZeros(~value, into: &tmp)
            if !tmp.isEmpty && tmp.count + 1 < result.count {
                tmp.append(.xori(-1))
                result = tmp
            }
        }
        return result
    }

    /// The instructions of `li rd, value`.
    static func instructions(rd: UInt8, value: Int64) -> [Instruction] {
        var out: [Instruction] = []
        var source: UInt8 = 0
        for step in sequence(value) {
            switch step {
            case .lui(let v): out.append(Instruction(opcode: .lui, rd: rd, imm: Int32(truncatingIfNeeded: v << 12)))
            case .addi(let v): out.append(Instruction(opcode: .addi, rd: rd, rs1: source, imm: Int32(v)))
            case .addiw(let v): out.append(Instruction(opcode: .addiw, rd: rd, rs1: source, imm: Int32(v)))
            case .slli(let v): out.append(Instruction(opcode: .slli, rd: rd, rs1: source, imm: Int32(v)))
            case .srli(let v): out.append(Instruction(opcode: .srli, rd: rd, rs1: source, imm: Int32(v)))
            case .xori(let v): out.append(Instruction(opcode: .xori, rd: rd, rs1: source, imm: Int32(v)))
            }
            source = rd
        }
        return out
    }
}
