// A GDB session's answers (GDB manual, "Packets", "General Query Packets", "Stop Reply Packets"):
// registers and memory as the guest sees them (`vm:read`'s guest view; memory through the selected
// vCPU's translation), breakpoints on guest-virtual pcs and watchpoints, harts as threads (thread
// id = hart + 1; `Hc` and `vCont` name the hart a step steps), and `monitor stats` for vmlab's
// counters. What GDB asks that is not here gets the empty reply, which tells it the packet is not
// supported. The transport is GDBServer.swift.

import Hypervisor
import Machine
import RISCV

/// What the server does with a packet.
enum GDBAction: Equatable {
    /// Send these packets (usually one; `O` console packets before a final one).
    case reply([String])
    /// Run the guest, then send the stop reply: all harts (`step` nil), or until hart `step` has
    /// executed one instruction, the others taking their turns meanwhile.
    case resume(step: Int?)
    /// GDB detached: let the guest run on without it.
    case detach
    /// GDB killed the target: end the run.
    case kill
}

final class GDBStub {
    let vm: VirtualMachine
    /// The hart whose registers `g`, `p` and memory accesses use (`Hg`), and whose stop is reported.
    private(set) var hart = 0
    /// The hart `s` steps (`Hc`); nil (`Hc0`, `Hc-1`, or none yet): `hart`, GDB's current thread.
    private(set) var resumeHart: Int?
    /// Watchpoints by the packet that set them: the machine watches physical addresses, GDB names
    /// virtual ones (translated when set).
    /// `ours`: this session put it in the machine (not the script, which had one there already).
    private var watches: [WatchKey: (watchpoint: Watchpoint, va: UInt64, ours: Bool)] = [:]
    /// The breakpoints this session put in the machine.
    private var breakpoints: Set<UInt64> = []

    struct WatchKey: Hashable {
        var type: Character
        var address: UInt64
        var length: UInt64
    }

    /// The longest memory read answered at once (PacketSize allows twice as many hex digits).
    static let maximumRead = 2048
    static let packetSize = 0x1000

    init(vm: VirtualMachine) {
        self.vm = vm
    }

    private var hartCount: Int { vm.guest?.machine.hartCount ?? 1 }

    func handle(_ packet: String) -> GDBAction {
        guard let first = packet.first else { return .reply([""]) }
        let body = packet.dropFirst()
        switch first {
        case "?": return .reply([stopPacket(signal: 5, hart: hart)])
        case "g": return .reply([readAllRegisters()])
        case "G": return .reply([writeAllRegisters(body)])
        case "p": return .reply([readRegister(body)])
        case "P": return .reply([writeRegister(body)])
        case "m": return .reply([readMemory(body)])
        case "M": return .reply([writeMemory(body)])
        // A signal to deliver (C, S) means nothing to a machine: it resumes as c and s do.
        case "c", "C": return .resume(step: nil)
        case "s", "S": return .resume(step: resumeHart ?? hart)
        case "H": return .reply([selectThread(body)])
        case "T": return .reply([threadNumber(body).map { (1...hartCount).contains($0) ? "OK" : "E01" } ?? "E01"])
        case "Z", "z": return .reply([point(insert: first == "Z", body)])
        case "q": return query(body)
        case "k": return .kill
        case "D": return .detach
        case "v":
            if body.hasPrefix("Kill") { return .kill }
            if body == "Cont?" { return .reply(["vCont;c;C;s;S"]) }
            if body.hasPrefix("Cont;") { return resume(actions: body.dropFirst("Cont;".count)) }
            return .reply([""])
        default: return .reply([""])
        }
    }

    // MARK: resuming

