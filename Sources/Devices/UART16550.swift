// NS16550A UART as on QEMU `virt` (compatible "ns16550a", base 0x1000_0000, 256-byte window,
// reg-shift 0, PLIC source 10). Reference: the National Semiconductor / TI PC16550D data sheet
// (register set, §8.6 interrupt identification priorities, FIFO control), as Linux's 8250 driver and
// OpenSBI's uart8250 driver program it.
//
//   off  DLAB=0 read   DLAB=0 write   DLAB=1     notes
//   0    RBR           THR            DLL        receive buffer / transmit holding / divisor low
//   1    IER           IER            DLM        bits: 0 RX data, 1 THR empty, 2 line status, 3 modem
//   2    IIR           FCR                       IIR bits 3:1 id, 0 = 1 none pending, 7:6 FIFOs on
//   3    LCR                                     bit 7 DLAB
//   4    MCR                                     bits: 0 DTR, 1 RTS, 2 OUT1, 3 OUT2, 4 loopback
//   5    LSR           (ignored)                 0 DR, 1 OE, 5 THRE, 6 TEMT
//   6    MSR           (ignored)                 4 CTS, 5 DSR, 6 RI, 7 DCD; bits 3:0 their deltas
//   7    SCR           SCR                       scratch
//
// Model decisions (deterministic, as the design asks):
// - Transmission is instantaneous: a THR write reaches the console sink at once, so THRE and TEMT
//   always read 1 and a THR-empty interrupt follows every write while IER bit 1 is set.
// - Host input waits in an unbounded, flow-controlled queue and moves into the receive FIFO (16 bytes,
//   or the 1-byte holding register with FIFOs off) whenever there is room, so host input never
//   overruns; only loopback can overrun (LSR.OE). The divisor paces nothing but the pause below.
// - Host input is never lost: resetting the receive FIFO (FCR bit 1, or toggling FIFO mode, as every
//   driver does while initialising) discards loopback bytes but returns host bytes to the front of
//   the queue, so input a script queues before the guest sets up its UART still arrives whole.
// - After a receive-FIFO reset made with the receive-data interrupt off, the far end holds its
//   bytes (the returned ones first) until the guest is ready for them: until it enables that
//   interrupt (an interrupt-driven driver), or for 16 character times (10 bits each at the rate
//   the divisor sets from the 3.6864 MHz input clock) for a driver that polls. Drivers read the
//   receive buffer "for luck" after such a reset and drop what they find (Linux's 8250 startup
//   twice, the second time after request_irq, before it enables the interrupt; OpenSBI's init
//   once); a line that refilled at once would lose the first bytes of input queued before the
//   guest set its UART up. One character time is not enough: under `interpret` (each instruction
//   priced as the interpreter's work) Linux's second read comes 1.2 character times after its
//   reset at 9600 baud. The pause is a deadline on the platform timebase, so it ends at a
//   deterministic point.
// - With FIFOs on, data below the trigger level is reported at once as a character timeout (IIR 0xC)
//   instead of after four character times: drivers treat both the same and no timer is needed.
// - Any access width is accepted at offsets 0-7 (the byte register; wider reads zero-extend), as QEMU's
//   serial_mm; offsets 8-255 of the device tree's 256-byte window decode to nothing and fault, as on
//   QEMU. MCR resets to OUT2 (0x08) as QEMU's does; the IRQ is not gated by OUT2 (as QEMU).

import Machine

public final class UART16550: MMIODevice, TimedDevice, CountingDevice {
    public let mmioSize: UInt64 = VirtPlatform.uart0.size
    public let name: String
    public static let fifoDepth = 16
    /// The input clock the divisor divides (16 clocks a bit), as on QEMU `virt`.
    public static let clockFrequency: UInt64 = 3_686_400
    public var counters: DeviceCounters {
        var c = stats
        c.interrupts = irq.risingEdges
        return c
    }

    /// Where transmitted bytes go (unless loopback is on).
    public var sink: (any ConsoleSink)?
    private let irq: InterruptLine
    private let time: (any TimeSource)?
    private let errors: GuestErrorLog?
    private var stats = DeviceCounters()

    // Registers
    private var ier: UInt8 = 0
    private var lcr: UInt8 = 0
    private var mcr: UInt8 = 0x08           // OUT2, as QEMU's reset leaves it
    private var scr: UInt8 = 0
    private var dll: UInt8 = 0
    private var dlm: UInt8 = 0
    private var fifoEnabled = false
    private var triggerLevel = 1
    private var overrun = false
    private var thrInterrupt = false
    private var msrDeltas: UInt8 = 0
    private var lastModemStatus: UInt8

