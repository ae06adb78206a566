// What an AMO writes back (unprivileged spec, "Atomic Memory Operations"): one definition for the
// hart that executes one (Machine) and for a VMM that performs a guest's AMO itself on a page it
// traces (Hypervisor's shadow page tables and binary translator).

extension Opcode {
    /// The value AMO `self` stores, from the value `old` it read and the operand (rs2). Word forms
    /// use the low 32 bits of both, as signed or unsigned words, whatever the upper bits hold; the
    /// caller stores the low `memoryAccessWidth` bytes. Any other opcode gives `operand`.
    @inlinable
    public func amoResult(old a: UInt64, operand b: UInt64) -> UInt64 {
        @inline(__always) func s32(_ v: UInt64) -> Int32 { Int32(truncatingIfNeeded: v) }
        @inline(__always) func u32(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v) }
        switch self {
        case .amoadd_w, .amoadd_d: return a &+ b
        case .amoxor_w, .amoxor_d: return a ^ b
        case .amoand_w, .amoand_d: return a & b
        case .amoor_w, .amoor_d: return a | b
        case .amomin_w: return s32(a) < s32(b) ? a : b
        case .amomax_w: return s32(a) > s32(b) ? a : b
        case .amominu_w: return u32(a) < u32(b) ? a : b
        case .amomaxu_w: return u32(a) > u32(b) ? a : b
        case .amomin_d: return Int64(bitPattern: a) < Int64(bitPattern: b) ? a : b
        case .amomax_d: return Int64(bitPattern: a) > Int64(bitPattern: b) ? a : b
        case .amominu_d: return a < b ? a : b
        case .amomaxu_d: return a > b ? a : b
        default: return b   // amoswap
        }
    }
}
