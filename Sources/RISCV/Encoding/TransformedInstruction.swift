// The values a trap writes to mtinst/htinst (privileged spec, hypervisor chapter, "Trap Value
// Registers" and "Transformed Instruction or Pseudoinstruction for mtinst or htinst"). A VMM that
// emulates a guest's faulting access reads the transformed instruction instead of fetching and
// decoding guest memory: the access's width, direction and destination register stay, the address
// fields go.
//
// - loads (integer and FP): the I-type word with imm[11:0] cleared;
// - stores (integer and FP): the S-type word with both immediate fields cleared;
// - atomics and the hypervisor loads/stores: the word unchanged;
// and in every case rs1 replaced by the "Addr. Offset" (the faulting address minus the original
// effective address, non-zero only for a misaligned access split at a fault), and bit 1 cleared
// when the trapping instruction was compressed (the 32-bit equivalent stands in for it).

public enum TransformedInstruction {
    /// The pseudoinstructions written for a guest-page fault on an implicit access of a VS-stage
    /// page-table walk (64-bit read, and write for an A/D-bit update).
    public static let vsStageRead64: UInt32 = 0x0000_3000
    public static let vsStageWrite64: UInt32 = 0x0000_3020
    /// The same for RV32 page tables (32-bit accesses), for completeness of the spec's table.
    public static let vsStageRead32: UInt32 = 0x0000_2000
    public static let vsStageWrite32: UInt32 = 0x0000_2020

    /// The transformed form of a trapping memory instruction, or 0 (which the spec allows for any
    /// trap) when `inst` is not a load, store, atomic or hypervisor load/store.
    public static func of(_ inst: Instruction, addressOffset: UInt8 = 0) -> UInt32 {
        guard inst.opcode.accessesMemory else { return 0 }
        var word = Encoder.encode(inst)
        switch inst.opcode.info.format {
        case .load, .fpLoad:
            word &= ~0xfff0_0000           // imm[11:0]
        case .store, .fpStore:
            word &= ~(0xfe00_0000 | 0xf80)  // imm[11:5] and imm[4:0]
        default:
            break                           // AMO, LR/SC, HLV/HSV keep every field but rs1
        }
        word = (word & ~(0x1f << 15)) | UInt32(addressOffset & 31) << 15
        if inst.length == 2 { word &= ~0b10 }
        return word
    }
}
