// `hw`: hardware-assisted virtualisation with the H extension (the RISC-V counterpart of VT-x with
// nested paging, [B08]). The guest's machine has the extension; the unmodified guest kernel runs
// in VS-mode, its user programs in VU-mode. The VMM (HardwareAssistedVMM.swift) stands in HS-mode
// and configures which events exit:
//
// - `hedeleg` = `medeleg` = the traps the firmware gives a kernel (system calls, page faults,
//   breakpoints, misaligned accesses, illegal instructions...): delivered by the hardware straight
//   into VS-mode, no exit; everything else (SBI calls, guest-page faults, virtual instructions)
//   reaches the VMM;
// - `hideleg` = the VS-level interrupts, which the VMM raises through `hvip` (the SBI timer, IPIs,
//   the emulated external line) and the hardware delivers when the guest enables them;
// - `hstatus` VTW/VTSR/VTVM clear: `wfi`, `sret`, `sfence.vma` and `satp` run in the guest;
// - the G stage (NestedPageTables.swift, Sv39x4, 4 KiB pages, VMID = the VM's id) maps the guest's
//   RAM and nothing else, so the guest's page tables are its own and a TLB miss walks both
//   stages: 15 references for Sv39 on Sv39x4 where a native walk makes 3 (11 with the policy's
//   2 MiB G-stage pages).
//
// With `paging = "shadow"` (shadow-on-hw, VT-x before EPT) the G stage is Bare and the VMM keeps
// shadow page tables in vsatp instead (HardwareAssistedVMM+Shadow.swift): page faults and the
// guest's access faults are not delegated (a device access faults on PMP and is emulated), satp
// accesses and fences exit (VTVM), and the hidden memory holds the shadow pool. Several vCPUs
// share the shadows, each running its own address space (`trap` and `bt` run one).
//
// Costs (CostEvent rules): the machine charges each trap into the VMM as `vm_exit` + `vm_entry`
// (the VMM charges them for an interrupt it takes); on top, the VMM's software work is charged
// to the vCPU's clock as it goes: `firmware_call` per SBI call, `device_emulated` per device
// register access, `interrupt_injected` per external interrupt, `exception_reflected` per fault
// reflected into the guest; with shadow paging, `shadow_fault` per hidden fault and `traced_write`
// per store to a guest page table. Guest instructions, walks and the guest's own traps are priced
// as natively.

import Boot
import Devices
import Machine
import RISCV

public final class HardwareAssistedTechnique: Technique {
    public private(set) var vmm: HardwareAssistedVMM?
    /// The IOMMU the assigned devices' DMA goes through (`io = .assigned`), nil otherwise.
    public private(set) var iommu: IOMMU?
    var sbi: BuiltinSBI?
    public let policy: HardwareAssistedPolicy
    /// The shadow pager's rules, with `paging = .shadow`.
    public let shadowPolicy: ShadowPolicy
    /// The G stage's tables (nested paging only) and the guest RAM they map: what the dirty log
    /// scans (DirtyLog.swift).
    internal(set) var gStage: NestedPageTables?
    private(set) var guestRAM: (base: UInt64, size: UInt64) = (0, 0)
    public internal(set) var dirtyLog = DirtyLogCounters()
    /// Guest pages DMA or a tool wrote since the dirty log was last cleared (the hart's D bits
    /// miss them).
    var writtenByVMM: Set<UInt64> = []

    public init(policy: HardwareAssistedPolicy = HardwareAssistedPolicy(), shadowPolicy: ShadowPolicy = ShadowPolicy()) {
        self.policy = policy
        self.shadowPolicy = shadowPolicy
    }
    public var mode: ExecutionMode { .hw }

    /// The hidden memory behind a guest of `memory` bytes: its G-stage tables, rounded up to a
    /// MiB (and so 16 KiB-aligned after the guest's MiB-multiple RAM), or with shadow paging the
    /// shadow pool (`trap`'s).
    public static func vmmMemory(forGuestMemory memory: UInt64, paging: HardwarePaging = .nested) -> UInt64 {
        if paging == .shadow { return TrapTechnique.shadowPoolSize }
        let size = NestedPageTables.size(forGuestMemory: memory)
        return (size + (1 << 20) - 1) & ~((1 << 20) - 1)
    }

    /// The exceptions the guest kernel takes itself, without an exit.
    static let guestExceptions: UInt64 = BuiltinFirmware.delegatedExceptions & 0xB1FF
    /// With shadow paging, the page faults (12, 13, 15) and load/store access faults (5, 7) exit.
    static let shadowPagingExits: UInt64 = 1 << 12 | 1 << 13 | 1 << 15 | 1 << 5 | 1 << 7

