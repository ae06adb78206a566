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
            let which = words.count == 3 ? GuestWalkSource(rawValue: String(words[2])) : .guest
            guard (2...3).contains(words.count), let va = GDBHex.number(words[1].hasPrefix("0x") ? words[1].dropFirst(2) : words[1]),
                  let which else {
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

    /// The walk of `va` (`Guest.pageWalk`, as `vm:page_tables` has it), for the selected vCPU.
    private func walkText(_ va: UInt64, which: GuestWalkSource) -> String {
        guard let guest = vm.guest else { return "the VM is closed\n" }
        let walk: GuestPageWalk
        switch guest.pageWalk(va, source: which, vcpu: hart) {
        case .success(let found): walk = found
        case .failure(let refusal): return refusal.description + "\n"
        }
        let space = walk.addresses == .physical ? "" : "; \(walk.addresses.rawValue) addresses"
        let whose = walk.vcpu.map { "vCPU \($0)'s" } ?? "the"
        var lines: [String]
        switch walk.source {
        case .guest:
            lines = ["\(hex(va)) through \(walk.vcpu == nil ? "the guest's" : whose) tables (\(walk.mode), root \(hex(walk.root))\(space))"]
        case .shadow:
            lines = ["\(hex(va)) through the shadow tables (\(walk.mode), root \(hex(walk.root)), the \(walk.view?.description ?? "") view\(space))"]
        case .nested:
            lines = ["\(hex(va)) through \(whose) two stages (\(walk.steps.count) references\(space))"]
        }
        for step in walk.steps {
            let pte = step.pte
            let isLeaf = pte & 1 != 0 && pte & 0b1010 != 0
            let next = isLeaf ? "leaf" : pte & 1 == 0 ? "invalid" : "table \(hex((pte >> 10 & ((1 << 44) - 1)) << 12))"
            let stage = switch step.stage {
            case .guest?: "guest (at \(hex(step.guestPhysical ?? 0))) "
            case .host?: "G-stage "
            case nil: ""
            }
            lines.append("  \(stage)level \(step.level): pte at \(hex(step.pteAddress)) = \(hex(pte)) \(PageTablesBinding.flags(pte).text) \(next)")
        }
        switch walk.outcome {
        case .translated(let physical, let pageLevel):
            lines.append("  -> \(hex(physical))" + (pageLevel.map { " (\(size(level: $0)) page)" } ?? ""))
        case .fault(let cause):
            lines.append("  -> \(cause.name)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
