// The assembler's public inputs and outputs, and the intermediate items it lays out.

/// How to assemble.
public struct AssemblerOptions: Sendable {
    /// The address of the first section (normally `.text`).
    public var base: UInt64
    /// Whether compressed encodings are on from the start (as if the source began `.option rvc`).
    /// Off by default so that every instruction is the 4-byte form a student expects.
    public var compressed: Bool
    /// Fixed addresses for named sections; sections not listed follow the previous one, aligned.
    public var sectionAddresses: [String: UInt64]

    public init(base: UInt64 = 0x8000_0000, compressed: Bool = false, sectionAddresses: [String: UInt64] = [:]) {
        self.base = base
        self.compressed = compressed
        self.sectionAddresses = sectionAddresses
    }
}

/// One output section.
public struct AssembledSection: Sendable, Equatable {
    public var name: String
    public var address: UInt64
    public var bytes: [UInt8]
}

/// The result of assembling: sections, a flat image and the symbol table.
public struct AssembledProgram: Sendable {
    /// The address of `bytes[0]`.
    public var base: UInt64
    /// All sections laid out from `base`, gaps filled with zeros: a loadable raw image.
    public var bytes: [UInt8]
    public var sections: [AssembledSection]
    /// Labels (absolute addresses) and `.equ`/`.set` symbols (addresses too if defined from `.` or
    /// a label); numeric local labels are omitted.
    public var symbols: [String: UInt64]
    /// The names declared `.globl`.
    public var globals: Set<String>

    /// The section called `name`.
    public func section(_ name: String) -> AssembledSection? { sections.first { $0.name == name } }
}

/// How an instruction's expression operand becomes its immediate.
enum ImmediateKind {
    case signed12          // I/S immediates and memory offsets
    case shamt(Int32)      // the largest shift amount
    case upper20           // lui/auipc: a 20-bit field value
    case branch            // B-type target: an address, or a constant offset
    case jump              // J-type target
}

struct ImmediateOperand {
    var expr: Expr
    var kind: ImmediateKind
    var location: SourceLocation
}

/// How a jump or branch to a label may change size during layout. Items start at their smallest
/// stage and only grow, so layout terminates.
enum Relaxation: Equatable {
    case none
    /// `j label` under `.option rvc`: stage 0 is c.j, stage 1 is jal.
    case jump
    /// A conditional branch to a label: stage 0 is c.beqz/c.bnez (only if `compressible`), stage 1
    /// the 4-byte branch, stage 2 the inverted branch over a `jal` (as the LLVM assembler relaxes
    /// branches beyond ±4 KiB).
    case branch(compressible: Bool)
    /// An explicit `c.*` mnemonic: always this 16-bit form; an operand that does not fit is an error.
    case form(CompressedForm)
}

enum ItemKind {
    /// An instruction with every field but the expression operand filled in. `compressed` is the
    /// 16-bit form chosen at parse time (for constant operands).
    case instruction(Instruction, ImmediateOperand?, compressed: UInt16?, relax: Relaxation)
    case data(width: Int, [Expr])
    case bytes([UInt8])
    case fill(count: Int, value: UInt8)
    /// Alignment to `bytes`; code sections pad with nops (c.nop when `rvc`).
    case align(bytes: Int, fill: UInt8?, code: Bool, rvc: Bool)
}

struct Item {
    var kind: ItemKind
    var location: SourceLocation
    var offset: UInt64 = 0
    /// The relaxation stage (see `Relaxation`).
    var stage: UInt8 = 0
}

struct SectionState {
    var name: String
    var items: [Item] = []
    var address: UInt64 = 0
    var size: UInt64 = 0
    var alignment: UInt64 = 4
    var isCode: Bool { name.hasPrefix(".text") || name.hasPrefix(".init") }
}
