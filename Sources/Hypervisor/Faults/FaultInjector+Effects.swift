// What each injector does to the guest. Parameters are resolved (and checked) when a fault is
// scheduled, so a bad one is an error at once; what depends on the guest's state at the time
// (a guest-virtual translation, the page-table walk) is looked up when the fault fires, and a
// fault that then cannot act is recorded as "not applied" with the reason.
//
// Interrupt faults act at the interrupt's source: a PLIC source through its `InterruptLine` (masked
// while dropping or delaying: the PLIC never sees the edge, or sees it late; pulsed for a spurious
// one), the supervisor timer through the hart's STIP pin (which the built-in SBI drives), the
// supervisor software interrupt through sip.SSIP.
import Boot
import Devices
import Machine
import RISCV

enum InterruptTarget: Equatable {
    case timer(vcpu: Int)
    case software(vcpu: Int)
    case plic(source: Int)

    var description: String {
        switch self {
        case .timer(let v): "the supervisor timer interrupt of vCPU \(v)"
        case .software(let v): "the supervisor software interrupt of vCPU \(v)"
        case .plic(let s): "PLIC source \(s)"
        }
    }
}

enum DeviceTarget: Equatable {
    case disk(Int)
    case net(Int)
}

enum FaultAction {
    case memory(address: UInt64, bit: Int, virtual: Bool, vcpu: Int)
    /// register 0 means the pc.
    case register(vcpu: Int, register: Int, bit: Int)
    case pte(va: UInt64, level: Int?, bit: Int, vcpu: Int)
    case drop(InterruptTarget, count: Int)
    case delay(InterruptTarget, cycles: UInt64, count: Int)
    case spurious(InterruptTarget)
    case device(DeviceTarget, count: Int)
    /// Card `card` (an index into the board's `nics`) loses its link, for `cycles` or for good.
    case linkDown(card: Int, cycles: UInt64?)
    /// Card `card` gets its link back.
    case linkUp(card: Int)
}

extension FaultInjector {
    // MARK: resolving parameters

    /// The most assertions or requests one fault may drop, delay or fail.
    static let maxCount = 1 << 30

