// Finding what the afterburner patches: the guest kernel's text, swept instruction by instruction.
//
// The text is the kernel ELF's executable PT_LOAD segments (p_flags has PF_X; System V gABI,
// "Program Header"), at their physical addresses (p_paddr, where the loader put them), file bytes
// only: the zero-filled tail of a segment (p_memsz past p_filesz) holds no code at load time.
//
// The sweep is linear: from the segment's first (2-byte aligned) byte, take one instruction, step
// by its length, repeat. RISC-V tells an instruction's length from its first halfword (inst[1:0]
// != 0b11: 16 bits, else 32; unprivileged spec, "Expanded Instruction-Length Encoding"), so a
// sweep over pure code never loses step. That is the assumption: clang and lld put no data in
// .text on RISC-V (constants go to .rodata or are built by lui/addi; jump tables too; alignment
// padding is whole nops). If data were in the text anyway, the sweep would decode it as
// instructions: a data word that happens to look like a sensitive instruction would be patched
// (the data the kernel reads would change: corruption, as with any disassembler-driven patcher),
// and the sweep could fall out of step for an instruction or two after it (a sensitive
// instruction it then misses is not patched: it traps and is emulated as in `trap`, correct but
// slower). The L4Ka afterburner avoided the question by working on the assembler's output, where
// the compiler marks what is code [LeVasseur05]; vmlab patches a binary, so it states the
// assumption and checks what it can (each segment's loaded bytes must equal the file's).

import Boot
import Machine
import RISCV

/// The guest kernel's text as the afterburner sees it.
public struct AfterburnerText: Sendable, Equatable {
    /// Guest-physical ranges of loaded code, one per executable segment.
    public var ranges: [MemoryRange] = []
    /// Why something was not scanned (a raw kernel image, a segment whose bytes changed).
    public var notes: [String] = []

    public init(ranges: [MemoryRange] = [], notes: [String] = []) {
        self.ranges = ranges
        self.notes = notes
    }

    /// The text of the kernel `board` was booted with, checked against what is in `machine`'s
    /// RAM now (the loaded bytes, before the guest runs).
    public static func of(_ board: VirtBoard, in machine: Machine) -> AfterburnerText {
        // The bytes the board read at boot (not the file again, which may have changed or grown
        // since); they are still checked byte for byte against guest memory below.
        guard let source = board.configuration.kernel, let bytes = board.kernelImage else {
            return AfterburnerText(notes: ["no kernel: nothing to patch"])
        }
        guard bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]), let file = try? ELFFile(bytes: bytes) else {
            return AfterburnerText(notes: ["kernel '\(source.name)' is a raw image: no program headers say where its code is, nothing patched"])
        }
        return of(file, bytes: bytes, in: machine)
    }

    /// The executable segments of `file` (whose bytes are `bytes`) that `machine` holds as loaded.
    public static func of(_ file: ELFFile, bytes: [UInt8], in machine: Machine) -> AfterburnerText {
        var text = AfterburnerText()
        for segment in file.segments where segment.isExecutable && segment.fileSize > 0 {
            let range = MemoryRange(address: segment.physicalAddress, size: segment.fileSize)
            let start = Int(segment.fileOffset), end = start + Int(segment.fileSize)
            guard end <= bytes.count, let loaded = machine.readPhysical(at: range.address, count: Int(range.size)) else {
                text.notes.append("segment \(segment.index) at \(range) is not in RAM: not scanned")
                continue
            }
            guard loaded.elementsEqual(bytes[start..<end]) else {
                text.notes.append("segment \(segment.index) at \(range) differs from the kernel file: not scanned")
                continue
            }
            text.ranges.append(range)
        }
        if text.ranges.isEmpty && text.notes.isEmpty { text.notes.append("the kernel has no executable segment") }
        return text
    }
}

/// One step of a linear sweep.
public struct SweptInstruction: Sendable, Equatable {
    public var physical: UInt64
    public var instruction: Instruction
}

/// The linear-sweep disassembly of a range of code (see the file comment for its assumption).
public enum LinearSweep {
    /// Decodes `bytes`, which sit at physical `base`, one instruction after another, calling
    /// `visit` for each; returns how many instructions it decoded. Trailing bytes too short for an
    /// instruction are skipped; an odd start skips one byte (instructions are 2-byte aligned).
    @discardableResult
    public static func sweep(_ bytes: [UInt8], base: UInt64, visit: (SweptInstruction) -> Void) -> Int {
        var offset = Int(base & 1)
        var count = 0
        while offset + 2 <= bytes.count {
            let half = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
            let instruction: Instruction
            let length = half & 3 != 3 ? 2 : 4   // as the hart's fetch decides it
            if length == 2 {
                instruction = Decoder.decodeCompressed(UInt16(truncatingIfNeeded: half))
            } else {
                guard offset + 4 <= bytes.count else { break }
                instruction = Decoder.decode(half | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
            }
            visit(SweptInstruction(physical: base &+ UInt64(offset), instruction: instruction))
            count += 1
            offset += length
        }
        return count
    }
}
