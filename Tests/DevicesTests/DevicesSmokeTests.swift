import Testing
@testable import Devices

@Test func DevicesModuleLinks() { #expect(Bool(true)) }
