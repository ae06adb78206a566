import Machine

// Minimal devices for the hart's own tests (the real platform devices are the Devices module's):
// the SiFive test finisher at 0x100000, a UART that only collects what is written, and a CLINT with
// msip, mtimecmp and mtime for one or more harts.

/// Write 0x5555 = pass, (code << 16) | 0x3333 = fail, 0x7777 = reset.
final class TestFinisher: MMIODevice {
    weak var machine: Machine?
    var result: UInt64? = nil
    var mmioSize: UInt64 { 0x1000 }
    func mmioRead(offset: UInt64, size: Int) -> UInt64? { 0 }
    func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        guard offset == 0 else { return true }
        let v = value & 0xFFFF_FFFF
        switch v & 0xFFFF {
        case 0x5555:
            result = v
            machine?.requestStop(.poweredOff(code: 0))
        case 0x3333:
            result = v
            machine?.requestStop(.poweredOff(code: Int(v >> 16)))
        case 0x7777:
            machine?.requestStop(.reset)
        default: break
        }
        return true
    }
}

/// A 16550 that accepts every byte (THR at offset 0) and always reports an empty transmitter.
final class UARTSink: MMIODevice {
    var output: [UInt8] = []
    var mmioSize: UInt64 { 0x100 }
    func mmioRead(offset: UInt64, size: Int) -> UInt64? { offset == 5 ? 0x60 : 0 }
    func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        if offset == 0 { output.append(UInt8(truncatingIfNeeded: value)) }
        return true
    }
    var text: String { String(decoding: output, as: UTF8.self) }
}

/// CLINT (SiFive layout): msip at 0x0 + 4·hart, mtimecmp at 0x4000 + 8·hart, mtime at 0xBFF8.
final class MiniCLINT: MMIODevice, TimedDevice {
    unowned let machine: Machine
    var msip: [Bool]
    var mtimecmp: [UInt64]
    init(machine: Machine) {
        self.machine = machine
        msip = Array(repeating: false, count: machine.hartCount)
        mtimecmp = Array(repeating: .max, count: machine.hartCount)
    }
    var mmioSize: UInt64 { 0x10000 }

    func mmioRead(offset: UInt64, size: Int) -> UInt64? {
        switch offset {
        case 0..<0x4000:
            let h = Int(offset / 4)
            return h < msip.count && size == 4 ? (msip[h] ? 1 : 0) : 0
        case 0x4000..<0xBFF8:
            let h = Int((offset - 0x4000) / 8)
            guard h < mtimecmp.count else { return 0 }
            return size == 8 ? mtimecmp[h] : (offset % 8 == 0 ? mtimecmp[h] & 0xFFFF_FFFF : mtimecmp[h] >> 32)
        case 0xBFF8: return size == 8 ? machine.mtime : machine.mtime & 0xFFFF_FFFF
        case 0xBFFC: return machine.mtime >> 32
        default: return 0
        }
    }

    func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        switch offset {
        case 0..<0x4000:
            let h = Int(offset / 4)
            if h < msip.count { msip[h] = value & 1 != 0; machine.setPin(.msip, hart: h, level: msip[h]) }
        case 0x4000..<0xBFF8:
            let h = Int((offset - 0x4000) / 8)
            guard h < mtimecmp.count else { return true }
            if size == 8 { mtimecmp[h] = value }
            else if offset % 8 == 0 { mtimecmp[h] = (mtimecmp[h] & ~0xFFFF_FFFF) | (value & 0xFFFF_FFFF) }
            else { mtimecmp[h] = (mtimecmp[h] & 0xFFFF_FFFF) | (value << 32) }
            update()
        default: break
        }
        return true
    }

    func update() {
        let now = machine.mtime
        for h in 0..<mtimecmp.count { machine.setPin(.mtip, hart: h, level: now >= mtimecmp[h]) }
    }

    func advance(to mtime: UInt64) { update() }

    var nextDeadline: UInt64? {
        let now = machine.mtime
        return mtimecmp.filter { $0 > now && $0 != .max }.min()
    }
}
