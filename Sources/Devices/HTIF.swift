// HTIF, the Berkeley host-target interface that spike and the riscv-tests/riscv-pk runtimes speak:
// two 64-bit words in guest memory, `tohost` and `fromhost`, found through the ELF's `tohost` symbol
// (the board maps this device over them). Reference: riscv-software-src/riscv-isa-sim fesvr
// (htif.cc, syscall.cc, device.cc) — behaviour re-implemented, no code taken.
//
//   offset  register   notes
//   0x0     tohost     a command: device = bits 63:56, command = 55:48, payload = 47:0
//   0x8     fromhost   the host's reply; the guest clears it after reading
//
//   device 0, command 0, payload odd       exit; code = payload >> 1 (0 = pass)
//   device 0, command 0, payload even      syscall proxy: payload = address of magic_mem, eight
//                                          u64 words [n, a0, a1, a2, ...]; supported: write (64) to
//                                          fd 1/2 (console), exit (93); the result goes to
//                                          magic_mem[0] and fromhost = 1
//   device 1, command 1                    putchar(payload & 0xFF); fromhost = 1 << 56 | 1 << 48 |
//                                          0x100 | the byte
//   device 1, command 0                    getchar; replied when input is available, with the byte
//
// riscv-tests place `fromhost` 64 bytes after `tohost` (and some programs have no `fromhost`), so
// besides the 16-byte window (tohost, then fromhost) the device offers one 8-byte window per word —
// `tohostWindow` and `fromhostWindow` — for the board to map at each symbol's own address.
//
// A command runs when a store touches the low word of tohost (riscv-tests store the low word, then
// the high word, of a value whose high word is 0); tohost then reads 0 again, as spike clears it.
// Writes are 4 or 8 bytes, aligned. Malformed commands are guest errors, never host crashes.
//
// Under spike the two words are plain RAM that the host polls, so AMOs on them work: riscv-tests'
// virtual-memory environment has its other harts apply `amoadd.w zero, zero` to random words of
// the test's memory, tohost included. Both devices accept AMOs (`acceptsAtomics`). Such a no-op
// AMO on tohost reads 0 (a command runs as it is written) and writes 0 back: no command.

import Machine

public final class HTIF: MMIODevice, CountingDevice {
    public let mmioSize: UInt64 = 16
    public var acceptsAtomics: Bool { true }
    public let name: String
    public private(set) var counters = DeviceCounters()
    /// Console output (putchar and write(1/2, ...)).
    public var sink: (any ConsoleSink)?
    /// Called on exit: code 0 → .pass, otherwise .fail(code).
    public var onFinish: ((FinisherEvent) -> Void)?
    public private(set) var lastEvent: FinisherEvent?

    public static let sysWrite: UInt64 = 64
    public static let sysExit: UInt64 = 93
    /// Largest write(2) the proxy copies at once, so a guest's huge length cannot exhaust the host.
    public static let maxWrite: UInt64 = 1 << 20

    private let memory: (any DMAMemory)?
    private let errors: GuestErrorLog?
    private var tohost: UInt64 = 0
    private var fromhost: UInt64 = 0
    private var input: [UInt8] = []
    private var getcWaiting = false

    public init(memory: (any DMAMemory)?, sink: (any ConsoleSink)? = nil,
                onFinish: ((FinisherEvent) -> Void)? = nil, errors: GuestErrorLog? = nil, name: String = "htif") {
        self.memory = memory
        self.sink = sink
        self.onFinish = onFinish
        self.errors = errors
        self.name = name
    }

    /// An 8-byte window onto tohost alone, to map at the `tohost` symbol.
    public private(set) lazy var tohostWindow = HTIFWord(htif: self, offset: 0)
    /// An 8-byte window onto fromhost alone, to map at the `fromhost` symbol.
    public private(set) lazy var fromhostWindow = HTIFWord(htif: self, offset: 8)

    /// Input for the console getchar command.
    public func enqueueInput(_ bytes: [UInt8]) {
        input.append(contentsOf: bytes)
        answerGetchar()
    }

    public func mmioRead(offset: UInt64, size: Int) -> UInt64? {
        counters.reads &+= 1
        guard size == 4 || size == 8, offset % UInt64(size) == 0 else { return reject(offset, size) }
        let word = offset < 8 ? tohost : fromhost
        let shift = (offset % 8) * 8
        let v = word >> shift
        return size == 8 ? v : v & 0xFFFF_FFFF
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        counters.writes &+= 1
        guard size == 4 || size == 8, offset % UInt64(size) == 0 else { return reject(offset, size) != nil }
        let shift = (offset % 8) * 8
        let mask: UInt64 = size == 8 ? .max : 0xFFFF_FFFF << shift
        let v = size == 8 ? value : (value & 0xFFFF_FFFF) << shift
        if offset < 8 {
            tohost = (tohost & ~mask) | v
            if offset == 0 && tohost != 0 {
                let command = tohost
                tohost = 0
                execute(command)
            }
        } else {
            fromhost = (fromhost & ~mask) | v
            if fromhost == 0 { answerGetchar() }
        }
        return true
    }

