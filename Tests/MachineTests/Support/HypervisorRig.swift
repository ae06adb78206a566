import Machine

// What the hypervisor-extension tests share (HypervisorExtensionTests, TwoStageTranslationTests):
// G-stage tables built from the test, CSR numbers and bits, and a run that enters the guest.

/// G-stage tables (Sv39x4): a 16 KiB root, leaves checked as U-mode accesses (flags with U).
struct GuestPhysicalTables {
    var tables: PageTables

    init(_ machine: Machine, at base: UInt64 = 0x8080_0000) {
        tables = PageTables(machine, levels: 3, at: base, rootEntries: 2048)
    }

    func hgatp(vmid: UInt64 = 0) -> UInt64 { (8 << 60) | (vmid << 44) | (tables.root >> 12) }

    /// Maps the guest physical page of `gpa` at `level` to `pa` (V added; U is the caller's).
    @discardableResult
    mutating func map(_ gpa: UInt64, to pa: UInt64, level: Int = 0, flags: UInt64) -> UInt64 {
        tables.map(gpa, to: pa, level: level, flags: flags)
    }

    /// Identity-maps RAM's first GiB for the guest (U, RWX, A, D).
    mutating func identityMapRAM() {
        map(0x8000_0000, to: 0x8000_0000, level: 2, flags: PTEBits.rwxad | PTEBits.u)
    }
}

enum H {
    static let hstatus: UInt16 = 0x600, hedeleg: UInt16 = 0x602, hideleg: UInt16 = 0x603
    static let hie: UInt16 = 0x604, htimedelta: UInt16 = 0x605, hcounteren: UInt16 = 0x606
    static let htval: UInt16 = 0x643, hip: UInt16 = 0x644, hvip: UInt16 = 0x645, htinst: UInt16 = 0x64A
    static let hgatp: UInt16 = 0x680
    static let vsstatus: UInt16 = 0x200, vsie: UInt16 = 0x204, vstvec: UInt16 = 0x205
    static let vsscratch: UInt16 = 0x240, vsepc: UInt16 = 0x241, vscause: UInt16 = 0x242
    static let vstval: UInt16 = 0x243, vsip: UInt16 = 0x244, vsatp: UInt16 = 0x280
    static let mtinst: UInt16 = 0x34A, mtval2: UInt16 = 0x34B
    static let mstatus: UInt16 = 0x300, medeleg: UInt16 = 0x302, mideleg: UInt16 = 0x303, mie: UInt16 = 0x304
    static let mepc: UInt16 = 0x341, mcause: UInt16 = 0x342, mtval: UInt16 = 0x343
    static let sstatus: UInt16 = 0x100, sscratch: UInt16 = 0x140, sepc: UInt16 = 0x141
    static let scause: UInt16 = 0x142, stval: UInt16 = 0x143

    static let mpv: UInt64 = 1 << 39, gva: UInt64 = 1 << 38
    static let spv: UInt64 = 1 << 7, spvp: UInt64 = 1 << 8, hgva: UInt64 = 1 << 6, hu: UInt64 = 1 << 9
    static let vtvm: UInt64 = 1 << 20, vtw: UInt64 = 1 << 21, vtsr: UInt64 = 1 << 22
    /// Where the guest's code starts (`guest:` in `program`).
    static let guest: UInt64 = 0x8000_0100
}

extension Guest.Rig {
    /// Loads `guest` at `H.guest`, then starts M-mode at an mret into it: VS-mode, or VU-mode with
    /// `user`. `prepare` writes CSRs first. Every run starts from reset (the CSRs an earlier run of
    /// the test set are cleared).
    func runGuest(_ guest: String, user: Bool = false, max: UInt64 = 10_000,
                  prepare: (Machine) -> Void = { _ in }) throws {
        machine.reset()
        try start("""
            mret
        .org 0x100
        guest:
        .option arch, +h
        \(guest)
        """)
        machine.grantFullPMPAccess(hart: 0)
        machine.writeCSR(H.mepc, H.guest)
        machine.writeCSR(H.mstatus, H.mpv | (user ? 0 : 1 << 11))
        prepare(machine)
        _ = run(max)
    }
}

/// A suite of such tests: a machine with the extension, and the run into its guest.
protocol HypervisorSuite {
    var rig: Guest.Rig { get }
}

extension HypervisorSuite {
    var m: Machine { rig.machine }

    func runGuest(_ guest: String, user: Bool = false, max: UInt64 = 10_000,
                  prepare: (Machine) -> Void = { _ in }) throws {
        try rig.runGuest(guest, user: user, max: max, prepare: prepare)
    }
}
