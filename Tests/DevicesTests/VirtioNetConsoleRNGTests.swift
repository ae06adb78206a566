import Testing
import Machine
@testable import Devices

@Suite struct VirtioNetTests {
    static let macA: [UInt8] = [0x52, 0x54, 0, 0, 0, 0xA]
    static let macB: [UInt8] = [0x52, 0x54, 0, 0, 0, 0xB]

    func frame(to dst: [UInt8], from src: [UInt8], payload: String) -> [UInt8] {
        dst + src + [0x88, 0xB5] + Array(payload.utf8)
    }

    func makeNIC(_ mac: [UInt8], _ ram: FakeRAM, _ controller: FakeController) -> (VirtioNet, VirtioTestDriver) {
        let nic = VirtioNet(mac: mac)
        let d = VirtioTestDriver(VirtioMMIO(backend: nic, memory: ram, irq: InterruptLine(controller, source: 1)), ram: ram)
        #expect(d.initialize(queueSizes: [16, 16]) & VirtioStatus.driverOK != 0)
        return (nic, d)
    }

    @Test func framesCrossTheSwitchBetweenTwoVMs() {
        let ramA = FakeRAM(), ramB = FakeRAM()
        let irqA = FakeController(), irqB = FakeController()
        let (nicA, a) = makeNIC(Self.macA, ramA, irqA)
        let (nicB, b) = makeNIC(Self.macB, ramB, irqB)
        #expect((0..<6).map { b.config(UInt64($0), 1) } == Self.macB.map(UInt64.init))
        #expect(b.config(6, 2) == 1)                                  // link up
        let sw = NetworkSwitch()
        nicA.connect(to: sw)
        nicB.connect(to: sw)

        // A frame arriving before B posted buffers waits in the backlog.
        let f1 = frame(to: Self.macB, from: Self.macA, payload: "ping")
        a.submit(1, out: [[UInt8](repeating: 0, count: 12) + f1], inLengths: [])
        a.notify(1)
        #expect(a.takeUsed(1).count == 1)
        #expect(nicB.backlogCount == 1)
        let (_, rx) = b.submit(0, out: [], inLengths: [1526])
        b.notify(0)
        let used = b.takeUsed(0)
        #expect(used.first?.length == UInt32(12 + f1.count))
        #expect(ramB.load(rx[0] + 12, f1.count) == f1)
        #expect(ramB.load(rx[0] + 10, 2) == [1, 0])                   // num_buffers = 1
        #expect(irqB.levels[1] == true)

        // With buffers posted, a reply is delivered at once (broadcast reaches B, not A itself).
        let (_, rxA) = a.submit(0, out: [], inLengths: [1526])
        a.notify(0)
        let f2 = frame(to: Self.macA, from: Self.macB, payload: "pong")
        b.submit(1, out: [[UInt8](repeating: 0, count: 12), f2], inLengths: [])   // header in its own buffer
        b.notify(1)
        #expect(a.takeUsed(0).count == 1)
        #expect(ramA.load(rxA[0] + 12, f2.count) == f2)
        #expect(nicA.framesReceived == 1 && nicB.framesSent == 1)
        #expect(sw.statistics.framesDelivered == 2)
    }

    @Test func loopbackAndSmallBuffers() {
        let ram = FakeRAM(), irq = FakeController()
        let (nic, d) = makeNIC(Self.macA, ram, irq)
        nic.loopback = true
        let f = frame(to: Self.macA, from: Self.macA, payload: String(repeating: "x", count: 100))
        let (_, small) = d.submit(0, out: [], inLengths: [64])
        d.notify(0)
        d.submit(1, out: [[UInt8](repeating: 0, count: 12) + f], inLengths: [])
        d.notify(1)
        #expect(d.takeUsed(0).first?.length == 0)                    // too small: dropped, buffer returned
        #expect(nic.framesDropped == 1)
        _ = small
        let (_, big) = d.submit(0, out: [], inLengths: [1526])
        d.notify(0)
        d.submit(1, out: [[UInt8](repeating: 0, count: 12) + f], inLengths: [])
        d.notify(1)
        #expect(d.takeUsed(0).count == 1)
        #expect(ram.load(big[0] + 12, f.count) == f)
    }

