// The CSR address map (privileged spec, "Control and Status Registers (CSRs)", tables "Allocation of
// RISC-V CSR address ranges" and the CSR listings for unprivileged, supervisor, hypervisor, VS,
// machine and debug registers). Generated once from the spec's listings; the numbers are the spec's.
//
// The address itself encodes access rules: bits 11:10 = 0b11 means read-only, and bits 9:8 give the
// lowest privilege level that may access the register (0 user, 1 supervisor, 2 hypervisor/VS,
// 3 machine).

/// CSR numbers and their names.
public enum CSR {
    public static let fflags: UInt16 = 0x001
    public static let frm: UInt16 = 0x002
    public static let fcsr: UInt16 = 0x003
    public static let cycle: UInt16 = 0xC00
    public static let time: UInt16 = 0xC01
    public static let instret: UInt16 = 0xC02
    public static let cycleh: UInt16 = 0xC80
    public static let timeh: UInt16 = 0xC81
    public static let instreth: UInt16 = 0xC82
    public static let sstatus: UInt16 = 0x100
    public static let sie: UInt16 = 0x104
    public static let stvec: UInt16 = 0x105
    public static let scounteren: UInt16 = 0x106
    public static let senvcfg: UInt16 = 0x10A
    public static let scountinhibit: UInt16 = 0x120
    public static let sscratch: UInt16 = 0x140
    public static let sepc: UInt16 = 0x141
    public static let scause: UInt16 = 0x142
    public static let stval: UInt16 = 0x143
    public static let sip: UInt16 = 0x144
    public static let stimecmp: UInt16 = 0x14D
    public static let stimecmph: UInt16 = 0x15D
    public static let satp: UInt16 = 0x180
    public static let scontext: UInt16 = 0x5A8
    public static let scountovf: UInt16 = 0xDA0
    public static let hstatus: UInt16 = 0x600
    public static let hedeleg: UInt16 = 0x602
    public static let hideleg: UInt16 = 0x603
    public static let hie: UInt16 = 0x604
    public static let htimedelta: UInt16 = 0x605
    public static let hcounteren: UInt16 = 0x606
    public static let hgeie: UInt16 = 0x607
    public static let henvcfg: UInt16 = 0x60A
    public static let hedelegh: UInt16 = 0x612
    public static let htimedeltah: UInt16 = 0x615
    public static let henvcfgh: UInt16 = 0x61A
    public static let htval: UInt16 = 0x643
    public static let hip: UInt16 = 0x644
    public static let hvip: UInt16 = 0x645
    public static let htinst: UInt16 = 0x64A
    public static let hgatp: UInt16 = 0x680
    public static let hcontext: UInt16 = 0x6A8
    public static let hgeip: UInt16 = 0xE12
    public static let vsstatus: UInt16 = 0x200
    public static let vsie: UInt16 = 0x204
    public static let vstvec: UInt16 = 0x205
    public static let vsscratch: UInt16 = 0x240
    public static let vsepc: UInt16 = 0x241
    public static let vscause: UInt16 = 0x242
    public static let vstval: UInt16 = 0x243
    public static let vsip: UInt16 = 0x244
    public static let vstimecmp: UInt16 = 0x24D
    public static let vstimecmph: UInt16 = 0x25D
    public static let vsatp: UInt16 = 0x280
    public static let mvendorid: UInt16 = 0xF11
    public static let marchid: UInt16 = 0xF12
    public static let mimpid: UInt16 = 0xF13
    public static let mhartid: UInt16 = 0xF14
    public static let mconfigptr: UInt16 = 0xF15
    public static let mstatus: UInt16 = 0x300
    public static let misa: UInt16 = 0x301
    public static let medeleg: UInt16 = 0x302
    public static let mideleg: UInt16 = 0x303
    public static let mie: UInt16 = 0x304
    public static let mtvec: UInt16 = 0x305
    public static let mcounteren: UInt16 = 0x306
    public static let menvcfg: UInt16 = 0x30A
    public static let mstatush: UInt16 = 0x310
    public static let medelegh: UInt16 = 0x312
    public static let menvcfgh: UInt16 = 0x31A
    public static let mcountinhibit: UInt16 = 0x320
    public static let mscratch: UInt16 = 0x340
    public static let mepc: UInt16 = 0x341
    public static let mcause: UInt16 = 0x342
    public static let mtval: UInt16 = 0x343
    public static let mip: UInt16 = 0x344
    public static let mtinst: UInt16 = 0x34A
    public static let mtval2: UInt16 = 0x34B
    public static let mseccfg: UInt16 = 0x747
    public static let mseccfgh: UInt16 = 0x757
    public static let mcycle: UInt16 = 0xB00
    public static let minstret: UInt16 = 0xB02
    public static let mcycleh: UInt16 = 0xB80
    public static let minstreth: UInt16 = 0xB82
    public static let tselect: UInt16 = 0x7A0
    public static let tdata1: UInt16 = 0x7A1
    public static let tdata2: UInt16 = 0x7A2
    public static let tdata3: UInt16 = 0x7A3
    public static let tinfo: UInt16 = 0x7A4
    public static let tcontrol: UInt16 = 0x7A5
    public static let mcontext: UInt16 = 0x7A8
    public static let dcsr: UInt16 = 0x7B0
    public static let dpc: UInt16 = 0x7B1
    public static let dscratch0: UInt16 = 0x7B2
    public static let dscratch1: UInt16 = 0x7B3

