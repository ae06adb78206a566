// The G stage a `hw` VMM builds for its guest (privileged spec, "Guest Physical Address
// Translation", Sv39x4): guest physical RAM mapped onto the machine RAM the VM was given, in pages
// of the VMM's hidden memory the guest cannot reach. Only the guest's RAM is mapped: everything
// else (the devices below RAM, the VMM's pages after it) faults into the VMM as a guest-page fault,
// which is how a device register access becomes an exit to be emulated.

import Machine

struct NestedPageTables {
    /// Sv39x4: 41-bit guest physical addresses, a 16 KiB root table.
    static let mode: UInt64 = 8
    static let rootSize: UInt64 = 16 << 10
    /// Leaf bits: V, R, W, X, U (every G-stage access is checked as a U-mode one), A, D.
    static let leafFlags: UInt64 = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80

    /// The hidden memory the tables for `memory` bytes of guest RAM take: the root, one level-1
    /// table per GiB and one level-0 table per 2 MiB (4 KiB leaves, the case [B08] counts), and a
    /// level-1 and a level-0 table for the virtio registers, which assigned devices need (reserved
    /// whatever the policy, so the hidden memory's size depends on the paging alone).
    static func size(forGuestMemory memory: UInt64) -> UInt64 {
        let gib = (memory + (1 << 30) - 1) >> 30
        let twoMiB = (memory + (2 << 20) - 1) >> 21
        return rootSize + (gib + twoMiB + 2) * 4096
    }

    unowned let machine: Machine
    let root: UInt64
    private var next: UInt64
    private let end: UInt64

    /// Tables allocated from `[base, base + size)`; `base` is 16 KiB-aligned.
    init(machine: Machine, base: UInt64, size: UInt64) {
        precondition(base % Self.rootSize == 0, "the G-stage root must be 16 KiB-aligned")
        self.machine = machine
        root = base
        next = base + Self.rootSize
        end = base + size
        zero(root, count: Self.rootSize)
    }

    func hgatp(vmid: UInt64) -> UInt64 { Self.mode << 60 | vmid << 44 | root >> 12 }

    private func zero(_ address: UInt64, count: UInt64) {
        machine.loadPhysical([UInt8](repeating: 0, count: Int(count)), at: address)
    }

    private mutating func table(at pteAddress: UInt64) -> UInt64 {
        let pte = machine.readPhysicalWord(at: pteAddress) ?? 0
        if pte & 1 != 0 { return (pte >> 10) << 12 }
        precondition(next + 4096 <= end, "the G-stage pool is too small")
        let t = next
        next += 4096
        zero(t, count: 4096)
        machine.loadPhysical(littleEndian: (t >> 12) << 10 | 1, count: 8, at: pteAddress)
        return t
    }

    /// Maps guest physical `[gpa, gpa + size)` onto machine `[ma, ma + size)` with leaves of
    /// `pageSize` (4 KiB or 2 MiB; 4 KiB where a 2 MiB page would not fit the range or the
    /// alignment). `gpa` and `ma` are equally aligned.
    mutating func map(guestPhysical gpa: UInt64, size: UInt64, to ma: UInt64, pageSize: UInt64 = 4096) {
        let mega: UInt64 = 2 << 20
        var offset: UInt64 = 0
        while offset < size {
            let g = gpa + offset
            let l1 = table(at: root + ((g >> 30) & 0x7FF) * 8)
            if pageSize == mega && g % mega == 0 && (ma + offset) % mega == 0 && size - offset >= mega {
                let pte = ((ma + offset) >> 12) << 10 | Self.leafFlags
                machine.loadPhysical(littleEndian: pte, count: 8, at: l1 + ((g >> 21) & 0x1FF) * 8)
                offset += mega
                continue
            }
            let l0 = table(at: l1 + ((g >> 21) & 0x1FF) * 8)
            // A whole level-0 table at once: 512 leaves, as far as the range goes.
            let first = (g >> 12) & 0x1FF
            let count = min(512 - first, (size - offset) >> 12)
            var leaves = [UInt8](repeating: 0, count: Int(count) * 8)
            for i in 0..<count {
                let pte = ((ma + offset + i * 4096) >> 12) << 10 | Self.leafFlags
                for b in 0..<8 { leaves[Int(i) * 8 + b] = UInt8(truncatingIfNeeded: pte >> (8 * UInt64(b))) }
            }
            machine.loadPhysical(leaves, at: l0 + first * 8)
            offset += count * 4096
        }
    }
}
