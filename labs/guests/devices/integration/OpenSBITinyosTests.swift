// Boots Debian's OpenSBI fw_jump.elf and tinyos (branch `guests`) on the real Machine with these
// devices and a copy-on-write virtio-blk disk — UART, CLINT, PLIC, virtio-blk and the test finisher
// as a real firmware and an S-mode kernel use them. Kept outside any target for the same reason as
// GuestIntegrationTests.swift; after the merge it belongs in BootTests (which depends on Boot,
// Devices and Machine). Needs `scripts/build-guests tinyos` and labs/guests/tinyos/mkdisk.sh.
// Verified against hart@738b326 + boot@a90f2ad + guests + devices: all three cases pass.
import Foundation
import Testing
import Machine
import Boot
@testable import Devices

@Suite(.serialized) struct OpenSBITinyosTests {
    @Test(arguments: ["bench=disk n=4", "bench=syscall n=100", "bench=mmio n=100"])
    func tinyos(_ bootargs: String) throws {
        var cfg = MachineConfiguration()
        cfg.harts = 1
        let machine = Machine(cfg)
        let console = ConsoleCapture()
        let log = GuestErrorLog(echo: { print("guest error:", $0) })
        let plic = PLIC(hartCount: 1, pins: machine, errors: log)
        let clint = CLINT(hartCount: 1, pins: machine, time: machine, errors: log)
        let uart = UART16550(irq: InterruptLine(plic, source: 10), sink: console, errors: log)
        let rtc = GoldfishRTC(time: machine, irq: InterruptLine(plic, source: 11), errors: log)
        let fin = TestFinisher(onFinish: { e in
            switch e {
            case .pass: machine.requestStop(.poweredOff(code: 0))
            case .fail(let c): machine.requestStop(.poweredOff(code: Int(c)))
            case .reset: machine.requestStop(.reset)
            }
        }, errors: log)
        machine.attach(plic, at: VirtPlatform.plic.base)
        machine.attach(clint, at: VirtPlatform.clint.base)
        machine.attach(uart, at: VirtPlatform.uart0.base)
        machine.attach(rtc, at: VirtPlatform.rtc.base)
        machine.attach(fin, at: VirtPlatform.testFinisher.base)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-tinyos-disk.img").path
        let mk = Process()
        mk.executableURL = URL(fileURLWithPath: root + "/labs/guests/tinyos/mkdisk.sh")
        mk.arguments = [disk]
        try mk.run()
        mk.waitUntilExit()
        let image = try BlockImage(path: disk, mode: .copyOnWrite)
        for slot in 0..<8 {
            let b: (any VirtioBackend)? = slot == 0 ? VirtioBlock(image: image) : nil
            machine.attach(VirtioMMIO(backend: b, memory: machine, irq: InterruptLine(plic, source: 1 + slot), errors: log),
                           at: VirtPlatform.virtio(slot: slot).base)
        }
        let config = BootConfiguration(firmware: .elf(.file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf")),
                                       kernel: .file(root + "/.build/guests/tinyos/tinyos.elf"), bootargs: bootargs)
        let plan = try BootLoader.load(config, into: machine)
        machine.startHart(0, privilege: plan.mode == .machine ? .machine : .supervisor, pc: plan.entry,
                          a0: 0, a1: plan.deviceTreeAddress)
        let r = machine.run(maxInstructions: 2_000_000_000)
        print(console.text)
        print("stop:", r, "uart:", uart.counters, "plic:", plic.counters, "clint:", clint.counters)
        #expect(r == .poweredOff(code: 0))
        #expect(console.text.contains("tinyos: halt"))
    }

    /// HTIF at the ELF's own `tohost`/`fromhost` symbols (64 bytes apart), as a spike-style board maps it.
    @Test func htifConsoleThroughELFSymbols() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let elf = try ELFFile(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: root + "/.build/guests/devices/htif_console.elf"))))
        let tohost = try #require(elf.symbols.first { $0.name == "tohost" }?.value)
        let fromhost = try #require(elf.symbols.first { $0.name == "fromhost" }?.value)
        var cfg = MachineConfiguration()
        cfg.harts = 1
        let machine = Machine(cfg)
        let console = ConsoleCapture()
        let htif = HTIF(memory: machine, sink: console, onFinish: { e in
            machine.requestStop(.poweredOff(code: e == .pass ? 0 : 1))
        })
        machine.attach(htif.tohostWindow, at: tohost)
        machine.attach(htif.fromhostWindow, at: fromhost)
        let bin = try [UInt8](Data(contentsOf: URL(fileURLWithPath: root + "/.build/guests/devices/htif_console.bin")))
        #expect(machine.loadPhysical(bin, at: 0x8000_0000))
        machine.startHart(0, privilege: .machine, pc: 0x8000_0000, a0: 0, a1: 0)
        #expect(machine.run(maxInstructions: 10_000_000) == .poweredOff(code: 0))
        #expect(console.text == "htif: putchar ok\n")
    }
}
