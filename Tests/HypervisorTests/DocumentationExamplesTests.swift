import Boot
import Devices
import Foundation
import Machine
import RISCV
import Testing
import Hypervisor

// The Swift examples of the DocC articles (Sources/<Module>/<Module>.docc), each copied here
// line for line into a function, so that they compile against today's API. The test below fails
// when an article's example is not found here, line for line (indentation aside): change both
// together. Examples that need nothing outside the repository also run.

private func bootExample() throws {
    var configuration = VirtBoardConfiguration()
    configuration.firmware = .elf(.file("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"))
    configuration.kernel = .file(".build/guests/payload/payload.bin")
    configuration.bootargs = "console=ttyS0"
    let board = try VirtBoard(configuration)          // throws BootError with a message naming the problem
    let stop = board.run(maxInstructions: 50_000_000) // .poweredOff(code: 0) once the payload's SRST runs
    print(board.console.text)                          // OpenSBI's banner, then the payload's lines
    try board.writeDeviceTree(to: "virt.dtb")          // what `vmlab boot --dump-dtb` writes
    _ = stop
}

private func devicesExample(machine: Machine, harts: Int) throws {
    let log = GuestErrorLog()
    let console = ConsoleCapture(echo: nil)
    let plic = PLIC(hartCount: harts, pins: machine, errors: log)
    let clint = CLINT(hartCount: harts, pins: machine, time: machine, errors: log)
    let uart = UART16550(irq: InterruptLine(plic, source: VirtPlatform.uart0IRQ), sink: console,
                         time: machine, errors: log)
    let rtc = GoldfishRTC(time: machine, irq: InterruptLine(plic, source: VirtPlatform.rtcIRQ))
    let finisher = TestFinisher(onFinish: { event in /* stop the machine */ })
    let disk = try BlockImage(path: "disk.img", mode: .copyOnWrite)
    let blk = VirtioMMIO(backend: VirtioBlock(image: disk), memory: machine,
                         irq: InterruptLine(plic, source: VirtPlatform.virtioIRQ(slot: 0)), errors: log)
    machine.attach(plic, at: VirtPlatform.plic.base)   // and so on for each device
    _ = (clint, uart, rtc, finisher, blk)
}

private func costsExample(machine: Machine) throws {
    let profile = try CostProfile.named("classic-2006").with(["vm_entry": 1000])
    machine.costs = profile.machineCostTable
    _ = machine.run()
    let account = CycleAccount.native(machine: machine, profile: profile)
    print(profile, account.total, account.cycles(in: .mmu))
}

private func popekGoldbergExample() -> PopekGoldbergReport {
    let report = PopekGoldberg.check(PopekGoldbergConfiguration(holes: [.csrWrite(CSR.sstatus)]))
    print(report.summary)
    // classically virtualisable: no (3 sensitive instructions do not trap: csrw sstatus, t1; csrs sstatus, t1; csrc sstatus, t1)
    print(report.row("csrw sstatus, t1")!.effect)   // the write is silently dropped
    return report
}

private func virtualMachineExample() throws {
    var board = VirtBoardConfiguration()
    board.kernel = .file("tinyos.elf")
    board.bootargs = "bench=syscall n=100"
    let vm = try Guest(GuestConfiguration(mode: .interpret, board: board))
    _ = vm.run(maxInstructions: 100_000_000)
    let stats = vm.statistics()
    print(stats.profile, stats.mode, stats.cycles.byEvent["interpretation"]!.cycles)
}

private func externalRAMExample(host: Machine, carveBase: UInt64, size: UInt64) -> Machine {
    let window = host.hostPointer(physical: carveBase, count: size)!
    var c = MachineConfiguration()
    c.ramSize = size
    c.ramBacking = ExternalRAM(pointer: window, owner: host.ramOwner)
    let guest = Machine(c)
    return guest
}

private func assemblerExample() throws -> (image: [UInt8], start: UInt64?) {
    let program = try Assembler.assemble("""
        .globl _start
        _start: li a0, 0x123456789abc     # any 64-bit constant
                la a1, message            # pc-relative: auipc + addi
        1:      lbu t0, 0(a1)
                beqz t0, 2f
                addi a1, a1, 1
                j 1b
        2:      ecall
        .data
        message: .asciz "hello"
        """)
    let image = program.bytes              // the flat image, from program.base (0x8000_0000 unless told otherwise)
    let start = program.symbols["_start"]  // 0x8000_0000
    return (image, start)
}

@Suite struct DocumentationExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The ```swift blocks of every DocC article, as (article, first line, lines).
    static func articleExamples() throws -> [(String, Int, [String])] {
        let sources = root.appendingPathComponent("Sources")
        var found: [(String, Int, [String])] = []
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String } ?? []
        for relative in files.sorted() where relative.contains(".docc/") && relative.hasSuffix(".md") {
            let text = try String(contentsOf: sources.appendingPathComponent(relative), encoding: .utf8)
            var block: [String]?
            var start = 0
            for (index, line) in text.components(separatedBy: "\n").enumerated() {
                if var open = block {
                    if line.hasPrefix("```") {
                        found.append((relative, start, open))
                        block = nil
                    } else {
                        open.append(line)
                        block = open
                    }
                } else if line.trimmingCharacters(in: .whitespaces) == "```swift" {
                    block = []
                    start = index + 2
                }
            }
        }
        return found
    }

    @Test func everyArticleExampleIsCompiledHere() throws {
        let here = try String(contentsOfFile: #filePath, encoding: .utf8).components(separatedBy: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let examples = try Self.articleExamples()
        #expect(examples.count >= 7)
        for (article, line, lines) in examples {
            let wanted = lines.map { $0.trimmingCharacters(in: .whitespaces) }
            let present = here.indices.contains { start in
                start + wanted.count <= here.count && Array(here[start..<start + wanted.count]) == wanted
            }
            #expect(present, "Sources/\(article):\(line): this example is not in DocumentationExamplesTests.swift, line for line")
        }
    }

    @Test func thePopekGoldbergExamplePrintsWhatItsCommentSays() {
        let report = popekGoldbergExample()
        #expect(report.summary == "classically virtualisable: no (3 sensitive instructions do not trap: csrw sstatus, t1; csrs sstatus, t1; csrc sstatus, t1)")
        #expect(report.row("csrw sstatus, t1")?.effect.contains("dropped") == true)
    }

    @Test func theAssemblerExampleStartsAtRAM() throws {
        let (image, start) = try assemblerExample()
        #expect(start == 0x8000_0000)
        #expect(image.count > 16)
    }

    @Test func theExternalRAMExampleSharesTheHostsBytes() throws {
        var c = MachineConfiguration()
        c.ramSize = 1 << 20
        let host = Machine(c)
        let guest = externalRAMExample(host: host, carveBase: 0x8000_0000 + 0x4_0000, size: 0x1_0000)
        let window = try #require(host.hostPointer(physical: 0x8000_0000 + 0x4_0000, count: 1))
        window.storeBytes(of: 0x5A, as: UInt8.self)
        #expect(guest.hostPointer(physical: 0x8000_0000, count: 1)?.load(as: UInt8.self) == 0x5A)
    }
}
