import Testing
import Machine
@testable import Devices

@Suite struct FaultInjectionTests {
    @Test func maskedLineDropsAndDelaysThenPulseIsSpurious() {
        let pins = FakePins()
        let plic = PLIC(hartCount: 1, pins: pins)
        _ = plic.mmioWrite(offset: 4 * 10, size: 4, value: 1)
        _ = plic.mmioWrite(offset: 0x2000, size: 4, value: 1 << 10)
        let line = InterruptLine(plic, source: 10)
        line.masked = true
        line.set(true)                                   // dropped: the PLIC never hears it
        #expect(!plic.isPending(10) && !pins.level(.meip))
        #expect(line.droppedEdges == 1)
        line.masked = false                              // still asserted: delivered late
        #expect(plic.isPending(10) && pins.level(.meip))
        #expect(plic.claim(context: 0) == 10)
        line.set(false)
        plic.complete(context: 0, source: 10)
        #expect(!pins.level(.meip))
        line.injectPulse()                               // spurious: latched, claimable, no cause
        #expect(pins.level(.meip))
        #expect(plic.claim(context: 0) == 10)
        #expect(line.injectedPulses == 1 && line.risingEdges == 1)
    }

    @Test func blockRequestsFailOnDemand() {
        let ram = FakeRAM()
        let blk = VirtioBlock(image: BlockImage(bytes: [UInt8](repeating: 9, count: 4096), mode: .readOnly))
        let d = VirtioTestDriver(VirtioMMIO(backend: blk, memory: ram), ram: ram)
        d.initialize(queueSizes: [8])
        blk.injectedFailures = 1
        var header = [UInt8](repeating: 0, count: 16)
        header[8] = 1                                                   // sector 1, T_IN
        let (_, failed) = d.submit(0, out: [header], inLengths: [512, 1])
        let (_, ok) = d.submit(0, out: [header], inLengths: [512, 1])
        d.notify(0)
        #expect(d.takeUsed(0).count == 2)
        #expect(ram.load(failed[1], 1) == [1] && ram.load(ok[1], 1) == [0])
        #expect(ram.load(ok[0], 4) == [9, 9, 9, 9])
        #expect(blk.injectedFailures == 0 && blk.failures == 1)
    }

    @Test func framesAreLostOnDemand() {
        let nic = VirtioNet()
        nic.injectedReceiveDrops = 2
        for _ in 0..<3 { nic.receiveFrame([UInt8](repeating: 0xFF, count: 60)) }
        #expect(nic.framesDropped == 2 && nic.backlogCount == 1)
    }

    @Test func macAddressesParseAndPrint() {
        #expect(VirtioNet.parseMAC("52:54:00:12:34:5a") == [0x52, 0x54, 0, 0x12, 0x34, 0x5A])
        #expect(VirtioNet.parseMAC("52-54-00-12-34-5A") == [0x52, 0x54, 0, 0x12, 0x34, 0x5A])
        for bad in ["", "52:54:00:12:34", "52:54:00:12:34:5g", "52:54:00:12:34:567", "52:54:00:12::34", "52:54:00:12:34:+5"] {
            #expect(VirtioNet.parseMAC(bad) == nil, "\(bad)")
        }
        #expect(VirtioNet(mac: [0x52, 0x54, 0, 0x0A, 0xBC, 1]).macString == "52:54:00:0a:bc:01")
    }
}
