import Testing
import Machine
@testable import Devices

@Suite struct HTIFTests {
    let ram = FakeRAM()
    let console = ConsoleCapture()

    @Test func exitCodesIncludingSplitStores() {
        var events: [FinisherEvent] = []
        let h = HTIF(memory: ram, sink: console, onFinish: { events.append($0) })
        #expect(h.mmioWrite(offset: 0, size: 8, value: 1))             // pass
        // riscv-tests: low word (TESTNUM << 1 | 1) then high word 0.
        #expect(h.mmioWrite(offset: 0, size: 4, value: (3 << 1) | 1))
        #expect(h.mmioWrite(offset: 4, size: 4, value: 0))
        #expect(events == [.pass, .fail(code: 3)])
        #expect(h.mmioRead(offset: 0, size: 8) == 0)                   // tohost reads back cleared
    }

    @Test func consolePutcharAndAcknowledge() {
        let h = HTIF(memory: ram, sink: console)
        for c in "ok".utf8 {
            #expect(h.mmioWrite(offset: 0, size: 8, value: 1 << 56 | 1 << 48 | UInt64(c)))
            #expect(h.mmioRead(offset: 8, size: 8) == 1 << 56 | 1 << 48 | 0x100 | UInt64(c))
            #expect(h.mmioWrite(offset: 8, size: 8, value: 0))
        }
        #expect(console.text == "ok")
    }

    @Test func syscallProxyWriteAndExit() {
        var events: [FinisherEvent] = []
        let h = HTIF(memory: ram, sink: console, onFinish: { events.append($0) })
        let magic: UInt64 = 0x8000_1000, text: UInt64 = 0x8000_2000
        ram.store(text, Array("hello\n".utf8))
        for (i, v) in [64, 1, text, 6].enumerated() { ram.store(magic + UInt64(8 * i), le: UInt64(v), 8) }
        #expect(h.mmioWrite(offset: 0, size: 8, value: magic))
        #expect(console.text == "hello\n")
        #expect(ram.loadLE(magic, 8) == 6)                               // return value
        #expect(h.mmioRead(offset: 8, size: 8) == 1)
        // write to a bad buffer: -EFAULT, not a crash
        for (i, v) in [64, 1, 0x10, 6].enumerated() { ram.store(magic + UInt64(8 * i), le: UInt64(v), 8) }
        #expect(h.mmioWrite(offset: 0, size: 8, value: magic))
        #expect(Int64(bitPattern: ram.loadLE(magic, 8)) == -14)
        // magic_mem outside RAM: a logged guest error
        #expect(h.mmioWrite(offset: 0, size: 8, value: 0x1000))
        #expect(h.counters.guestErrors == 1)
        for (i, v) in [93, 7].enumerated() { ram.store(magic + UInt64(8 * i), le: UInt64(v), 8) }
        #expect(h.mmioWrite(offset: 0, size: 8, value: magic))
        #expect(events == [.fail(code: 7)])
    }

    @Test func getcharWaitsForInput() {
        let h = HTIF(memory: ram)
        #expect(h.mmioWrite(offset: 0, size: 8, value: 1 << 56))
        #expect(h.mmioRead(offset: 8, size: 8) == 0)
        h.enqueueInput([0x41])
        #expect(h.mmioRead(offset: 8, size: 8) == 1 << 56 | 0x41)
        #expect(h.mmioRead(offset: 0, size: 2) == nil)
    }

    @Test func separateWindowsForSeparateSymbols() {
        var events: [FinisherEvent] = []
        let h = HTIF(memory: ram, sink: console, onFinish: { events.append($0) })
        let to = h.tohostWindow, from = h.fromhostWindow
        #expect(to.mmioSize == 8 && from.mmioSize == 8)
        #expect(to.mmioWrite(offset: 0, size: 8, value: 1 << 56 | 1 << 48 | 0x21))
        #expect(console.text == "!")
        #expect(from.mmioRead(offset: 0, size: 8) == 1 << 56 | 1 << 48 | 0x121)
        #expect(from.mmioWrite(offset: 0, size: 8, value: 0))
        #expect(to.mmioWrite(offset: 0, size: 4, value: 1))
        #expect(events == [.pass])
    }

    /// The words are RAM under spike, so AMOs reach them (riscv-tests' multi-hart "v" environment
    /// applies `amoadd.w zero, zero` to them); other devices refuse AMOs.
    @Test func wordsAcceptAtomicsAsRAMWouldAndANoOpAMOIsNoCommand() {
        var events: [FinisherEvent] = []
        let h = HTIF(memory: ram, sink: console, onFinish: { events.append($0) })
        #expect(h.acceptsAtomics && h.tohostWindow.acceptsAtomics && h.fromhostWindow.acceptsAtomics)
        #expect(!TestFinisher().acceptsAtomics)
        // amoadd.w zero, zero on tohost between commands: it reads 0 and writes 0 back.
        let old = h.tohostWindow.mmioRead(offset: 0, size: 4)
        #expect(old == 0)
        #expect(h.tohostWindow.mmioWrite(offset: 0, size: 4, value: old ?? 1))
        #expect(events.isEmpty && h.counters.requests == 0)
    }
}
