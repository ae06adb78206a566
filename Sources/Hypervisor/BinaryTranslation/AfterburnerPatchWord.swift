// The word the afterburner writes over a sensitive instruction: a "call into the in-place VMM".
//
// It uses major opcode custom-0 (inst[6:0] = 0b0001011), which the unprivileged spec reserves for
// custom extensions ("RISC-V Base Opcode Map", "Extending RISC-V": custom-0 and custom-1 are
// "avoided by standard extensions"), so no standard instruction is lost to it and a machine
// without such an extension (vmlab's) takes an illegal-instruction exception on it. The 25 bits
// above the opcode, inst[31:7], index the afterburner's patch-site table: the VMM recognises the
// word, looks the site up, and emulates the instruction that was there. Every sensitive RV64
// instruction is 32 bits wide (the C extension has no CSR, sret, wfi, sfence.vma or ecall form),
// so one patch word covers exactly one instruction and never spills onto its neighbour.

import RISCV

/// The encoding of afterburner patch words (custom-0 opcode, site index in inst[31:7]).
public enum AfterburnerPatchWord {
    /// Major opcode custom-0, inst[6:0] (unprivileged spec, "RISC-V Base Opcode Map").
    public static let opcode: UInt32 = 0b000_1011
    /// Sites a patch word can name: inst[31:7] is 25 bits wide.
    public static let capacity = 1 << 25

    /// The patch word for site `index` (which must be below `capacity`: the afterburner stops
    /// patching before that).
    public static func encode(_ index: Int) -> UInt32 {
        precondition(index >= 0 && index < capacity, "patch index \(index) out of range")
        return UInt32(index) << 7 | opcode
    }

    /// The site index a word names, or nil when it is not a 32-bit custom-0 word. Any custom-0
    /// word answers: whether it is one the afterburner wrote (a known site, at that site's
    /// address) is the site table's question, not the encoding's.
    public static func index(of word: UInt32) -> Int? {
        word & 0x7f == opcode ? Int(word >> 7) : nil
    }

    /// The site index of a decoded instruction: a custom-0 word decodes as `.illegal`, 4 bytes,
    /// with its bits in `raw`.
    public static func index(of instruction: Instruction) -> Int? {
        guard instruction.opcode == .illegal, instruction.length == 4 else { return nil }
        return index(of: instruction.raw)
    }
}
