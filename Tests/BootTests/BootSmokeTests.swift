import Testing
@testable import Boot

@Test func BootModuleLinks() { #expect(Bool(true)) }
