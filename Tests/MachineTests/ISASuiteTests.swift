import Foundation
import Testing
import Machine

// The project's ISA test programs (labs/guests/isa, built by scripts/build-guests): one test case per
// program. Each reports through the test finisher: 0x5555 passes, (check << 16) | 0x3333 fails.

enum ISASuite {
    static let programs: [String] = {
        let dir = Guest.root.appendingPathComponent("labs/guests/isa")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".S") || $0.hasSuffix(".c") }
            .map { String($0.prefix(upTo: $0.lastIndex(of: ".")!)) }.sorted()
    }()

    static let built: Result<Void, Error> = Result {
        try Guest.sh([Guest.root.appendingPathComponent("scripts/build-guests").path, "isa"])
    }

    /// What a program asks of the machine beyond the defaults: `sstc` checks an extension the
    /// harts have only when asked, and its VS-mode half needs the hypervisor extension.
    static func configure(_ name: String, _ c: inout MachineConfiguration) {
        if name == "sstc" {
            c.sstc = true
            c.hypervisorExtension = true
        }
    }

    static func image(_ name: String) throws -> [UInt8] {
        try built.get()
        let url = Guest.root.appendingPathComponent(".build/guests/isa/\(name).bin")
        return Array(try Data(contentsOf: url))
    }
}

@Test(arguments: ISASuite.programs)
func isaProgram(_ name: String) throws {
    let rig = Guest.Rig { ISASuite.configure(name, &$0) }
    rig.boot(try ISASuite.image(name))
    let stop = rig.run(200_000_000)
    #expect(stop == .poweredOff(code: 0), "\(name): \(stop); UART: \(rig.uart.text)")
}

/// The suite can fail: a machine without PMP cannot pass the PMP program.
@Test func isaSuiteDetectsAMissingFeature() throws {
    guard ISASuite.programs.contains("pmp") else { return }
    let rig = Guest.Rig { $0.pmpEntries = 0 }
    rig.boot(try ISASuite.image("pmp"))
    #expect(rig.run(50_000_000) != .poweredOff(code: 0))
}

/// Sstc without the hypervisor extension: the program skips its VS-mode half and passes; without
/// Sstc it fails (its first check writes stimecmp from M-mode).
@Test func isaSstcProgramWithAndWithoutTheExtensions() throws {
    guard ISASuite.programs.contains("sstc") else { return }
    let alone = Guest.Rig { $0.sstc = true }
    alone.boot(try ISASuite.image("sstc"))
    #expect(alone.run(200_000_000) == .poweredOff(code: 0), "\(alone.uart.text)")
    let without = Guest.Rig { $0.hypervisorExtension = true }
    without.boot(try ISASuite.image("sstc"))
    #expect(without.run(50_000_000) != .poweredOff(code: 0))
}

/// Both misaligned-access policies are allowed by the specification, and the programs accept
/// either: `misaligned` checks both outcomes, and no other program depends on the hardware handling
/// a misaligned access (Spike, for one, traps them).
@Test(arguments: ISASuite.programs)
func isaProgramUnderTrappingPolicy(_ name: String) throws {
    let rig = Guest.Rig { ISASuite.configure(name, &$0); $0.misaligned = .trap }
    rig.boot(try ISASuite.image(name))
    #expect(rig.run(200_000_000) == .poweredOff(code: 0), "\(name): \(rig.uart.text)")
}

/// With several harts the programs park every hart but hart 0 and still pass.
@Test(arguments: ["rv64a", "interrupts"])
func isaProgramOnFourHarts(_ name: String) throws {
    guard ISASuite.programs.contains(name) else { return }
    let rig = Guest.Rig { $0.harts = 4; $0.quantum = 100 }
    rig.boot(try ISASuite.image(name))
    #expect(rig.run(200_000_000) == .poweredOff(code: 0), "\(rig.uart.text)")
}
