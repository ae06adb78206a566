import Boot
import Hypervisor
import Machine
import RISCV

/// Architectural state as `vm:read`/`vm:write` name it: "pc", "priv", "x5"/"t0", "f10"/"fa0",
/// "csr.satp"/"csr.0x180"; and physical memory.
extension VirtualMachine {
    enum Register: Equatable {
        case pc
        case privilege
        case integer(Int)
        case float(Int)
        case csr(UInt16, name: String)

        static let help = "pc, priv, x0-x31 or ABI names (a0, sp...), f0-f31 or fa0..., csr.NAME or csr.0xNNN"

        init?(_ name: String) {
            switch name {
            case "pc": self = .pc
            case "priv": self = .privilege
            default:
                if let n = RegisterNames.integerNumber(name) {
                    self = .integer(Int(n))
                } else if let n = RegisterNames.floatingPointNumber(name) {
                    self = .float(Int(n))
                } else if name.hasPrefix("csr.") {
                    let csr = String(name.dropFirst(4))
                    if let number = CSR.number(csr) {
                        self = .csr(number, name: csr)
                    } else if csr.hasPrefix("0x"), let number = UInt16(csr.dropFirst(2), radix: 16), number <= 0xFFF {
                        self = .csr(number, name: CSR.rv64Name(number) ?? csr)
                    } else {
                        return nil
                    }
                } else {
                    return nil
                }
            }
        }
    }

    /// A misuse of the state API, raised in the calling script.
    struct Misuse: Error {
        var message: String
    }

    /// Privilege letters as the privileged spec's tables write them.
    static let privilegeNames: [PrivilegeMode: String] = [.machine: "M", .supervisor: "S", .user: "U"]

    func checkedHart(_ machine: Machine, _ hart: Int) throws(Misuse) -> Int {
        guard (0..<machine.hartCount).contains(hart) else {
            throw Misuse(message: "no hart \(hart) (this VM has \(machine.hartCount))")
        }
        return hart
    }

    /// Whose registers `vm:read` and `vm:write` see: the guest's (its vCPU, whose privilege and
    /// supervisor CSRs the trap monitor keeps under trap and bt, and whose supervisor CSRs are the
    /// hart's VS CSRs under hw) or the hart's as the VMM runs it.
    enum RegisterView {
        case guest
        case hardware
    }

    /// The trap monitor that keeps hart `hart`'s guest view, when `view` asks for it and one does.
    private func monitor(hart: Int, view: RegisterView) -> TrapMonitor? {
        guard view == .guest, let monitor = guest?.monitor, monitor.hart == hart else { return nil }
        return monitor
    }

    /// The register's value: integers as their 64-bit pattern, "priv" as "M", "S" or "U".
    func read(_ register: Register, hart: Int, view: RegisterView = .guest) throws(Misuse) -> ReadValue {
        guard let machine = board?.machine else { throw Misuse(message: "the VM is closed") }
        let h = try checkedHart(machine, hart)
        if let monitor = monitor(hart: h, view: view) {
            switch register {
            case .privilege: return .text(Self.privilegeNames[monitor.guestPrivilege] ?? "S")
            case .csr(let number, _): if let value = monitor.guestCSR(number) { return .integer(value) }
            default: break
            }
        }
        if view == .guest, case .csr(let number, _) = register, let value = guest?.hardwareVMM?.guestCSR(number, hart: h) {
            return .integer(value)
        }
        switch register {
        case .pc: return .integer(machine.pc(hart: h))
        case .privilege: return .text(Self.privilegeNames[machine.privilege(hart: h)] ?? "M")
        case .integer(let n): return .integer(machine.register(n, hart: h))
        case .float(let n): return .integer(machine.floatRegister(n, hart: h))
        case .csr(let number, let name):
            guard let value = machine.readCSR(number, hart: h) else {
                throw Misuse(message: "CSR '\(name)' is not implemented")
            }
            return .integer(value)
        }
    }

    enum ReadValue: Equatable {
        case integer(UInt64)
        case text(String)
    }

    /// Writes the register as the host (no privilege checks; CSRs keep their WARL rules and side
    /// effects). x0 stays zero, as the architecture says.
    func write(_ register: Register, _ value: ReadValue, hart: Int, view: RegisterView = .guest) throws(Misuse) {
        guard let machine = board?.machine else { throw Misuse(message: "the VM is closed") }
        let h = try checkedHart(machine, hart)
        let monitor = monitor(hart: h, view: view)
        if case .privilege = register {
            guard case .text(let letter) = value,
                  let mode = Self.privilegeNames.first(where: { $0.value == letter })?.key else {
                let got = switch value { case .integer(let n): "\(Int64(bitPattern: n))"; case .text(let t): "\"\(t)\"" }
                throw Misuse(message: "priv is \"M\", \"S\" or \"U\", got \(got)")
            }
            if let monitor {
                guard monitor.setGuestPrivilege(mode) else {
                    throw Misuse(message: "under '\(spec.mode.rawValue)' the guest runs in S or U (the VMM is its M-mode); { view = \"hardware\" } sets the hart's")
                }
            } else {
                machine.setPrivilege(mode, hart: h)
            }
            return
        }
        guard case .integer(let bits) = value else { throw Misuse(message: "integer expected for a register") }
        if case .csr(let number, _) = register, let monitor, monitor.setGuestCSR(number, bits) { return }
        if view == .guest, case .csr(let number, _) = register, let vmm = guest?.hardwareVMM,
           vmm.setGuestCSR(number, bits, hart: h) { return }
        switch register {
        case .pc: machine.setPC(bits, hart: h)
        case .privilege: break
        case .integer(let n): machine.setRegister(n, bits, hart: h)
        case .float(let n): machine.setFloatRegister(n, bits, hart: h)
        case .csr(let number, let name):
            guard machine.writeCSR(number, bits, hart: h) else {
                throw Misuse(message: "CSR '\(name)' is read-only or not implemented")
            }
        }
    }

