#if os(Linux)
import Foundation
import Testing
import Machine

/// Guest RAM asks the host for transparent huge pages (madvise MADV_HUGEPAGE), so that a guest
/// touching all of its memory costs a host fault per 2 MiB rather than per 4 KiB. The kernel
/// reports the advice as `THPeligible: 1` on the mapping in /proc/self/smaps, when THP is on.
@Suite struct RAMHugePagesTests {
    /// Whether the host's kernel gives transparent huge pages to a mapping that asks.
    static let hostOffersHugePages: Bool = {
        let setting = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8)) ?? ""
        return setting.contains("[always]") || setting.contains("[madvise]")
    }()

    @Test(.enabled(if: hostOffersHugePages, "transparent huge pages are off on this host"))
    func guestRAMIsEligibleForTransparentHugePages() throws {
        var configuration = MachineConfiguration()
        configuration.ramSize = 64 << 20
        let machine = Machine(configuration)
        let ram = try #require(machine.hostPointer(physical: configuration.ramBase, count: 1))
        // (The machine owns the mapping: it must outlive the reading.)
        let eligible = try withExtendedLifetime(machine) { try smapsField("THPeligible", ofMappingAt: UInt(bitPattern: ram)) }
        #expect(eligible == 1)
    }

    /// A numeric field of the /proc/self/smaps entry whose range holds `address`.
    func smapsField(_ name: String, ofMappingAt address: UInt) throws -> Int? {
        // Read to the end by hand: /proc files report a size of 0.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        var inside = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && (bounds[0]..<bounds[1]).contains(address)
            } else if inside, fields.first == "\(name):", fields.count > 1 {
                return Int(fields[1])
            }
        }
        return nil
    }
}
#endif