    /// `vCont;ACTION[:THREAD];...`: the first step action names the hart to step (its thread, or
    /// GDB's current one when it names none); with none, a continue. The other harts run in
    /// either case, as in GDB's all-stop mode: the machine's round-robin schedule is kept, so a
    /// stepped hart waits for its turn while the others finish theirs (scheduler locking, a
    /// `vCont;s:2` without `;c`, cannot stop them).
    private func resume(actions: Substring) -> GDBAction {
        var stepped: Int?
        for action in actions.split(separator: ";", omittingEmptySubsequences: false) {
            let parts = action.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let verb = parts[0].first, "cCsS".contains(verb) else { return .reply(["E01"]) }
            // C and S carry a signal number (two hex digits), which the machine has no use for.
            guard parts[0].count == (verb == "c" || verb == "s" ? 1 : 3) else { return .reply(["E01"]) }
            var target = hart
            if parts.count == 2 {
                guard let id = Int(parts[1], radix: 16) else { return .reply(["E01"]) }
                if id > 0 {
                    guard (1...hartCount).contains(id) else { return .reply(["E01"]) }
                    target = id - 1
                }
            }
            if stepped == nil && (verb == "s" || verb == "S") { stepped = target }
        }
        return .resume(step: stepped)
    }

    /// Runs the guest as `.resume(step:)` asked and returns the stop reply, with the machine's stop
    /// (nil when `interruption` ended the run). A continue runs in slices of `slice` instructions;
    /// a step runs one instruction at a time until hart `step` has executed one (retired or
    /// trapped; `VirtualMachine.step(hart:limit:)`): a breakpoint or watchpoint another hart
    /// meets first is reported instead, as is the guest's end. Between slices (and every
    /// `stepPiece` instructions of a step that waits for its hart: one asleep in `wfi` or not
    /// started), `interruption` says whether GDB asked to stop, with the reply to end on.
    func resume(step stepped: Int?, slice: UInt64, interruption: () -> String?) -> (String, VirtualMachine.Stop?) {
        while true {
            if let stepped {
                // A step that moved its hart names it (`stop.hart`); one still waiting goes on.
                let (stop, moved) = vm.step(hart: stepped, limit: Self.stepPiece)
                if moved || stop.name != "budget", let reply = stopReply(stop, stepping: true) { return (reply, stop) }
            } else {
                let stop = vm.run(maxInstructions: slice)
                if let reply = stopReply(stop, stepping: false) { return (reply, stop) }
            }
            if let reply = interruption() { return (reply, nil) }
        }
    }

    /// Instructions a step that waits for its hart runs between looks for GDB's Ctrl-C.
    static let stepPiece: UInt64 = 4096

    // MARK: stops

    /// The stop reply for `stop` after a continue (nil: the run only used up its slice, go on) or
    /// a step.
    func stopReply(_ stop: VirtualMachine.Stop, stepping: Bool) -> String? {
        if let h = stop.hart, (0..<hartCount).contains(h) { hart = h }
        switch stop.name {
        case "budget":
            return stepping ? stopPacket(signal: 5, hart: hart) : nil
        case "poweroff":
            return "W" + GDBHex.encode([UInt8(truncatingIfNeeded: stop.exitCode ?? 0)])
        case "breakpoint":
            return stopPacket(signal: 5, hart: hart, extra: "swbreak:;")
        case "watchpoint":
            let key = stop.address.flatMap { address in
                watches.first { $0.value.watchpoint.base <= address && address < $0.value.watchpoint.base &+ $0.value.watchpoint.size }
            }
            guard let (k, w) = key else { return stopPacket(signal: 5, hart: hart) }
            let kind = k.type == "2" ? "watch" : k.type == "3" ? "rwatch" : "awatch"
            let va = w.va &+ (stop.address! &- w.watchpoint.base)
            return stopPacket(signal: 5, hart: hart, extra: "\(kind):\(String(va, radix: 16));")
        default:
            // reset, idle, halted, a hook's stop: the guest cannot go on by itself; GDB may look.
            return stopPacket(signal: 5, hart: hart)
        }
    }

    /// Ctrl-C at the GDB prompt.
    func interruptReply() -> String { stopPacket(signal: 2, hart: hart) }

    private func stopPacket(signal: UInt8, hart h: Int, extra: String = "") -> String {
        "T" + GDBHex.encode([signal]) + "thread:\(String(h + 1, radix: 16));" + extra
    }

    // MARK: registers

    /// The register as `vm:read` and `vm:write` name it.
    private func stateRegister(_ register: GDBRegister) -> VirtualMachine.Register {
        switch register {
        case .integer(let n): .integer(n)
        case .pc: .pc
        case .float(let n): .float(n)
        case .csr(let n): .csr(n, name: CSR.name(n) ?? "0x\(String(n, radix: 16))")
        case .privilege: .privilege
        }
    }