    public func install(on guest: Guest) throws(GuestBuildError) {
        let machine = guest.machine
        machine.costs = Self.costTable(guest.profile)
        if let vmm {   // re-pricing only
            vmm.prices = Self.prices(guest.profile)
            vmm.shadow?.flushPrice = guest.profile.cycles(.tlbFlush)
            return
        }
        guard let firmware = guest.board.firmware, machine.privilege(hart: 0) == .supervisor else {
            throw GuestBuildError("hw mode runs the guest kernel under its own virtual SBI: use the built-in firmware")
        }
        let memory = guest.board.configuration.memory
        let ramBase = machine.configuration.ramBase
        let shadowPaging = policy.paging == .shadow
        let poolSize = Self.vmmMemory(forGuestMemory: memory, paging: policy.paging)
        guard memory % (1 << 20) == 0, machine.configuration.ramSize >= memory + poolSize else {
            throw GuestBuildError("hw mode needs a whole number of MiB of guest memory and \(poolSize) bytes of hidden memory for its \(shadowPaging ? "shadow page tables" : "G-stage tables")")
        }
        // Every vCPU's address space stays cached while it runs: eviction takes another's.
        guard !shadowPaging || shadowPolicy.capacity >= machine.hartCount else {
            throw GuestBuildError("hw with paging = 'shadow' caches at least one address space per vCPU: shadow capacity \(shadowPolicy.capacity) is less than the \(machine.hartCount) harts")
        }
        // The G-stage tables (or the shadow pool) behind the guest's RAM are not the guest's.
        let map = GuestPhysicalMap.identity(ramBase: ramBase, memory: memory)
        guard policy.io == .emulated || !shadowPaging else {
            throw GuestBuildError("hw with io = 'assigned' needs nested paging: the IOMMU translates the devices' DMA through the guest's G-stage table")
        }
        var hgatp: UInt64 = 0   // Bare: with shadow paging, vsatp's tables give machine addresses
        if !shadowPaging {
            var tables = NestedPageTables(machine: machine, base: ramBase + memory, size: poolSize)
            tables.map(guestPhysical: ramBase, size: memory, to: ramBase, pageSize: policy.gStagePageSize)
            let vmid = UInt64(guest.id) & 0x3FFF
            hgatp = tables.hgatp(vmid: vmid)
            if policy.io == .assigned { assignDevices(of: guest, tables: &tables, vmid: vmid) }
            tables.sealMapping()
            gStage = tables
            guestRAM = (ramBase, memory)
            machine.dmaWriteObserver = { [weak self] address, count in self?.noteVMMWrite(address, count) }
        }
        let platform = HardwareSBIPlatform(machine: machine, map: map, console: guest.board.console, input: firmware)
        let sbi = BuiltinSBI(platform: platform)
        machine.addTimedDevice(sbi)
        let vmm = HardwareAssistedVMM(machine: machine, sbi: sbi, map: map)
        platform.vmm = vmm
        vmm.prices = Self.prices(guest.profile)
        vmm.onExit = { [events = guest.events] vcpu, pc, cause in
            guard events.observes(.exit) else { return }
            var event = events.stamp(.exit, hart: vcpu, pc: pc)
            event.cause = cause
            events.dispatch(event)
        }
        machine.trapHandler = vmm
        let hstatus = policy.effectiveIntercepts.reduce(UInt64(0)) { $0 | $1.hstatusBit }
        let delegated = shadowPaging ? Self.guestExceptions & ~Self.shadowPagingExits : Self.guestExceptions
        for hart in 0..<machine.hartCount {
            Self.configure(machine, hart: hart, hgatp: hgatp, hstatus: hstatus, delegated: delegated)
            if shadowPaging { TrapMonitor.denyDevices(on: machine, hart: hart) }
        }
        // The boot hart stands at the kernel's entry in S-mode, as the firmware left it: it enters
        // the guest there (V = 1 makes it VS-mode).
        machine.setVirtualized(true, hart: 0)
        if shadowPaging {
            let shadow = ShadowPageTables(machine: machine, map: map, poolBase: ramBase + memory, poolSize: poolSize,
                                          capacity: shadowPolicy.capacity, keepsGuestPrivilege: true)
            shadow.unshadowAfter = shadowPolicy.unshadowAfter
            shadow.flushPrice = guest.profile.cycles(.tlbFlush)
            vmm.shadow = shadow
            // A device's DMA into a guest page table must reach the shadows (TrapMonitor's reason).
            machine.dmaWriteObserver = { [weak link = shadow.link] address, count in
                link?.shadow.machineWrote(machinePhysical: address, count: count)
            }
            vmm.onShadowWork = { [events = guest.events] kind, vcpu, pc, cause, address in
                guard events.observes(kind) else { return }
                var event = events.stamp(kind, hart: vcpu, pc: pc)
                event.cause = cause
                event.address = address
                events.dispatch(event)
            }
            // The firmware hands over with translation off: the shadow of the bare address space.
            vmm.switchGuestAddressSpace(0, shadow: shadow, hart: 0)
        }
        self.vmm = vmm
        self.sbi = sbi
    }

