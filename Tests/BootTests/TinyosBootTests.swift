import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Boot

/// tinyos (labs/guests/tinyos), a real S-mode kernel with paging, timer preemption, a UART console
/// and a virtio-blk driver, booted on the board by the built-in SBI and by OpenSBI. Its console must
/// match the output pinned under QEMU (expected/NAME.out, from check-qemu.sh), compared the same way:
/// from tinyos's first line, without carriage returns and without "# " lines.
@Suite(.serialized) struct TinyosBootTests {
    static let cases = TinyosGuest.cases

    @Test(arguments: [false, true], cases.map(\.name))
    func matchesQEMU(openSBI: Bool, name: String) throws {
        guard let board = try Self.board(openSBI: openSBI, name: name) else { return }
        Self.check(board, name)
    }

    /// Two trap-heavy cases again with one instruction per slice (a host breakpoint that is never hit makes
    /// the scheduler single-step, which is slow, hence only two, under the built-in SBI): the board,
    /// the devices and the SBI give QEMU's output whatever the slice length.
    @Test(arguments: ["forktest", "faulttest"])
    func matchesQEMUOneInstructionPerSlice(name: String) throws {
        guard let board = try Self.board(openSBI: false, name: name) else { return }
        board.machine.breakpoints = [0x2]
        Self.check(board, name)
    }

    static func board(openSBI: Bool, name: String) throws -> VirtBoard? {
        let firmwarePath = VirtBoardTests.openSBI
        if openSBI && !FileManager.default.fileExists(atPath: firmwarePath) {
            print("skipping: \(firmwarePath) not installed")
            return nil
        }
        guard let testCase = cases.first(where: { $0.name == name }) else {
            print("skipping: no tinyos case \(name) (labs/guests/tinyos/expected/cases.txt)")
            return nil
        }
        guard let kernel = Guests.path("tinyos", "tinyos.elf") else { return nil }
        var configuration = VirtBoardConfiguration()
        configuration.firmware = openSBI ? .elf(.file(firmwarePath)) : .builtin
        configuration.kernel = .file(kernel)
        configuration.bootargs = testCase.bootargs
        if testCase.disk {
            guard let disk = try TinyosGuest.disk(tag: "boot") else { print("skipping: mkdisk.sh failed"); return nil }
            configuration.disks = [DiskConfiguration(path: disk, mode: .copyOnWrite)]
        }
        return try VirtBoard(configuration)
    }

    static func check(_ board: VirtBoard, _ name: String) {
        let stop = board.run(maxInstructions: 2_000_000_000)
        let expected = TinyosGuest.expected(name)
        #expect(stop == .poweredOff(code: 0), "console:\n\(board.console.text)")
        #expect(TinyosGuest.comparable(board.console.text).trimmingCharacters(in: .newlines)
                == expected.trimmingCharacters(in: .newlines), "console:\n\(board.console.text)")
        #expect(board.errors.messages.isEmpty, "\(board.errors.messages)")
    }
}
