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
            LuaReturn(symbolsType, "symbols", "Labels and `.equ` constants: name → address (addresses ≥ 2^63 read negative; `vmlab.hex` prints them)."),
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
        var symbols: [LuaValue: LuaValue] = [:]
        for (name, address) in program.symbols { symbols[.string(name)] = .unsigned(address) }
        return [.bytes(program.bytes), .table(symbols)]
    }

    static let disasmOptions: [LuaOption] = [
        LuaOption("base", .integer, "Address of the first byte, used for branch and jump targets (default 0x80000000)."),
        LuaOption("aliases", .boolean, "Print pseudo-instructions (`li`, `mv`, `ret`...) where one applies (default false: every instruction under its own mnemonic)."),
    ]

    static let disasm = LuaFunction(
        "disasm",
        summary: """
        Disassembles machine code: one line per instruction, `ADDRESS: HEX  TEXT`. An integer is one \
        instruction's bits (compressed when its low two bits are not 11). Bytes that are not a valid \
        instruction print as `.word`/`.half`; a trailing odd byte as `.byte`.
        """,
        parameters: [
            .required("code", .oneOf([.string, .integer]), "Machine code bytes (as `vmlab.asm` returns) or one instruction as an integer."),
            .optional("options", .options(name: "vmlab.DisasmOptions", disasmOptions)),
        ],
        returns: [LuaReturn(.string, "text")]
    ) { call in
        let options = try call.options(2)
        let base = options.uint64("base") ?? 0x8000_0000
        let style: Disassembler.Style = options.boolean("aliases") == true ? .aliases : .canonical
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
        return [.string(listing(bytes, base: base, style: style))]
    }

    /// One line per instruction. The length comes from the low bits of the first halfword
    /// (unprivileged spec, "Expanded Instruction-Length Encoding"): 11 is 32-bit, anything else 16.
    static func listing(_ bytes: [UInt8], base: UInt64, style: Disassembler.Style) -> String {
        var lines: [String] = []
        var offset = 0
        while offset < bytes.count {
            let pc = base &+ UInt64(offset)
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
                let text = Disassembler.disassemble(Decoder.decode(word), style: style, pc: pc)
                lines.append("\(address): \(hexDigits(UInt64(word), 8))  \(text)")
                offset += 4
            } else {
                let text = Disassembler.disassemble(Decoder.decode(low), style: style, pc: pc)
                lines.append("\(address): \(hexDigits(UInt64(low), 4))      \(text)")
                offset += 2
            }
        }
        return lines.joined(separator: "\n")
    }

    static func hexDigits(_ value: UInt64, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
