import LuaKit
import Testing
@testable import VMLab

@Test func asmReturnsBytesAndSymbolsToLua() throws {
    let session = try LabSession()
    let results = try session.lua.run("""
        local code, symbols = vmlab.asm("start: addi a0, zero, 1\\nend_: ecall", { base = 0x1000 })
        return code, symbols.start, symbols.end_
        """)
    // Valid UTF-8 bytes come back from Lua as .string, others as .bytes; compare the bytes.
    #expect(results.first?.bytes == [0x13, 0x05, 0x10, 0x00, 0x73, 0x00, 0x00, 0x00])
    #expect(Array(results.dropFirst()) == [.integer(0x1000), .integer(0x1004)])
}

@Test func asmErrorsCarryLineAndColumnWithoutALuaPosition() throws {
    let session = try LabSession()
    let message = try session.lua.run("return select(2, pcall(vmlab.asm, 'nop\\n\\n    bogus x1'))").first?.string
    #expect(message == "asm:3:5: unknown instruction 'bogus'")
}

@Test func disassemblyListsOneInstructionPerLine() {
    let bytes: [UInt8] = [0x13, 0x05, 0x10, 0x00, 0x05, 0x05, 0x6f, 0x00]
    let text = Assembly.listing(bytes, base: 0x8000_0000, style: .canonical)
    // A compressed instruction shows its 16 bits and its compressed mnemonic; the
    // trailing halfword announces a 32-bit instruction (low bits 11) that the bytes cut short.
    #expect(text.split(separator: "\n") == [
        "0x80000000: 00100513  addi a0, zero, 1",
        "0x80000004: 0505      c.addi a0, 1",
        "0x80000006: 006f      .half 0x6f",
    ])
}
