import Boot
import GuestTestSupport
import Testing

/// The virt board the VMM tests boot tinyos on.
enum TinyosBoards {
    /// tinyos (`kernel`, built from labs/guests/tinyos) with `bootargs`, a copy-on-write copy of
    /// the disk fixture of `tag` when `disk`, and `memory` bytes of RAM when given (else the
    /// board's default). Nil when the kernel cannot be built, or, recorded as a failure, when the
    /// disk cannot.
    static func configuration(_ bootargs: String, disk: Bool = true, tag: String, memory: UInt64? = nil,
                              kernel: String = "tinyos.elf") throws -> VirtBoardConfiguration? {
        guard let path = Guests.path("tinyos", kernel) else { return nil }
        var board = VirtBoardConfiguration()
        if let memory { board.memory = memory }
        board.kernel = .file(path)
        board.bootargs = bootargs
        if disk {
            guard let image = try TinyosGuest.disk(tag: tag) else { Issue.record("mkdisk.sh failed"); return nil }
            board.disks = [DiskConfiguration(path: image, mode: .copyOnWrite)]
        }
        return board
    }
}