    func resolve(_ spec: FaultSpec, guest: Guest) throws(FaultError) -> FaultAction {
        let ps = spec.parameters
        let name = spec.kind.rawValue
        func integer(_ key: String, default value: UInt64? = nil) throws(FaultError) -> UInt64 {
            if case .integer(let v)? = ps[key] { return v }
            if let value { return value }
            throw FaultError("fault '\(name)' needs '\(key)'")
        }
        // A parameter that numbers or counts something (not an address) is Lua's signed integer:
        // range-checked as such, and shown as the user wrote it (-1, not 2^64-1).
        func number(_ key: String, default value: Int64? = nil) throws(FaultError) -> Int64 {
            Int64(bitPattern: try integer(key, default: value.map { UInt64(bitPattern: $0) }))
        }
        func bit(max: Int) throws(FaultError) -> Int {
            let b = try number("bit")
            guard (0...Int64(max)).contains(b) else { throw FaultError("bad 'bit' \(b) for fault '\(name)' (expected 0-\(max))") }
            return Int(b)
        }
        func vcpu() throws(FaultError) -> Int {
            let v = try number("vcpu", default: 0)
            let harts = guest.machine.hartCount
            guard v >= 0 && v < Int64(harts) else {
                throw FaultError("bad 'vcpu' \(v) for fault '\(name)' (expected 0-\(harts - 1): the VM has \(harts) vCPU\(harts == 1 ? "" : "s"))")
            }
            return Int(v)
        }
        func count() throws(FaultError) -> Int {
            let c = try number("count", default: 1)
            guard (1...Int64(Self.maxCount)).contains(c) else { throw FaultError("bad 'count' \(c) for fault '\(name)' (expected 1-\(Self.maxCount))") }
            return Int(c)
        }
        switch spec.kind {
        case .memoryBitflip:
            let address = try integer("address")
            let b = try bit(max: 7)
            let v = try vcpu()
            var virtual = false
            switch ps["space"] {
            case nil, .string("guest-physical")?: break
            case .string("guest-virtual")?: virtual = true
            case let other?: throw FaultError("bad 'space' '\(other)' for fault '\(name)' (expected guest-physical or guest-virtual)")
            }
            if !virtual && !guest.isRAM(address, count: 1) {
                throw FaultError("bad 'address' 0x\(String(address, radix: 16)) for fault '\(name)': not guest-physical RAM of this VM")
            }
            return .memory(address: address, bit: b, virtual: virtual, vcpu: v)
        case .registerBitflip:
            let register: Int
            switch ps["register"] {
            case .integer(let n)? where (1...31).contains(n): register = Int(n)
            case .string("pc")?: register = 0
            case .string(let s)?:
                if let n = RegisterNames.integerNumber(s), n != 0 { register = Int(n) }
                else if s.hasPrefix("x"), let n = Int(s.dropFirst()), (1...31).contains(n) { register = n }
                else { throw FaultError("bad 'register' '\(s)' for fault '\(name)' (expected x1-x31, an ABI name, or pc)") }
            case .integer(let n)?: throw FaultError("bad 'register' \(Int64(bitPattern: n)) for fault '\(name)' (expected x1-x31, an ABI name, or pc)")
            case let other: throw FaultError("bad 'register' \(other.map { "\($0)" } ?? "nil") for fault '\(name)' (expected x1-x31, an ABI name, or pc)")
            }
            return .register(vcpu: try vcpu(), register: register, bit: try bit(max: 63))
        case .pteBitflip:
            var level: Int?
            if ps["level"] != nil {
                let l = try number("level")
                guard (0...4).contains(l) else { throw FaultError("bad 'level' \(l) for fault '\(name)' (expected 0-4)") }
                level = Int(l)
            }
            return .pte(va: try integer("address"), level: level, bit: try bit(max: 63), vcpu: try vcpu())
        case .interruptDrop:
            return .drop(try source(spec, guest: guest, vcpu: try vcpu(), allowSoftware: false), count: try count())
        case .interruptDelay:
            let cycles = try number("cycles")
            guard cycles >= 1 else { throw FaultError("bad 'cycles' \(cycles) for fault '\(name)' (expected at least 1)") }
            return .delay(try source(spec, guest: guest, vcpu: try vcpu(), allowSoftware: false), cycles: UInt64(cycles), count: try count())
        case .interruptSpurious:
            return .spurious(try source(spec, guest: guest, vcpu: try vcpu(), allowSoftware: true))
        case .deviceFailure:
            return .device(try device(spec, guest: guest), count: try count())
        case .linkDown:
            let card = try networkCard(spec, guest: guest)
            var cycles: UInt64?
            if ps["cycles"] != nil {
                let c = try number("cycles")
                guard c >= 1 else { throw FaultError("bad 'cycles' \(c) for fault '\(name)' (expected at least 1)") }
                cycles = UInt64(c)
            }
            return .linkDown(card: card, cycles: cycles)
        case .linkUp:
            return .linkUp(card: try networkCard(spec, guest: guest))
        }
    }

    /// The `device` parameter of `device_failure`: disk<n> (the default disk0) or net<n>, counted
    /// in the order the VM was given them (`vm:stats().nics`), not in slot order, which runs the
    /// other way.
    private func device(_ spec: FaultSpec, guest: Guest) throws(FaultError) -> DeviceTarget {
        let device = deviceName(spec, default: "disk0")
        if let n = Self.index(device, prefix: "disk") {
            return .disk(try checked(n, of: guest.board.disks.count, "disk", device: device, spec: spec))
        }
        if let n = Self.index(device, prefix: "net") {
            return .net(try checked(n, of: guest.board.nics.count, "network card", device: device, spec: spec))
        }
        throw FaultError("bad 'device' '\(device)' for fault '\(spec.kind.rawValue)' (expected disk<n> or net<n>)")
    }

    /// The `device` parameter of the link faults: net<n> (the default net0), an index into the
    /// board's `nics`.
    private func networkCard(_ spec: FaultSpec, guest: Guest) throws(FaultError) -> Int {
        let device = deviceName(spec, default: "net0")
        guard let n = Self.index(device, prefix: "net") else {
            throw FaultError("bad 'device' '\(device)' for fault '\(spec.kind.rawValue)' (expected net<n>)")
        }
        return try checked(n, of: guest.board.nics.count, "network card", device: device, spec: spec)
    }

    private func deviceName(_ spec: FaultSpec, default fallback: String) -> String {
        if case .string(let s)? = spec.parameters["device"] { return s }
        return fallback
    }

