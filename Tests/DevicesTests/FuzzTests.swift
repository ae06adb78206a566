// Guest misbehaviour is never a host crash: seeded random register traffic and random rings. A crash
// (Swift traps on overflow and bounds) fails the run; the invariants below fail it otherwise.
import Testing
import Machine
@testable import Devices

/// xorshift64*, seeded, so a failure reproduces.
struct FuzzRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    mutating func below(_ n: UInt64) -> UInt64 { next() % n }
    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(below(UInt64(xs.count)))] }
}

@Suite struct FuzzTests {
    @Test(arguments: [1, 2, 3])
    func randomRegisterTraffic(seed: UInt64) {
        var r = FuzzRandom(state: 0x9E37_79B9 &* (seed + 1))
        let pins = FakePins(), time = FakeTime(), ram = FakeRAM(), ctl = FakeController()
        let plic = PLIC(hartCount: 2, pins: pins)
        let devices: [any MMIODevice] = [
            CLINT(hartCount: 2, pins: pins, time: time), plic,
            UART16550(irq: InterruptLine(plic, source: 10), sink: ConsoleCapture(), time: time),
            TestFinisher(), GoldfishRTC(time: time, irq: InterruptLine(ctl, source: 11)),
            HTIF(memory: ram, sink: ConsoleCapture()),
            VirtioMMIO(backend: VirtioBlock(image: BlockImage(bytes: [UInt8](repeating: 7, count: 8192), mode: .copyOnWrite)), memory: ram),
            VirtioMMIO(backend: VirtioNet(loopback: true), memory: ram),
            VirtioMMIO(backend: VirtioConsole(sink: ConsoleCapture()), memory: ram),
            VirtioMMIO(backend: VirtioRNG(), memory: ram),
            VirtioMMIO(backend: nil, memory: ram),
        ]
        let interesting: [UInt64] = [0, 1, 2, 3, 0xFF, 0xFFFF_FFFF, .max, 0x8000_0000, 0x8000_1000, 0x5555, 0x3333]
        for _ in 0..<20_000 {
            let d = r.pick(devices)
            let size = r.pick([1, 2, 4, 8])
            // Bias towards the low registers, where most state lives, but cover the whole window.
            let span = r.below(4) == 0 ? d.mmioSize : min(d.mmioSize, 0x200)
            var offset = r.below(span)
            if offset + UInt64(size) > d.mmioSize { offset = d.mmioSize - UInt64(size) }
            if r.below(2) == 0 { offset &= ~UInt64(size - 1) }
            let value = r.below(3) == 0 ? r.pick(interesting) : r.next()
            if r.below(2) == 0 {
                _ = d.mmioRead(offset: offset, size: size)
            } else {
                _ = d.mmioWrite(offset: offset, size: size, value: value)
            }
            time.mtime &+= r.below(1000)
            if let t = d as? any TimedDevice, let deadline = t.nextDeadline, deadline <= time.mtime {
                t.advance(to: time.mtime)
            }
        }
        // The PLIC's invariant survives the storm: a context's output is high only with a claimable source.
        for c in 0..<4 {
            let out = plic.output(context: c)
            #expect(out == (plic.claim(context: c) != 0))
        }
    }

