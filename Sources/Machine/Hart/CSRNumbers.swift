// CSR numbers and field layouts the hart implements (privileged spec, "Control and Status Registers"
// tables; unprivileged spec, "Zicsr", "Zicntr", "F" for fcsr).

enum CSR {
    static let fflags: UInt16 = 0x001, frm: UInt16 = 0x002, fcsr: UInt16 = 0x003
    static let cycle: UInt16 = 0xC00, time: UInt16 = 0xC01, instret: UInt16 = 0xC02
    static let hpmcounter3: UInt16 = 0xC03, hpmcounter31: UInt16 = 0xC1F

    static let sstatus: UInt16 = 0x100, sie: UInt16 = 0x104, stvec: UInt16 = 0x105
    static let scounteren: UInt16 = 0x106, senvcfg: UInt16 = 0x10A
    static let sscratch: UInt16 = 0x140, sepc: UInt16 = 0x141, scause: UInt16 = 0x142
    static let stval: UInt16 = 0x143, sip: UInt16 = 0x144, stimecmp: UInt16 = 0x14D
    static let satp: UInt16 = 0x180

    static let mvendorid: UInt16 = 0xF11, marchid: UInt16 = 0xF12, mimpid: UInt16 = 0xF13
    static let mhartid: UInt16 = 0xF14, mconfigptr: UInt16 = 0xF15
    static let mstatus: UInt16 = 0x300, misa: UInt16 = 0x301, medeleg: UInt16 = 0x302
    static let mideleg: UInt16 = 0x303, mie: UInt16 = 0x304, mtvec: UInt16 = 0x305
    static let mcounteren: UInt16 = 0x306, menvcfg: UInt16 = 0x30A
    static let mcountinhibit: UInt16 = 0x320
    static let mhpmevent3: UInt16 = 0x323, mhpmevent31: UInt16 = 0x33F
    static let mscratch: UInt16 = 0x340, mepc: UInt16 = 0x341, mcause: UInt16 = 0x342
    static let mtval: UInt16 = 0x343, mip: UInt16 = 0x344
    static let pmpcfg0: UInt16 = 0x3A0, pmpcfg15: UInt16 = 0x3AF
    static let pmpaddr0: UInt16 = 0x3B0, pmpaddr63: UInt16 = 0x3EF
    static let mcycle: UInt16 = 0xB00, minstret: UInt16 = 0xB02
    static let mhpmcounter3: UInt16 = 0xB03, mhpmcounter31: UInt16 = 0xB1F
    static let tselect: UInt16 = 0x7A0, tdata1: UInt16 = 0x7A1, tdata2: UInt16 = 0x7A2
    static let tdata3: UInt16 = 0x7A3, tinfo: UInt16 = 0x7A4

    // The hypervisor extension (privileged spec, "Hypervisor and Virtual Supervisor CSRs").
    static let hstatus: UInt16 = 0x600, hedeleg: UInt16 = 0x602, hideleg: UInt16 = 0x603
    static let hie: UInt16 = 0x604, htimedelta: UInt16 = 0x605, hcounteren: UInt16 = 0x606
    static let hgeie: UInt16 = 0x607, henvcfg: UInt16 = 0x60A
    static let htval: UInt16 = 0x643, hip: UInt16 = 0x644, hvip: UInt16 = 0x645, htinst: UInt16 = 0x64A
    static let hgatp: UInt16 = 0x680, hgeip: UInt16 = 0xE12
    static let vsstatus: UInt16 = 0x200, vsie: UInt16 = 0x204, vstvec: UInt16 = 0x205
    static let vsscratch: UInt16 = 0x240, vsepc: UInt16 = 0x241, vscause: UInt16 = 0x242
    static let vstval: UInt16 = 0x243, vsip: UInt16 = 0x244, vsatp: UInt16 = 0x280
    static let vstimecmp: UInt16 = 0x24D
    static let mtinst: UInt16 = 0x34A, mtval2: UInt16 = 0x34B
}

/// Fields of `menvcfg` and `henvcfg` the hart implements (privileged spec, "Machine Environment
/// Configuration Register", "Hypervisor Environment Configuration Register").
enum Envcfg {
    static let fiom: UInt64 = 1
    /// Sstc: STimecmp Enable.
    static let stce: UInt64 = 1 << 63
}

