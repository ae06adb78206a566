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

    static func image(_ name: String) throws -> [UInt8] {
        try built.get()
        let url = Guest.root.appendingPathComponent(".build/guests/isa/\(name).bin")
        return Array(try Data(contentsOf: url))
    }
}

@Test(arguments: ISASuite.programs)
func isaProgram(_ name: String) throws {
    let rig = Guest.Rig()
    rig.boot(try ISASuite.image(name))
    let stop = rig.run(200_000_000)
    #expect(stop == .poweredOff(code: 0), "\(name): \(stop); UART: \(rig.uart.text)")
}
