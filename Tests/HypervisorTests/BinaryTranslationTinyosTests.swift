import Boot
import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Hypervisor

/// tinyos's pinned cases under `bt`: the output pinned under QEMU (the file the native and trap
/// tests compare with), the account equal to the clock, the kernel translated and its sensitive
/// instructions no longer trapping.
@Suite struct BinaryTranslationTinyosTests {
    static func guest(_ c: TinyosGuest.Case, policy: BinaryTranslationPolicy = BinaryTranslationPolicy()) throws -> Guest? {
        guard let board = try TinyosBoards.configuration(c.bootargs, disk: c.disk, tag: "bt") else { return nil }
        return try Guest(GuestConfiguration(mode: .bt, board: board, binaryTranslationPolicy: policy))
    }

    @Test(arguments: TinyosGuest.cases.map(\.name))
    func tinyosLikeNative(_ name: String) throws {
        guard let c = TinyosGuest.cases.first(where: { $0.name == name }), let guest = try Self.guest(c) else { return }
        defer { guest.close() }
        // Illegal-instruction traps from the guest kernel: none, its sensitive instructions are
        // translated (the guest's processes still trap on rdtime, as under trap).
        var kernelIllegal = 0
        guest.events.add(.exit, filter: EventFilter(causes: ["illegal_instruction"], privilege: .supervisor)) { _ in
            kernelIllegal += 1
            return .proceed
        }
        let stop = guest.run(maxInstructions: 2_000_000_000)
        let expected = TinyosGuest.expected(name)
        #expect(stop == .poweredOff(code: 0), "console:\n\(guest.consoleText)")
        #expect(TinyosGuest.comparable(guest.consoleText).trimmingCharacters(in: .newlines)
                == expected.trimmingCharacters(in: .newlines), "console:\n\(guest.consoleText)")
        #expect(!expected.isEmpty)
        let technique = try #require(guest.technique as? BinaryTranslationTechnique)
        let translator = try #require(technique.translator)
        let monitor = try #require(technique.monitor)
        #expect(technique.checkCoherence() == [], "no stale shadow entry after \(name)")
        let bt = translator.counters
        #expect(bt.translatedInstructions > 0 && bt.blocksTranslated > 0)
        #expect(bt.callouts > 0 && bt.inlineCSR > 0)
        // Translated kernel code takes no trap on a CSR, sret or SBI call: the traps left are user
        // code's (ecall_u, rdtime from processes), page faults and first device accesses.
        #expect(kernelIllegal == 0, "\(monitor.counters.trapsByCause)")
        #expect(monitor.counters.supervisorCalls == 0, "SBI calls are callouts, not traps")
        let account = technique.account(guest)
        #expect(account.total == guest.machine.cycles)
        #expect(account.waitedCycles == guest.machine.counters().cycles - account.chargedCycles)
        if name == "pte" { #expect(bt.adaptations > 0 && bt.tracedWriteInline > 0) }
        if name == "mmio" || name == "disk" { #expect(bt.devicesLearnt > 0 && bt.deviceInline > 0) }
    }
}
