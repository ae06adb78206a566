import LuaKit
import RISCV

/// `vmlab.asm` and `vmlab.disasm`: inline guests. Machine code crosses into Lua as a string of
/// bytes (little-endian, as RAM holds it), which `vmlab.vm{ image = ... }` loads and runs.
enum Assembly {
    static func contribute(to module: inout LuaModule) {
        module.functions += [asm, disasm]
    }

    /// Name → address tables (`vmlab.asm`'s second result, `vm:symbols()`).
    static let symbolsType = LuaType.documented("table<string, integer>")

    /// The tag (metatable name) of the symbols tables vmlab returns, by which `vmlab.disasm` knows
    /// one passed where its options go from an options table: the keys cannot tell, since a label
    /// may be called `base` and a misspelt option `bas` looks like a label.
    static let symbolsTag = "vmlab.Symbols"

    /// `symbols` as a tagged table for Lua.
    static func symbolsTable(_ symbols: [String: UInt64], _ call: LuaCall) -> LuaValue {
        var table: [LuaValue: LuaValue] = [:]
        for (name, address) in symbols { table[.string(name)] = .unsigned(address) }
        return call.taggedTable(table, tag: symbolsTag)
    }

    static let asmOptions: [LuaOption] = [
        LuaOption("base", .integer, "Address of the first byte (default 0x80000000, where `vmlab.vm` loads an image)."),
        LuaOption("rvc", .boolean, "Use compressed encodings where they fit, as if the source began `.option rvc` (default false: every instruction is 4 bytes)."),
    ]

    static let asm = LuaFunction(
        "asm",
        summary: """
        Assembles RV64GC source (labels, `1f`/`1b` local labels, pseudo-instructions such as `li`/`la`/`call`, \
        GNU-style directives) into machine code. An assembly error raises `asm:LINE:COL: message`.
        """,
        parameters: [
            .required("source", .string, "The assembly text."),
            .optional("options", .options(name: "vmlab.AsmOptions", asmOptions)),
        ],
        returns: [
            LuaReturn(.string, "code", "The flat image: every section laid out from `base`, gaps zero-filled."),
            LuaReturn(symbolsType, "symbols", "Labels and `.equ` constants: name → address (addresses ≥ 2^63 read negative; `vmlab.hex` prints them). Marked as symbols (its metatable is named `vmlab.Symbols`), so `vmlab.disasm(code, symbols)` labels a listing with them."),
        ]
    ) { call in
        let source = try call.string(1)
        let options = try call.options(2)
        var assembler = AssemblerOptions()
        if let base = options.uint64("base") { assembler.base = base }
        if let rvc = options.boolean("rvc") { assembler.compressed = rvc }
        let program: AssembledProgram
        do {
            program = try Assembler.assemble(source, options: assembler)
        } catch let error as AssemblyError {
            // A mistake in the script's own source text: misuse, raised at once. The position is
            // inside the assembly text, so it replaces Lua's position prefix.
            throw LuaRaise.value(.string("asm:\(error.line):\(error.column): \(error.message)"))
        }
        return [.bytes(program.bytes), symbolsTable(program.symbols, call)]
    }

    static let disasmOptions: [LuaOption] = [
        LuaOption("base", .integer, "Address of the first byte, used for branch and jump targets (default 0x80000000)."),
        LuaOption("aliases", .boolean, "Print pseudo-instructions (`li`, `mv`, `ret`...) where one applies (default false: every instruction under its own mnemonic)."),
        LuaOption("symbols", symbolsType, "Names of addresses (name → address: `vmlab.asm`'s second result, `vm:symbols()`): a `name:` line before the instruction at each address, and `<name>` after a branch or jump target that has one. Give `base` too when the code was assembled at another base."),
    ]

    static let disasmOptionsType = LuaType.options(name: "vmlab.DisasmOptions", disasmOptions)

    static let disasm = LuaFunction(
        "disasm",
        summary: """
        Disassembles machine code: one line per instruction, `ADDRESS: HEX  TEXT` (with `symbols`, \
        also a `name:` line before each named address). An integer is one instruction's bits \
        (compressed when its low two bits are not 11). Bytes that are not a valid instruction print \
        as `.word`/`.half`; a trailing odd byte as `.byte`. `vmlab.disasm(vmlab.asm(source))` lists \
        the code with its labels: the symbols that `vmlab.asm` and `vm:symbols()` return are marked \
        as such, and one given as the second argument stands for `{ symbols = ... }`. Any other \
        table there is the options, and a key that is not an option raises.
        """,
        parameters: [
            .required("code", .oneOf([.string, .integer]), "Machine code bytes (as `vmlab.asm` returns) or one instruction as an integer."),
            // The symbols come first so that LuaKit does not check the table as options before the
            // body has told which of the two it is.
            .optional("options", .oneOf([symbolsType, disasmOptionsType]),
                      "The options, or a symbols table that `vmlab.asm` (second result) or `vm:symbols()` returned, standing for `{ symbols = ... }`. A table of names made otherwise (or copied) goes in the `symbols` option."),
        ],
        returns: [LuaReturn(.string, "text")]
    ) { call in
        var base: UInt64 = 0x8000_0000
        var style = Disassembler.Style.canonical
        var symbols: [String: UInt64] = [:]
        if call.isTable(2, taggedAs: symbolsTag) {
            symbols = try Assembly.symbols(try call.value(2), argument: 2, label: "symbols")
        } else {
            try rejectUnknownOptions(call)
            let options = try call.options(2, as: disasmOptionsType)
            if let given = options.uint64("base") { base = given }
            if options.boolean("aliases") == true { style = .aliases }
            symbols = try Assembly.symbols(options["symbols"], argument: 2)
        }
        let bytes: [UInt8]
        let code = try call.value(1)
        // A float is a number too (`2^20` is one): it means the instruction's bits, never the
        // bytes of its text, which is what Lua's string coercion would disassemble.
        if case .number(let value) = code, Int64(exactly: value) == nil {
            throw LuaRaise.argument(1, "number has no integer representation")
        }
        if let bits = code.int64 {
            guard bits >= 0 && bits <= 0xFFFF_FFFF else {
                throw LuaRaise.argument(1, "an instruction is at most 32 bits, got \(Formatting.hexText(UInt64(bitPattern: bits)))")
            }
            let word = UInt32(bits)
            bytes = word & 3 == 3 ? withUnsafeBytes(of: word.littleEndian, Array.init)
                : withUnsafeBytes(of: UInt16(truncatingIfNeeded: word).littleEndian, Array.init)
        } else {
            bytes = try call.bytes(1)
        }
        return [.string(listing(bytes, base: base, style: style, symbols: symbols))]
    }