    /// A card unplugged, or gone with its machine, is off the switch: no frame reaches it, the
    /// switch no longer holds it, and a frame for its learnt address is dropped and counted.
    @Test func cardsLeaveTheSwitch() {
        let sw = NetworkSwitch()
        let a = VirtioNet(mac: Self.macA)
        a.connect(to: sw)
        weak var goneCard: VirtioNet?
        do {
            let b = VirtioNet(mac: Self.macB)
            goneCard = b
            b.connect(to: sw)
            #expect(sw.portCount == 2 && b.connectedSwitch === sw)
            sw.transmit(frame(to: Self.macA, from: Self.macB, payload: "hi"), from: 1)   // the switch learns B
        }
        #expect(goneCard == nil, "the switch holds its cards weakly")
        #expect(sw.portCount == 1)
        sw.transmit(frame(to: Self.macB, from: Self.macA, payload: "anyone?"), from: 0)
        #expect(sw.statistics.framesDropped == 1)

        let c = VirtioNet(mac: Self.macB)
        c.connect(to: sw)
        c.disconnect()
        #expect(sw.portCount == 1 && c.connectedSwitch == nil)
        sw.transmit(frame(to: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], from: Self.macA, payload: "all"), from: 0)
        #expect(c.backlogCount == 0 && sw.statistics.framesDelivered == 1, "only the first frame, to A, was delivered")
    }

    /// A transmitted "frame" longer than any Ethernet frame (a chain may hold megabytes) is dropped
    /// and counted, and never reaches a switch, whose receivers would keep it in their backlogs.
    @Test func anOversizedFrameIsDropped() {
        let ram = FakeRAM(), irq = FakeController()
        let (nic, d) = makeNIC(Self.macA, ram, irq)
        let sw = NetworkSwitch()
        nic.connect(to: sw)
        let huge = frame(to: Self.macB, from: Self.macA, payload: String(repeating: "x", count: VirtioNet.maximumFrameLength))
        d.submit(1, out: [[UInt8](repeating: 0, count: 12) + huge], inLengths: [])
        d.notify(1)
        #expect(d.takeUsed(1).count == 1, "the buffer is returned all the same")
        #expect(nic.framesDropped == 1 && nic.framesSent == 0 && sw.statistics.framesIn == 0)
        let largest = frame(to: Self.macB, from: Self.macA, payload: String(repeating: "x", count: VirtioNet.maximumFrameLength - 14))
        d.submit(1, out: [[UInt8](repeating: 0, count: 12) + largest], inLengths: [])
        d.notify(1)
        #expect(nic.framesSent == 1 && sw.statistics.framesIn == 1)
    }

    /// A capture keeps the most recent frames that entered, dropped or not, with the sending card's
    /// address and guest time; `pcap()` lays them out as libpcap's classic format.
    @Test func theCaptureKeepsTheLatestFramesAndWritesPcap() {
        final class Clock: TimeSource { var mtime: UInt64 = 0 }
        let sw = NetworkSwitch()
        sw.captureLimit = 2
        let clock = Clock()
        let a = VirtioNet(mac: Self.macA)
        a.time = clock
        a.connect(to: sw)
        let frames = (1...3).map { frame(to: Self.macB, from: Self.macA, payload: "n\($0)") }
        for (i, f) in frames.enumerated() {
            clock.mtime = UInt64(i) * 12_345_678        // 1.2345678 s apart
            sw.transmit(f, from: 0, mtime: clock.mtime)
        }
        sw.transmit([1, 2, 3], from: 0)                   // a runt: dropped, and captured all the same
        #expect(sw.captured.map(\.bytes) == [frames[2], [1, 2, 3]])
        #expect(sw.captured.map(\.sender) == [Self.macA, Self.macA])
        #expect(sw.captured.map(\.mtime) == [24_691_356, nil])
        #expect(sw.capturesDiscarded == 2 && sw.statistics.framesDropped == 1)

        let file = sw.pcap()
        func word(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(file[at + $1]) << (8 * $1) } }
        #expect(word(0) == 0xA1B2_C3D4 && file[4] == 2 && file[6] == 4 && word(20) == 1)
        // Record 1 at 24: 2.469135 s, the frame's length twice, the frame.
        #expect(word(24) == 2 && word(28) == 469_135 && word(32) == UInt32(frames[2].count) && word(36) == UInt32(frames[2].count))
        #expect(Array(file[40..<40 + frames[2].count]) == frames[2])
        let second = 40 + frames[2].count
        #expect(word(second) == 0 && word(second + 8) == 3 && Array(file[(second + 16)...]) == [1, 2, 3])
        sw.captureLimit = 0
        #expect(sw.captured.isEmpty && sw.capturesDiscarded == 4)
    }

    /// Frames waiting for receive buffers when the driver resets the card are lost, and counted.
    @Test func aResetLosesTheBacklogAndCountsIt() {
        let ram = FakeRAM(), irq = FakeController()
        let (nic, _) = makeNIC(Self.macA, ram, irq)
        nic.receiveFrame(frame(to: Self.macA, from: Self.macB, payload: "one"))
        nic.receiveFrame(frame(to: Self.macA, from: Self.macB, payload: "two"))
        #expect(nic.backlogCount == 2 && nic.framesDropped == 0)
        nic.reset()
        #expect(nic.backlogCount == 0 && nic.framesDropped == 2)
    }

    /// A link taken down (QEMU's set_link): the driver is interrupted for a configuration change
    /// and reads status without LINK_UP; frames either way are lost until it comes back.
    @Test func aLinkDownLosesFramesBothWaysAndTellsTheDriver() {
        let ramA = FakeRAM(), ramB = FakeRAM()
        let irqA = FakeController(), irqB = FakeController()
        let (nicA, a) = makeNIC(Self.macA, ramA, irqA)
        let (nicB, b) = makeNIC(Self.macB, ramB, irqB)
        let sw = NetworkSwitch()
        nicA.connect(to: sw)
        nicB.connect(to: sw)
        _ = b.submit(0, out: [], inLengths: [1526])
        b.notify(0)
        let generation = a.r32(0xFC)

        nicA.setLink(up: false)
        #expect(!nicA.linkUp && nicA.linkChanges == 1)
        #expect(a.config(6, 2) == 0)                                  // LINK_UP clear
        #expect(a.r32(0xFC) == generation &+ 1)
        #expect(a.r32(0x60) & 2 != 0 && irqA.levels[1] == true)       // a configuration change
        // Sent: consumed (the ring moves on) but never on the wire.
        a.submit(1, out: [[UInt8](repeating: 0, count: 12) + frame(to: Self.macB, from: Self.macA, payload: "lost")], inLengths: [])
        a.notify(1)
        #expect(a.takeUsed(1).count == 1)
        #expect(nicA.framesSent == 0 && nicA.framesDropped == 1 && sw.statistics.framesIn == 0)
        // Received: dropped at the card, never in the backlog.
        nicA.receiveFrame(frame(to: Self.macA, from: Self.macB, payload: "lost too"))
        #expect(nicA.backlogCount == 0 && nicA.framesDropped == 2)
        nicA.setLink(up: false)                                       // already down: nothing
        #expect(nicA.linkChanges == 1 && a.r32(0xFC) == generation &+ 1)

        nicA.setLink(up: true)
        #expect(a.config(6, 2) == 1 && a.r32(0xFC) == generation &+ 2 && nicA.linkChanges == 2)
        a.submit(1, out: [[UInt8](repeating: 0, count: 12) + frame(to: Self.macB, from: Self.macA, payload: "back")], inLengths: [])
        a.notify(1)
        #expect(nicA.framesSent == 1 && nicB.framesReceived == 1)
        // The link is part of the card's state.
        nicA.setLink(up: false)
        let saved = nicA.saveBackendState()
        nicA.setLink(up: true)
        #expect(nicA.restoreBackendState(saved) && !nicA.linkUp)
    }
}