    // MARK: memory

    /// What a memory access could not do: misuse raises (a physical range outside the VM's RAM, a
    /// vCPU that does not exist); an unmapped virtual address is an expected failure (`nil, message`).
    enum MemoryOutcome<T> {
        case done(T)
        case unmapped(String)
    }

    /// A memory access as it was asked for: the range named in a message about it.
    struct Request {
        var address: UInt64
        var count: Int
        var space: AddressSpace
    }

    private func outcome<T>(_ result: Result<T, GuestMemoryError>, _ guest: Guest, request: Request) throws(Misuse) -> MemoryOutcome<T> {
        switch result {
        case .success(let value): return .done(value)
        case .failure(.translationFault(let address, let cause)):
            return .unmapped("guest-virtual \(Formatting.hexText(address)) is not mapped (\(cause))")
        case .failure(.notRAM(let address, _)):
            throw Misuse(message: notRAM(request, failing: address, guest))
        case .failure(.noSuchVCPU(let vcpu)): throw Misuse(message: "no vCPU \(vcpu) (this VM has \(guest.machine.hartCount))")
        }
    }

    /// Bytes of guest memory at `address` in `space`.
    func readMemory(_ address: UInt64, count: Int, space: AddressSpace = .guestPhysical) throws(Misuse) -> MemoryOutcome<[UInt8]> {
        let guest = try live()
        return try outcome(guest.readMemory(address, count: count, space: space), guest,
                           request: Request(address: address, count: count, space: space))
    }

    func writeMemory(_ address: UInt64, _ bytes: [UInt8], space: AddressSpace = .guestPhysical) throws(Misuse) -> MemoryOutcome<Void> {
        let guest = try live()
        return try outcome(guest.writeMemory(address, bytes, space: space), guest,
                           request: Request(address: address, count: bytes.count, space: space))
    }

    /// `vm:load`: writes `code` at `address` (default: where the kernel or image was loaded) and
    /// points hart `hart` at it. Checks the hart before writing, so misuse changes nothing.
    func load(_ code: [UInt8], at address: UInt64?, hart: Int) throws(Misuse) -> UInt64 {
        let guest = try live()
        _ = try checkedHart(guest.machine, hart)
        if let final = guest.finalStop {
            throw Misuse(message: "the guest has stopped for good (\(Stop(final, instructions: 0).message)): build a new VM to load code")
        }
        guard let target = address ?? board?.plan.range(of: "kernel")?.address else {
            throw Misuse(message: "this VM has no kernel to load over: give the code an 'address'")
        }
        switch try writeMemory(target, code) {
        case .done: break
        case .unmapped(let message): throw Misuse(message: message)   // physical: not reached
        }
        try write(.pc, .integer(target), hart: hart)
        return target
    }

    /// The guest-physical address of `va` for `vcpu`, or why it has none.
    func translate(_ va: UInt64, vcpu: Int) throws(Misuse) -> MemoryOutcome<UInt64> {
        let guest = try live()
        return try outcome(guest.translate(va, vcpu: vcpu), guest, request: Request(address: va, count: 1, space: .guestVirtual(vcpu: vcpu)))
    }

    /// The range that was asked for, not the page of it that failed: a read of 1 GiB across the
    /// end of RAM is named as such. A guest-virtual range adds the guest-physical page that is not RAM.
    private func notRAM(_ request: Request, failing physical: UInt64, _ guest: Guest) -> String {
        let one = request.count == 1
        let what = one ? "1 byte" : "\(request.count) bytes"
        switch request.space {
        case .guestPhysical:
            return "\(what) at \(Formatting.hexText(request.address)) \(one ? "is not" : "are not all") RAM (\(physicalRAM(guest)))"
        case .guestVirtual:
            return "\(what) at guest-virtual \(Formatting.hexText(request.address)) \(one ? "is not" : "are not all") RAM: "
                + "\(one ? "it maps" : "part maps") to guest-physical \(Formatting.hexText(physical)) (\(physicalRAM(guest)))"
        }
    }

    private func physicalRAM(_ guest: Guest) -> String {
        // The guest's RAM, not the machine's: under trap and bt the VMM's memory follows it.
        let ram = guest.ram
        return "physical RAM is \(Formatting.hexText(ram.lowerBound))-\(Formatting.hexText(ram.upperBound))"
    }
}
