// Lookups over the CSR address map and the access rules encoded in a CSR's number
// (privileged spec, "CSR Address Mapping Conventions").

/// The privilege levels as the CSR address encodes them (bits 9:8).
public enum CSRPrivilege: UInt8, Sendable, Comparable {
    case user = 0, supervisor = 1, hypervisor = 2, machine = 3

    public static func < (a: CSRPrivilege, b: CSRPrivilege) -> Bool { a.rawValue < b.rawValue }
}

extension CSR {
    private static let nameByNumber: [UInt16: String] = {
        var map: [UInt16: String] = [:]
        for entry in all { map[entry.number] = entry.name }
        return map
    }()
    private static let numberByName: [String: UInt16] = {
        var map: [String: UInt16] = [:]
        for entry in all { map[entry.name] = entry.number }
        return map
    }()

    /// The standard name of CSR `number`, or nil for an unnamed (custom or unallocated) address.
    public static func name(_ number: UInt16) -> String? { nameByNumber[number & 0xfff] }

    /// The number of the CSR called `name`.
    public static func number(_ name: String) -> UInt16? { numberByName[name] }

    /// Whether the CSR exists only when XLEN = 32: the upper halves (`cycleh`, `mstatush`,
    /// `henvcfgh` ...) and the odd-numbered `pmpcfg` registers. On RV64 these addresses are not
    /// implemented, so the disassembler prints them as numbers and the assembler refuses the names.
    public static func isRV32Only(_ number: UInt16) -> Bool {
        switch number {
        case 0xC80...0xC9F, 0xB80...0xB9F, 0x720...0x73F: true
        case 0x310, 0x312, 0x31A, 0x757, 0x15D, 0x25D, 0x612, 0x615, 0x61A: true
        case 0x3A0...0x3AF: number & 1 == 1
        default: false
        }
    }

    /// The name of CSR `number` on RV64 (nil for unnamed and RV32-only addresses).
    public static func rv64Name(_ number: UInt16) -> String? {
        isRV32Only(number & 0xfff) ? nil : name(number)
    }

    /// Whether writes to this address are illegal (bits 11:10 = 0b11).
    @inlinable public static func isReadOnly(_ number: UInt16) -> Bool { (number >> 10) & 3 == 3 }

    /// The lowest privilege level that may access this address (bits 9:8).
    @inlinable public static func minimumPrivilege(_ number: UInt16) -> CSRPrivilege {
        CSRPrivilege(rawValue: UInt8(truncatingIfNeeded: (number >> 8) & 3))!
    }

    /// Whether this address belongs to the hypervisor or VS CSR ranges (accessible only with the H
    /// extension, and a virtual-instruction trap candidate from VS/VU-mode).
    @inlinable public static func isHypervisor(_ number: UInt16) -> Bool { minimumPrivilege(number) == .hypervisor }

    /// The VS CSR that stands for supervisor CSR `number` while V = 1 (privileged spec, "Hypervisor
    /// and Virtual Supervisor CSRs": sstatus → vsstatus, ..., satp → vsatp), or nil when the
    /// supervisor CSR has none and is reached as it is.
    @inlinable public static func virtualSupervisorSubstitute(_ number: UInt16) -> UInt16? {
        switch number {
        case sstatus: vsstatus
        case sie: vsie
        case stvec: vstvec
        case sscratch: vsscratch
        case sepc: vsepc
        case scause: vscause
        case stval: vstval
        case sip: vsip
        case satp: vsatp
        case stimecmp: vstimecmp
        default: nil
        }
    }
}