@Suite struct VirtioConsoleRNGTests {
    @Test func consoleOutputAndInput() {
        let ram = FakeRAM()
        let capture = ConsoleCapture()
        let con = VirtioConsole(sink: capture)
        let d = VirtioTestDriver(VirtioMMIO(backend: con, memory: ram), ram: ram)
        #expect(d.r32(8) == 3)
        d.initialize(queueSizes: [8, 8])
        d.submit(1, out: [Array("hello ".utf8), Array("world".utf8)], inLengths: [])
        d.notify(1)
        #expect(capture.text == "hello world")
        con.enqueueInput(Array("abcdef".utf8))
        #expect(con.pendingInputCount == 6)
        let (_, b1) = d.submit(0, out: [], inLengths: [4])
        let (_, b2) = d.submit(0, out: [], inLengths: [4])
        d.notify(0)
        #expect(d.takeUsed(0).map(\.length) == [4, 2])
        #expect(ram.load(b1[0], 4) == Array("abcd".utf8) && ram.load(b2[0], 2) == Array("ef".utf8))
    }

    @Test func rngIsDeterministicPerSeed() {
        func draw(seed: UInt64) -> [UInt8] {
            let ram = FakeRAM()
            let d = VirtioTestDriver(VirtioMMIO(backend: VirtioRNG(seed: seed), memory: ram), ram: ram)
            #expect(d.r32(8) == 4)
            d.initialize(queueSizes: [8])
            let (_, b) = d.submit(0, out: [], inLengths: [13, 19])
            d.notify(0)
            #expect(d.takeUsed(0).first?.length == 32)
            return ram.load(b[0], 13) + ram.load(b[1], 19)
        }
        let x = draw(seed: 42)
        #expect(x == draw(seed: 42))
        #expect(x != draw(seed: 43))
        #expect(Set(x).count > 16)                    // not a constant fill
        #expect(x == VirtioRNG(seed: 42).nextBytes(32))
    }
}