    /// The numbered families: `pmpcfg0`... are `pmpcfg(0)`...
    public static func pmpcfg(_ n: Int) -> UInt16 { 0x3A0 + UInt16(n) }
    public static func pmpaddr(_ n: Int) -> UInt16 { 0x3B0 + UInt16(n) }
    public static func hpmcounter(_ n: Int) -> UInt16 { 0xC00 + UInt16(n) }
    public static func hpmcounterh(_ n: Int) -> UInt16 { 0xC80 + UInt16(n) }
    public static func mhpmcounter(_ n: Int) -> UInt16 { 0xB00 + UInt16(n) }
    public static func mhpmcounterh(_ n: Int) -> UInt16 { 0xB80 + UInt16(n) }
    public static func mhpmevent(_ n: Int) -> UInt16 { 0x320 + UInt16(n) }
    public static func mhpmeventh(_ n: Int) -> UInt16 { 0x720 + UInt16(n) }

    /// Every named CSR as (number, name).
    public static let all: [(number: UInt16, name: String)] = {
        var list: [(number: UInt16, name: String)] = [
            (0x001, "fflags"),
            (0x002, "frm"),
            (0x003, "fcsr"),
            (0xC00, "cycle"),
            (0xC01, "time"),
            (0xC02, "instret"),
            (0xC80, "cycleh"),
            (0xC81, "timeh"),
            (0xC82, "instreth"),
            (0x100, "sstatus"),
            (0x104, "sie"),
            (0x105, "stvec"),
            (0x106, "scounteren"),
            (0x10A, "senvcfg"),
            (0x120, "scountinhibit"),
            (0x140, "sscratch"),
            (0x141, "sepc"),
            (0x142, "scause"),
            (0x143, "stval"),
            (0x144, "sip"),
            (0x14D, "stimecmp"),
            (0x15D, "stimecmph"),
            (0x180, "satp"),
            (0x5A8, "scontext"),
            (0xDA0, "scountovf"),
            (0x600, "hstatus"),
            (0x602, "hedeleg"),
            (0x603, "hideleg"),
            (0x604, "hie"),
            (0x605, "htimedelta"),
            (0x606, "hcounteren"),
            (0x607, "hgeie"),
            (0x60A, "henvcfg"),
            (0x612, "hedelegh"),
            (0x615, "htimedeltah"),
            (0x61A, "henvcfgh"),
            (0x643, "htval"),
            (0x644, "hip"),
            (0x645, "hvip"),
            (0x64A, "htinst"),
            (0x680, "hgatp"),
            (0x6A8, "hcontext"),
            (0xE12, "hgeip"),
            (0x200, "vsstatus"),
            (0x204, "vsie"),
            (0x205, "vstvec"),
            (0x240, "vsscratch"),
            (0x241, "vsepc"),
            (0x242, "vscause"),
            (0x243, "vstval"),
            (0x244, "vsip"),
            (0x24D, "vstimecmp"),
            (0x25D, "vstimecmph"),
            (0x280, "vsatp"),
            (0xF11, "mvendorid"),
            (0xF12, "marchid"),
            (0xF13, "mimpid"),
            (0xF14, "mhartid"),
            (0xF15, "mconfigptr"),
            (0x300, "mstatus"),
            (0x301, "misa"),
            (0x302, "medeleg"),
            (0x303, "mideleg"),
            (0x304, "mie"),
            (0x305, "mtvec"),
            (0x306, "mcounteren"),
            (0x30A, "menvcfg"),
            (0x310, "mstatush"),
            (0x312, "medelegh"),
            (0x31A, "menvcfgh"),
            (0x320, "mcountinhibit"),
            (0x340, "mscratch"),
            (0x341, "mepc"),
            (0x342, "mcause"),
            (0x343, "mtval"),
            (0x344, "mip"),
            (0x34A, "mtinst"),
            (0x34B, "mtval2"),
            (0x747, "mseccfg"),
            (0x757, "mseccfgh"),
            (0xB00, "mcycle"),
            (0xB02, "minstret"),
            (0xB80, "mcycleh"),
            (0xB82, "minstreth"),
            (0x7A0, "tselect"),
            (0x7A1, "tdata1"),
            (0x7A2, "tdata2"),
            (0x7A3, "tdata3"),
            (0x7A4, "tinfo"),
            (0x7A5, "tcontrol"),
            (0x7A8, "mcontext"),
            (0x7B0, "dcsr"),
            (0x7B1, "dpc"),
            (0x7B2, "dscratch0"),
            (0x7B3, "dscratch1"),
        ]
        for i in 3...31 {
            list.append((hpmcounter(i), "hpmcounter\(i)"))
            list.append((hpmcounterh(i), "hpmcounter\(i)h"))
            list.append((mhpmcounter(i), "mhpmcounter\(i)"))
            list.append((mhpmcounterh(i), "mhpmcounter\(i)h"))
            list.append((mhpmevent(i), "mhpmevent\(i)"))
            list.append((mhpmeventh(i), "mhpmevent\(i)h"))
        }
        for i in 0...15 { list.append((pmpcfg(i), "pmpcfg\(i)")) }
        for i in 0...63 { list.append((pmpaddr(i), "pmpaddr\(i)")) }
        return list
    }()
}
