import Boot
import Foundation
import Testing
@testable import VMLabCLI
import VMLab

/// `vmlab boot` on real guests. Guests are built by scripts/build-guests, as `vmlab.guest` does.
func guest(_ folder: String, _ program: String) throws -> String {
    let process = Process()
    process.executableURL = packageRoot.appendingPathComponent("scripts/build-guests")
    process.arguments = [folder]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return packageRoot.appendingPathComponent(".build/guests/\(folder)/\(program).elf").path
}

@Test func bootHelpMatchesItsGoldenFile() throws {
    let text = VMLabCommand.helpMessage(for: BootCommand.self, columns: 80) + "\n"
    let url = packageRoot.appendingPathComponent("Tests/VMLabCLITests/Golden/boot.txt")
    if ProcessInfo.processInfo.environment["VMLAB_UPDATE_GOLDEN"] == "1" {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    #expect(text == (try String(contentsOf: url, encoding: .utf8)), "help for 'boot' differs from Golden/boot.txt")
    let transcript = try vmlab(["help", "boot"])
    #expect(transcript.status == 0)
    #expect(transcript.stdout == text)
}

@Test func bareMetalGuestPrintsAndExitsWithItsCode() throws {
    let hello = try guest("examples", "hello")
    let t = try vmlab(["boot", hello])
    #expect(t.status == 0)
    #expect(t.stdout == "hello from a bare-metal guest\n")
    #expect(t.stderr == "")
}

@Test func guestExitCodeBecomesTheExitStatus() throws {
    // A bare-metal program built from assembly: exit code 5 through the test finisher.
    let code: [UInt8] = [
        0xb7, 0x02, 0x10, 0x00,   // lui t0, 0x100        (the finisher at 0x100000)
        0x37, 0x33, 0x05, 0x00,   // lui t1, 0x53         (t1 = 0x53000)
        0x1b, 0x03, 0x33, 0x33,   // addiw t1, t1, 0x333  (t1 = 0x53333: code 5 << 16 | FAIL 0x3333)
        0x23, 0xa0, 0x62, 0x00,   // sw t1, 0(t0)
        0x6f, 0x00, 0x00, 0x00,   // j .
    ]
    try withTemporaryDirectory { dir in
        let image = dir.appendingPathComponent("fail5.bin")
        try Data(code).write(to: image)
        // A raw image is not an ELF, so name the firmware: none (bare-metal, at the RAM base).
        let t = try vmlab(["boot", image.path, "--firmware", "none", "--max-instructions", "1000"])
        #expect(t.status == 5, "stderr: \(t.stderr)")
    }
}

/// A bare-metal program that traps before it has a trap vector (here: its first word is
/// illegal, and mtvec is 0, where nothing is) would spin forever; vmlab stops at once and says why.
@Test func aHartStuckOnItsTrapVectorEndsTheBoot() throws {
    try withTemporaryDirectory { dir in
        let image = dir.appendingPathComponent("zero.bin")
        try Data([0, 0, 0, 0]).write(to: image)
        // Not an ELF: it ran as a raw image, which the message says (a mistyped path looks so).
        let note = "vmlab: note: '\(image.path)' is not an ELF file; it ran as a raw image, from its first byte (as qemu's -kernel runs one)\n"
        let t = try vmlab(["boot", image.path, "--firmware", "none"])
        #expect(t.status == 1)
        #expect(t.stderr == "vmlab: hart 0 is stuck: its trap vector 0x0 (mtvec) cannot be fetched (instruction access fault), so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80000000 (tval 0x0)\n" + note)
        // The same file as a kernel, under the built-in SBI: stuck in S-mode, on stvec; and under
        // each VMM, on the guest's stvec (it used to spin until killed).
        for mode in ["native", "interpret", "trap", "bt", "pv"] {
            let kernel = try vmlab(["boot", image.path, "--mode", mode])
            #expect(kernel.status == 1, "--mode \(mode)")
            #expect(kernel.stderr == "vmlab: hart 0 is stuck: its trap vector 0x0 (stvec) cannot be fetched (instruction access fault), so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80200000 (tval 0x0)\n" + note, "--mode \(mode)")
        }
        // With more harts (it used to spin until killed): the kernel's hart 0 is stuck, and the
        // others wait, stopped, for a hart_start it will never make; bare metal, every hart is stuck.
        let smp = try vmlab(["boot", image.path, "--harts", "3"])
        #expect(smp.status == 1)
        #expect(smp.stderr == "vmlab: hart 0 is stuck: its trap vector 0x0 (stvec) cannot be fetched (instruction access fault), so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80200000 (tval 0x0); and no other hart can run on: harts 1, 2 are stopped\n" + note)
        let bare = try vmlab(["boot", image.path, "--firmware", "none", "--harts", "2"])
        #expect(bare.status == 1)
        #expect(bare.stderr == "vmlab: hart 1 is stuck: its trap vector 0x0 (mtvec) cannot be fetched (instruction access fault), so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80000000 (tval 0x0); and no other hart can run on: hart 0 is stuck on its own trap vector\n" + note)
        // The loader's own verdict decides the note: raw for this file, not for an ELF kernel.
        var spec = VMSpec()
        spec.kernel = image.path
        let raw = try VirtualMachine(spec)
        #expect(raw.kernelIsRawImage)
        raw.close()
        spec.kernel = try guest("tinyos", "tinyos")
        let elf = try VirtualMachine(spec)
        #expect(!elf.kernelIsRawImage)
        elf.close()
    }
}

@Test func tinyosBootsUnderTheBuiltinSBIAndPrintsStats() throws {
    let tinyos = try guest("tinyos", "tinyos")
    let t = try vmlab(["boot", tinyos, "--append", "bench=syscall n=10", "--stats"])
    #expect(t.status == 0)
    #expect(t.stdout.contains("bench=syscall iterations=10 status=ok checksum=0x000000000000000a"))
    // Every printed result names its cost profile first.
    #expect(t.stderr.split(separator: "\n").first == "profile classic-2006")
    #expect(t.stderr.contains("\ninstructions "))
    #expect(t.stderr.contains("\ntraps.by_cause.ecall_u "))
    #expect(t.stderr.contains("\nwalk.references "))
    #expect(t.stderr.contains("\ncycles.by_category.trap "))
    #expect(t.stderr.contains("\ncycles.by_event.firmware_call.count "))
}

@Test func bootChargesTheProfileItIsGiven() throws {
    let tinyos = try guest("tinyos", "tinyos")
    let t = try vmlab(["boot", tinyos, "--append", "bench=syscall n=3", "--stats", "--profile", "modern"])
    #expect(t.status == 0)
    #expect(t.stderr.split(separator: "\n").first == "profile modern")
    let bad = try vmlab(["boot", tinyos, "--profile", "pentium"])
    #expect(bad.status != 0)
    #expect(bad.stderr.contains("unknown cost profile 'pentium' (expected one of classic-2006, core2-2006, modern)"))
}

/// `--stats` ends with the engine that ran the guest, which `VMLAB_ENGINE` picks; the counters
/// before it are the same under every engine.
@Test func statsNameTheEngineAndNothingElseDependsOnIt() throws {
    let tinyos = try guest("tinyos", "tinyos")
    var counters: [[String]] = []
    for engine in ["interpreter", "blocks", "jit"] {
        let t = try vmlab(["boot", tinyos, "--append", "bench=compute n=20", "--stats"], environment: ["VMLAB_ENGINE": engine])
        #expect(t.status == 0)
        var lines = t.stderr.split(separator: "\n").map(String.init)
        let last = lines.removeLast()
        #if arch(x86_64)
        #expect(last == "engine \(engine)")
        #else
        #expect(last == "engine \(engine == "jit" ? "blocks" : engine)")
        #endif
        counters.append(lines)
    }
    #expect(counters[0] == counters[1] && counters[1] == counters[2])
}

@Test func bootRunsTheGuestInTheModeItIsGiven() throws {
    let tinyos = try guest("tinyos", "tinyos")
    let native = try vmlab(["boot", tinyos, "--append", "bench=syscall n=3", "--stats"])
    let interpret = try vmlab(["boot", tinyos, "--append", "bench=syscall n=3", "--stats", "--mode", "interpret"])
    #expect(interpret.status == 0)
    // The same guest output, but for the guest's own timings ("# " lines).
    func output(_ t: Transcript) -> [String] { t.lines.filter { !$0.hasPrefix("# ") } }
    #expect(output(interpret) == output(native))
    #expect(interpret.stdout.contains("bench=syscall iterations=3 status=ok"))
    let stats = interpret.stderr.split(separator: "\n")
    #expect(stats.contains("mode interpret"))
    #expect(!stats.contains("cycles.by_category.interpretation 0"))
    let nested = try vmlab(["boot", tinyos, "--mode", "trap", "--h-extension"])
    #expect(nested.status == 64)
    #expect(nested.stderr.contains("--h-extension: only with --mode native or interpret"))
    let hw = try vmlab(["boot", tinyos, "--append", "bench=syscall n=3", "--stats", "--mode", "hw"])
    #expect(hw.status == 0)
    #expect(output(hw) == output(native))
    #expect(hw.stderr.split(separator: "\n").contains("mode hw"))
    // --hw-paging shadow: the same guest on the VMM's shadow page tables, whose hidden faults
    // the statistics count.
    let shadowed = try vmlab(["boot", tinyos, "--append", "bench=syscall n=3", "--stats", "--mode", "hw", "--hw-paging", "shadow"])
    #expect(shadowed.status == 0)
    #expect(output(shadowed) == output(native))
    #expect(shadowed.stderr.split(separator: "\n").contains { $0.hasPrefix("technique.shadow.hidden_faults ") && !$0.hasSuffix(" 0") })
    // --hw-io assigned: the devices behind the IOMMU, which the statistics count.
    let assigned = try vmlab(["boot", tinyos, "--append", "bench=syscall n=3", "--stats", "--mode", "hw", "--hw-io", "assigned"])
    #expect(assigned.status == 0)
    #expect(output(assigned) == output(native))
    #expect(assigned.stderr.split(separator: "\n").contains { $0.hasPrefix("technique.iommu.translations ") })
    let io = try vmlab(["boot", tinyos, "--mode", "pv", "--hw-io", "assigned"])
    #expect(io.status == 64 && io.stderr.contains("--hw-io: only with --mode hw."))
    let badIO = try vmlab(["boot", tinyos, "--mode", "hw", "--hw-io", "sriov"])
    #expect(badIO.status == 64 && badIO.stderr.contains("--hw-io: unknown device access 'sriov' (expected one of: emulated, assigned)."))
    let shadowIO = try vmlab(["boot", tinyos, "--mode", "hw", "--hw-io", "assigned", "--hw-paging", "shadow"])
    #expect(shadowIO.status == 64 && shadowIO.stderr.contains("--hw-io: assigned devices need nested paging"))
    let paging = try vmlab(["boot", tinyos, "--mode", "trap", "--hw-paging", "shadow"])
    #expect(paging.status == 64)
    #expect(paging.stderr.contains("--hw-paging: only with --mode hw."))
    let badPaging = try vmlab(["boot", tinyos, "--mode", "hw", "--hw-paging", "ept"])
    #expect(badPaging.status == 64)
    #expect(badPaging.stderr.contains("--hw-paging: unknown paging 'ept' (expected one of: nested, shadow)."))
    let unknown = try vmlab(["boot", tinyos, "--mode", "fast"])
    #expect(unknown.status == 64)
    #expect(unknown.stderr.contains("--mode: unknown mode 'fast' (expected one of: native, interpret, trap, bt, pv, hw)"))
}

/// `--gdb` on a port another program holds: a clear error before anything runs. (A whole GDB
/// session is GDBStubTests' and scripts/check-gdb's.)
@Test func gdbOnAPortInUseFailsClearly() throws {
    let tinyos = try guest("tinyos", "tinyos")
    let (listener, port) = try GDBServer.listening(port: 0)
    defer { close(listener) }
    let t = try vmlab(["boot", tinyos, "--gdb", "\(port)"])
    #expect(t.status == 1)
    #expect(t.stderr.contains("vmlab: --gdb: cannot listen on 127.0.0.1:\(port): Address already in use"))
    #expect(t.stdout.isEmpty, "nothing ran")
}

@Test func opensbiFirmwareBootsTheKernelGivenWithDashDashKernel() throws {
    let firmware = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
    guard FileManager.default.fileExists(atPath: firmware) else { return }
    let tinyos = try guest("tinyos", "tinyos")
    let t = try vmlab(["boot", firmware, "--kernel", tinyos, "--append", "bench=syscall n=3"])
    #expect(t.status == 0)
    #expect(t.stdout.contains("OpenSBI"))
    #expect(t.stdout.contains("bench=syscall iterations=3 status=ok"))
}

@Test func budgetsFailuresAndUsageErrors() throws {
    let tinyos = try guest("tinyos", "tinyos")
    let budget = try vmlab(["boot", tinyos, "--max-instructions", "1000"])
    #expect(budget.status == 1)
    #expect(budget.stderr.hasPrefix("vmlab: the budget is used up (1000 instructions"))
    let missing = try vmlab(["boot", "/no/such/kernel.elf"])
    #expect(missing.status == 1)
    #expect(missing.stderr == "vmlab: kernel '/no/such/kernel.elf' does not exist\n")
    let small = try vmlab(["boot", tinyos, "--memory", "1M"])
    #expect(small.status == 1)
    #expect(small.stderr.contains("outside RAM"))
    for arguments in [["boot"], ["boot", tinyos, "--memory", "128"], ["boot", tinyos, "--harts", "0"],
                      ["boot", tinyos, "--kernel", tinyos, "--firmware", "builtin"],
                      ["boot", tinyos, "--disk", "x.img,bogus"]] {
        let t = try vmlab(arguments)
        #expect(t.status == 64, "vmlab \(arguments.joined(separator: " ")) exited \(t.status)")
    }
}

/// An unmodified kernel under pv is refused at its first satp write (tables the VMM never
/// validated); however the run then ends, the message says why and what to run instead.
@Test func bootUnderPVNamesARefusedKernel() throws {
    let tinyos = try guest("tinyos", "tinyos")
    let t = try vmlab(["boot", tinyos, "--mode", "pv", "--append", "bench=syscall n=2", "--max-instructions", "3000000"])
    #expect(t.status == 1)
    #expect(t.stderr.contains("note: the VMM refused 1 satp write of the kernel (page tables it never validated) and reflected it as an illegal instruction: pv runs a kernel built for vmlab's hypercalls (such as tinyos-pv.elf); an unmodified kernel runs under native, interpret, trap, bt or hw\n"), "\(t.stderr)")
    let native = try vmlab(["boot", tinyos, "--append", "bench=syscall n=2", "--max-instructions", "1000"])
    #expect(!native.stderr.contains("refused"))
}

/// The hart's options reach the machine: the TLB's size and tagging change its counters, Svade
/// fails an ISA program that expects the hardware to set A/D (at its first such check, 31), and
/// bad values are usage errors that say what was expected.
@Test func bootTakesTheHartsTLBAndPolicies() throws {
    let asid = try guest("isa", "paging_asid")
    func stat(_ t: Transcript, _ name: String) -> Int? {
        t.stderr.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ")[1]) }
    }
    let standard = try vmlab(["boot", asid, "--stats"])
    let small = try vmlab(["boot", asid, "--stats", "--tlb", "entries=1,ways=1"])
    let untagged = try vmlab(["boot", asid, "--stats", "--tlb", "tagged=false"])
    let kept = try vmlab(["boot", asid, "--stats", "--tlb", "tagged=false,keep_global=true"])
    #expect([standard.status, small.status, untagged.status, kept.status] == [0, 0, 0, 0])
    #expect(stat(kept, "tlb.flushes_by_kind.satp") == stat(untagged, "tlb.flushes_by_kind.satp"))
    #expect((stat(small, "tlb.misses") ?? 0) > (stat(standard, "tlb.misses") ?? .max))
    #expect(stat(standard, "tlb.flushes_by_kind.satp") == 0)
    #expect((stat(untagged, "tlb.flushes_by_kind.satp") ?? 0) > 0)
    let sv39 = try guest("isa", "paging_sv39")
    #expect(try vmlab(["boot", sv39, "--ad-bits", "fault"]).status == 31)
    let misaligned = try vmlab(["boot", try guest("isa", "misaligned"), "--stats", "--misaligned", "trap"])
    #expect(misaligned.status == 0)
    #expect((stat(misaligned, "traps.by_cause.load_address_misaligned") ?? 0) > 0)
    // Sstc: the ISA program passes with it (and the H extension for its VS-mode half), fails at its
    // first check without.
    let sstc = try guest("isa", "sstc")
    #expect(try vmlab(["boot", sstc, "--sstc", "--h-extension"]).status == 0)
    #expect(try vmlab(["boot", sstc]).status == 1)
    for (arguments, message) in [(["--tlb", "entries=6"], "--tlb: ways must divide 'entries' (6), got 4 (the default; give 'ways')."),
                                 (["--tlb", "size=8"], "--tlb size=8: 'size=8' is not entries=N, ways=N, tagged=true|false, keep_global=true|false, nested=N or pwc=N."),
                                 (["--tlb", "entries=0"], "--tlb: entries must be 1 to 65536, got 0."),
                                 (["--tlb=,,,"], "--tlb ,,,: an empty field (expected entries=N, ways=N, tagged=true|false, keep_global=true|false, nested=N or pwc=N, separated by commas)."),
                                 (["--tlb", "nested=8"], "--tlb: nested needs the hypervisor extension (--mode hw or --h-extension)."),
                                 (["--tlb", "nested=1000", "--mode", "hw"], "--tlb: nested must be 0 (none) to 256, got 1000."),
                                 (["--tlb", "pwc=8"], "--tlb: pwc needs the hypervisor extension (--mode hw or --h-extension)."),
                                 (["--tlb", "pwc=257", "--mode", "hw"], "--tlb: pwc must be 0 (none) to 256, got 257."),
                                 (["--tlb", "entries=8,"], "--tlb entries=8,: an empty field"),
                                 (["--tlb", "keep_global=true"], "--tlb: keep_global only with tagged = false (a tagged TLB keeps every entry across satp writes)."),
                                 (["--tlb", "tagged=false,keep_global=1"], "--tlb: keep_global must be true or false, got '1'."),
                                 (["--ad-bits", "soft"], "--ad-bits: unknown policy 'soft' (expected one of: hardware, fault)."),
                                 (["--misaligned", "yes"], "--misaligned: unknown policy 'yes' (expected one of: hardware, trap)."),
                                 (["--plic", "edge"], "--plic: unknown gateway 'edge' (expected one of: qemu, level).")] {
        let t = try vmlab(["boot", asid] + arguments)
        #expect(t.status == 64)
        #expect(t.stderr.contains(message), "\(arguments): \(t.stderr)")
    }
}

@Test func dumpDtbWritesTheTreeWithoutRunning() throws {
    let tinyos = try guest("tinyos", "tinyos")
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-\(UUID().uuidString).dtb").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let t = try vmlab(["boot", tinyos, "--append", "console=hvc0", "--dump-dtb", path])
    #expect(t.status == 0)
    #expect(t.stdout == "")
    let blob = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(blob.starts(with: [0xd0, 0x0d, 0xfe, 0xed]))   // the FDT magic (devicetree spec §5.2)
    #expect(String(decoding: blob, as: UTF8.self).contains("console=hvc0"))
}

/// `echo = true` copies the console to standard output in order with the script's own prints.
@Test func echoedConsoleInterleavesWithPrint() throws {
    let t = try vmlab(["run", "-e", """
        print("before")
        local vm <close> = assert(vmlab.vm { echo = true, image = vmlab.asm [[
            li t0, 0x10000000
            li t1, 0x68
            sb t1, 0(t0)
            li t1, 0x0a
            sb t1, 0(t0)
          1: wfi
            j 1b
        ]] })
        print((vm:run { max_instructions = 100 }))
        print("after")
        """])
    #expect(t.status == 0, "\(t.stderr)")
    #expect(t.stdout == "before\nh\nidle\nafter\n")
}

/// Standard input is the guest's console input: tinyos's shell reads `halt` and powers off.
@Test func standardInputReachesTheGuestConsole() throws {
    let tinyos = try guest("tinyos", "tinyos")
    try withTemporaryDirectory { dir in
        let input = dir.appendingPathComponent("in"), output = dir.appendingPathComponent("out")
        try "halt\n".write(to: input, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = try vmlabExecutable()
        process.arguments = ["boot", tinyos, "--max-instructions", "100000000"]
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try runWithTimeout(process, arguments: process.arguments ?? [])
        #expect(process.terminationStatus == 0)
        let text = try String(contentsOf: output, encoding: .utf8).replacingOccurrences(of: "\r", with: "")
        #expect(text.contains("$ halt\ntinyos: halt\n"))
    }
}

/// At end of standard input, tinyos's shell waits at its prompt for good, woken only by its timer
/// tick, so it is never idle: vmlab ends the run once it has slept 10 s of guest time without
/// writing (it used to run until killed). The same place every time, in every mode.
/// Under pv, tinyos-pv's console (a hypercall per line) must still show the prompt, which ends no line.
@Test(arguments: [("native", "tinyos"), ("trap", "tinyos"), ("pv", "tinyos-pv")])
func aGuestWaitingForInputAfterItEndsStops(mode: String, kernel: String) throws {
    let tinyos = try guest("tinyos", kernel)
    let message = "vmlab: the guest waits for input after standard input ended: it has slept 10 s of guest time without writing to its console\n"
    try withTemporaryDirectory { dir in
        let input = dir.appendingPathComponent("in"), output = dir.appendingPathComponent("out")
        try "ls\n".write(to: input, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let errors = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = try vmlabExecutable()
        process.arguments = ["boot", tinyos, "--mode", mode]
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try runWithTimeout(process, arguments: process.arguments ?? [], seconds: 60)
        #expect(process.terminationStatus == 1)
        let text = try String(contentsOf: output, encoding: .utf8).replacingOccurrences(of: "\r", with: "")
        #expect(text.hasSuffix("$ ls\nls: not found\n$ "), "the input was read and answered first")
        #expect(try String(contentsOf: errors, encoding: .utf8) == message)
    }
    // Standard input that is empty from the start (vmlab's own runner gives /dev/null), with the
    // counters: the stop comes at the same instruction on every run.
    let runs = try (0..<2).map { _ in try vmlab(["boot", tinyos, "--mode", mode, "--stats"]) }
    for t in runs {
        #expect(t.status == 1)
        #expect(t.stdout.hasSuffix("$ "))
        #expect(t.stderr.hasSuffix("\n" + message))
    }
    let instructions = runs.map { $0.stderr.split(separator: "\n").first { $0.hasPrefix("instructions ") } }
    #expect(instructions[0] != nil && instructions[0] == instructions[1])
}

/// A negative number after a numeric option is that option's value, checked as such, not an
/// unknown option that leaves the value missing.
/// On a terminal, vmlab's report goes on a line of its own after a guest that left the cursor
/// mid-line (tinyos's prompt); redirected, each stream keeps exactly what was written to it (the
/// test above). util-linux's `script` (in every Debian) gives the run a terminal.
@Test func theReportStartsALineOfItsOwnOnATerminal() throws {
    #expect(BootCommand.breakLineBeforeReport(console: Array("$ ".utf8), outputIsTerminal: true, errorIsTerminal: true))
    #expect(!BootCommand.breakLineBeforeReport(console: Array("done\n".utf8), outputIsTerminal: true, errorIsTerminal: true))
    #expect(!BootCommand.breakLineBeforeReport(console: [], outputIsTerminal: true, errorIsTerminal: true))
    #expect(!BootCommand.breakLineBeforeReport(console: Array("$ ".utf8), outputIsTerminal: false, errorIsTerminal: true))
    #expect(!BootCommand.breakLineBeforeReport(console: Array("$ ".utf8), outputIsTerminal: true, errorIsTerminal: false))
    let script = "/usr/bin/script"
    guard FileManager.default.isExecutableFile(atPath: script) else { return }
    let tinyos = try guest("tinyos", "tinyos")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: script)
    process.arguments = ["-qec", "'\(try vmlabExecutable().path)' boot '\(tinyos)' < /dev/null", "/dev/null"]
    let output = Pipe()
    process.standardOutput = output
    process.standardInput = FileHandle.nullDevice
    try runWithTimeout(process, arguments: process.arguments ?? [], seconds: 60)
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(text.contains("$ \r\nvmlab: the guest waits for input"), "\(text.suffix(200))")
}

@Test func bootNegativeNumbersReachTheOptionsOwnChecks() throws {
    for (arguments, message) in [(["--memory", "-1"], "--memory: bad size '-1' (expected a number with K, M, G or T, e.g. 128M)."),
                                 (["--harts", "-1"], "--harts must be 1 to 64."),
                                 (["--max-instructions", "-1"], "The value '-1' is invalid for '--max-instructions <n>'")] {
        let t = try vmlab(["boot", "kernel.elf"] + arguments)
        #expect(t.status == 64)
        #expect(t.stderr.contains(message), "\(arguments): \(t.stderr)")
        #expect(!t.stderr.contains("Missing value"), "\(arguments): \(t.stderr)")
    }
}

/// --memory's help names the units its check accepts (K, M, G and T, up to the board's 1 TiB).
@Test func memoryHelpAndErrorAgreeOnUnits() throws {
    let help = try vmlab(["boot", "--help"])
    #expect(help.stdout.contains("K, M, G or T"))
    let bad = try vmlab(["boot", "kernel.elf", "--memory", "12X"])
    #expect(bad.stderr.contains("expected a number with K, M, G or T"))
}

/// `--disk file[,rw][,slot=N]`: the file before the first comma, then flags, each known and given once.
@Test func diskFlagsAreParsedOneByOne() throws {
    func problem(_ text: String) -> String? {
        do { _ = try BootCommand.parseDisk(text); return nil } catch { return "\(error)" }
    }
    #expect(try BootCommand.parseDisk("x.img") == VMSpec.Disk(path: "x.img", writable: false))
    #expect(try BootCommand.parseDisk("x.img,rw") == VMSpec.Disk(path: "x.img", writable: true))
    #expect(try BootCommand.parseDisk("x.img,slot=0") == VMSpec.Disk(path: "x.img", writable: false, slot: 0))
    #expect(try BootCommand.parseDisk("x.img,slot=3,rw") == VMSpec.Disk(path: "x.img", writable: true, slot: 3))
    #expect(problem("x.img,rw,rw") == "--disk x.img,rw,rw: flag 'rw' is given twice.")
    #expect(problem("x.img,slot=1,slot=2") == "--disk x.img,slot=1,slot=2: flag 'slot' is given twice.")
    #expect(problem("x.img,slot=x") == "--disk x.img,slot=x: slot=x is not a slot number (0 to 7).")
    #expect(problem("x.img,slot=-1") == "--disk x.img,slot=-1: slot=-1 is not a slot number (0 to 7).")
    #expect(problem("x.img,ro,rw") == "--disk x.img,ro,rw: unknown flag 'ro' (expected rw or slot=N; a comma in the file name is written ',,').")
    #expect(problem("x.img,") == "--disk x.img,: an empty flag (expected rw or slot=N after the file).")
    #expect(problem(",rw") == "--disk needs a file.")
}

/// `,,` in `--disk` is one comma of the file name, as in QEMU's options; the name ends at the first
/// single comma, and a `,,` after that (a file name whose first comma was not doubled) is an error.
@Test func diskFileNamesTakeCommasDoubled() throws {
    func problem(_ text: String) -> String? {
        do { _ = try BootCommand.parseDisk(text); return nil } catch { return "\(error)" }
    }
    #expect(try BootCommand.parseDisk("my,,disk.img") == VMSpec.Disk(path: "my,disk.img", writable: false))
    #expect(try BootCommand.parseDisk("my,,disk.img,rw") == VMSpec.Disk(path: "my,disk.img", writable: true))
    #expect(try BootCommand.parseDisk("a,,,,b,,,rw") == VMSpec.Disk(path: "a,,b,", writable: true))
    #expect(try BootCommand.parseDisk(",,x") == VMSpec.Disk(path: ",x", writable: false))
    #expect(try BootCommand.parseDisk("x,,rw") == VMSpec.Disk(path: "x,rw", writable: false))
    #expect(try BootCommand.parseDisk("dïsk,,ü.img") == VMSpec.Disk(path: "dïsk,ü.img", writable: false))
    #expect(problem("my,disk.img,,rw")
        == "--disk my,disk.img,,rw: ',,' after the file name, which ends at the first single comma ('my'); write every comma in the file name as ',,'.")
    #expect(problem("x.img,rw,,") == "--disk x.img,rw,,: ',,' after the file name, which ends at the first single comma ('x.img'); write every comma in the file name as ',,'.")
    #expect(problem("x,,,") == "--disk x,,,: an empty flag (expected rw or slot=N after the file).")
    #expect(problem(",,,rw") == nil)
    #expect(problem(",rw,,") == "--disk needs a file.")
}

/// `--nic [hub=H|loopback][,mac=M][,slot=N]`: each flag known and given once; '' is a card with
/// every default.
@Test func nicFlagsAreParsedOneByOne() throws {
    func problem(_ text: String) -> String? {
        do { _ = try BootCommand.parseNIC(text); return nil } catch { return "\(error)" }
    }
    #expect(try BootCommand.parseNIC("") == (NICConfiguration(), nil))
    #expect(try BootCommand.parseNIC("hub=2") == (NICConfiguration(), 2))
    #expect(try BootCommand.parseNIC("loopback,slot=0") == (NICConfiguration(slot: 0, loopback: true), nil))
    #expect(try BootCommand.parseNIC("mac=52-54-00-00-00-0A,hub=0") == (NICConfiguration(mac: [0x52, 0x54, 0, 0, 0, 0x0a]), 0))
    #expect(problem("hub=0,hub=1") == "--nic hub=0,hub=1: flag 'hub' is given twice.")
    #expect(problem("hub=x") == "--nic hub=x: hub=x is not a hub number (0 or more).")
    #expect(problem("slot=-1") == "--nic slot=-1: slot=-1 is not a slot number (0 to 7).")
    #expect(problem("mac=52:54") == "--nic mac=52:54: mac=52:54 is not a MAC address (six two-digit hex bytes, e.g. 52:54:00:00:00:0a).")
    #expect(problem("loopback=yes") == "--nic loopback=yes: unknown flag 'loopback=yes' (expected hub=H, loopback, mac=M or slot=N).")
    #expect(problem("hub=0,") == "--nic hub=0,: an empty flag (expected hub=H, loopback, mac=M or slot=N).")
    #expect(problem("loopback,hub=0") == "--nic loopback,hub=0: 'loopback' and 'hub' cannot be combined: a looped-back card's frames never leave it.")
}

/// Two cards on one hub exchange frames (the virtio-net guest passes once each has heard the
/// other); cards on two hubs hear nobody, and the guest fails; two cards with one
/// address on a hub are refused before anything runs.
@Test func nicsOnOneHubHearEachOther() throws {
    let net = try guest("devices", "virtio_net")
    let pair = try vmlab(["boot", net, "--nic", "hub=0,mac=52:54:00:00:00:0a", "--nic", "hub=0", "--stats"])
    #expect(pair.status == 0)
    #expect(pair.stdout.contains("nic 0a heard 52:54:00:12:34:56") && pair.stdout.contains("nic 56 heard 52:54:00:00:00:0a"))
    #expect(pair.stderr.contains("nics.1.mac 52:54:00:00:00:0a\n") && pair.stderr.contains("nics.2.mac 52:54:00:12:34:56\n"))
    let apart = try vmlab(["boot", net, "--nic", "hub=0", "--nic", "hub=1"])
    #expect(apart.status == 2, "the guest exits with its failed checks: one per card")
    #expect(apart.stdout.contains("virtio_net: FAILED"))
    let clash = try vmlab(["boot", net, "--nic", "hub=0", "--nic", "hub=0,mac=52:54:00:12:34:56"])
    #expect(clash.status == 1)
    #expect(clash.stderr == "vmlab: nic 2: another card on its switch already has the address 52:54:00:12:34:56; give each card on a switch its own 'mac'\n")
    #expect(clash.stdout == "")
}

/// `--virtio-console` and `--rng` attach the two devices: the device guest finds both, draws
/// entropy and writes its line through the console, which joins standard output.
@Test func virtioConsoleAndRNGFlagsAttachTheDevices() throws {
    let program = try guest("devices", "virtio_rng_console")
    let both = try vmlab(["boot", program, "--virtio-console", "--rng"])
    #expect(both.status == 0)
    #expect(both.stdout.contains("\nhello from virtio-console\n"))
    let neither = try vmlab(["boot", program])
    #expect(neither.status != 0)
    #expect(neither.stdout.contains("FAIL virtio-rng found") && neither.stdout.contains("FAIL virtio-console found"))
}

/// `--save-snapshot` after a budget, `--restore` in another process: the restored run ends with
/// the console's tail and every counter of a run that was never interrupted. A snapshot of
/// another mode, or no snapshot file at all, is refused before anything runs.
@Test func aBootSavedToASnapshotFileRestoresInAnotherProcess() throws {
    let tinyos = try guest("tinyos", "tinyos")
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-boot-snapshot-\(getpid())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let file = scratch.appendingPathComponent("fork.snap").path
    let options = [tinyos, "--append", "bench=fork n=3", "--mode", "trap"]

    let saved = try vmlab(["boot"] + options + ["--max-instructions", "300000", "--save-snapshot", file])
    #expect(saved.status == 1 && saved.stderr.contains("the budget is used up (300000 instructions"))
    let whole = try vmlab(["boot"] + options + ["--stats"])
    let restored = try vmlab(["boot"] + options + ["--restore", file, "--stats"])
    #expect(whole.status == 0 && restored.status == 0, "\(restored.stderr)")
    #expect(restored.stderr == whole.stderr, "the counters of the restored run")
    #expect(whole.stdout.hasSuffix(restored.stdout) && restored.stdout.contains("bench=fork iterations=3 status=ok"))
    #expect(!restored.stdout.contains("# tinyos: bootargs"), "the boot was not run again")

    let native = try vmlab(["boot", tinyos, "--append", "bench=fork n=3", "--restore", file])
    #expect(native.status == 1)
    #expect(native.stderr == "vmlab: --restore: \(file): the snapshot is of a VM under trap, not native (it was taken of 'vm1')\n")
    #expect(native.stdout.isEmpty)
    let missing = try vmlab(["boot"] + options + ["--restore", scratch.appendingPathComponent("none").path])
    #expect(missing.status == 1 && missing.stderr.hasSuffix("none: no such file\n"))
    let unwritable = try vmlab(["boot"] + options + ["--max-instructions", "10", "--save-snapshot", "/nonexistent/dir/x.snap"])
    #expect(unwritable.status == 1 && unwritable.stderr.contains("vmlab: --save-snapshot: cannot write the snapshot file /nonexistent/dir/x.snap"))
}
