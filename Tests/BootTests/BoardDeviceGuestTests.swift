import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Boot

/// The device-proving guests of labs/guests/devices (bare-metal, M-mode, no firmware) on the board:
/// they only pass when every device sits at its QEMU address with its QEMU interrupt.
@Suite(.serialized) struct BoardDeviceGuestTests {
    static func board(_ name: String, disks: [DiskConfiguration] = []) throws -> VirtBoard? {
        guard let path = Guests.path("devices", "\(name).elf") else { return nil }
        var configuration = VirtBoardConfiguration()
        configuration.firmware = .none
        configuration.kernel = .file(path)
        configuration.disks = disks
        return try VirtBoard(configuration)
    }

    @Test(arguments: ["uart_echo", "clint_timer", "plic_external"])
    func devicePasses(_ name: String) throws {
        guard let board = try Self.board(name) else { return }
        board.enqueueInput(Array("hello\n".utf8))
        let stop = board.run(maxInstructions: 200_000_000)
        #expect(stop == .poweredOff(code: 0), "console:\n\(board.console.text)")
        #expect(!board.console.text.contains("FAIL"))
    }

    /// The blk fixture of make-blk-fixture.sh: 64 sectors, sector n filled with 'A' + n % 26.
    static func fixture() -> [UInt8] { (0..<64).flatMap { [UInt8](repeating: UInt8(65 + $0 % 26), count: 512) } }

    /// A disk file is changed by the guest's write only when the disk is writable.
    @Test(arguments: [("read-only", false), ("copy-on-write", false), ("writable", true)])
    func virtioBlockDisk(mode: String, fileChanges: Bool) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-blk-\(getpid())-\(mode).img").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(Self.fixture()).write(to: URL(fileURLWithPath: path))
        let disk = DiskConfiguration(path: path, mode: .init(rawValue: mode)!)
        guard let board = try Self.board("virtio_blk", disks: [disk]) else { return }
        let stop = board.run(maxInstructions: 200_000_000)
        #expect(stop == .poweredOff(code: 0), "console:\n\(board.console.text)")
        let after = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect((after != Self.fixture()) == fileChanges)
        #expect(board.virtio[7].counters.accesses > 0)   // the first disk sits in the top slot, as on QEMU
    }

    @Test func htifAtTheELFSymbols() throws {
        guard let board = try Self.board("htif_console") else { return }
        let stop = board.run(maxInstructions: 50_000_000)
        #expect(stop == .poweredOff(code: 0), "console:\n\(board.console.text)")
        #expect(board.console.text.contains("htif: putchar ok\n"))
        #expect(board.htif != nil)
    }
}
