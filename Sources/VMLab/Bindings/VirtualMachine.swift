import Boot
import Devices
import Hypervisor
import Machine
import LuaKit
import RISCV

/// A machine as a lab or `vmlab boot` drives it: a Hypervisor `Guest` (a `virt` board run natively
/// or under a VMM technique) built from a `VMSpec`, run in budgets, with its console, counters,
/// registers and memory readable between runs and from hooks. `vmlab.vm` hands it to Lua as a
/// `vmlab.VM` handle (VMBinding.swift); `host:vm` builds one on a shared host (HostBinding.swift).
public final class VirtualMachine {
    public let spec: VMSpec
    /// Nil once closed.
    private(set) var guest: Guest?
    /// The host handle this VM was made by (`host:vm`), kept alive while the VM lives.
    let host: VMHost?

    /// While a Lua call runs this VM (`vm:run`, `vm:step`, `host:run`): the call, on whose thread
    /// hooks run. Hooks fire only then.
    var lua: LuaCall?
    /// Nesting depth of hook calls: a hook may not run or step its VM (closing it is deferred).
    var hookDepth = 0
    /// Set when a hook asked to stop; read and cleared by `run`.
    var hookStopped = false
    /// The error a hook raised during this run; `vm:run` raises it once the run is over.
    var hookFailure: LuaError?
    /// Breakpoint handles per pc (several may share a pc; the last removal clears it).
    var breakpointUses: [UInt64: Int] = [:]
    /// Watchpoint handles per watchpoint.
    var watchpointUses: [Watchpoint: Int] = [:]