    /// Direct assignment: the virtio registers mapped into the guest at their own addresses (the
    /// guest drives the devices without exits), and each transport's DMA through the IOMMU, its
    /// device context (device ID = slot) the guest's G-stage table under the VM's VMID. Without
    /// the IOMMU, the transports reach the machine's memory directly, all of it.
    private func assignDevices(of guest: Guest, tables: inout NestedPageTables, vmid: UInt64) {
        let window = VirtPlatform.virtio(slot: 0).base
        tables.map(guestPhysical: window, size: UInt64(VirtPlatform.virtioSlotCount) * 0x1000, to: window)
        guard policy.iommu else {
            // The board confines devices to the guest's RAM, as the VMM's own device emulation
            // would: a device assigned without an IOMMU is not confined at all.
            guest.machine.dmaLimit = .max
            return
        }
        let iommu = IOMMU(machine: guest.machine, iotlbEntries: policy.iotlbEntries)
        for (slot, transport) in guest.board.virtio.enumerated() {
            iommu.setContext(.secondStage(root: tables.root, gscid: UInt16(vmid)), device: slot)
            transport.memory = iommu.port(device: slot)
        }
        iommu.onFault = { [events = guest.events] fault in
            guard events.observes(.iommuFault) else { return }
            var event = events.stamp(.iommuFault, hart: 0, pc: events.machine.pc(hart: 0))
            event.cause = fault.cause.name
            event.causeCode = UInt64(fault.cause.rawValue)
            event.address = fault.address
            event.isWrite = fault.isWrite
            event.value = UInt64(fault.device)
            events.dispatch(event)
        }
        self.iommu = iommu
    }

    /// The M- and HS-level set-up of one vCPU: what exits, the G stage, and the guest's view of the
    /// firmware's hand-over (FS Initial, as the firmware leaves S-mode).
    static func configure(_ machine: Machine, hart: Int, hgatp: UInt64, hstatus: UInt64, delegated: UInt64) {
        machine.writeCSR(CSR.hedeleg, delegated, hart: hart)
        // Nothing goes to HS-mode, where no software stands: what medeleg delegates, hedeleg
        // delegates on to VS-mode.
        machine.writeCSR(CSR.medeleg, delegated, hart: hart)
        machine.writeCSR(CSR.mideleg, 0, hart: hart)
        machine.writeCSR(CSR.hideleg, HardwareAssistedVMM.vssi | HardwareAssistedVMM.vsti | HardwareAssistedVMM.vsei, hart: hart)
        let mie = machine.readCSR(CSR.mie, hart: hart) ?? 0
        machine.writeCSR(CSR.mie, mie | HardwareAssistedVMM.sei, hart: hart)
        machine.writeCSR(CSR.hstatus, hstatus, hart: hart)
        machine.writeCSR(CSR.hcounteren, 0xFFFF_FFFF, hart: hart)
        // Sstc: the guest's stimecmp is vstimecmp, reached without an exit, its interrupt VSTIP
        // (the write is ignored where the harts lack Sstc).
        let henvcfg = machine.readCSR(CSR.henvcfg, hart: hart) ?? 0
        machine.writeCSR(CSR.henvcfg, henvcfg | 1 << 63, hart: hart)
        machine.writeCSR(CSR.hgatp, hgatp, hart: hart)
        let mstatus = machine.readCSR(CSR.mstatus, hart: hart) ?? 0
        machine.writeCSR(CSR.mstatus, mstatus | 3 << 13, hart: hart)   // FS on for the guest's use
        machine.writeCSR(CSR.vsstatus, 1 << 13, hart: hart)            // the guest's FS: Initial
    }

