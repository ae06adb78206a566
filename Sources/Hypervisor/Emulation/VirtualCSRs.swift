// The guest kernel's supervisor CSRs as the VMM holds them (privileged spec, "Supervisor-Level
// CSRs"). Under trap-and-emulate the guest kernel runs in U-mode, so none of these registers is
// the hardware's: every guest access traps and is emulated against this struct, which applies
// each register's field rules (WARL masks, read-only fields) exactly as a real S-mode would see
// them, so a guest probing its CSRs (write all-ones, read back) learns the same facts as natively.

import Machine
import RISCV

/// Field layouts of the supervisor CSRs the VMM virtualises.
public enum SupervisorBits {
    // sstatus (privileged spec, "Supervisor Status Register (sstatus)")
    public static let sie: UInt64 = 1 << 1
    public static let spie: UInt64 = 1 << 5
    public static let spp: UInt64 = 1 << 8
    public static let fsShift: UInt64 = 13
    public static let fs: UInt64 = 3 << 13
    public static let sum: UInt64 = 1 << 18
    public static let mxr: UInt64 = 1 << 19
    /// UXL is read-only 2 (U-mode XLEN = 64): this machine has no XLEN switching.
    public static let uxl64: UInt64 = 2 << 32
    public static let sd: UInt64 = 1 << 63
    /// The sstatus bits a csrw can change. UBE, VS and XS are read-only zero (little-endian only,
    /// no vector or custom extension state), SD and UXL are read-only.
    public static let sstatusWritable: UInt64 = sie | spie | spp | fs | sum | mxr

    // sie / sip (privileged spec, "Supervisor Interrupt Registers (sip and sie)")
    public static let ssi: UInt64 = 1 << 1
    public static let sti: UInt64 = 1 << 5
    public static let sei: UInt64 = 1 << 9
    /// The supervisor interrupts this machine implements; others are read-only zero.
    public static let interrupts: UInt64 = ssi | sti | sei
    /// Only SSIP is writable through sip; STIP and SEIP reflect the (virtual) platform.
    public static let sipWritable: UInt64 = ssi

    // satp (privileged spec, "Supervisor Address Translation and Protection (satp) Register")
    public static let satpModeShift: UInt64 = 60
    public static let satpASIDShift: UInt64 = 44
    public static let satpPPNMask: UInt64 = (1 << 44) - 1
    public static let satpModeBare: UInt64 = 0
    public static let satpModeSv39: UInt64 = 8
}

/// The guest kernel's view of the supervisor CSRs, with the architecture's field rules.
///
/// Stored fields hold only legal values: writes go through `write(_:_:)`, which masks them. The
/// interrupt-pending bits STIP and SEIP are driven by the VMM (`setPending`), never by a guest write.
public struct VirtualCSRs: Sendable, Equatable, Codable {
    public private(set) var sstatus: UInt64 = SupervisorBits.uxl64
    public private(set) var sie: UInt64 = 0
    public private(set) var sip: UInt64 = 0
    public private(set) var stvec: UInt64 = 0
    public var sscratch: UInt64 = 0
    public private(set) var sepc: UInt64 = 0
    public var scause: UInt64 = 0
    public var stval: UInt64 = 0
    public private(set) var satp: UInt64 = 0
    public private(set) var scounteren: UInt64 = 0
    public private(set) var senvcfg: UInt64 = 0
    /// Sstc's timer compare, where the guest's machine has Sstc (the emulator refuses it where
    /// not): the VMM serves a write as it serves the SBI's set_timer (`EmulationEffects.timer`).
    public private(set) var stimecmp: UInt64 = .max
    /// ASID bits the virtual satp implements (the VMM keeps the guest's ASID only as a cache key).
    public let asidBits: Int
    /// The levels of the widest translation the virtual satp offers: 4 (Sv39 and Sv48, which
    /// every hart here implements) or 5 (Sv57 too, when the machine has it).
    public let widestTranslation: Int

    public init(asidBits: Int = 16, widestTranslation: Int = 5) {
        self.asidBits = max(0, min(16, asidBits))
        self.widestTranslation = max(Sv39.levels, min(5, widestTranslation))
    }