    /// n of "<prefix><n>" ("<prefix>" alone is 0).
    private static func index(_ device: String, prefix: String) -> Int? {
        guard device.hasPrefix(prefix) else { return nil }
        let digits = device.dropFirst(prefix.count)
        return digits.isEmpty ? 0 : Int(digits)
    }

    private func checked(_ n: Int, of count: Int, _ noun: String, device: String, spec: FaultSpec) throws(FaultError) -> Int {
        guard n >= 0 && n < count else {
            throw FaultError("bad 'device' '\(device)' for fault '\(spec.kind.rawValue)': the VM has \(count) \(noun)\(count == 1 ? "" : "s")")
        }
        return n
    }

    private func source(_ spec: FaultSpec, guest: Guest, vcpu: Int, allowSoftware: Bool) throws(FaultError) -> InterruptTarget {
        let name = spec.kind.rawValue
        let bad = { (what: String) in FaultError("bad 'source' \(what) for fault '\(name)' (expected \(allowSoftware ? "timer, software" : "timer"), uart, rtc, disk<n>, virtio<slot> or a PLIC source number)") }
        var plicSource: Int
        switch spec.parameters["source"] {
        case .integer(let n)?:
            // A PLIC source number, shown as the user wrote it.
            let signed = Int64(bitPattern: n)
            guard signed >= 0 else { throw bad("\(signed)") }
            plicSource = Int(signed)
        case .string("timer")?:
            // The timer is intercepted at the STIP pin the built-in SBI drives; M-mode firmware
            // (OpenSBI) raises STIP by writing mip, which no pin carries.
            if !allowSoftware && guest.board.firmware == nil {
                let why = if case .elf = guest.board.configuration.firmware {
                    "this VM boots M-mode firmware, which raises STIP in software"
                } else {
                    "this VM runs a bare-metal program in M-mode, with no firmware: nothing raises STIP for it"
                }
                throw FaultError("fault '\(name)' on the timer needs the built-in SBI (\(why))")
            }
            return .timer(vcpu: vcpu)
        case .string("software")? where allowSoftware: return .software(vcpu: vcpu)
        case .string("uart")?: plicSource = VirtPlatform.uart0IRQ
        case .string("rtc")?: plicSource = VirtPlatform.rtcIRQ
        case .string(let s)? where s.hasPrefix("disk"):
            guard let n = Int(s.dropFirst(4)), n >= 0, n < guest.board.disks.count else { throw bad("'\(s)'") }
            plicSource = VirtPlatform.virtioIRQ(slot: VirtPlatform.qemuVirtioSlot(forDevice: n))
        case .string(let s)? where s.hasPrefix("virtio"):
            guard let n = Int(s.dropFirst(6)), n >= 0, n < VirtPlatform.virtioSlotCount else { throw bad("'\(s)'") }
            plicSource = VirtPlatform.virtioIRQ(slot: n)
        case .string(let s)?: throw bad("'\(s)'")
        case nil: throw bad("nil")
        }
        guard guest.board.interruptLines[plicSource] != nil else { throw bad("\(plicSource) (no device drives it)") }
        return .plic(source: plicSource)
    }

    // MARK: applying

