// SiFive test finisher as on QEMU `virt` (compatible "sifive,test1", "sifive,test0", "syscon"; base
// 0x0010_0000, 4 KiB). It is how a guest ends a run: Linux's syscon-poweroff / syscon-reboot nodes
// and OpenSBI's "sifive,test" reset driver write it, and vmlab's bare-metal guests exit through it.
//
//   offset  register  write value                 effect
//   0x0     finisher  0x5555                      pass: power off, status 0
//                     (code << 16) | 0x3333       fail with `code` (16 bits)
//                     0x7777                      reset the machine
//
// Reads return 0. Other values are ignored (QEMU logs them as guest errors). 16- and 32-bit accesses
// are accepted as on QEMU; a 16-bit write carries the status only (code 0). Other widths are
// rejected (access fault).

import Machine

/// How a guest asked the machine to stop; also used by HTIF's exit command.
public enum FinisherEvent: Sendable, Equatable {
    case pass
    case fail(code: UInt64)
    case reset
}

public final class TestFinisher: MMIODevice, CountingDevice {
    public static let pass: UInt32 = 0x5555
    public static let fail: UInt32 = 0x3333
    public static let reset: UInt32 = 0x7777

    public let mmioSize: UInt64 = VirtPlatform.testFinisher.size
    public let name: String
    public private(set) var counters = DeviceCounters()
    /// The board's stop request handler: the machine stops at the end of the current instruction.
    public var onFinish: ((FinisherEvent) -> Void)?
    /// The last event, for callers that poll instead of installing `onFinish`.
    public private(set) var lastEvent: FinisherEvent?
    private let errors: GuestErrorLog?

    public init(onFinish: ((FinisherEvent) -> Void)? = nil, errors: GuestErrorLog? = nil,
                name: String = "test-finisher") {
        self.onFinish = onFinish
        self.errors = errors
        self.name = name
    }

    public func mmioRead(offset: UInt64, size: Int) -> UInt64? {
        counters.reads &+= 1
        guard size == 2 || size == 4, offset % UInt64(size) == 0 else {
            counters.guestErrors &+= 1
            errors?.log(name, "rejected \(size)-byte read at offset 0x\(String(offset, radix: 16))")
            return nil
        }
        return 0
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        counters.writes &+= 1
        guard size == 2 || size == 4, offset % UInt64(size) == 0 else {
            counters.guestErrors &+= 1
            errors?.log(name, "rejected \(size)-byte write at offset 0x\(String(offset, radix: 16))")
            return false
        }
        guard offset == 0 else { return true }
        let status = UInt32(value & 0xFFFF)
        let code = size == 4 ? (value >> 16) & 0xFFFF : 0
        let event: FinisherEvent
        switch status {
        case Self.pass: event = .pass
        case Self.fail: event = .fail(code: code)
        case Self.reset: event = .reset
        default:
            counters.guestErrors &+= 1
            errors?.log(name, "ignored write of 0x\(String(value, radix: 16))")
            return true
        }
        counters.requests &+= 1
        lastEvent = event
        onFinish?(event)
        return true
    }
}