    private enum CodingKeys: String, CodingKey {
        case sstatus, sie, sip, stvec, sscratch, sepc, scause, stval, satp, scounteren, senvcfg, stimecmp, asidBits, widestTranslation
    }

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sstatus = try c.decode(UInt64.self, forKey: .sstatus)
        sie = try c.decode(UInt64.self, forKey: .sie)
        sip = try c.decode(UInt64.self, forKey: .sip)
        stvec = try c.decode(UInt64.self, forKey: .stvec)
        sscratch = try c.decode(UInt64.self, forKey: .sscratch)
        sepc = try c.decode(UInt64.self, forKey: .sepc)
        scause = try c.decode(UInt64.self, forKey: .scause)
        stval = try c.decode(UInt64.self, forKey: .stval)
        satp = try c.decode(UInt64.self, forKey: .satp)
        scounteren = try c.decode(UInt64.self, forKey: .scounteren)
        senvcfg = try c.decode(UInt64.self, forKey: .senvcfg)
        // Absent from files written before Sstc.
        stimecmp = try c.decodeIfPresent(UInt64.self, forKey: .stimecmp) ?? .max
        asidBits = try c.decode(Int.self, forKey: .asidBits)
        // Absent from files written when the shadows offered Sv39 alone.
        widestTranslation = try c.decodeIfPresent(Int.self, forKey: .widestTranslation) ?? Sv39.levels
    }

    /// The CSRs this struct virtualises.
    public static let numbers: [UInt16] = [CSR.sstatus, CSR.sie, CSR.stvec, CSR.scounteren, CSR.senvcfg,
                                           CSR.sscratch, CSR.sepc, CSR.scause, CSR.stval, CSR.sip, CSR.satp, CSR.stimecmp]

    /// Reads CSR `number` as S-mode would; nil when it is not a virtualised supervisor CSR.
    public func read(_ number: UInt16) -> UInt64? {
        switch number {
        case CSR.sstatus: return sstatusValue
        case CSR.sie: return sie
        case CSR.stvec: return stvec
        case CSR.scounteren: return scounteren
        case CSR.senvcfg: return senvcfg
        case CSR.sscratch: return sscratch
        case CSR.sepc: return sepc
        case CSR.scause: return scause
        case CSR.stval: return stval
        case CSR.sip: return sip
        case CSR.satp: return satp
        case CSR.stimecmp: return stimecmp
        default: return nil
        }
    }

    /// sstatus with SD computed: set when FS is Dirty (the only extension-state field here).
    public var sstatusValue: UInt64 {
        sstatus & SupervisorBits.fs == SupervisorBits.fs ? sstatus | SupervisorBits.sd : sstatus & ~SupervisorBits.sd
    }

    /// Writes CSR `number` with its WARL rules. Returns false when the CSR is not virtualised here.
    /// A write of satp with an unsupported MODE has no effect at all (and still returns true: the
    /// instruction is legal, the write is simply ignored, as the spec says).
    @discardableResult
    public mutating func write(_ number: UInt16, _ value: UInt64) -> Bool {
        switch number {
        case CSR.sstatus:
            sstatus = (sstatus & ~SupervisorBits.sstatusWritable) | (value & SupervisorBits.sstatusWritable)
                | SupervisorBits.uxl64
        case CSR.sie: sie = value & SupervisorBits.interrupts
        case CSR.stvec:
            // MODE 0 (direct) and 1 (vectored) exist; a reserved MODE keeps the old one (WARL).
            let mode = value & 3
            stvec = (value & ~3) | (mode < 2 ? mode : stvec & 3)
        case CSR.scounteren: scounteren = value & 0xFFFF_FFFF
        case CSR.senvcfg: senvcfg = value & 1  // FIOM only: no Zicbom/Zicboz/Svpbmt in the guest view
        case CSR.sscratch: sscratch = value
        case CSR.sepc: sepc = value & ~1  // IALIGN = 16 (C extension): bit 0 is always zero
        case CSR.scause: scause = value
        case CSR.stval: stval = value
        case CSR.sip: sip = (sip & ~SupervisorBits.sipWritable) | (value & SupervisorBits.sipWritable)
        case CSR.satp:
            if let legal = Self.shadowedSatp(value, asidBits: asidBits, widestTranslation: widestTranslation) { satp = legal }
        case CSR.stimecmp: stimecmp = value
        default: return false
        }
        return true
    }

    /// The satp value a guest on shadow page tables gets for a write of `value` (WARL), or nil
    /// when the write has no effect: Bare, and each translation mode up to the one of
    /// `widestTranslation` levels (Sv39 3, Sv48 4, Sv57 5: the shadow pager builds tables of the
    /// guest's own mode, so it offers what the machine's MMU walks), with `asidBits` of ASID: the
    /// harts' own rule (`SatpWARL`).
    public static func shadowedSatp(_ value: UInt64, asidBits: Int, widestTranslation: Int) -> UInt64? {
        SatpWARL.legal(value, asidBits: asidBits, widestLevels: widestTranslation)
    }

    /// Sets or clears pending bits driven by the virtual platform (STIP, SEIP, and SSIP from an SBI IPI).
    public mutating func setPending(_ bits: UInt64, _ level: Bool) {
        let b = bits & SupervisorBits.interrupts
        sip = level ? sip | b : sip & ~b
    }

    // Trap entry and return change sstatus fields a csr write also reaches; these keep the same masks.

    /// Replaces the sstatus fields in `mask` (within the writable set) by those of `value`.
    public mutating func setStatus(_ mask: UInt64, _ value: UInt64) {
        let m = mask & SupervisorBits.sstatusWritable
        sstatus = (sstatus & ~m) | (value & m)
    }

    /// Records the trap CSRs of a trap entry.
    public mutating func recordTrap(cause: UInt64, epc: UInt64, tval: UInt64) {
        scause = cause
        sepc = epc & ~1
        stval = tval
    }

    /// The guest's translation mode (satp.MODE).
    public var satpMode: UInt64 { satp >> SupervisorBits.satpModeShift }
    /// The guest's ASID.
    public var asid: UInt16 { UInt16(truncatingIfNeeded: satp >> SupervisorBits.satpASIDShift) }
    /// The guest-physical address of the guest's root page table.
    public var rootTable: UInt64 { (satp & SupervisorBits.satpPPNMask) << 12 }
}