    /// Why a VM could not be built: a missing or malformed file, images that do not fit.
    public struct BuildFailure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ spec: VMSpec) throws(BuildFailure) {
        self.spec = spec
        host = nil
        do {
            // The guest installs its technique and the profile's prices before the first instruction.
            guest = try Guest(spec.guestConfiguration())
            guest?.machine.holes = spec.holes
        } catch {
            throw BuildFailure(description: error.description)
        }
    }

    /// A VM on `host` (its RAM a carve-out of the host's).
    init(_ spec: VMSpec, on host: VMHost) throws(BuildFailure) {
        self.spec = spec
        self.host = host
        guard let h = host.host else { throw BuildFailure(description: "the host is closed") }
        do {
            guest = try h.createGuest(spec.guestConfiguration())
            guest?.machine.holes = spec.holes
        } catch {
            throw BuildFailure(description: error.description)
        }
    }

    /// The board, or nil for a closed VM.
    var board: VirtBoard? { guest?.board }

    /// Plugs the network cards into switches, `switches[i]` for card i (nil: its cable plugs into
    /// nothing, or it loops back); one entry per card of `spec.nics`. Two cards with one address on
    /// a switch would each get half the other's frames (the switch learns addresses), so that is
    /// refused, naming the card; nothing is connected then.
    public func connect(nics switches: [NetworkSwitch?]) throws(BuildFailure) {
        guard let board else { throw BuildFailure(description: "the VM is closed") }
        precondition(switches.count == board.nics.count, "one switch (or none) per network card")
        var claimed: [(NetworkSwitch, [UInt8])] = []
        for (index, (nic, networkSwitch)) in zip(board.nics, switches).enumerated() {
            guard let networkSwitch else { continue }
            let onSwitch = networkSwitch.endpoints.compactMap { ($0 as? VirtioNet)?.mac }
            if onSwitch.contains(nic.mac) || claimed.contains(where: { $0.0 === networkSwitch && $0.1 == nic.mac }) {
                throw BuildFailure(description: "nic \(index + 1): another card on its switch already has the address \(nic.macString); give each card on a switch its own 'mac'")
            }
            claimed.append((networkSwitch, nic.mac))
        }
        for (nic, networkSwitch) in zip(board.nics, switches) {
            if let networkSwitch { nic.connect(to: networkSwitch) }
        }
        // A card holds its switch weakly; the VM keeps it, so that a script that dropped its
        // handle to the switch does not cut the cables.
        networkSwitches = switches.compactMap { $0 }
    }

    /// The switches this VM's cards are plugged into.
    private var networkSwitches: [NetworkSwitch] = []

    /// The guest, or a misuse for a closed VM.
    func live() throws(Misuse) -> Guest {
        guard let guest else { throw Misuse(message: "the VM is closed") }
        return guest
    }

    public var isClosed: Bool { guest == nil }

    /// The execution mode it runs in.
    public var mode: ExecutionMode { spec.mode }

    /// The engine that runs its guest code on the host (`VMLAB_ENGINE`, or the native-code engine
    /// where the host has it), or nil for a closed VM. Host-side only: counters and modelled
    /// cycles are the same under every engine.
    public var engine: ExecutionEngine? { guest?.machine.effectiveEngine }

    /// Instructions retired or trapped, over all harts: what `run`'s `maxInstructions` counts.
    public var executedInstructions: UInt64 { guest?.executedInstructions ?? 0 }

    /// Modelled cycles the machine has slept so far, every hart waiting for an interrupt.
    public var sleptCycles: UInt64 { guest?.machine.sleptCycles ?? 0 }

    /// Set when the VM is closed while a Lua run is under way (by a hook, or a `<close>`
    /// variable going out of scope inside one): the run stops and the VM closes when it returns.
    var closePending = false

    /// Releases the VM (its RAM or carve-out, open disk images, hooks). Idempotent.
    public func close() {
        if lua != nil {
            closePending = true
            return
        }
        closePending = false
        // A switch outlives the VMs on it: it must stop holding (and sending to) this one's cards.
        for nic in board?.nics ?? [] { nic.disconnect() }
        networkSwitches = []
        guest?.close()
        guest = nil
        breakpointUses = [:]
        watchpointUses = [:]
    }

    // MARK: running

    /// Runs until the guest stops, a budget (retired instructions, summed over harts; modelled
    /// cycles) is used up, `until` is met ("reached"), or a breakpoint, watchpoint or hook stops it. Console
    /// echo is flushed in order with the host's own output.
    public func run(maxInstructions: UInt64? = nil, maxCycles: UInt64? = nil, until: StopCondition? = nil) -> Stop {
        guard let guest else { return Stop(name: "closed", message: "the VM is closed") }
        if let final = guest.finalStop { return Stop(final, instructions: 0) }
        if spec.echo { StandardStreams.flushOutput() }
        let before = guest.instructions
        hookStopped = false
        let reason = guest.run(maxInstructions: maxInstructions ?? .max, maxCycles: maxCycles ?? .max, until: until)
        return stop(reason, instructions: guest.instructions &- before)
    }

    /// A stop in the Lua vocabulary, telling a hook's or an `until`'s stop from the host's.
    /// Why the VM's last run ended (nil before its first), for `host:stats()`: whoever asks did not
    /// make that run, so this reads the record without consuming the hook flag `stop` clears.
    var lastStop: Stop? {
        guard let guest, let reason = guest.lastStop else { return nil }
        var stop = Stop(reason, instructions: 0)
        explainHalt(&stop)
        if guest.untilReached {
            stop.name = "reached"
            stop.message = "the run reached its 'to' point"
        } else if guest.finalStop == nil, case .hostStop = reason {
            // Not the board's halt (that one is final): a hook or the host stopped the run.
            stop.name = "hook"
            stop.message = "a hook stopped the run"
        }
        return stop
    }

    func stop(_ reason: StopReason, instructions: UInt64) -> Stop {
        var stop = Stop(reason, instructions: instructions)
        explainHalt(&stop)
        if guest?.untilReached == true {
            stop.name = "reached"
            stop.message = "the run reached its 'to' point"
        } else if hookStopped, case .hostStop = reason {
            stop.name = "hook"
            stop.message = hookFailure == nil ? "a hook stopped the run" : "a hook raised an error"
        }
        hookStopped = false
        return stop
    }

    /// Under pv, what an unmodified kernel ran into: the VMM refused its satp writes (page tables
    /// it never validated) and reflected them as illegal instructions. What follows, a halt on its
    /// trap vector or a hang, does not say why. Nil in other modes and when nothing was refused.
    public var paravirtualRefusal: String? {
        guard spec.mode == .pv, case .success(.count(let refused))? = stats(at: "technique.emulated.satp_refused"),
              refused > 0 else { return nil }
        let them = refused == 1 ? "it as an illegal instruction" : "them as illegal instructions"
        return "the VMM refused \(refused) satp write\(refused == 1 ? "" : "s") of the kernel (page tables it never validated) "
            + "and reflected \(them): pv runs a kernel built for vmlab's hypercalls (such as tinyos-pv.elf); "
            + "an unmodified kernel runs under native, interpret, trap, bt or hw"
    }

    /// A halt's message says what the VMM knows of the cause (`paravirtualRefusal`).
    private func explainHalt(_ stop: inout Stop) {
        if stop.name == "halted", let note = paravirtualRefusal { stop.message += "; note: " + note }
    }

    /// Why a run ended, in the vocabulary of the Lua API.
    public struct Stop: Sendable, Equatable {
        /// "budget", "poweroff", "reset", "breakpoint", "watchpoint", "reached" (`to`), "hook", "idle",
        /// "halted" (the machine cannot go on: a trap no firmware handles, a hart stuck on its trap
        /// vector), "closed".
        public var name: String
        /// The guest's exit code for "poweroff" (test finisher, HTIF, SBI system reset).
        public var exitCode: Int?
        public var pc: UInt64?
        public var hart: Int?
        /// The watched address a "watchpoint" stop accessed, and whether it wrote.
        public var address: UInt64?
        public var isWrite: Bool?
        /// A sentence for people.
        public var message: String
        /// Instructions retired during this run, over all harts.
        public var instructions: UInt64 = 0

        init(name: String, exitCode: Int? = nil, pc: UInt64? = nil, hart: Int? = nil, message: String,
             instructions: UInt64 = 0) {
            self.name = name
            self.exitCode = exitCode
            self.pc = pc
            self.hart = hart
            self.message = message
            self.instructions = instructions
        }

        init(_ reason: StopReason, instructions: UInt64) {
            switch reason {
            case .budgetExhausted: self.init(name: "budget", message: "the budget is used up")
            case .poweredOff(let code): self.init(name: "poweroff", exitCode: code, message: "the guest powered off (exit code \(code))")
            case .reset: self.init(name: "reset", message: "the guest requested a reset")
            case .breakpoint(let hart, let pc):
                self.init(name: "breakpoint", pc: pc, hart: hart, message: reason.description)
            case .idle: self.init(name: "idle", message: "every hart waits and nothing can wake one")
            case .hostStop(let why): self.init(name: "halted", message: why)
            case .stuck(let hart, let pc, let why): self.init(name: "halted", pc: pc, hart: hart, message: why)
            case .watchpoint(let hart, let pc, let address, let isWrite):
                self.init(name: "watchpoint", pc: pc, hart: hart, message: reason.description)
                self.address = address
                self.isWrite = isWrite
            }
            self.instructions = instructions
        }
    }

    // MARK: console

    /// Everything the guest printed so far, on the UART, the SBI console and HTIF.
    public var console: [UInt8] { guest?.console ?? [] }

    /// Bytes for the guest's console input (the UART, and the SBI console under the built-in SBI).
    public func input(_ bytes: [UInt8]) { guest?.input(bytes) }

    /// Writes the device tree the guest was given (`vmlab boot --dump-dtb`).
    public func writeDeviceTree(to path: String) throws(BuildFailure) {
        guard let board else { throw BuildFailure(description: "the VM is closed") }
        do { try board.writeDeviceTree(to: path) } catch { throw BuildFailure(description: error.description) }
    }

    /// Guest errors the devices and firmware logged (bad register accesses, stray traps).
    public var guestErrors: [String] { board?.errors.messages ?? [] }

    /// Whether the boot loader took the kernel for a raw image (it is not an ELF file).
    public var kernelIsRawImage: Bool { board?.plan.kernelIsRawImage ?? false }

    // MARK: symbols

    /// Defined, named symbols of the kernel and firmware ELF files, then the spec's own (an
    /// image's labels). On a clash the spec's win, then the kernel's over the firmware's, and
    /// global symbols over local ones (a local label may be defined in several files; the global
    /// name is the one a lab means).
    var symbols: [String: UInt64] {
        guard let plan = board?.plan else { return spec.symbols }
        let named = (plan.firmwareSymbols + plan.kernelSymbols)
            .filter { $0.isDefined && !$0.name.isEmpty && $0.kind != .section && $0.kind != .file }
        var table: [String: UInt64] = [:]
        for symbol in named where symbol.binding == .local { table[symbol.name] = symbol.value }
        for symbol in named where symbol.binding != .local { table[symbol.name] = symbol.value }
        table.merge(spec.symbols) { _, given in given }
        return table
    }
}