    /// Host input reaches the guest whole, once and in order, whatever a driver does to the
    /// receiver meanwhile (FIFO resets and the line's pause after them, mode changes, divisors,
    /// reads of every register), with time passing at random. Loopback, whose bytes are the
    /// guest's own, stays off.
    @Test(arguments: [21, 22, 23])
    func uartHostInputIsNeverLostOrDuplicated(seed: UInt64) {
        var r = FuzzRandom(state: 0x2545_F491 &* (seed + 1))
        let time = FakeTime()
        let u = UART16550(sink: ConsoleCapture(), time: time)
        var sent: [UInt8] = [], received: [UInt8] = []
        var next: UInt8 = 0
        func advance(by ticks: UInt64) {
            time.mtime &+= ticks
            if let deadline = u.nextDeadline, deadline <= time.mtime { u.advance(to: time.mtime) }
        }
        /// Reads RBR as a driver does (LSR first) and keeps the byte when there was one: every read
        /// of RBR goes through here, since a read takes the byte whether or not the guest wanted it.
        func readByte() {
            let dataReady = u.mmioRead(offset: 5, size: 1)! & 1 == 1
            let lcr = u.mmioRead(offset: 3, size: 1)!
            _ = u.mmioWrite(offset: 3, size: 1, value: lcr & 0x7F)     // RBR, not DLL
            let byte = UInt8(u.mmioRead(offset: 0, size: 1)!)
            _ = u.mmioWrite(offset: 3, size: 1, value: lcr)
            if dataReady { received.append(byte) }
        }
        for _ in 0..<20_000 {
            switch r.below(8) {
            case 0:
                let count = Int(r.below(40))
                let bytes = (0..<count).map { _ in next &+= 1; return next }
                sent += bytes
                u.enqueueInput(bytes)
            case 1: _ = u.mmioWrite(offset: 2, size: 1, value: r.next())            // FCR: resets, modes, levels
            case 2: _ = u.mmioWrite(offset: 4, size: 1, value: r.next() & ~0x10)   // MCR, loopback off
            case 3:
                let offset = r.pick([UInt64(1), 3, 7])                                // IER/DLM, LCR, SCR
                _ = u.mmioWrite(offset: offset, size: 1, value: offset == 3 ? r.next() : r.below(4))
            case 4: _ = u.mmioRead(offset: 1 + r.below(7), size: 1)                // reads of the others...
            default: readByte()                                                     // ...and of RBR, kept
            }
            if case 0 = r.below(2) { advance(by: r.below(20_000)) }
        }
        // Drain: the line resumes after any pause and the rest arrives.
        for _ in 0..<(sent.count + 10) {
            advance(by: 1 << 24)
            readByte()
        }
        #expect(u.pendingInputCount == 0)
        let firstDifference = (0..<min(received.count, sent.count)).first { received[$0] != sent[$0] } ?? min(received.count, sent.count)
        #expect(received.count == sent.count && firstDifference == sent.count,
                "host input lost, duplicated or reordered: \(received.count) bytes received of \(sent.count), the first difference at \(firstDifference)")
    }

    @Test(arguments: [11, 12, 13, 14])
    func randomRings(seed: UInt64) {
        var r = FuzzRandom(state: 0x5851_F42D &* (seed + 1))
        let ram = FakeRAM(size: 4 << 20)   // the driver allocates fresh rings every round
        let log = GuestErrorLog()
        let backends: [any VirtioBackend] = [
            VirtioBlock(image: BlockImage(bytes: [UInt8](repeating: 1, count: 4096), mode: .copyOnWrite)),
            VirtioNet(loopback: true), VirtioConsole(sink: ConsoleCapture()), VirtioRNG(),
        ]
        for backend in backends {
            let t = VirtioMMIO(backend: backend, memory: ram, queueSize: 16, errors: log)
            let d = VirtioTestDriver(t, ram: ram)
            var brokenRounds = 0
            for _ in 0..<300 {
                d.initialize(queueSizes: (0..<backend.queueCount).map { _ in r.pick([1, 2, 4, 8, 16]) as UInt16 })
                // Scribble over the rings and descriptor tables with plausible-looking garbage.
                for _ in 0..<Int(r.below(40)) {
                    let q = d.queues[Int(r.below(UInt64(backend.queueCount)))]!
                    let base = r.pick([q.desc, q.avail, q.used, ram.base + r.below(UInt64(ram.bytes.count - 16))])
                    let value = r.pick([r.next(), r.below(32), ram.base + r.below(4 << 20), UInt64(r.below(8)) << 32 | r.below(1 << 16)])
                    let at = min(base + r.below(64), ram.base + UInt64(ram.bytes.count - 8))
                    ram.store(at, le: value, r.pick([1, 2, 4, 8]))
                }
                for q in 0..<backend.queueCount {
                    d.notify(q)
                }
                if backend is VirtioConsole { (backend as! VirtioConsole).enqueueInput([1, 2, 3]) }
                if let net = backend as? VirtioNet { net.receiveFrame([UInt8](repeating: 0xAB, count: Int(r.below(2000)))) }
                if d.r32(0x70) & VirtioStatus.deviceNeedsReset != 0 { brokenRounds += 1 }
                // Used indices never run ahead of what the driver made available.
                for i in d.queues.keys {
                    let used = t.queues[i].usedIndex
                    let lastAvail = t.queues[i].lastAvailIndex
                    #expect(UInt16(lastAvail &- used) <= UInt16(t.queues[i].size), "used ran ahead of available")
                }
            }
            // The garbage must actually have exercised the error paths, or the test proves nothing.
            #expect(brokenRounds > 0)
        }
        #expect(!log.messages.isEmpty)
    }
}
