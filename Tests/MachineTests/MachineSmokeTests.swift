import Testing
@testable import Machine

@Test func MachineModuleLinks() { #expect(Bool(true)) }
