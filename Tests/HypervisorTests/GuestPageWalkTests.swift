import Testing
import Machine
import RISCV
import GuestTestSupport
@testable import Hypervisor

// The VMM's software walk of the guest's tables has two faces: `walk`, the walk as data (for the
// shadow pager and `vm:page_tables`), and `physicalAddress`, the same walk without its record (a
// binary translator asks on every store it traces). They must agree on every table, including
// the A/D bits a guest access sets and the faults of Svade.
@Suite struct GuestPageWalkTests {
    static let base: UInt64 = 0x8000_0000
    static let size: UInt64 = 1 << 20

    /// A machine whose first MiB holds random Sv39 tables: the root at the base, four level-1
    /// tables after it, then eleven level-0 tables. Entries mostly point one level down (a few
    /// are superpage leaves, most of them misaligned), level 0 holds leaves; permissions, U, G,
    /// A and D are random, and some entries are invalid, reserved (W without R) or carry bits
    /// above the PPN.
    static func machine(seed: UInt64, adBits: ADBitPolicy) -> Machine {
        var c = MachineConfiguration()
        c.ramSize = size
        c.adBits = adBits
        let m = Machine(c)
        var rng = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: 16 * 4096)
        for i in 0..<(bytes.count / 8) {
            let r = rng.next()
            let page = i / 512
            let pointsDown = page < 5 && r % 8 != 0
            let target = pointsDown ? base + (page == 0 ? 1 + r >> 20 % 4 : 5 + r >> 20 % 11) * 0x1000
                                    : base + (r >> 20) % 256 * 0x1000
            var flags = r >> 32 & (Sv39.u | Sv39.g | Sv39.a | Sv39.d)
            if pointsDown { flags &= r % 16 == 0 ? flags : 0 } else { flags |= [Sv39.r, Sv39.r | Sv39.w, Sv39.x, Sv39.r | Sv39.x, Sv39.r | Sv39.w | Sv39.x, Sv39.w][Int(r >> 8 % 6)] }
            if r % 16 != 1 { flags |= Sv39.v }
            let reserved: UInt64 = r % 64 == 2 ? 1 << 60 : 0
            let pte = Sv39.entry(target, flags) | reserved
            for k in 0..<8 { bytes[i * 8 + k] = UInt8(truncatingIfNeeded: pte >> (8 * UInt64(k))) }
        }
        m.loadPhysical(bytes, at: base)
        return m
    }

    @Test(arguments: [ADBitPolicy.hardwareUpdate, .pageFault])
    func physicalAddressAgreesWithTheWalk(_ policy: ADBitPolicy) {
        let map = GuestPhysicalMap([.init(guestBase: Self.base, size: Self.size, machineBase: Self.base, isRAM: true)])
        var translated = 0, faulted = 0
        for seed: UInt64 in 1...8 {
            // Two identical machines: one walked as data, one asked for the address only, so
            // that the A/D bits each sets can be compared too.
            let recorded = Self.machine(seed: seed, adBits: policy), bare = Self.machine(seed: seed, adBits: policy)
            var rng = SplitMix64(seed: seed &* 77)
            for _ in 0..<500 {
                let r = rng.next()
                // Mostly canonical Sv39 addresses (bit 38 sign-extended), some not.
                let low = r & 0x7F_FFFF_FFFF
                let va = r % 16 == 0 ? r : (low >> 38 == 0 ? low : low | ~0x7F_FFFF_FFFF)
                let access = GuestAccess.allCases[Int(r >> 56) % 3]
                let context = GuestTranslationContext(satp: (8 << 60) | (Self.base >> 12),
                                                      privilege: r >> 60 & 1 == 0 ? .supervisor : .user,
                                                      sum: r >> 61 & 1 == 0, mxr: r >> 62 & 1 == 0)
                let asGuestAccess = r >> 63 == 0
                let w = GuestPageWalker.walk(va, access, context, map: map, memory: MachineWords(machine: recorded),
                                             asGuestAccess: asGuestAccess)
                let p = GuestPageWalker.physicalAddress(va, access, context, map: map, memory: MachineWords(machine: bare),
                                                        asGuestAccess: asGuestAccess)
                #expect(w.physical == p, "seed \(seed), va \(hex(va)), \(access)")
                if p == nil { faulted += 1 } else { translated += 1 }
            }
            #expect(recorded.readPhysical(at: Self.base, count: 16 * 4096) == bare.readPhysical(at: Self.base, count: 16 * 4096),
                    "the same A/D bits set, seed \(seed)")
        }
        #expect(translated > 100 && faulted > 100, "both outcomes exercised: \(translated) translated, \(faulted) faulted")
    }

    @Test func recordedStepsEndWithTheLeafAsTheWalkLeftIt() {
        // One 4 KiB leaf with A and D clear: a guest store under Svadu sets both, and the
        // recorded leaf step shows them, as the leaf in the result does.
        var c = MachineConfiguration()
        c.ramSize = Self.size
        let m = Machine(c)
        let root = Self.base, mid = Self.base + 0x1000, last = Self.base + 0x2000
        let words = MachineWords(machine: m)
        words.write(root, Sv39.entry(mid, Sv39.v))
        words.write(mid, Sv39.entry(last, Sv39.v))
        words.write(last + 8 * 5, Sv39.entry(Self.base + 0x8000, Sv39.v | Sv39.r | Sv39.w))
        let map = GuestPhysicalMap([.init(guestBase: Self.base, size: Self.size, machineBase: Self.base, isRAM: true)])
        let context = GuestTranslationContext(satp: (8 << 60) | (root >> 12), privilege: .supervisor, sum: false, mxr: false)
        let w = GuestPageWalker.walk(0x5123, .store, context, map: map, memory: words, asGuestAccess: true)
        #expect(w.steps.map(\.level) == [2, 1, 0])
        #expect(w.steps.last?.pte == words.read(last + 8 * 5))
        #expect(w.steps.last.map { $0.pte & (Sv39.a | Sv39.d) } == Sv39.a | Sv39.d)
        #expect(w.physical == Self.base + 0x8123)
    }

    private func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}
