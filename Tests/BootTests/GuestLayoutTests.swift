import Foundation
import Testing
import Boot
import GuestTestSupport

/// The start code of every guest with a C runtime (common/crt0.S, the payload's start.S, tinyos's
/// entry.S) clears `.bss` with `sd`, eight bytes at a time from `__bss_start` to `__bss_end`. Both
/// must be 8-aligned: a hart that traps misaligned stores (Spike, which scripts/bench runs the
/// bench guests on; vmlab with `misaligned = .trap`) would otherwise fault on the first store,
/// before any trap vector is set. The linker scripts align them; this holds them to it.
@Test(arguments: ["examples", "bench", "devices", "payload", "tinyos"])
func bssIsClearedWithAlignedStores(_ folder: String) throws {
    guard let directory = Guests.path(folder, "") else { return }
    let elfs = try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasSuffix(".elf") }.sorted()
    var checked = 0
    for name in elfs {
        let file = try ELFFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))))
        guard let start = file.address(of: "__bss_start"), let end = file.address(of: "__bss_end") else { continue }
        #expect(start % 8 == 0, "\(folder)/\(name): __bss_start = 0x\(String(start, radix: 16))")
        #expect(end % 8 == 0, "\(folder)/\(name): __bss_end = 0x\(String(end, radix: 16))")
        checked += 1
    }
    #expect(checked > 0, "no guest in \(folder) has a .bss cleared by its start code")
}
