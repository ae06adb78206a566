import Testing
@testable import LuaKit

@Test func LuaKitModuleLinks() { #expect(Bool(true)) }
