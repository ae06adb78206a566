import Testing
import Machine
import GuestTestSupport
@testable import Hypervisor

/// tinyos with `paging=sv48` (its address spaces one level deeper) prints what the pinned Sv39 runs
/// print, natively and under every technique: the shadows take the guest's mode, nested paging
/// walks Sv48 over Sv39x4, and the para-virtual build pins its Sv48 roots with four levels.
@Suite struct TinyosSv48Tests {
    static let cases = ["pagefault", "fork", "tlb", "faulttest"]
    static let modes = ["native", "interpret", "trap", "bt", "pv", "hw", "hw-shadow"]

    @Test(arguments: cases, modes)
    func runsAsWithSv39(_ name: String, _ modeName: String) throws {
        guard let c = TinyosGuest.cases.first(where: { $0.name == name }),
              let board = try TinyosBoards.configuration("paging=sv48 " + c.bootargs, disk: c.disk, tag: "sv48",
                                                         kernel: modeName == "pv" ? "tinyos-pv.elf" : "tinyos.elf") else { return }
        let mode = try #require(ExecutionMode(rawValue: modeName.replacingOccurrences(of: "-shadow", with: "")))
        let policy = HardwareAssistedPolicy(paging: modeName == "hw-shadow" ? .shadow : .nested)
        let guest = try Guest(GuestConfiguration(mode: mode, board: board, hardwarePolicy: policy))
        defer { guest.close() }
        let stop = guest.run(maxInstructions: 2_000_000_000)
        #expect(stop == .poweredOff(code: 0), "console:\n\(guest.consoleText)")
        #expect(guest.consoleText.contains("# tinyos: paging sv48"))
        let expected = TinyosGuest.expected(name).trimmingCharacters(in: .newlines)
        #expect(!expected.isEmpty)
        #expect(TinyosGuest.comparable(guest.consoleText).trimmingCharacters(in: .newlines) == expected,
                "console:\n\(guest.consoleText)")
        // The kernel's own table, where the run ended: Sv48, its code in a gigapage one level down.
        guard case .success(let walk) = guest.pageWalk(0x8020_0000, source: .guest, vcpu: 0) else {
            Issue.record("no walk of the kernel's code")
            return
        }
        #expect(walk.mode == "sv48" && walk.steps.count == 2)
        if let shadow = guest.shadowPageTables {
            #expect(shadow.checkCoherence() == [], "no stale shadow entry after \(name)")
            #expect(shadow.walk(.shadow, va: 0x8020_0000).mode == "sv48")
        }
        if let domain = (guest.technique as? ParavirtualTechnique)?.domain {
            // Every root pinned with four levels and unpinned again, nothing refused.
            #expect(domain.frames.type(of: domain.frames.frame(of: walk.root)!) == .pageTable(level: 3))
            #expect(domain.inconsistencies == 0 && domain.updatesRefused == 0)
        }
    }
}
