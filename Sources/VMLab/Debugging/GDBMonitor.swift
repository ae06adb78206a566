// GDB's `monitor CMD` (qRcmd): vmlab's own commands, answered as text on GDB's console. What the
// Lua API shows a lab (`vm:stats()`, `vm:tlb()`, `vm:page_tables{}`), a GDB session can look at
// too, for the vCPU GDB has selected: its counters, its TLB, the walk of an address through the
// guest's page tables.
import Hypervisor
import Machine

extension GDBStub {
    static let monitorHelp = """
        vmlab monitor commands:
          stats     the machine's counters and modelled cycles, as vmlab boot --stats prints them
          tlb       the selected vCPU's TLB entries (under trap and bt: the shadows' entries)
          walk VA [guest|shadow|nested]
                    the walk of VA (hex) for the selected vCPU: through the guest's page tables
                    (the default), the shadow tables the hart walks (trap, bt, hw with shadow
                    paging) or both stages, each G-stage reference too (hw)
        """

    /// The text `monitor command` prints.
    func monitorText(_ command: String) -> String {
        let words = command.split(separator: " ")
        switch words.first.map(String.init) ?? "" {
        case "stats":
            return (vm.stats?.lines ?? []).joined(separator: "\n") + "\n"
        case "tlb":
            return tlbText()
        case "walk":
            let which = words.count == 3 ? String(words[2]) : "guest"
            guard (2...3).contains(words.count), let va = GDBHex.number(words[1].hasPrefix("0x") ? words[1].dropFirst(2) : words[1]),
                  ["guest", "shadow", "nested"].contains(which) else {
                return "usage: monitor walk VA [guest|shadow|nested] (VA: a hexadecimal virtual address)\n"
            }
            return walkText(va, which: which)
        case "help", "":
            return Self.monitorHelp + "\n"
        default:
            return "unknown monitor command '\(command)' (try: monitor help)\n"
        }
    }

    private func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    private func size(level: Int) -> String { ["4 KiB", "2 MiB", "1 GiB", "512 GiB", "256 TiB"][min(level, 4)] }

    /// The selected vCPU's TLB, one entry a line, in set and way order.
    private func tlbText() -> String {
        guard let machine = vm.guest?.machine else { return "the VM is closed\n" }
        let entries = machine.tlbEntries(hart: hart)
        var lines = ["vCPU \(hart)'s TLB: \(entries.count) valid entr\(entries.count == 1 ? "y" : "ies")"]
        for e in entries {
            let vmid = e.vmid.map { " vmid \($0)" } ?? ""
            lines.append("  set \(e.set) way \(e.way): \(hex(e.virtualAddress)) -> \(hex(e.physicalAddress)) \(size(level: e.level)) asid \(e.asid)\(vmid) \(PageTablesBinding.flags(TLBBinding.leafBits(e)).text)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The walk of `va`, with nothing filled or set. `guest`: through the guest's tables, as the
    /// VMM reads them under a shadowing technique, else as the selected hart's walker would;
    /// `shadow`: through the shadow tables; `nested`: both stages under `hw`.
    private func walkText(_ va: UInt64, which: String) -> String {
        guard let guest = vm.guest else { return "the VM is closed\n" }
        var lines: [String] = []
        func steps(_ all: [(level: Int, address: UInt64, pte: UInt64)], stage: [String]? = nil) {
            for (i, s) in all.enumerated() {
                let isLeaf = s.pte & 1 != 0 && s.pte & 0b1010 != 0
                let next = isLeaf ? "leaf" : s.pte & 1 == 0 ? "invalid" : "table \(hex((s.pte >> 10 & ((1 << 44) - 1)) << 12))"
                let label = stage.map { "\($0[i]) " } ?? ""
                lines.append("  \(label)level \(s.level): pte at \(hex(s.address)) = \(hex(s.pte)) \(PageTablesBinding.flags(s.pte).text) \(next)")
            }
        }
        // Where a VMM's walk (PageTableWalk) ends; a bare walk reads no entry and has no page.
        func end(_ walk: PageTableWalk) {
            switch walk.result {
            case .translated(let physical, _, let level):
                lines.append("  -> \(hex(physical))" + (walk.steps.isEmpty ? "" : " (\(size(level: level)) page)"))
            case .fault(let cause): lines.append("  -> \(cause.name)")
            }
        }
        let shadow = (guest.technique as? ShadowPagingTechnique)?.shadowPageTables
        switch which {
        case "shadow":
            guard let shadow else {
                return "no shadow page tables under '\(guest.mode.rawValue)': the hart walks the guest's own tables (only trap, bt and hw with shadow paging keep shadows)\n"
            }
            let walk = shadow.walk(.shadow, va: va)
            lines.append("\(hex(va)) through the shadow tables (\(walk.mode), root \(hex(walk.root)), the \(shadow.view.description) view; machine-physical addresses)")
            steps(walk.steps.map { ($0.level, $0.pteAddress, $0.pte) })
            end(walk)
            return lines.joined(separator: "\n") + "\n"
        case "nested":
            if shadow != nil || guest.mode != .hw {
                return "no two-dimensional walk under '\(guest.mode.rawValue)\(shadow != nil ? "' with shadow paging" : "'"): only hw with nested paging translates in two stages\n"
            }
            guard let walk = guest.machine.nestedPageWalk(va, hart: hart) else {
                return "no two-dimensional walk: vCPU \(hart) is not in the guest now\n"
            }
            lines.append("\(hex(va)) through vCPU \(hart)'s two stages (\(walk.steps.count) references; host-physical addresses)")
            steps(walk.steps.map { ($0.level, $0.pteAddress, $0.pte) }, stage: walk.steps.map { step in
                step.stage == .guest ? "guest (at \(hex(step.guestPhysical ?? 0)))" : "G-stage"
            })
            switch walk.result {
            case .physical(let physical): lines.append("  -> \(hex(physical))")
            case .fault(let cause): lines.append("  -> \(cause.name)")
            }
            return lines.joined(separator: "\n") + "\n"
        default:
            break
        }
        if let shadow {
            let walk = shadow.walk(.guest, va: va)
            lines.append("\(hex(va)) through the guest's tables (\(walk.mode), root \(hex(walk.root)); guest-physical addresses)")
            steps(walk.steps.map { ($0.level, $0.pteAddress, $0.pte) })
            end(walk)
        } else {
            let trace = guest.machine.pageWalk(va, hart: hart)
            // Under hw, the VS stage's: the guest's tables, in guest-physical addresses.
            let space = guest.mode == .hw ? "; guest-physical addresses" : ""
            lines.append("\(hex(va)) through vCPU \(hart)'s tables (\(trace.mode), root \(hex(trace.root))\(space))")
            steps(trace.steps.map { ($0.level, $0.pteAddress, $0.pte) })
            switch trace.result {
            case .physical(let physical):
                lines.append("  -> \(hex(physical))" + (trace.steps.last.map { " (\(size(level: $0.level)) page)" } ?? ""))
            case .fault(let cause): lines.append("  -> \(cause.name)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