    /// Does what `action` says now; returns the effect sentence.
    func apply(_ action: FaultAction, recordIndex: Int, guest: Guest) throws(FaultError) -> String {
        let m = guest.machine
        switch action {
        case .memory(let address, let bit, let virtual, let vcpu):
            var pa = address
            if virtual {
                switch guest.translate(address, vcpu: vcpu, access: .load) {
                case .success(let p): pa = p
                case .failure(.translationFault(_, let cause)): throw FaultError("guest-virtual 0x\(String(address, radix: 16)) does not translate (\(cause))")
                case .failure(let other): throw FaultError("guest-virtual 0x\(String(address, radix: 16)): \(other)")
                }
            }
            // Through the guest's memory access: only its RAM, and under trap and bt a flip in a
            // guest page table reaches the shadows.
            guard case .success(let byte) = guest.readMemory(pa, count: 1), let old = byte.first else {
                throw FaultError("guest-physical 0x\(String(pa, radix: 16)) is not RAM of this VM")
            }
            let new = old ^ UInt8(1 << bit)
            _ = guest.writeMemory(pa, [new])
            let where_ = virtual ? "guest-virtual 0x\(String(address, radix: 16)) (guest-physical 0x\(String(pa, radix: 16)))" : "guest-physical 0x\(String(pa, radix: 16))"
            return "flipped bit \(bit) of the byte at \(where_): 0x\(String(old, radix: 16)) became 0x\(String(new, radix: 16))"
        case .register(let vcpu, let register, let bit):
            let mask: UInt64 = 1 << UInt64(bit)
            if register == 0 {
                let old = m.pc(hart: vcpu)
                m.setPC(old ^ mask, hart: vcpu)
                return "flipped bit \(bit) of the pc of vCPU \(vcpu): 0x\(String(old, radix: 16)) became 0x\(String(m.pc(hart: vcpu), radix: 16))"
            }
            let old = m.register(register, hart: vcpu)
            m.setRegister(register, old ^ mask, hart: vcpu)
            return "flipped bit \(bit) of x\(register) (\(RegisterNames.integer[register])) of vCPU \(vcpu): 0x\(String(old, radix: 16)) became 0x\(String(old ^ mask, radix: 16))"
        case .pte(let va, let level, let bit, let vcpu):
            // The guest's own tables: under shadow paging the hart walks a shadow, which is the
            // VMM's memory, not the guest's.
            let mode: String
            let steps: [(level: Int, pteAddress: UInt64, pte: UInt64)]
            if let walk = guest.guestTableWalk(va, vcpu: vcpu, access: .load) {
                mode = walk.mode
                steps = walk.steps.map { ($0.level, $0.pteAddress, $0.pte) }
            } else {
                let trace = m.pageWalk(va, hart: vcpu)
                mode = trace.mode
                steps = trace.steps.map { ($0.level, $0.pteAddress, $0.pte) }
            }
            guard mode != "bare" else { throw FaultError("vCPU \(vcpu) does not translate (satp is Bare): no page-table entry") }
            let step = level.map { l in steps.first { $0.level == l } } ?? steps.last
            guard let step else { throw FaultError("the walk of 0x\(String(va, radix: 16)) reads no entry at level \(level ?? -1)") }
            let new = step.pte ^ (1 << UInt64(bit))
            let bytes = (0..<8).map { UInt8(truncatingIfNeeded: new >> (8 * UInt64($0))) }
            // The guest's memory access drops the shadows derived from the entry under trap and bt.
            guard case .success = guest.writeMemory(step.pteAddress, bytes) else {
                throw FaultError("the entry at 0x\(String(step.pteAddress, radix: 16)) is not RAM")
            }
            // The flip models corrupted table memory; every vCPU's TLB is flushed so the next access
            // walks and sees it, rather than whenever the entry happens to be evicted.
            for h in 0..<m.hartCount { m.flushTLB(hart: h) }
            return "flipped bit \(bit) of the level-\(step.level) entry for 0x\(String(va, radix: 16)) at guest-physical 0x\(String(step.pteAddress, radix: 16)): 0x\(String(step.pte, radix: 16)) became 0x\(String(new, radix: 16))"
        case .drop(let target, let count), .delay(let target, _, let count):
            var delay: UInt64 = 0
            var kind = FaultKind.interruptDrop
            if case .delay(_, let cycles, _) = action { delay = cycles; kind = .interruptDelay }
            var i = Interception(record: recordIndex, kind: kind, target: target, remaining: count, delay: delay)
            if case .plic(let source) = target, let line = guest.board.interruptLines[source] {
                i.seenDroppedEdges = line.droppedEdges
                line.masked = true
            }
            // Under trap and bt the guest's timer is the monitor's virtual one: intercepted there.
            if case .timer(let v) = target, let monitor = guest.monitor, monitor.hart == v {
                monitor.timerFiring = { [weak self] in !(self?.takeTimerTick(vcpu: v) ?? false) }
            }
            // Under hw, the VMM's, raised through hvip.
            if case .timer = target, let vmm = guest.hardwareVMM {
                vmm.timerFiring = { [weak self] vcpu in !(self?.takeTimerTick(vcpu: vcpu) ?? false) }
            }
            interceptions.append(i)
            updateObservation()
            return kind == .interruptDrop
                ? "armed: the next \(count) assertion\(count == 1 ? "" : "s") of \(target.description) will not be delivered"
                : "armed: the next \(count) assertion\(count == 1 ? "" : "s") of \(target.description) will be delivered \(delay) cycles late"
        case .spurious(let target):
            switch target {
            // Under trap and bt the guest's S-level interrupts are the vCPU's, raised by the
            // monitor: a pin or sip bit of the hart would reach the VMM, not the guest.
            case .timer(let v) where guest.monitor?.hart == v:
                guest.monitor?.setInterrupt(.supervisorTimer, pending: true)
            case .software(let v) where guest.monitor?.hart == v:
                guest.monitor?.setInterrupt(.supervisorSoftware, pending: true)
            // Under hw they are VS-level interrupts the VMM raises through hvip.
            case .timer(let v) where guest.hardwareVMM != nil:
                guest.hardwareVMM?.setVirtualInterrupt(.timer, pending: true, hart: v)
            case .software(let v) where guest.hardwareVMM != nil:
                guest.hardwareVMM?.setVirtualInterrupt(.software, pending: true, hart: v)
            case .timer(let v):
                drivingPin = true
                m.setPin(.stip, hart: v, level: true)
                drivingPin = false
            case .software(let v):
                let sip = m.readCSR(CSR.sip, hart: v) ?? 0
                m.writeCSR(CSR.sip, sip | 1 << 1, hart: v)
            case .plic(let source):
                guest.board.interruptLines[source]?.injectPulse()
            }
            return "raised \(target.description) with no cause behind it"
        case .device(let target, let count):
            switch target {
            case .disk(let n):
                let disk = guest.board.disks[n]
                deviceWatches.append((recordIndex, target, disk.failures, count))
                disk.injectedFailures += count
            case .net(let n):
                let card = guest.board.nics[n]
                deviceWatches.append((recordIndex, target, card.framesDropped, count))
                card.injectedReceiveDrops += count
            }
            updateObservation()
            return "armed: the next \(count) request\(count == 1 ? "" : "s") of \(Self.name(target)) will fail"
        case .linkDown(let n, let cycles):
            let card = guest.board.nics[n]
            guard card.linkUp else { throw FaultError("the link of \(Self.name(.net(n))) is already down") }
            card.setLink(up: false)
            guard let cycles else { return "took the link of \(Self.name(.net(n))) down, for good" }
            linkRestores.append(LinkRestore(at: guest.cycles &+ cycles, card: n, record: recordIndex))
            return "took the link of \(Self.name(.net(n))) down for \(cycles) cycles"
        case .linkUp(let n):
            let card = guest.board.nics[n]
            guard !card.linkUp else { throw FaultError("the link of \(Self.name(.net(n))) is already up") }
            card.setLink(up: true)
            // The outage ends here: the `link_down` that planned a later return says so.
            for r in linkRestores where r.card == n {
                record[r.record].effect += "; up again at cycle \(guest.cycles), by link_up"
            }
            linkRestores.removeAll { $0.card == n }
            return "brought the link of \(Self.name(.net(n))) back up"
        }
    }

