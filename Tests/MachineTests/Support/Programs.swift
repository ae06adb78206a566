import Machine

// Small test programs share one layout: an M-mode trap handler at 0x8000_0000 that stops the
// machine through the test finisher (tests then read mcause/mepc/mtval through the API), an S-mode
// trap handler at 0x8000_0020 that hands over to M-mode with `ecall`, and the test's code at
// `main` = 0x8000_0040.

enum Layout {
    static let mtrap: UInt64 = 0x8000_0000
    static let strap: UInt64 = 0x8000_0020
    static let main: UInt64 = 0x8000_0040
    /// Page tables built by `PageTables` start here.
    static let tables: UInt64 = 0x8040_0000
}

extension Guest {
    static func program(_ body: String) throws -> [UInt8] {
        try assemble("""
        .globl _start
        .text
        _start:
        mtrap:
            li t5, 0x100000
            li t6, 0x5555
            sw t6, 0(t5)
        1:  j 1b
        .org 0x20
        strap:
            ecall
        2:  j 2b
        .org 0x40
        main:
        \(body)
        """)
    }
}

extension Guest.Rig {
    /// Loads `body` (see `Layout`), sets mtvec/stvec, and starts hart 0 at `main` in `mode`.
    func start(_ body: String, mode: PrivilegeMode = .machine, pc: UInt64 = Layout.main) throws {
        machine.loadPhysical(try Guest.program(body), at: 0x8000_0000)
        machine.writeCSR(0x305, Layout.mtrap)   // mtvec
        machine.writeCSR(0x105, Layout.strap)   // stvec
        machine.startHart(0, privilege: mode, pc: pc, a0: 0, a1: 0)
    }

    func csr(_ n: UInt16, hart: Int = 0) -> UInt64 { machine.readCSR(n, hart: hart) ?? 0xDEAD_BEEF }
    func x(_ n: Int, hart: Int = 0) -> UInt64 { machine.register(n, hart: hart) }
}

/// Builds Sv39/Sv48 page tables in guest memory from the test.
struct PageTables {
    let machine: Machine
    let levels: Int
    let root: UInt64
    /// Entries of the root table: 512, or 2048 for a G stage's (Sv39x4: 16 KiB, two more index bits).
    let rootEntries: UInt64
    var next: UInt64

    init(_ machine: Machine, levels: Int = 3, at base: UInt64 = Layout.tables, rootEntries: UInt64 = 512) {
        self.machine = machine
        self.levels = levels
        self.rootEntries = rootEntries
        root = base
        next = base + rootEntries * 8
        machine.loadPhysical([UInt8](repeating: 0, count: Int(rootEntries * 8)), at: root)
    }

    var satp: UInt64 { (UInt64(levels + 5) << 60) | (root >> 12) }   // Sv39 = 8, Sv48 = 9, Sv57 = 10
    func satp(asid: UInt64) -> UInt64 { satp | (asid << 44) }

    func read(_ pa: UInt64) -> UInt64 {
        let b = machine.readPhysical(at: pa, count: 8)!
        return b.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    func write(_ pa: UInt64, _ v: UInt64) {
        machine.loadPhysical((0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }, at: pa)
    }

    /// Maps the page of `va` at `level` (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB) to `pa` with PTE `flags`
    /// (V is added). Returns the leaf PTE's address.
    @discardableResult
    mutating func map(_ va: UInt64, to pa: UInt64, level: Int = 0, flags: UInt64) -> UInt64 {
        var table = root
        var l = levels - 1
        while true {
            let index = (va >> (12 + 9 * UInt64(l))) & (l == levels - 1 ? rootEntries - 1 : 0x1FF)
            let pteAddress = table + index * 8
            if l == level {
                write(pteAddress, ((pa >> 12) << 10) | flags | 1)
                return pteAddress
            }
            let pte = read(pteAddress)
            if pte & 1 == 0 {
                let t = next
                next += 0x1000
                machine.loadPhysical([UInt8](repeating: 0, count: 0x1000), at: t)
                write(pteAddress, ((t >> 12) << 10) | 1)
                table = t
            } else {
                table = (pte >> 10) << 12
            }
            l -= 1
        }
    }

    /// Identity-maps RAM's first 1 GiB... as one gigapage (RWX, A, D; S-mode only).
    mutating func identityMapRAM(user: Bool = false) {
        map(0x8000_0000, to: 0x8000_0000, level: 2, flags: 0xCE | (user ? 0x10 : 0))
    }
}

enum PTEBits {
    static let v: UInt64 = 1, r: UInt64 = 2, w: UInt64 = 4, x: UInt64 = 8
    static let u: UInt64 = 16, g: UInt64 = 32, a: UInt64 = 64, d: UInt64 = 128
    static let rwxad: UInt64 = r | w | x | a | d
}