    /// `disasm`'s options are checked as any options (an unknown key raises, naming the valid
    /// ones); a table that holds only names → integers may be symbols made in Lua, which stood for
    /// the options before vmlab's own were marked, so its message says where they go now.
    static func rejectUnknownOptions(_ call: LuaCall) throws {
        guard !call.isNil(2), case .table(let fields) = try call.value(2) else { return }
        let optionNames = Set(disasmOptions.map(\.name))
        var unknown: [String] = []
        for (key, value) in fields {
            guard case .string(let name) = key, value.int64 != nil else { return }
            if !optionNames.contains(name) { unknown.append(name) }
        }
        guard let first = unknown.min() else { return }
        let valid = optionNames.sorted().joined(separator: ", ")
        throw LuaRaise.message("unknown option '\(first)' to '\(call.calleeName)' (expected one of: \(valid); a table of names made in Lua goes in { symbols = ... })")
    }

    /// A symbols table (name → address), or raises naming the bad entry. `label` is how the
    /// message names the table: the option it came in (`option 'symbols'`), or `symbols` for a
    /// tagged table given in place of the options.
    static func symbols(_ value: LuaValue, argument: Int32, label: String = "option 'symbols'") throws -> [String: UInt64] {
        switch value {
        case .nil:
            return [:]
        case .table(let fields):
            var symbols: [String: UInt64] = [:]
            // Sorted, so that of several bad entries the same one is always reported.
            for (key, value) in fields.sorted(by: { $0.key.string ?? "" < $1.key.string ?? "" }) {
                guard case .string(let name) = key, !name.isEmpty else {
                    throw LuaRaise.argument(argument, "\(label): names must be non-empty strings, got \(key.string.map { "'\($0)'" } ?? key.typeName)")
                }
                guard let address = value.int64 else {
                    throw LuaRaise.argument(argument, "\(label): '\(name)' must be an address (integer), got \(value.typeName)")
                }
                symbols[name] = UInt64(bitPattern: address)
            }
            return symbols
        default:
            throw LuaRaise.argument(argument, "\(label): table expected, got \(value.typeName)")
        }
    }

    /// One line per instruction. The length comes from the low bits of the first halfword
    /// (unprivileged spec, "Expanded Instruction-Length Encoding"): 11 is 32-bit, anything else 16.
    /// With `symbols`, each address that has names gets a `name:` line before its instruction (and
    /// after the last one, for a label at the end), and a branch or jump whose target has a name
    /// ends in `<name>` (the first in sorted order).
    static func listing(_ bytes: [UInt8], base: UInt64, style: Disassembler.Style, symbols: [String: UInt64] = [:]) -> String {
        var names: [UInt64: [String]] = [:]
        for (name, address) in symbols { names[address, default: []].append(name) }
        for address in names.keys { names[address]!.sort() }
        var lines: [String] = []
        func label(_ pc: UInt64) {
            for name in names[pc] ?? [] { lines.append("\(name):") }
        }
        func text(_ bits: UInt32, at pc: UInt64) -> String {
            let instruction = Decoder.decode(bits)
            var text = Disassembler.disassemble(instruction, style: style, pc: pc)
            if instruction.opcode.isBranch || instruction.opcode == .jal,
               let name = names[pc &+ UInt64(bitPattern: Int64(instruction.imm))]?.first {
                text += " <\(name)>"
            }
            return text
        }
        var offset = 0
        while offset < bytes.count {
            let pc = base &+ UInt64(offset)
            label(pc)
            let address = Formatting.hexText(pc, digits: 8)
            guard offset + 2 <= bytes.count else {
                lines.append("\(address): \(hexDigits(UInt64(bytes[offset]), 2))        .byte 0x\(String(bytes[offset], radix: 16))")
                break
            }
            let low = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
            if low & 3 == 3 {
                guard offset + 4 <= bytes.count else {
                    lines.append("\(address): \(hexDigits(UInt64(low), 4))      .half 0x\(String(low, radix: 16))")
                    break
                }
                let word = low | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
                lines.append("\(address): \(hexDigits(UInt64(word), 8))  \(text(word, at: pc))")
                offset += 4
            } else {
                lines.append("\(address): \(hexDigits(UInt64(low), 4))      \(text(low, at: pc))")
                offset += 2
            }
        }
        if !bytes.isEmpty { label(base &+ UInt64(bytes.count)) }
        return lines.joined(separator: "\n")
    }

    static func hexDigits(_ value: UInt64, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