    // Receive path
    private var rxFIFO: [UInt8] = []
    private var rxFromHost: [Bool] = []      // parallel to rxFIFO: where each byte came from
    private var hostQueue: [UInt8] = []
    private var hostQueueHead = 0
    /// The `mtime` at which the line sends again after a receive-FIFO reset, unless the guest
    /// enables the receive-data interrupt first.
    private var pausedUntil: UInt64?
    /// Character times the line holds its bytes after a reset for a driver that polls.
    public static let pauseCharacters: UInt64 = 16

    /// `time` is the platform timebase that times the pause after a receive-FIFO reset; without
    /// one (a register-level test) the line never pauses.
    public init(irq: InterruptLine = .unconnected(), sink: (any ConsoleSink)? = nil,
                time: (any TimeSource)? = nil, errors: GuestErrorLog? = nil, name: String = "uart0") {
        self.irq = irq
        self.sink = sink
        self.time = time
        self.errors = errors
        self.name = name
        lastModemStatus = 0
        lastModemStatus = modemStatusLines
    }

    // MARK: Host side

    /// Queues bytes typed on the host terminal or supplied by a script; they reach the guest in order.
    public func enqueueInput(_ bytes: [UInt8]) {
        hostQueue.append(contentsOf: bytes)
        refillFromHost()
        updateIRQ()
    }

    public func enqueueInput(_ text: String) { enqueueInput(Array(text.utf8)) }

    /// Host bytes not yet taken into the receive FIFO.
    public var pendingInputCount: Int { hostQueue.count - hostQueueHead + rxFIFO.count }

    /// Ticks of the 10 MHz timebase one character takes on the line (start bit, 8 data bits, stop
    /// bit, 16 input clocks each), at least one. A divisor of 0, which the data sheet leaves
    /// undefined, counts as 1 (the fastest rate).
    public var characterTicks: UInt64 {
        let divisor = max(1, UInt64(dlm) << 8 | UInt64(dll))
        let clocks = 10 * 16 * divisor
        return max(1, (clocks * VirtPlatform.timebaseFrequency + Self.clockFrequency - 1) / Self.clockFrequency)
    }

    // MARK: TimedDevice

    public var nextDeadline: UInt64? { pausedUntil }

    public func advance(to mtime: UInt64) {
        guard let until = pausedUntil, mtime >= until else { return }
        pausedUntil = nil
        refillFromHost()
        updateIRQ()
    }

    // MARK: MMIODevice

    public func mmioRead(offset: UInt64, size: Int) -> UInt64? {
        stats.reads &+= 1
        guard offset < 8 else { return outsideRegisters(offset) }
        let dlab = lcr & 0x80 != 0
        let value: UInt8
        // The interrupt output is re-evaluated only after a read with a side effect (see updateIRQ).
        var changed = false
        switch offset {
        case 0:
            if dlab { value = dll } else { value = readRBR(); changed = true }
        case 1: value = dlab ? dlm : ier
        case 2:
            value = readIIR()
            changed = value & 0x0F == 0x02
        case 3: value = lcr
        case 4: value = mcr
        case 5:
            value = lsr
            changed = overrun
            overrun = false   // reading LSR clears the error bits
        case 6:
            value = modemStatusLines | msrDeltas
            changed = msrDeltas != 0
            msrDeltas = 0
        default: value = scr
        }
        if changed { updateIRQ() }
        return UInt64(value)
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        stats.writes &+= 1
        guard offset < 8 else { return outsideRegisters(offset) != nil }
        let v = UInt8(truncatingIfNeeded: value)
        let dlab = lcr & 0x80 != 0
        switch offset {
        case 0:
            if dlab { dll = v } else { writeTHR(v); updateIRQ() }
        case 1:
            if dlab { dlm = v } else { writeIER(v); updateIRQ() }
        case 2: writeFCR(v); updateIRQ()
        case 3: lcr = v
        case 4: writeMCR(v & 0x1F); updateIRQ()
        case 7: scr = v
        default:
            break   // LSR and MSR are read-only; factory-test writes are ignored as on QEMU
        }
        return true
    }

    private func outsideRegisters(_ offset: UInt64) -> UInt64? {
        stats.guestErrors &+= 1
        errors?.log(name, "access at offset 0x\(String(offset, radix: 16)), past the eight registers")
        return nil
    }

