import Testing
@testable import RISCV

@Test func RISCVModuleLinks() { #expect(Bool(true)) }
