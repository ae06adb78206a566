import Foundation
import GuestTestSupport
import Hypervisor
import Testing
@testable import VMLab

/// tinyos on vmlab's machine under the built-in SBI, compared with the console output pinned in
/// labs/guests/tinyos/expected/ (the same files check-qemu.sh compares QEMU's output with).
struct TinyosCase: CustomTestStringConvertible, Sendable {
    var name: String
    var bootargs: String
    var disk: Bool
    var testDescription: String { name }

    /// The pinned cases: NAME|BOOTARGS|DISK lines of expected/cases.txt.
    static let all: [TinyosCase] = {
        let url = packageRoot.appendingPathComponent("labs/guests/tinyos/expected/cases.txt")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { return nil }
            return TinyosCase(name: fields[0], bootargs: fields[1], disk: fields[2] == "disk")
        }
    }()
}

/// The console as check-qemu.sh normalises it: no carriage returns, no "# " commentary lines.
func normalisedConsole(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes.filter { $0 != 13 }, as: UTF8.self)
    return text.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.hasPrefix("# ") }.joined(separator: "\n")
}

/// A fresh copy of the disk fixture (mkdisk.sh), made once per test process.
let diskFixture: String = (try? TinyosGuest.disk(tag: "cases")) ?? "mkdisk.sh failed"

@Test(arguments: TinyosCase.all)
func tinyosMatchesItsPinnedOutput(_ test: TinyosCase) throws {
    #expect(TinyosCase.all.count >= 10, "expected/cases.txt was not read")
    let kernel = try Guests.path(of: "tinyos")
    var spec = VMSpec()
    spec.kernel = kernel
    spec.bootargs = test.bootargs
    if test.disk { spec.disks = [VMSpec.Disk(path: diskFixture)] }
    let vm = try VirtualMachine(spec)
    defer { vm.close() }
    let stop = vm.run(maxInstructions: 400_000_000)
    let expected = try String(contentsOf: packageRoot.appendingPathComponent("labs/guests/tinyos/expected/\(test.name).out"),
                              encoding: .utf8)
    #expect(stop.name == "poweroff", "\(stop.message)")
    #expect(stop.exitCode == 0)
    #expect(normalisedConsole(vm.console) == expected)
}

@Test func syscallBenchmarkWithTenIterations() throws {
    var spec = VMSpec()
    spec.kernel = try Guests.path(of: "tinyos")
    spec.bootargs = "bench=syscall n=10"
    let vm = try VirtualMachine(spec)
    let stop = vm.run(maxInstructions: 50_000_000)
    #expect(stop.name == "poweroff" && stop.exitCode == 0)
    // The pinned syscall.out is for n=100: the same lines with this run's count and checksum.
    let pinned = try String(contentsOf: packageRoot.appendingPathComponent("labs/guests/tinyos/expected/syscall.out"),
                            encoding: .utf8)
    let expected = pinned.replacingOccurrences(of: "iterations=100", with: "iterations=10")
        .replacingOccurrences(of: "checksum=0x0000000000000064", with: "checksum=0x000000000000000a")
    #expect(normalisedConsole(vm.console) == expected)
    let stats = try #require(vm.stats)
    #expect(stats["traps.by_cause.ecall_u"]! >= 10)
    #expect(stats["traps.firmware.by_cause.ecall_s"]! > 0)
    #expect(stats["tlb.misses"]! > 0 && stats["walk.references"]! >= stats["tlb.misses"]!)
    // The standard profile prices every ecall the built-in SBI serviced as a firmware call.
    #expect(stats["cycles.by_event.firmware_call.count"] == stats["traps.firmware.total"])
    #expect(stats["cycles.by_event.firmware_call.cycles"] == stats["traps.firmware.total"]! * CostProfile.standard.cycles(.firmwareCall))
}
