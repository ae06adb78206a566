// Runs the device-proving guests of labs/guests/devices (built by scripts/build-guests with the
// toolchain's clang) on the real Machine with the real devices, wired by hand as a minimal virt
// board so that the devices are proved without the Boot module: UART echo, CLINT timer, PLIC external
// interrupt, an access fault from a device that rejects an access, virtio-blk in three disk modes,
// virtio-net between two NICs and between two machines, virtio-rng and -console, and every register
// as QEMU's virt shows it.
import Foundation
import Testing
import Machine
@testable import Devices

/// A minimal QEMU-virt board: one hart, the platform devices, eight virtio slots.
final class DeviceTestBoard {
    let machine: Machine
    let console = ConsoleCapture()
    let log = GuestErrorLog(echo: { print("guest error:", $0) })
    var stop: StopReason?
    let plic: PLIC
    let uart: UART16550
    var nics: [VirtioNet] = []
    init(name: String, disk: BlockImage? = nil, nics macs: [[UInt8]] = [], networkSwitch: NetworkSwitch? = nil,
         more: [any VirtioBackend] = []) throws {
        var cfg = MachineConfiguration()
        cfg.harts = 1
        machine = Machine(cfg)
        plic = PLIC(hartCount: 1, pins: machine, errors: log)
        let clint = CLINT(hartCount: 1, pins: machine, time: machine, errors: log)
        uart = UART16550(irq: InterruptLine(plic, source: 10), sink: console, errors: log)
        let rtc = GoldfishRTC(time: machine, irq: InterruptLine(plic, source: 11), errors: log)
        let m = machine
        let fin = TestFinisher(onFinish: { e in
            switch e {
            case .pass: m.requestStop(.poweredOff(code: 0))
            case .fail(let c): m.requestStop(.poweredOff(code: Int(c)))
            case .reset: m.requestStop(.reset)
            }
        }, errors: log)
        machine.attach(plic, at: VirtPlatform.plic.base)
        machine.attach(clint, at: VirtPlatform.clint.base)
        machine.attach(uart, at: VirtPlatform.uart0.base)
        machine.attach(rtc, at: VirtPlatform.rtc.base)
        machine.attach(fin, at: VirtPlatform.testFinisher.base)
        var backends: [any VirtioBackend] = []
        if let disk { backends.append(VirtioBlock(image: disk)) }
        for mac in macs {
            let n = VirtioNet(mac: mac)
            if let networkSwitch { n.connect(to: networkSwitch) }
            nics.append(n)
            backends.append(n)
        }
        backends += more
        for slot in 0..<8 {
            // As QEMU: the first device takes the last slot (0x10008000), the next the one below.
            let index = 7 - slot
            let b: (any VirtioBackend)? = index < backends.count ? backends[index] : nil
            let t = VirtioMMIO(backend: b, memory: machine, irq: InterruptLine(plic, source: 1 + slot), errors: log)
            machine.attach(t, at: VirtPlatform.virtio(slot: slot).base)
        }
        try buildDeviceGuests()
        let path = repositoryRoot.appendingPathComponent(".build/guests/devices/\(name).bin").path
        let bin = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(machine.loadPhysical(bin, at: 0x8000_0000))
        machine.startHart(0, privilege: .machine, pc: 0x8000_0000, a0: 0, a1: 0)
    }
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Builds labs/guests/devices (scripts/build-guests rebuilds only what changed, one build at a time).
func buildDeviceGuests() throws {
    let p = Process()
    p.executableURL = repositoryRoot.appendingPathComponent("scripts/build-guests")
    p.arguments = ["devices"]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "scripts/build-guests devices failed")
}

/// The blk fixture, as labs/guests/devices/make-blk-fixture.sh writes it.
func fixture() -> [UInt8] {
    (0..<64).flatMap { [UInt8](repeating: UInt8(65 + $0 % 26), count: 512) }
}

@Suite(.serialized) struct GuestIntegrationTests {
    @Test(arguments: ["clint_timer", "plic_external", "uart_echo", "mmio_access_fault"])
    func simple(_ name: String) throws {
        let b = try DeviceTestBoard(name: name)
        b.uart.enqueueInput("hello\n")
        let r = b.machine.run(maxInstructions: 200_000_000)
        print(b.console.text)
        #expect(r == .poweredOff(code: 0))
    }

    @Test(arguments: [BlockImage.Mode.readOnly, .copyOnWrite, .writable])
    func blk(_ mode: BlockImage.Mode) throws {
        let image = BlockImage(bytes: fixture(), mode: mode)
        let b = try DeviceTestBoard(name: "virtio_blk", disk: image)
        let r = b.machine.run(maxInstructions: 200_000_000)
        print(b.console.text)
        #expect(r == .poweredOff(code: 0))
        #expect((image.memoryBytes == fixture()) == (mode != .writable))
    }

    @Test func netTwoNICs() throws {
        let sw = NetworkSwitch()
        let b = try DeviceTestBoard(name: "virtio_net", nics: [[0x52, 0x54, 0, 0, 0, 0xA], [0x52, 0x54, 0, 0, 0, 0xB]], networkSwitch: sw)
        let r = b.machine.run(maxInstructions: 500_000_000)
        print(b.console.text)
        #expect(r == .poweredOff(code: 0))
    }

    @Test func netTwoVMs() throws {
        let sw = NetworkSwitch()
        let a = try DeviceTestBoard(name: "virtio_net", nics: [[0x52, 0x54, 0, 0, 0, 0xA]], networkSwitch: sw)
        let b = try DeviceTestBoard(name: "virtio_net", nics: [[0x52, 0x54, 0, 0, 0, 0xB]], networkSwitch: sw)
        var ra: StopReason = .budgetExhausted, rb: StopReason = .budgetExhausted
        for _ in 0..<5000 {
            if ra == .budgetExhausted { ra = a.machine.run(maxInstructions: 100_000) }
            if rb == .budgetExhausted { rb = b.machine.run(maxInstructions: 100_000) }
            if ra != .budgetExhausted && rb != .budgetExhausted { break }
        }
        print(a.console.text, b.console.text)
        #expect(ra == .poweredOff(code: 0))
        #expect(rb == .poweredOff(code: 0))
    }

    /// What the guest sees in every device register matches QEMU's virt (expected/regdump.out was
    /// recorded under QEMU 7.2 by run-under-qemu.sh), with a 64 KiB virtio-blk disk in the last slot.
    @Test func registerDumpMatchesQEMU() throws {
        let b = try DeviceTestBoard(name: "regdump", disk: BlockImage(bytes: [UInt8](repeating: 0, count: 65536), mode: .writable))
        let r = b.machine.run(maxInstructions: 50_000_000)
        #expect(r == .poweredOff(code: 0))
        let expected = try String(contentsOf: repositoryRoot.appendingPathComponent("labs/guests/devices/expected/regdump.out"), encoding: .utf8)
        let got = b.console.text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in expected.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            #expect(i < got.count && got[i] == line, "line \(i + 1): QEMU '\(line)', vmlab '\(i < got.count ? String(got[i]) : "<missing>")'")
        }
    }

    @Test func rngAndConsole() throws {
        let capture = ConsoleCapture()
        let b = try DeviceTestBoard(name: "virtio_rng_console", more: [VirtioRNG(seed: 7), VirtioConsole(sink: capture)])
        let r = b.machine.run(maxInstructions: 50_000_000)
        print(b.console.text)
        #expect(r == .poweredOff(code: 0))
        #expect(capture.text == "hello from virtio-console\n")
    }
}