    /// Brings a link back up (its `cycles` have passed).
    func restore(_ r: LinkRestore, guest: Guest) {
        guest.board.nics[r.card].setLink(up: true)
        record[r.record].effect += "; up again at cycle \(guest.cycles)"
    }

    static func isDisk(_ d: DeviceTarget) -> Bool {
        if case .disk = d { return true }
        return false
    }

    static func name(_ d: DeviceTarget) -> String {
        switch d {
        case .disk(let n): "disk\(n) (virtio-blk)"
        case .net(let n): "net\(n) (virtio-net)"
        }
    }

    // MARK: interceptions at work

    /// A machine event while interceptions or watches are active.
    func observed(_ event: MachineEvent) {
        guard let guest else { return }
        if case .pin(let hart, let pin, let level) = event, pin == .stip, level, !drivingPin, takeTimerTick(vcpu: hart) {
            // The SBI raised STIP for the guest's timer: hide it (the observer's own pin change is
            // not reported back to it).
            guest.machine.setPin(.stip, hart: hart, level: false)
        }
        pollLines(guest)
        pollDevices()
    }

    /// A timer tick of `vcpu` has come (the hart's STIP pin rose, or the monitor raises the vCPU's):
    /// true when an interception takes it, to drop it or to keep it for its release.
    func takeTimerTick(vcpu: Int) -> Bool {
        guard let guest, let n = interceptions.firstIndex(where: { $0.target == .timer(vcpu: vcpu) && $0.remaining > 0 }) else {
            return false
        }
        interceptions[n].remaining -= 1
        interceptions[n].affected += 1
        let i = interceptions[n]
        if i.kind == .interruptDelay {
            delayed.append(DelayedRelease(at: guest.cycles &+ i.delay, target: i.target, interception: i.record))
            replan()
        }
        describe(i, guest: guest)
        interceptions.removeAll { $0.remaining == 0 && !isPLIC($0) }
        updateObservation()
        return true
    }