    // MARK: Registers

    private var lsr: UInt8 {
        var v: UInt8 = 0x60               // THRE | TEMT: transmission is instantaneous
        if !rxFIFO.isEmpty { v |= 0x01 }
        if overrun { v |= 0x02 }
        return v
    }

    /// CTS, DSR, RI, DCD: wired back from MCR in loopback; otherwise a connected, ready terminal.
    private var modemStatusLines: UInt8 {
        if mcr & 0x10 != 0 {
            var v: UInt8 = 0
            if mcr & 0x02 != 0 { v |= 0x10 }   // RTS → CTS
            if mcr & 0x01 != 0 { v |= 0x20 }   // DTR → DSR
            if mcr & 0x04 != 0 { v |= 0x40 }   // OUT1 → RI
            if mcr & 0x08 != 0 { v |= 0x80 }   // OUT2 → DCD
            return v
        }
        return 0xB0                             // DCD | DSR | CTS
    }

    private var rxCapacity: Int { fifoEnabled ? Self.fifoDepth : 1 }

    private func readRBR() -> UInt8 {
        guard !rxFIFO.isEmpty else { return 0 }
        let b = rxFIFO.removeFirst()
        rxFromHost.removeFirst()
        stats.bytesToGuest &+= 1
        refillFromHost()
        return b
    }

    private func readIIR() -> UInt8 {
        let id = interruptID
        // Reading IIR while it reports THR empty acknowledges that interrupt (data sheet table 4).
        if id == 0x02 { thrInterrupt = false }
        return id | (fifoEnabled ? 0xC0 : 0)
    }

    /// The highest-priority pending interrupt's identification (IIR bits 3:0).
    private var interruptID: UInt8 {
        if ier & 0x04 != 0 && overrun { return 0x06 }
        if ier & 0x01 != 0 && !rxFIFO.isEmpty {
            return (fifoEnabled && rxFIFO.count < triggerLevel) ? 0x0C : 0x04
        }
        if ier & 0x02 != 0 && thrInterrupt { return 0x02 }
        if ier & 0x08 != 0 && msrDeltas != 0 { return 0x00 }
        return 0x01
    }

    private func writeTHR(_ v: UInt8) {
        stats.bytesFromGuest &+= 1
        if mcr & 0x10 != 0 {
            receive(v)                          // loopback: the transmitter feeds the receiver
        } else {
            sink?.consoleWrite([v])
        }
        thrInterrupt = true                     // the byte left at once: THR is empty again
    }

    private func writeIER(_ v: UInt8) {
        let old = ier
        ier = v & 0x0F
        // The guest listens: the line paused by a reset sends again (see the model notes).
        if ier & 0x01 != 0 && pausedUntil != nil {
            pausedUntil = nil
            refillFromHost()
        }
        // Enabling the THR-empty interrupt while THR is empty raises it (QEMU and real parts do), which
        // is how Linux's 8250 driver starts transmission.
        if ier & 0x02 != 0 && old & 0x02 == 0 { thrInterrupt = true }
        if ier & 0x02 == 0 { thrInterrupt = false }
    }

    private func writeFCR(_ v: UInt8) {
        let enable = v & 0x01 != 0
        if enable != fifoEnabled || v & 0x02 != 0 {   // toggling FIFO mode clears both FIFOs too
            resetReceiveFIFO()
        }
        fifoEnabled = enable
        // bit 2 clears the transmit FIFO, which is always empty here.
        triggerLevel = [1, 4, 8, 14][Int(v >> 6)]
        refillFromHost()
    }

    private func writeMCR(_ v: UInt8) {
        let loopToggled = (mcr ^ v) & 0x10 != 0
        mcr = v
        let now = modemStatusLines
        // Entering or leaving loopback re-routes the inputs rather than changing the far end's lines,
        // so it records no deltas (as QEMU); changes of MCR while looped back do (data sheet).
        if loopToggled {
            lastModemStatus = now
            refillFromHost()
            return
        }
        let changed = now ^ lastModemStatus
        if changed & 0x10 != 0 { msrDeltas |= 0x01 }                          // DCTS
        if changed & 0x20 != 0 { msrDeltas |= 0x02 }                          // DDSR
        if lastModemStatus & 0x40 != 0 && now & 0x40 == 0 { msrDeltas |= 0x04 } // TERI: RI fell
        if changed & 0x80 != 0 { msrDeltas |= 0x08 }                          // DDCD
        lastModemStatus = now
        refillFromHost()                         // leaving loopback reconnects the host input
    }