    /// The machine's prices: the native table, with a trap into the VMM priced as an exit and an entry.
    static func costTable(_ p: CostProfile) -> CostTable {
        var t = p.machineCostTable
        t.handledTrap = p.cycles(.vmExit) &+ p.cycles(.vmEntry)
        return t
    }

    static func prices(_ p: CostProfile) -> HardwarePrices {
        var prices = HardwarePrices()
        prices.exitRoundTrip = p.cycles(.vmExit) &+ p.cycles(.vmEntry)
        prices.firmwareCall = p.cycles(.firmwareCall)
        prices.deviceEmulated = p.cycles(.deviceEmulated)
        prices.interruptInjected = p.cycles(.interruptInjected)
        prices.exceptionReflected = p.cycles(.exceptionReflected)
        prices.privilegedEmulated = p.cycles(.privilegedEmulated)
        prices.shadowFault = p.cycles(.shadowFault)
        prices.tracedWrite = p.cycles(.tracedWrite)
        return prices
    }

    public func account(_ guest: Guest, vcpu: Int) -> CycleAccount {
        let c = guest.machine.counters(hart: vcpu)
        var a = CycleAccount(profile: guest.profile)
        let exceptions = c.exceptions.reduce(0, &+)
        let handled = c.handledByHost.reduce(0, &+)
        a.record(.instruction, count: c.instructions)
        a.record(.walkReference, count: c.tlb.walkReferences)
        a.record(.tlbMiss, count: c.tlb.misses)
        // The guest's own flushes, and with shadow paging those the VMM makes for it (which the
        // shadow counts and charges, as under `trap`).
        a.record(.tlbFlush, count: (c.tlb.flushes &- c.tlb.hostFlushes) &+ (vmm?.shadow?.flushesByHart[vcpu] ?? 0))
        a.record(.mmioAccess, count: c.mmioAccesses)
        a.record(.csrWrite, count: c.privilegedCSRWrites)
        // The guest's own traps, delivered by the hardware into VS-mode.
        a.record(.trap, count: exceptions &- handled)
        a.record(.interrupt, count: c.interrupts.reduce(0, &+))
        if let vmm, vcpu < vmm.work.count {
            let m = vmm.work[vcpu]
            a.record(.vmExit, count: m.exits)
            a.record(.vmEntry, count: m.exits)
            a.record(.firmwareCall, count: m.sbiCalls)
            a.record(.deviceEmulated, count: m.deviceEmulated)
            a.record(.interruptInjected, count: m.interruptsInjected)
            a.record(.exceptionReflected, count: m.exceptionsReflected)
            a.record(.privilegedEmulated, count: m.emulated)
            a.record(.shadowFault, count: m.shadowFaults)
            a.record(.tracedWrite, count: m.tracedWrites)
        }
        a.settleWaitedCycles(clock: c.cycles)
        return a
    }

    /// Each one performed by the VMM after its guest-page fault.
    public func deviceAccessesPerformed(_ guest: Guest) -> UInt64 { vmm?.counters.deviceEmulated ?? 0 }

    public func exits(_ guest: Guest) -> [String: UInt64] { vmm?.counters.byCause ?? [:] }

    public func counters(_ guest: Guest) -> [String: [String: UInt64]] {
        guard let vmm else { return [:] }
        let m = vmm.counters
        var groups: [String: [String: UInt64]] = [:]
        groups["hw"] = ["exits": m.exits, "sbi_calls": m.sbiCalls, "device_emulated": m.deviceEmulated,
                        "interrupt_exits": m.interruptExits, "interrupts_injected": m.interruptsInjected,
                        "exceptions_reflected": m.exceptionsReflected, "emulated": m.emulated,
                        "shadow_faults": m.shadowFaults, "traced_writes": m.tracedWrites]
        if let shadow = vmm.shadow {
            groups["shadow"] = shadow.counters.dictionary
            groups["dirty_log"] = shadow.dirtyLogStatistics
        }
        if let iommu { groups["iommu"] = iommu.counters.dictionary }
        if gStage != nil { groups["dirty_log"] = dirtyLog.dictionary }
        groups["intercepted"] = m.intercepted.withZeros(for: HardwareIntercept.allCases.map(\.rawValue) + ["sfence_vma"])
        if let sbi {
            groups["hypercalls"] = Dictionary(uniqueKeysWithValues: sbi.callsByExtension.map { ("sbi_" + $0.key.lowercased(), $0.value) })
        }
        return groups
    }
}