    private func isPLIC(_ i: Interception) -> Bool {
        if case .plic = i.target { return true }
        return false
    }

    /// Accounts for edges the masked PLIC lines swallowed since the last look.
    func pollLines(_ guest: Guest) {
        var changed = false
        for n in interceptions.indices {
            guard case .plic(let source) = interceptions[n].target, let line = guest.board.interruptLines[source] else { continue }
            let fresh = Int(line.droppedEdges &- interceptions[n].seenDroppedEdges)
            if fresh > 0 && interceptions[n].remaining > 0 {
                let taken = min(fresh, interceptions[n].remaining)
                interceptions[n].remaining -= taken
                interceptions[n].affected += taken
                if interceptions[n].kind == .interruptDelay {
                    delayed.append(DelayedRelease(at: guest.cycles &+ interceptions[n].delay,
                                                  target: interceptions[n].target, interception: interceptions[n].record))
                    replan()
                }
                describe(interceptions[n], guest: guest)
                changed = true
            }
            interceptions[n].seenDroppedEdges = line.droppedEdges
            // A drop ends once its edges are swallowed and the device has let the line fall (so
            // unmasking delivers nothing stale); a delay's mask is lifted by its release.
            if interceptions[n].kind == .interruptDrop && interceptions[n].remaining == 0 && !line.level {
                line.masked = false
                changed = true
            }
        }
        let before = interceptions.count
        interceptions.removeAll { i in
            guard i.remaining == 0, case .plic(let s) = i.target, let line = guest.board.interruptLines[s] else { return false }
            return i.kind == .interruptDrop ? !line.masked : !delayed.contains { $0.interception == i.record }
        }
        if changed || interceptions.count != before { updateObservation() }
    }

    /// Delivers a delayed interrupt.
    func release(_ d: DelayedRelease, guest: Guest) {
        switch d.target {
        case .timer(let v) where guest.monitor?.hart == v:
            guest.monitor?.setInterrupt(.supervisorTimer, pending: true)
        case .timer(let v) where guest.hardwareVMM != nil:
            guest.hardwareVMM?.setVirtualInterrupt(.timer, pending: true, hart: v)
        case .timer(let v):
            drivingPin = true
            guest.machine.setPin(.stip, hart: v, level: true)
            drivingPin = false
        case .software: break
        case .plic(let source):
            guard let line = guest.board.interruptLines[source] else { break }
            line.masked = false                      // the controller sees the device's level now
            let more = interceptions.contains { $0.record == d.interception && $0.remaining > 0 }
            if more { line.masked = true }           // the PLIC latched the request; hide the next edge
        }
        if record.indices.contains(d.interception) {
            record[d.interception].effect += "; released at cycle \(guest.cycles)"
        }
        pollLines(guest)
        updateObservation()
    }

    private func describe(_ i: Interception, guest: Guest) {
        let verb = i.kind == .interruptDrop ? "dropped" : "delayed by \(i.delay) cycles"
        let total = i.affected + i.remaining
        record[i.record].effect = "\(verb) \(i.affected) of \(total) assertion\(total == 1 ? "" : "s") of \(i.target.description) (last at cycle \(guest.cycles))"
    }

    /// Turns device failures that happened into effects.
    func pollDevices() {
        guard let guest, !deviceWatches.isEmpty else { return }
        var keep: [(record: Int, device: DeviceTarget, before: UInt64, count: Int)] = []
        for w in deviceWatches {
            let now: UInt64
            switch w.device {
            case .disk(let n): now = guest.board.disks[n].failures
            case .net(let n): now = guest.board.nics[n].framesDropped
            }
            let failed = min(Int(now &- w.before), w.count)
            if failed > 0 {
                record[w.record].effect = "\(failed) of \(w.count) request\(w.count == 1 ? "" : "s") of \(Self.name(w.device)) failed"
                    + (Self.isDisk(w.device) ? " with IOERR" : " (frames dropped)")
            }
            if failed < w.count { keep.append(w) }
        }
        if keep.count != deviceWatches.count {
            deviceWatches = keep
            updateObservation()
        }
    }
}
