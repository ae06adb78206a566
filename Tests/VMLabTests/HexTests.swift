import LuaKit
import Testing
@testable import VMLab

@Test func hexTextIsUnsignedAndPadded() {
    #expect(Formatting.hexText(0) == "0x0")
    #expect(Formatting.hexText(UInt64.max) == "0xffffffffffffffff")
    #expect(Formatting.hexText(0xff, digits: 4) == "0x00ff")
    #expect(Formatting.hexText(0x12345, digits: 2) == "0x12345")
}

@Test func hexFromLua() throws {
    let session = try LabSession()
    #expect(try session.lua.run("return vmlab.hex(-2), vmlab.hex(0x80000000, 16)")
        == [.string("0xfffffffffffffffe"), .string("0x0000000080000000")])
    let failure = try session.lua.run("return select(2, pcall(vmlab.hex, 1, 99))").first?.string
    #expect(failure == "bad argument #2 to 'vmlab.hex' (digits must be between 1 and 16, got 99)")
}
