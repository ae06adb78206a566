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
          walk VA   the walk of VA (hex) through the guest's page tables of the selected vCPU
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
            guard words.count == 2, let va = GDBHex.number(words[1].hasPrefix("0x") ? words[1].dropFirst(2) : words[1]) else {
                return "usage: monitor walk VA (a hexadecimal virtual address)\n"
            }
            return walkText(va)
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

    /// The walk of `va`: through the guest's tables as the VMM reads them under a shadowing
    /// technique, else as the selected hart's walker would, with nothing filled or set.
    private func walkText(_ va: UInt64) -> String {
        guard let guest = vm.guest else { return "the VM is closed\n" }
        var lines: [String] = []
        func steps(_ all: [(level: Int, address: UInt64, pte: UInt64)]) {
            for s in all {
                let isLeaf = s.pte & 1 != 0 && s.pte & 0b1010 != 0
                let next = isLeaf ? "leaf" : s.pte & 1 == 0 ? "invalid" : "table \(hex((s.pte >> 10 & ((1 << 44) - 1)) << 12))"
                lines.append("  level \(s.level): pte at \(hex(s.address)) = \(hex(s.pte)) \(PageTablesBinding.flags(s.pte).text) \(next)")
            }
        }
        if let shadowing = guest.technique as? ShadowPagingTechnique, let shadow = shadowing.shadowPageTables {
            let walk = shadow.walk(.guest, va: va)
            lines.append("\(hex(va)) through the guest's tables (\(walk.mode), root \(hex(walk.root)); guest-physical addresses)")
            steps(walk.steps.map { ($0.level, $0.pteAddress, $0.pte) })
            switch walk.result {
            case .translated(let physical, _, let level):
                // Bare: no page, only the address.
                lines.append("  -> \(hex(physical))" + (walk.steps.isEmpty ? "" : " (\(size(level: level)) page)"))
            case .fault(let cause): lines.append("  -> \(cause.name)")
            }
        } else {
            let trace = guest.machine.pageWalk(va, hart: hart)
            lines.append("\(hex(va)) through vCPU \(hart)'s tables (\(trace.mode), root \(hex(trace.root)))")
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
