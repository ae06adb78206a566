import Testing
@testable import VMLabCLI

@Test func VMLabCLIModuleLinks() { #expect(Bool(true)) }
