import Testing
@testable import VMLab

@Test func VMLabModuleLinks() { #expect(Bool(true)) }