/// `mstatus` bits (privileged spec, "Machine Status Registers (mstatus and mstatush)").
enum Mstatus {
    static let sie: UInt64 = 1 << 1
    static let mie: UInt64 = 1 << 3
    static let spie: UInt64 = 1 << 5
    static let mpie: UInt64 = 1 << 7
    static let spp: UInt64 = 1 << 8
    static let mppShift: UInt64 = 11
    static let mpp: UInt64 = 3 << 11
    static let fsShift: UInt64 = 13
    static let fs: UInt64 = 3 << 13
    static let mprv: UInt64 = 1 << 17
    static let sum: UInt64 = 1 << 18
    static let mxr: UInt64 = 1 << 19
    static let tvm: UInt64 = 1 << 20
    static let tw: UInt64 = 1 << 21
    static let tsr: UInt64 = 1 << 22
    /// GVA and MPV (hypervisor extension): the trap's tval is a guest virtual address; the
    /// virtualization mode before the trap into M-mode.
    static let gva: UInt64 = 1 << 38
    static let mpv: UInt64 = 1 << 39
    /// UXL and SXL are fixed at 2 (64-bit): XLEN never changes in this machine.
    static let uxl: UInt64 = 2 << 32
    static let uxlSxl: UInt64 = uxl | (2 << 34)
    static let sd: UInt64 = 1 << 63

    /// Bits an `mstatus` write may change; the rest are read-only (zero or fixed).
    static let writable: UInt64 = sie | mie | spie | mpie | spp | mpp | fs | mprv | sum | mxr | tvm | tw | tsr
    /// The `sstatus` view (privileged spec, "Supervisor Status Register (sstatus)"): UXL, but not
    /// SXL, which only `mstatus` shows.
    static let sstatusReadable: UInt64 = sie | spie | spp | fs | sum | mxr | uxl | sd
    static let sstatusWritable: UInt64 = sie | spie | spp | fs | sum | mxr
}

/// `hstatus` bits (privileged spec, "Hypervisor Status Register (hstatus)").
enum Hstatus {
    static let gva: UInt64 = 1 << 6
    static let spv: UInt64 = 1 << 7
    static let spvp: UInt64 = 1 << 8
    static let hu: UInt64 = 1 << 9
    static let vtvm: UInt64 = 1 << 20
    static let vtw: UInt64 = 1 << 21
    static let vtsr: UInt64 = 1 << 22
    /// VSXL is fixed at 2 (VS-mode is 64-bit); VGEIN is read-only zero (no guest external
    /// interrupt files: GEILEN = 0); VSBE is zero (little-endian only).
    static let vsxl: UInt64 = 2 << 32
    static let writable: UInt64 = gva | spv | spvp | hu | vtvm | vtw | vtsr
}

/// Interrupt bits of `mip`/`mie` (privileged spec, "Machine Interrupt Registers"; the VS-level
/// ones from "Hypervisor Interrupt Registers").
enum Irq {
    static let ssi: UInt64 = 1 << 1, msi: UInt64 = 1 << 3
    static let sti: UInt64 = 1 << 5, mti: UInt64 = 1 << 7
    static let sei: UInt64 = 1 << 9, mei: UInt64 = 1 << 11
    static let vssi: UInt64 = 1 << 2, vsti: UInt64 = 1 << 6, vsei: UInt64 = 1 << 10
    static let all: UInt64 = ssi | msi | sti | mti | sei | mei
    static let supervisor: UInt64 = ssi | sti | sei
    /// The VS-level interrupts: always delegated past M-mode (`mideleg` bits read-only one) and
    /// raised through `hvip` (SGEI, bit 12, does not exist: GEILEN = 0).
    static let virtualSupervisor: UInt64 = vssi | vsti | vsei
    /// The `mip` bits software writes in M-mode; MSIP/MTIP/MEIP follow the platform's pins only.
    static let mipWritable: UInt64 = ssi | sti | sei
    /// Decreasing priority (privileged spec: MEI, MSI, MTI, SEI, SSI, STI; then, with the
    /// hypervisor extension, VSEI, VSSI, VSTI).
    static let priorityOrder: [UInt64] = [11, 3, 7, 9, 1, 5, 10, 2, 6]
}

/// `misa` of a hart without the hypervisor extension: RV64 with A, C, D, F, I, M, S, U
/// (privileged spec, "Machine ISA Register").
let misaValue: UInt64 = (2 << 62) | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)
/// `misa`'s H bit.
let misaH: UInt64 = 1 << 7

/// Exceptions that `medeleg` may delegate: all but ecall from M (read-only zero) and reserved codes.
let medelegWritable: UInt64 = 0xB3FF
/// With the hypervisor extension, also ecall from VS-mode, the guest-page faults and the
/// virtual-instruction exception.
let medelegWritableH: UInt64 = medelegWritable | (1 << 10) | (0xF << 20)
/// Exceptions `hedeleg` may delegate to VS-mode: not ecalls from HS, VS or M, and not the
/// guest-page faults or virtual instructions, which belong to the hypervisor (privileged spec,
/// "Hypervisor Trap Delegation Registers").
let hedelegWritable: UInt64 = 0xB1FF