    private func reject(_ offset: UInt64, _ size: Int) -> UInt64? {
        counters.guestErrors &+= 1
        errors?.log(name, "rejected \(size)-byte access at offset 0x\(String(offset, radix: 16))")
        return nil
    }

    private func execute(_ command: UInt64) {
        counters.requests &+= 1
        let device = command >> 56
        let cmd = (command >> 48) & 0xFF
        let payload = command & 0xFFFF_FFFF_FFFF
        switch (device, cmd) {
        case (0, 0):
            if payload & 1 == 1 {
                finish(code: payload >> 1)
            } else {
                syscall(magic: payload)
                fromhost = 1
            }
        case (1, 1):
            counters.bytesFromGuest &+= 1
            sink?.consoleWrite([UInt8(truncatingIfNeeded: payload)])
            fromhost = 1 << 56 | 1 << 48 | 0x100 | (payload & 0xFF)   // as spike and QEMU answer
        case (1, 0):
            getcWaiting = true
            answerGetchar()
        default:
            counters.guestErrors &+= 1
            errors?.log(name, "unknown command: device \(device) command \(cmd)")
        }
    }

    private func answerGetchar() {
        guard getcWaiting, fromhost == 0, !input.isEmpty else { return }
        getcWaiting = false
        counters.bytesToGuest &+= 1
        fromhost = 1 << 56 | UInt64(input.removeFirst())
    }

    private func finish(code: UInt64) {
        let event: FinisherEvent = code == 0 ? .pass : .fail(code: code)
        lastEvent = event
        onFinish?(event)
    }

    private func syscall(magic: UInt64) {
        guard let memory else {
            counters.guestErrors &+= 1
            errors?.log(name, "syscall proxy used but no memory is attached")
            return
        }
        var args = [UInt64](repeating: 0, count: 8)
        let ok = args.withUnsafeMutableBytes { memory.dmaRead(magic, into: $0) }
        guard ok else {
            counters.guestErrors &+= 1
            errors?.log(name, "magic_mem at 0x\(String(magic, radix: 16)) is not RAM")
            return
        }
        args = args.map { UInt64(littleEndian: $0) }
        var result: Int64
        switch args[0] {
        case Self.sysWrite:
            let (fd, buffer, length) = (args[1], args[2], args[3])
            if fd != 1 && fd != 2 {
                result = -9                                    // EBADF
            } else if length > Self.maxWrite {
                result = -22                                   // EINVAL
            } else {
                var bytes = [UInt8](repeating: 0, count: Int(length))
                if bytes.withUnsafeMutableBytes({ memory.dmaRead(buffer, into: $0) }) {
                    counters.bytesFromGuest &+= length
                    sink?.consoleWrite(bytes)
                    result = Int64(length)
                } else {
                    result = -14                               // EFAULT
                }
            }
        case Self.sysExit:
            finish(code: args[1])
            result = 0
        default:
            counters.guestErrors &+= 1
            errors?.log(name, "unsupported proxied syscall \(args[0])")
            result = -38                                       // ENOSYS
        }
        var out = UInt64(bitPattern: result).littleEndian
        _ = withUnsafeBytes(of: &out) { memory.dmaWrite(magic, from: $0) }
    }
}

/// One of HTIF's two words as its own 8-byte MMIO device (see `HTIF.tohostWindow`).
public final class HTIFWord: MMIODevice {
    public let mmioSize: UInt64 = 8
    public var acceptsAtomics: Bool { true }
    private unowned let htif: HTIF
    private let offset: UInt64

    init(htif: HTIF, offset: UInt64) {
        self.htif = htif
        self.offset = offset
    }

    public func mmioRead(offset: UInt64, size: Int) -> UInt64? {
        htif.mmioRead(offset: self.offset + offset, size: size)
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        htif.mmioWrite(offset: self.offset + offset, size: size, value: value)
    }
}

// MARK: Snapshots

public struct HTIFState: DeviceState, Equatable {
    public let tohost: UInt64
    public let fromhost: UInt64
    public let input: [UInt8]
    public let getcWaiting: Bool
}

extension HTIF: SnapshottableDevice {
    public func saveState() -> any DeviceState {
        HTIFState(tohost: tohost, fromhost: fromhost, input: input, getcWaiting: getcWaiting)
    }

    public func accepts(_ state: any DeviceState) -> Bool {
        state is HTIFState
    }

    @discardableResult
    public func restoreState(_ state: any DeviceState) -> Bool {
        guard accepts(state), let s = state as? HTIFState else { return false }
        tohost = s.tohost
        fromhost = s.fromhost
        input = s.input
        getcWaiting = s.getcWaiting
        return true
    }
}
