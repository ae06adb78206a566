import Boot
import Devices
import Hypervisor
import Machine
import RISCV

/// A machine as a lab or `vmlab boot` drives it: a `virt` board built from a `VMSpec`, run in
/// budgets, with its console, counters, registers and memory readable between runs. `vmlab.vm`
/// hands it to Lua as a `vmlab.VM` handle (VMBinding.swift).
public final class VirtualMachine {
    public let spec: VMSpec
    /// Nil once closed.
    private(set) var board: VirtBoard?
    /// A poweroff or reset ends the guest's run for good: running on would execute the instructions
    /// after the store that powered the machine off, which the hardware never does.
    private(set) var final: StopReason?

    /// Why a VM could not be built: a missing or malformed file, images that do not fit.
    public struct BuildFailure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ spec: VMSpec) throws(BuildFailure) {
        self.spec = spec
        do {
            let board = try VirtBoard(spec.boardConfiguration())
            // Before the first instruction, so every cycle of the run is priced by the profile.
            board.machine.costs = spec.profile.machineCostTable
            self.board = board
        } catch {
            throw BuildFailure(description: error.description)
        }
    }

    /// The board, or a failure for a closed VM.
    func live() throws(Closed) -> VirtBoard {
        guard let board else { throw Closed() }
        return board
    }

    struct Closed: Error {}

    public var isClosed: Bool { board == nil }

    /// Releases the machine (its RAM, open disk images). Idempotent.
    public func close() { board = nil }

    // MARK: running

    /// Runs until the guest stops or a budget (retired instructions, summed over harts; modelled
    /// cycles) is used up. Console echo is flushed in order with the host's own output.
    public func run(maxInstructions: UInt64? = nil, maxCycles: UInt64? = nil) -> Stop {
        guard let board else { return Stop(name: "closed", message: "the VM is closed") }
        if let final { return Stop(final, instructions: 0) }
        if spec.echo { StandardStreams.flushOutput() }
        let before = totalInstructions(board.machine)
        let reason = board.run(maxInstructions: maxInstructions ?? .max, maxCycles: maxCycles ?? .max)
        switch reason {
        case .poweredOff, .reset: final = reason
        default: break
        }
        return Stop(reason, instructions: totalInstructions(board.machine) &- before)
    }

    func totalInstructions(_ machine: Machine) -> UInt64 {
        (0..<machine.hartCount).reduce(0) { $0 &+ machine.counters(hart: $1).instructions }
    }

    /// Why a run ended, in the vocabulary of the Lua API.
    public struct Stop: Sendable, Equatable {
        /// "budget", "poweroff", "reset", "breakpoint", "idle", "halted" (the machine cannot go
        /// on: a trap no firmware handles), "closed".
        public var name: String
        /// The guest's exit code for "poweroff" (test finisher, HTIF, SBI system reset).
        public var exitCode: Int?
        public var pc: UInt64?
        public var hart: Int?
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
            case .watchpoint(let hart, let pc, _, _):
                self.init(name: "watchpoint", pc: pc, hart: hart, message: reason.description)
            }
            self.instructions = instructions
        }
    }

    // MARK: console

    /// Everything the guest printed so far, on the UART, the SBI console and HTIF.
    public var console: [UInt8] { board?.console.bytes ?? [] }

    /// Bytes for the guest's console input (the UART, and the SBI console under the built-in SBI).
    public func input(_ bytes: [UInt8]) { board?.enqueueInput(bytes) }

    /// Writes the device tree the guest was given (`vmlab boot --dump-dtb`).
    public func writeDeviceTree(to path: String) throws(BuildFailure) {
        guard let board else { throw BuildFailure(description: "the VM is closed") }
        do { try board.writeDeviceTree(to: path) } catch { throw BuildFailure(description: error.description) }
    }

    /// Guest errors the devices and firmware logged (bad register accesses, stray traps).
    public var guestErrors: [String] { board?.errors.messages ?? [] }

    // MARK: symbols

    /// Defined, named symbols of the kernel and firmware ELF files. On a clash the kernel's win
    /// over the firmware's, and global symbols over local ones (a local label may be defined in
    /// several files; the global name is the one a lab means).
    var symbols: [String: UInt64] {
        guard let plan = board?.plan else { return [:] }
        let named = (plan.firmwareSymbols + plan.kernelSymbols)
            .filter { $0.isDefined && !$0.name.isEmpty && $0.kind != .section && $0.kind != .file }
        var table: [String: UInt64] = [:]
        for symbol in named where symbol.binding == .local { table[symbol.name] = symbol.value }
        for symbol in named where symbol.binding != .local { table[symbol.name] = symbol.value }
        return table
    }
}