    /// Empties the receive FIFO; host bytes go back to the front of the host queue (never lost),
    /// and, with the receive-data interrupt off, the line pauses.
    private func resetReceiveFIFO() {
        let host = zip(rxFIFO, rxFromHost).filter { $0.1 }.map { $0.0 }
        if !host.isEmpty {
            hostQueue = host + hostQueue[hostQueueHead...]
            hostQueueHead = 0
        }
        rxFIFO.removeAll()
        rxFromHost.removeAll()
        overrun = false
        if let time, ier & 0x01 == 0 { pausedUntil = time.mtime &+ Self.pauseCharacters &* characterTicks }
    }

    /// A byte arriving at the receiver (from loopback); a full FIFO overruns and loses it.
    private func receive(_ b: UInt8) {
        if rxFIFO.count < rxCapacity {
            rxFIFO.append(b)
            rxFromHost.append(false)
        } else {
            overrun = true
        }
    }

    private func refillFromHost() {
        guard mcr & 0x10 == 0 else { return }    // in loopback the serial input is disconnected
        guard pausedUntil == nil else { return }  // after a receive-FIFO reset, until the deadline
        while rxFIFO.count < rxCapacity && hostQueueHead < hostQueue.count {
            rxFIFO.append(hostQueue[hostQueueHead])
            rxFromHost.append(true)
            hostQueueHead += 1
        }
        if hostQueueHead == hostQueue.count {
            hostQueue.removeAll(keepingCapacity: true)
            hostQueueHead = 0
        }
    }

    /// Drives the interrupt output after something that may have changed it: a received byte, a
    /// THR, IER, FCR or MCR write, a read that takes data or clears a condition. Driving it high
    /// again while it is high is a new request for a PLIC that follows QEMU (`PLICGateway.qemu`),
    /// so it happens where QEMU's 16550 re-evaluates its interrupt, and never after a read with no
    /// side effect: a driver that leaves THR-empty raised (xv6 reads LSR, never IIR) then gets one
    /// interrupt per event, not one per handler run.
    private func updateIRQ() {
        irq.set(interruptID != 0x01)
    }
}

// MARK: Snapshots

public struct UART16550State: DeviceState, Equatable {
    public let registers: [UInt8]            // ier, lcr, mcr, scr, dll, dlm, msrDeltas, lastModemStatus
    public let fifoEnabled: Bool
    public let triggerLevel: Int
    public let overrun: Bool
    public let thrInterrupt: Bool
    public let rxFIFO: [UInt8]
    public let rxFromHost: [Bool]
    public let hostQueue: [UInt8]            // host input not yet taken into the receiver
    public let pausedUntil: UInt64?          // the line's pause after a receive-FIFO reset
}

extension UART16550: SnapshottableDevice {
    public func saveState() -> any DeviceState {
        UART16550State(registers: [ier, lcr, mcr, scr, dll, dlm, msrDeltas, lastModemStatus],
                       fifoEnabled: fifoEnabled, triggerLevel: triggerLevel, overrun: overrun,
                       thrInterrupt: thrInterrupt, rxFIFO: rxFIFO, rxFromHost: rxFromHost,
                       hostQueue: Array(hostQueue[hostQueueHead...]), pausedUntil: pausedUntil)
    }

    public func accepts(_ state: any DeviceState) -> Bool {
        guard let s = state as? UART16550State, s.registers.count == 8, s.rxFIFO.count == s.rxFromHost.count,
              s.rxFIFO.count <= 16, [1, 4, 8, 14].contains(s.triggerLevel) else { return false }
        return true
    }

    @discardableResult
    public func restoreState(_ state: any DeviceState) -> Bool {
        guard accepts(state), let s = state as? UART16550State else { return false }
        (ier, lcr, mcr, scr) = (s.registers[0], s.registers[1], s.registers[2], s.registers[3])
        (dll, dlm, msrDeltas, lastModemStatus) = (s.registers[4], s.registers[5], s.registers[6], s.registers[7])
        fifoEnabled = s.fifoEnabled
        triggerLevel = s.triggerLevel
        overrun = s.overrun
        thrInterrupt = s.thrInterrupt
        rxFIFO = s.rxFIFO
        rxFromHost = s.rxFromHost
        hostQueue = s.hostQueue
        hostQueueHead = 0
        pausedUntil = s.pausedUntil
        irq.restoreLevel(interruptID != 0x01)
        return true
    }
}
