#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Boot
import Foundation
import Devices
import Hypervisor
import Machine
import VMLab

/// `vmlab boot`: a guest without a script, like qemu. It builds the same machine as `vmlab.vm{...}`
/// (VMSpec) and runs it with the console on standard output.
struct BootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Boot a guest on the virt machine, like qemu, without a script.",
        discussion: """
        What FILE is: with --kernel, FILE is the M-mode firmware (as qemu's -bios), e.g. \
        `vmlab boot fw_jump.elf --kernel payload.elf`. Without --kernel, FILE is the kernel, and it \
        runs under --firmware (default: vmlab's built-in SBI, the kernel entered in S-mode), except \
        that an ELF loaded at the RAM base 0x80000000 is a bare-metal program and runs in M-mode \
        without firmware, from its entry: `vmlab boot tinyos.elf` boots tinyos under the built-in SBI, `vmlab boot \
        hello.elf` runs a bare-metal program.

        The guest's console goes to standard output as it is written, and standard input is the \
        console's input (a terminal delivers whole lines): what arrives before the guest has set up \
        its console waits for it, whole (`printf 'ls\\n' | vmlab boot ...` works from the start); \
        while input is open, a guest that is idle waits for it. At end of input the guest runs on \
        alone while it computes; once it has slept (every hart in wfi) 10 s of guest time, summed, \
        without writing to its console, it is waiting for input that will never come, and the run \
        ends (qemu would leave it waiting; keep standard input open to let a guest sleep longer). \
        Exit status: the guest's exit \
        code when it powers off (test finisher, HTIF or SBI system reset; a code that is a nonzero \
        multiple of 256 exits 1); otherwise 1 with a message on standard error (a file that cannot \
        be booted, the instruction budget used up, a reset, a guest that waits for input after \
        standard input ended, a machine that is idle for good or halted by a trap no firmware \
        handles or a hart stuck on a trap vector it cannot fetch (with several harts, once none \
        can run on), or Ctrl-C: "vmlab: interrupted", \
        after the counters when --stats is given; a second Ctrl-C ends vmlab at once).
        """
    )

    @Argument(help: ArgumentHelp("The kernel or bare-metal ELF (or a raw image, as qemu's -kernel takes); the firmware ELF when --kernel is given.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The kernel, when FILE is the firmware.", valueName: "path"))
    var kernel: String?

    @Option(help: ArgumentHelp("An initial RAM disk.", valueName: "path"))
    var initrd: String?

    @Option(help: ArgumentHelp("The kernel command line (/chosen/bootargs).", valueName: "args"))
    var append: String?

    // Numeric options take the next word even when it starts with '-', so a negative number
    // reaches the option's own check ("bad size '-1'") instead of reading as an unknown option.
    @Option(parsing: .unconditional, help: ArgumentHelp("RAM size with a binary unit: K, M, G or T (at most 1T).", valueName: "size"))
    var memory: String = "128M"

    @Option(parsing: .unconditional, help: ArgumentHelp("Number of harts, 1 to 64 (modes trap and bt run one).", valueName: "n"))
    var harts: Int = 1

    @Option(help: ArgumentHelp("builtin (vmlab's SBI), none (M-mode bare metal) or an M-mode firmware ELF; not with --kernel.", valueName: "builtin|none|path"))
    var firmware: String?

    @Option(help: ArgumentHelp("A virtio-blk disk image; the guest's writes stay in memory unless ',rw' follows (then they reach the file). ',slot=N' puts it in virtio-mmio slot N, 0 to 7 (0x10001000 + N*0x1000, as qemu's bus=virtio-mmio-bus.N; xv6 wants slot=0); otherwise disks take the free slots from the top, as in qemu. A comma in the file name is written ',,' (as in qemu). Repeat for more.", valueName: "file[,rw][,slot=N]"))
    var disk: [String] = []

    @Option(help: ArgumentHelp("A virtio-net card. 'hub=H' plugs it into switch H, shared by every card given the same H (as qemu's -netdev hubport,hubid=H); 'loopback' sends its frames back to it; otherwise its cable plugs into nothing. 'mac=52:54:00:00:00:0a' sets its address (default 52:54:00:12:34:56, :57 for the next card without one...), 'slot=N' its virtio-mmio slot (default: the free slots from the top, after the disks). '' is a card with every default. Repeat for more.", valueName: "[hub=H|loopback][,mac=M][,slot=N]"))
    var nic: [String] = []

    @Flag(help: "A virtio-console (one port) after the disks and cards: what the guest writes to it joins the console output, and standard input reaches it as it reaches the UART.")
    var virtioConsole = false

    @Flag(help: "A virtio-rng after the disks, cards and console, drawing a repeatable stream from vmlab's default seed (vmlab.vm's rng = N takes another).")
    var rng = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this many instructions (exit 1).", valueName: "n"))
    var maxInstructions: UInt64?

    @Option(help: ArgumentHelp("Write the device tree the guest would get to this file, then exit without running (as qemu's dumpdtb).", valueName: "file"))
    var dumpDtb: String?

    @Option(help: ArgumentHelp("The cost profile the machine charges: classic-2006, core2-2006 or modern. Modelled cycles and guest-visible time follow it.", valueName: "name"))
    var profile: String = "classic-2006"

    @Option(help: ArgumentHelp("How the guest runs: native (directly on the machine), interpret (under the VMM, every instruction emulated in software and charged for it), trap (trap-and-emulate with shadow page tables), bt (binary translation of the kernel's code, with shadow page tables), pv (para-virtualised: a kernel built for vmlab's hypercalls, e.g. tinyos-pv.elf) or hw (hardware-assisted: the kernel in VS-mode under the H extension, two-stage translation).", valueName: "mode"))
    var mode: String = "native"

    @Option(help: ArgumentHelp("The hart's TLB, as vmlab.vm's tlb option: entries (default 64), ways (default 4; = entries for fully associative), tagged=false to flush it on every satp write, keep_global=true (with tagged=false) to spare global entries then, nested=N for a nested TLB of N G-stage translations, pwc=N for a page-walk cache of N guest non-leaf entries (both with the H extension: --mode hw or --h-extension).", valueName: "entries=N,ways=N,tagged=BOOL,keep_global=BOOL,nested=N,pwc=N"))
    var tlb: String?

    @Option(help: ArgumentHelp("Who sets page-table A/D bits: hardware (the page walker, as QEMU) or fault (a page fault, for software; Svade, as Spike).", valueName: "hardware|fault"))
    var adBits: String = "hardware"

    @Option(help: ArgumentHelp("What a misaligned load or store does: hardware (performed, as QEMU) or trap (an exception, as Spike).", valueName: "hardware|trap"))
    var misaligned: String = "hardware"

    @Flag(help: "Give the harts the hypervisor extension (misa.H), for a program that is a hypervisor itself (riscv-tests' isa/hypervisor tests); --mode hw gives its guest's machine the extension itself.")
    var hExtension = false

    @Flag(help: "Give the harts the Sstc extension (stimecmp, named in the device tree), as vmlab.vm's sstc option: a kernel that finds it programs its timer without an SBI call.")
    var sstc = false

    @Option(help: ArgumentHelp("With --mode hw: how the guest's addresses are translated: nested (the G stage, two-stage walks) or shadow (the VMM's shadow page tables in vsatp, the G stage off, as VT-x before EPT).", valueName: "nested|shadow"))
    var hwPaging: String?

    @Option(help: ArgumentHelp("With --mode hw: how the guest reaches its virtio devices: emulated (each register access exits to the VMM) or assigned (direct assignment: the registers mapped into the guest, the devices' DMA translated and confined by an IOMMU; nested paging only).", valueName: "emulated|assigned"))
    var hwIo: String?

    @Option(help: ArgumentHelp("How the PLIC's gateways sample device interrupt lines: qemu (a request each time a device raises its line, as QEMU) or level (the PLIC specification's level-triggered gateway: pending again at completion while the line is high).", valueName: "qemu|level"))
    var plic: String = "qemu"

    @Option(help: ArgumentHelp("Wait for GDB on 127.0.0.1:PORT before the first instruction (0: any free port, printed) and serve its remote protocol (gdb-multiarch: target remote :PORT): registers, memory, breakpoints, watchpoints, harts as threads, monitor stats, tlb and walk VA.", valueName: "port"))
    var gdb: UInt16?

    @Flag(help: "Print the machine's counters, with its cycles split by category and event under the profile, to standard error after the run; the last line names the host engine that ran the guest.")
    var stats = false

    @Option(help: ArgumentHelp("Before running, put the machine in the state a snapshot file holds (--save-snapshot, or Lua's snapshot:save), taken of a VM booted with the same options; the run goes on from there.", valueName: "file"))
    var restore: String?

    @Option(help: ArgumentHelp("After the run, however it ended (--max-instructions, power-off), write the machine's state to a snapshot file, for --restore or Lua's vmlab.load_snapshot.", valueName: "file"))
    var saveSnapshot: String?

    func validate() throws {
        guard VMSpec.parseMemory(memory) != nil else {
            throw ValidationError("--memory: bad size '\(memory)' (expected a number with K, M, G or T, e.g. 128M).")
        }
        guard (1...64).contains(harts) else { throw ValidationError("--harts must be 1 to 64.") }
        if kernel != nil && firmware != nil {
            throw ValidationError("--firmware cannot be combined with --kernel: with --kernel, FILE is the firmware.")
        }
        for d in disk { _ = try Self.parseDisk(d) }
        for n in nic { _ = try Self.parseNIC(n) }
        do { _ = try CostProfile.named(profile) } catch { throw ValidationError("--profile: \(error.description).") }
        _ = try executionMode()
        let tlbConfiguration = try hardware().tlb
        _ = try plicGateway()
        if hExtension, let mode = try? executionMode(), mode != .native && mode != .interpret {
            throw ValidationError("--h-extension: only with --mode native or interpret (a VMM does not pass the extension on to its guest).")
        }
        _ = try hardwarePaging()
        _ = try hardwareIO()
        if let cache = VMSpec.hypervisorCaches(tlbConfiguration).first, !hExtension && (try? executionMode()) != .hw {
            throw ValidationError("--tlb: \(cache) needs the hypervisor extension (--mode hw or --h-extension).")
        }
    }

    /// `--hw-paging`, which only `--mode hw` takes.
    func hardwarePaging() throws -> HardwarePaging? {
        guard let hwPaging else { return nil }
        guard let paging = HardwarePaging(rawValue: hwPaging) else {
            throw ValidationError("--hw-paging: unknown paging '\(hwPaging)' (expected one of: \(HardwarePaging.allCases.map(\.rawValue).joined(separator: ", "))).")
        }
        guard (try? executionMode()) == .hw else { throw ValidationError("--hw-paging: only with --mode hw.") }
        return paging
    }

    /// `--hw-io`, which only `--mode hw` with nested paging takes.
    func hardwareIO() throws -> HardwareIO? {
        guard let hwIo else { return nil }
        guard let io = HardwareIO(rawValue: hwIo) else {
            throw ValidationError("--hw-io: unknown device access '\(hwIo)' (expected one of: \(HardwareIO.allCases.map(\.rawValue).joined(separator: ", "))).")
        }
        guard (try? executionMode()) == .hw else { throw ValidationError("--hw-io: only with --mode hw.") }
        guard io == .emulated || (try? hardwarePaging()) != .shadow else {
            throw ValidationError("--hw-io: assigned devices need nested paging (the IOMMU translates their DMA through the G stage), not --hw-paging shadow.")
        }
        return io
    }

    /// `--plic` (VMSpec's names).
    func plicGateway() throws -> PLICGateway {
        try Self.named(plic, in: VMSpec.plicGateways, option: "--plic", kind: "gateway")
    }

    /// The hart's options: `--tlb`, `--ad-bits`, `--misaligned` (VMSpec's names and checks).
    func hardware() throws -> (tlb: TLBConfiguration, adBits: ADBitPolicy, misaligned: MisalignedPolicy) {
        let adBits = try Self.named(self.adBits, in: VMSpec.adBitPolicies, option: "--ad-bits")
        let misaligned = try Self.named(self.misaligned, in: VMSpec.misalignedPolicies, option: "--misaligned")
        return (try tlb.map(Self.parseTLB) ?? TLBConfiguration(), adBits, misaligned)
    }

    /// The value `name` stands for among an option's names (`vmlab.vm`'s, from VMSpec), or a usage
    /// error that lists them.
    static func named<Value>(_ name: String, in names: VMSpec.PolicyNames<Value>, option: String,
                             kind: String = "policy") throws -> Value {
        guard let value = names[name] else {
            throw ValidationError("\(option): unknown \(kind) '\(name)' (expected one of: \(names.names.joined(separator: ", "))).")
        }
        return value
    }

    /// `entries=64,ways=4,tagged=false,keep_global=true,nested=16`, each part optional.
    static func parseTLB(_ text: String) throws -> TLBConfiguration {
        var fields: [String: String] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else {
                throw ValidationError("--tlb \(text): an empty field (expected entries=N, ways=N, tagged=true|false, keep_global=true|false, nested=N or pwc=N, separated by commas).")
            }
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, ["entries", "ways", "tagged", "keep_global", "nested", "pwc"].contains(pair[0]) else {
                throw ValidationError("--tlb \(text): '\(part)' is not entries=N, ways=N, tagged=true|false, keep_global=true|false, nested=N or pwc=N.")
            }
            guard fields[pair[0]] == nil else { throw ValidationError("--tlb \(text): \(pair[0]) is given twice.") }
            fields[pair[0]] = pair[1]
        }
        func number(_ field: String) throws -> Int64? {
            guard let value = fields[field] else { return nil }
            guard let n = Int64(value) else { throw ValidationError("--tlb: \(field) must be a number, got '\(value)'.") }
            return n
        }
        func boolean(_ field: String) throws -> Bool? {
            switch fields[field] {
            case nil: return nil
            case "true": return true
            case "false": return false
            case let other?: throw ValidationError("--tlb: \(field) must be true or false, got '\(other)'.")
            }
        }
        do {
            return try VMSpec.tlbConfiguration(entries: try number("entries"), ways: try number("ways"), tagged: try boolean("tagged"),
                                               keepGlobal: try boolean("keep_global"), nested: try number("nested"),
                                               pwc: try number("pwc"))
        } catch let error as VMSpec.TLBOptionError {
            throw ValidationError("--tlb: \(error.field) \(error.reason).")
        }
    }

    /// The mode `--mode` names; an unknown or not yet available one is a usage error.
    func executionMode() throws -> ExecutionMode {
        guard let mode = ExecutionMode(rawValue: mode) else {
            throw ValidationError("--mode: unknown mode '\(self.mode)' (expected one of: \(ExecutionMode.allCases.map(\.rawValue).joined(separator: ", "))).")
        }
        guard ExecutionMode.available.contains(mode) else {
            throw ValidationError("--mode: mode '\(self.mode)' is not available yet (available: \(ExecutionMode.available.map(\.rawValue).joined(separator: ", "))).")
        }
        return mode
    }

    /// `file[,rw][,slot=N]`: the file is everything before the first single comma, with `,,` in it
    /// standing for one comma (QEMU's convention: `my,,disk.img` is the file `my,disk.img`); each
    /// word after it is a flag, given once ("f,rw,rw" is an error, not a file named "f,rw"). A `,,`
    /// among the flags is an error rather than a guess: it is a file name whose first comma was not
    /// doubled. Whether slot N exists and is free is the board's to say.
    static func parseDisk(_ text: String) throws -> VMSpec.Disk {
        var path = String.UnicodeScalarView()
        var flags: Substring.UnicodeScalarView?
        let scalars = text.unicodeScalars
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let next = scalars.index(after: i)
            if scalars[i] == "," {
                guard next < scalars.endIndex, scalars[next] == "," else {
                    flags = scalars[next...]
                    break
                }
                path.append(",")
                i = scalars.index(after: next)
            } else {
                path.append(scalars[i])
                i = next
            }
        }
        guard !path.isEmpty else { throw ValidationError("--disk needs a file.") }
        let file = String(path)
        guard let flags = flags.map(String.init) else { return VMSpec.Disk(path: file, writable: false) }
        var slot: Int?
        if flags.contains(",,") {
            throw ValidationError("--disk \(text): ',,' after the file name, which ends at the first single comma ('\(file)'); write every comma in the file name as ',,'.")
        }
        var writable = false
        for flag in flags.split(separator: ",", omittingEmptySubsequences: false) {
            switch flag {
            case "rw":
                guard !writable else { throw ValidationError("--disk \(text): flag 'rw' is given twice.") }
                writable = true
            case _ where flag.hasPrefix("slot="):
                guard slot == nil else { throw ValidationError("--disk \(text): flag 'slot' is given twice.") }
                guard let n = Int(flag.dropFirst(5)), n >= 0 else {
                    throw ValidationError("--disk \(text): slot=\(flag.dropFirst(5)) is not a slot number (0 to 7).")
                }
                slot = n
            case "": throw ValidationError("--disk \(text): an empty flag (expected rw or slot=N after the file).")
            default: throw ValidationError("--disk \(text): unknown flag '\(flag)' (expected rw or slot=N; a comma in the file name is written ',,').")
            }
        }
        return VMSpec.Disk(path: file, writable: writable, slot: slot)
    }

    /// `[hub=H|loopback][,mac=M][,slot=N]`, each flag once; "" is a card with every default. The
    /// hub, if any, is the switch number the card plugs into.
    static func parseNIC(_ text: String) throws -> (nic: NICConfiguration, hub: Int?) {
        var nic = NICConfiguration()
        var hub: Int?
        var seen: Set<String> = []
        for flag in text.split(separator: ",", omittingEmptySubsequences: false) where !text.isEmpty {
            let name = flag.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            guard seen.insert(name).inserted else { throw ValidationError("--nic \(text): flag '\(name)' is given twice.") }
            let value = String(flag.dropFirst(name.count + 1))
            switch name {
            case "hub":
                guard let n = Int(value), n >= 0 else { throw ValidationError("--nic \(text): hub=\(value) is not a hub number (0 or more).") }
                hub = n
            case "loopback" where flag == "loopback":
                nic.loopback = true
            case "mac":
                guard let mac = VirtioNet.parseMAC(value) else {
                    throw ValidationError("--nic \(text): mac=\(value) is not a MAC address (six two-digit hex bytes, e.g. 52:54:00:00:00:0a).")
                }
                nic.mac = mac
            case "slot":
                guard let n = Int(value), n >= 0 else { throw ValidationError("--nic \(text): slot=\(value) is not a slot number (0 to 7).") }
                nic.slot = n
            case "": throw ValidationError("--nic \(text): an empty flag (expected hub=H, loopback, mac=M or slot=N).")
            default: throw ValidationError("--nic \(text): unknown flag '\(flag)' (expected hub=H, loopback, mac=M or slot=N).")
            }
        }
        if nic.loopback && hub != nil {
            throw ValidationError("--nic \(text): 'loopback' and 'hub' cannot be combined: a looped-back card's frames never leave it.")
        }
        return (nic, hub)
    }

    /// The machine these options describe.
    func spec() throws -> VMSpec {
        var spec = VMSpec()
        spec.memory = VMSpec.parseMemory(memory) ?? spec.memory
        spec.harts = harts
        if let kernel {
            spec.firmware = .file(file)
            spec.kernel = kernel
        } else {
            spec.kernel = file
            switch firmware {
            case nil: spec.firmware = .automatic
            case "builtin": spec.firmware = .builtin
            case "none": spec.firmware = .none
            case let path?: spec.firmware = .file(path)
            }
        }
        spec.initrd = initrd
        spec.bootargs = append ?? ""
        spec.disks = try disk.map(Self.parseDisk)
        spec.nics = try nic.map { try Self.parseNIC($0).nic }
        spec.virtioConsole = virtioConsole
        spec.rngSeed = rng ? VirtioRNG.defaultSeed : nil
        spec.echo = dumpDtb == nil
        spec.profile = try CostProfile.named(profile)
        spec.mode = try executionMode()
        (spec.tlb, spec.adBits, spec.misaligned) = try hardware()
        spec.hypervisorExtension = hExtension
        spec.sstc = sstc
        if let paging = try hardwarePaging() { spec.hardwarePolicy.paging = paging }
        if let io = try hardwareIO() { spec.hardwarePolicy.io = io }
        spec.plicGateway = try plicGateway()
        return spec
    }

    func run() throws {
        let status = boot()
        StandardStreams.flushOutput()
        if status != 0 { throw ExitCode(status) }
    }

    /// Builds, runs and reports; returns the exit status.
    func boot() -> Int32 {
        let vm: VirtualMachine
        do {
            vm = try VirtualMachine(try spec())
        } catch {
            StandardStreams.writeError("vmlab: \(error)\n")
            return 1
        }
        // One switch per hub number, as qemu's hubs.
        var hubs: [Int: NetworkSwitch] = [:]
        do {
            try vm.connect(nics: try nic.map { text in
                try Self.parseNIC(text).hub.map { hub in
                    if let existing = hubs[hub] { return existing }
                    let made = NetworkSwitch()
                    hubs[hub] = made
                    return made
                }
            })
        } catch {
            vm.close()
            StandardStreams.writeError("vmlab: \(error)\n")
            return 1
        }
        defer { vm.close() }
        if let dumpDtb {
            do { try vm.writeDeviceTree(to: dumpDtb) } catch {
                StandardStreams.writeError("vmlab: \(error)\n")
                return 1
            }
            return 0
        }
        if let restore {
            do throws(SnapshotError) { try vm.restoreSnapshot(from: restore) } catch {
                StandardStreams.writeError("vmlab: --restore: \(error)\n")
                return 1
            }
        }
        HostInterrupt.catchInterrupt()
        let stop: VirtualMachine.Stop
        if let gdb {
            switch debug(vm, port: gdb) {
            case .failure(let message):
                StandardStreams.writeError("vmlab: \(message)\n")
                return 1
            case .success(.ended(let end)): stop = end
            case .success(.detached): stop = runWithInput(vm)
            }
        } else {
            stop = runWithInput(vm)
        }
        if Self.breakLineBeforeReport(console: vm.console, outputIsTerminal: isatty(1) != 0, errorIsTerminal: isatty(2) != 0) {
            StandardStreams.writeError("\n")
        }
        if let saveSnapshot {
            do throws(SnapshotError) { try vm.saveSnapshot(to: saveSnapshot) } catch {
                StandardStreams.writeError("vmlab: --save-snapshot: \(error)\n")
                return 1
            }
        }
        if stats, let counters = vm.stats {
            // The engine last: it is the host's, not the guest's (scripts/bench checks it).
            let engine = vm.engine.map { ["engine \($0)"] } ?? []
            StandardStreams.writeError((counters.lines + engine).joined(separator: "\n") + "\n")
        }
        if stop.name == "poweroff", let code = stop.exitCode {
            // The shell sees only the low 8 bits: a failure must not read as success.
            return code != 0 && code & 0xFF == 0 ? 1 : Int32(truncatingIfNeeded: code & 0xFF)
        }
        var message = "vmlab: \(stop.message)"
        if stop.name == "budget", let limit = maxInstructions { message += " (\(limit) instructions, --max-instructions)" }
        // A file that is not a kernel at all (a mistyped path) boots as a raw image, as with
        // qemu's -kernel, and usually ends stuck on a trap vector: say what it was taken for.
        if stop.name == "halted", vm.kernelIsRawImage {
            message += "\nvmlab: note: '\(kernel ?? file)' is not an ELF file; it ran as a raw image, from its first byte (as qemu's -kernel runs one)"
        }
        // An unmodified kernel under pv writes satp with page tables the VMM never validated and
        // is refused; what follows (a hang, a halt) does not say why. A halt's message says it.
        if stop.name != "halted", let note = vm.paravirtualRefusal { message += "\nvmlab: note: " + note }
        StandardStreams.writeError(message + "\n")
        return 1
    }

    /// Serves GDB on `port` until it detaches or ends the run.
    func debug(_ vm: VirtualMachine, port: UInt16) -> Result<GDBServer.Outcome, GDBServer.Failure> {
        do {
            let (listener, actual) = try GDBServer.listening(port: port)
            StandardStreams.writeError("vmlab: waiting for gdb on 127.0.0.1:\(actual) (gdb-multiarch FILE -ex 'target remote :\(actual)')\n")
            return .success(try GDBServer.serve(vm, listener: listener))
        } catch {
            return .failure(error)
        }
    }

    /// Whether vmlab's own lines after the run (the counters, the reason it ended) need a line
    /// break first: on a terminal they would otherwise go on the guest's last line, after a shell
    /// prompt (`$ vmlab: ...`). Only when both streams are the terminal: a redirected stream keeps
    /// exactly what was written to it.
    static func breakLineBeforeReport(console: [UInt8], outputIsTerminal: Bool, errorIsTerminal: Bool) -> Bool {
        outputIsTerminal && errorIsTerminal && !console.isEmpty && console.last != UInt8(ascii: "\n")
    }

    /// Instructions per run between looks at standard input: a few milliseconds of guest time, so
    /// typing feels immediate, while a guest that reads nothing runs exactly as in one run (a
    /// budget stop resumes where it left off).
    static let inputSlice: UInt64 = 1_000_000

    /// Guest seconds of sleep after standard input has ended, with nothing written to the console
    /// meanwhile, that end the run: the guest is taken to wait for input that will never come.
    static let sleepAfterInput: UInt64 = 10

    /// Runs the guest with standard input as its console input (a terminal delivers whole lines).
    /// While standard input is open, an idle guest waits for it instead of stopping: it may be
    /// waiting for a key. At end of input (or /dev/null) the guest runs on alone, until it sleeps
    /// (every hart in wfi) for `sleepAfterInput` seconds of guest time, summed, without writing to
    /// its console. A kernel waiting at its prompt still wakes for its timer tick, so it is never
    /// "idle" and would otherwise run on forever (QEMU with `-serial stdio` does: it stops reading
    /// at end of input and leaves the guest to wait); counting sleep rather than elapsed time lets
    /// a guest that computes silently run on, however long it takes. The guest's clock, not the
    /// host's, decides, so the end comes at the same place on every machine.
    func runWithInput(_ vm: VirtualMachine) -> VirtualMachine.Stop {
        let startExecuted = vm.executedInstructions
        var inputOpen = true
        let sleepLimit = Self.sleepAfterInput * vm.spec.profile.clockHz
        // Once input has ended: the sleep counter and console length when the guest last wrote.
        var quiet: (slept: UInt64, console: Int)?
        while true {
            let executed = vm.executedInstructions &- startExecuted
            let slice = min(maxInstructions.map { $0 - min($0, executed) } ?? .max, Self.inputSlice)
            // Its sleep can reach the limit no sooner than its clock moves that far, so a cycle
            // budget of what is left of it ends the run at the limit, not a slice later.
            let cycles = quiet.map { sleepLimit - min(sleepLimit, vm.sleptCycles &- $0.slept) }
            var stop = vm.run(maxInstructions: slice, maxCycles: cycles)
            if stop.name == "budget", let limit = maxInstructions, vm.executedInstructions &- startExecuted >= limit {
                return stop
            }
            if var q = quiet {
                if vm.console.count != q.console { q = (vm.sleptCycles, vm.console.count) }
                quiet = q
                if stop.name == "budget" && vm.sleptCycles &- q.slept >= sleepLimit {
                    stop.name = "waiting"
                    stop.message = "the guest waits for input after standard input ended: it has slept \(Self.sleepAfterInput) s of guest time without writing to its console"
                    return stop
                }
            }
            switch stop.name {
            case "budget":
                if inputOpen { inputOpen = Self.forwardInput(to: vm, wait: false) }
            case "idle" where inputOpen:
                inputOpen = Self.forwardInput(to: vm, wait: true)
                if !inputOpen { return stop }
            default:
                return stop
            }
            if !inputOpen && quiet == nil { quiet = (vm.sleptCycles, vm.console.count) }
        }
    }

    /// Feeds what standard input has ready to the guest (waiting for some when `wait`); false at
    /// end of input or on an error.
    static func forwardInput(to vm: VirtualMachine, wait: Bool) -> Bool {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, wait ? -1 : 0)
        if ready < 0 { return errno == EINTR }
        if ready == 0 { return true }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        guard count > 0 else { return false }
        vm.input(Array(buffer[..<count]))
        return true
    }
}
