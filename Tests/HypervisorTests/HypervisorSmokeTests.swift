import Testing
@testable import Hypervisor

@Test func HypervisorModuleLinks() { #expect(Bool(true)) }