    private func value(_ register: GDBRegister) -> UInt64? {
        switch try? vm.read(stateRegister(register), hart: hart) {
        case .integer(let v)?: return v
        case .text(let letter)?: return letter == "M" ? 3 : letter == "S" ? 1 : 0
        case nil: return nil
        }
    }

    private func readAllRegisters() -> String {
        // x0–x31 and pc; GDB asks for the others one by one (`p`).
        (0...32).map { GDBHex.little(value(GDBRegister(number: $0)!) ?? 0) }.joined()
    }

    private func writeAllRegisters(_ body: Substring) -> String {
        guard let bytes = GDBHex.decode(body), bytes.count >= 33 * 8 else { return "E01" }
        for n in 0...32 {
            let v = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[n * 8 + $1]) << (8 * UInt64($1)) }
            guard set(GDBRegister(number: n)!, v) else { return "E01" }
        }
        return "OK"
    }

    private func readRegister(_ body: Substring) -> String {
        guard let n = Int(body, radix: 16), let register = GDBRegister(number: n), let v = value(register) else { return "E01" }
        return GDBHex.little(v, size: register.size)
    }

    private func writeRegister(_ body: Substring) -> String {
        let parts = body.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let n = Int(parts[0], radix: 16), let register = GDBRegister(number: n),
              let v = GDBHex.littleValue(parts[1]) else { return "E01" }
        return set(register, v) ? "OK" : "E01"
    }

    private func set(_ register: GDBRegister, _ v: UInt64) -> Bool {
        var written = VirtualMachine.ReadValue.integer(v)
        if register == .privilege {
            guard let letter = [0: "U", 1: "S", 3: "M"][v] else { return false }
            written = .text(letter)
        }
        do { try vm.write(stateRegister(register), written, hart: hart) } catch { return false }
        return true
    }

    // MARK: memory

    private func addressAndLength(_ text: Substring) -> (UInt64, Int)? {
        let parts = text.split(separator: ",")
        guard parts.count == 2, let address = GDBHex.number(parts[0]), let length = GDBHex.number(parts[1]),
              length <= UInt64(Int.max) else { return nil }
        return (address, Int(length))
    }

    private func readMemory(_ body: Substring) -> String {
        guard let (address, length) = addressAndLength(body) else { return "E01" }
        let count = min(length, Self.maximumRead)
        guard count > 0 else { return "" }
        switch try? vm.readMemory(address, count: count, space: .guestVirtual(vcpu: hart)) {
        case .done(let bytes)?: return GDBHex.encode(bytes)
        default: return "E14"   // unmapped, or not RAM (a device's registers are not read behind its back)
        }
    }

    private func writeMemory(_ body: Substring) -> String {
        let halves = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count == 2, let (address, length) = addressAndLength(halves[0]),
              let bytes = GDBHex.decode(halves[1]), bytes.count == length else { return "E01" }
        guard !bytes.isEmpty else { return "OK" }
        switch try? vm.writeMemory(address, bytes, space: .guestVirtual(vcpu: hart)) {
        case .done?: return "OK"
        default: return "E14"
        }
    }

    // MARK: breakpoints and watchpoints

    private func point(insert: Bool, _ body: Substring) -> String {
        let parts = body.split(separator: ",")
        guard parts.count >= 3, let type = parts[0].first, let address = GDBHex.number(parts[1]),
              let length = GDBHex.number(parts[2]) else { return "E01" }
        switch type {
        case "0", "1":
            // Software and hardware breakpoints alike: the machine stops before executing `address`
            // (no instruction is patched, so the guest never sees an ebreak). One the script had
            // set already (`vm:breakpoint`) stays the script's: GDB's removal leaves it in place.
            if insert {
                if vm.guest?.breakpoints.insert(address).inserted == true { breakpoints.insert(address) }
            } else if breakpoints.remove(address) != nil {
                vm.guest?.breakpoints.remove(address)
            }
            return "OK"
        case "2", "3", "4":
            let key = WatchKey(type: type, address: address, length: length)
            if !insert {
                if let w = watches.removeValue(forKey: key), w.ours { vm.guest?.watchpoints.remove(w.watchpoint) }
                return "OK"
            }
            // The machine watches physical memory: the page `address` maps to now.
            guard case .done(let physical)? = try? vm.translate(address, vcpu: hart),
                  length > 0, (address & 0xFFF) + length <= 0x1000 else { return "E01" }
            let access: WatchAccess = type == "2" ? .write : type == "3" ? .read : .readWrite
            let w = Watchpoint(base: physical, size: length, access: access)
            let ours = vm.guest?.watchpoints.insert(w).inserted == true
            watches[key] = (w, address, ours)
            return "OK"
        default:
            return ""
        }
    }

    /// Takes every breakpoint and watchpoint of this session out of the machine (detach, kill).
    func removeAllPoints() {
        for pc in breakpoints { vm.guest?.breakpoints.remove(pc) }
        for w in watches.values where w.ours { vm.guest?.watchpoints.remove(w.watchpoint) }
        breakpoints = []
        watches = [:]
    }

    // MARK: threads and queries

    private func threadNumber(_ text: Substring) -> Int? { Int(text, radix: 16) }

    private func selectThread(_ body: Substring) -> String {
        guard let op = body.first else { return "E01" }
        guard let id = Int(body.dropFirst(), radix: 16) else { return "E01" }
        // 0 and -1: any thread, all threads; the current one stays (and `s` steps it).
        if id <= 0 {
            if op == "c" { resumeHart = nil }
            return "OK"
        }
        guard (1...hartCount).contains(id) else { return "E01" }
        if op == "g" { hart = id - 1 }
        if op == "c" { resumeHart = id - 1 }
        return "OK"
    }

    private func query(_ body: Substring) -> GDBAction {
        if body.hasPrefix("Supported") {
            return .reply(["PacketSize=\(String(Self.packetSize, radix: 16));qXfer:features:read+;swbreak+;hwbreak+"])
        }
        if body.hasPrefix("Xfer:features:read:target.xml:") {
            return .reply([xfer(GDBTargetDescription.xml, range: body.dropFirst("Xfer:features:read:target.xml:".count))])
        }
        if body.hasPrefix("Xfer:") { return .reply(["E00"]) }
        if body == "Attached" { return .reply(["1"]) }
        if body == "C" { return .reply(["QC" + String(hart + 1, radix: 16)]) }
        if body == "fThreadInfo" { return .reply(["m" + (1...hartCount).map { String($0, radix: 16) }.joined(separator: ",")]) }
        if body == "sThreadInfo" { return .reply(["l"]) }
        if body.hasPrefix("Symbol") { return .reply(["OK"]) }
        if body.hasPrefix("ThreadExtraInfo,"), let id = threadNumber(body.dropFirst("ThreadExtraInfo,".count)) {
            return .reply([GDBHex.encode(Array("hart \(id - 1)".utf8))])
        }
        if body.hasPrefix("Rcmd,") {
            guard let bytes = GDBHex.decode(body.dropFirst("Rcmd,".count)) else { return .reply(["E01"]) }
            return monitor(String(decoding: bytes, as: UTF8.self))
        }
        return .reply([""])
    }

    /// `qXfer` of `document` from "OFFSET,LENGTH": `m` and a piece, or `l` and the last one.
    private func xfer(_ document: String, range: Substring) -> String {
        let parts = range.split(separator: ",")
        guard parts.count == 2, let offset = GDBHex.number(parts[0]), let length = GDBHex.number(parts[1]) else { return "E00" }
        let bytes = Array(document.utf8)
        guard offset <= UInt64(bytes.count) else { return "E00" }
        let start = Int(offset)
        let end = min(bytes.count, start + Int(min(length, UInt64(Self.packetSize))))
        let piece = String(decoding: bytes[start..<end], as: UTF8.self)
        return (end == bytes.count ? "l" : "m") + piece
    }

    /// `monitor CMD`: vmlab's own commands (GDBMonitor.swift), answered on GDB's console.
    private func monitor(_ command: String) -> GDBAction {
        .reply(["O" + GDBHex.encode(Array(monitorText(command).utf8)), "OK"])
    }
}
