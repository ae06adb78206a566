import Boot
import Foundation
import GuestTestSupport
import Testing
@testable import Hypervisor

/// The orderings involving BT that the cost model requires (reference/cost-model.md, from [AA06]),
/// on tinyos's benchmarks under classic-2006: the cycles of 10 more iterations (20 against 10, so
/// boot and translation cancel), per iteration.
@Suite struct BinaryTranslationOrderingTests {
    static func perIteration(_ bench: String, _ mode: ExecutionMode) throws -> UInt64? {
        func cycles(_ n: Int) throws -> UInt64? {
            guard let board = try TinyosBoards.configuration("bench=\(bench) n=\(n)", tag: "bt-order") else { return nil }
            let g = try Guest(GuestConfiguration(mode: mode, profile: .classic2006, board: board))
            defer { g.close() }
            #expect(g.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0))
            return g.cycles
        }
        guard let a = try cycles(10), let b = try cycles(20) else { return nil }
        return (b - a) / 10
    }

    /// syscall loop: native < bt < trap; page fault: native < bt; PTE store: native ≪ bt (adaptive)
    /// ≪ trap; fork/exit/wait: native < bt < trap.
    @Test(arguments: ["syscall", "pagefault", "pte", "fork"])
    func btBetweenNativeAndTrap(_ bench: String) throws {
        guard let native = try Self.perIteration(bench, .native), let bt = try Self.perIteration(bench, .bt),
              let trap = try Self.perIteration(bench, .trap) else { return }
        #expect(native < bt && bt < trap, "\(bench): native \(native), bt \(bt), trap \(trap)")
        // An iteration is two system calls (map, unmap), a page fault and two traced PTE stores:
        // adapted, those cost bt 390 cycles each against trap's exit and emulation.
        if bench == "pte" { #expect(bt * 3 < trap, "adaptation: bt's PTE stores are far cheaper than trap's") }
    }

    /// CSR write not intercepted and device register access: bt < native.
    @Test(arguments: ["csr", "mmio"])
    func btBelowNative(_ bench: String) throws {
        guard let native = try Self.perIteration(bench, .native), let bt = try Self.perIteration(bench, .bt) else { return }
        #expect(bt < native, "\(bench): native \(native), bt \(bt)")
    }
}
