// Disassembly of a whole code buffer: splits bytes into instructions (the low two bits of each
// halfword say whether it starts a 16- or 32-bit instruction, "Base Instruction-Length Encoding")
// and prints each at its address.

/// One line of a listing.
public struct ListingLine: Sendable, Equatable {
    public var address: UInt64
    public var instruction: Instruction
    public var text: String
}

extension Disassembler {
    /// Disassembles `bytes` as code loaded at `address`. A trailing fragment too short for its
    /// instruction prints as data.
    public static func listing(_ bytes: [UInt8], address: UInt64, style: Style = .canonical) -> [ListingLine] {
        var lines: [ListingLine] = []
        var i = 0
        while i + 1 < bytes.count {
            let low = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8
            let pc = address &+ UInt64(i)
            var word = low
            if low & 3 == 3 {
                guard i + 3 < bytes.count else { break }
                word |= UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            }
            let inst = Decoder.decode(word)
            lines.append(ListingLine(address: pc, instruction: inst, text: disassemble(inst, style: style, pc: pc)))
            i += Int(inst.length)
        }
        while i < bytes.count {
            let pc = address &+ UInt64(i)
            lines.append(ListingLine(address: pc, instruction: .illegal(UInt32(bytes[i]), length: 1),
                                     text: ".byte \(hex(UInt64(bytes[i])))"))
            i += 1
        }
        return lines
    }
}
