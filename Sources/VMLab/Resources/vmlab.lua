---@meta vmlab
-- Generated from the vmlab API description (Sources/VMLab/Bindings). Do not edit;
-- regenerate with `vmlab annotations` or VMLAB_UPDATE_GOLDEN=1 swift test --filter VMLabTests.

---vmlab: a virtualisation laboratory. A simulated RISC-V machine and VMM driven from Lua.
---Integers are Lua integers (signed 64-bit); `vmlab.hex` prints them unsigned.
---@class vmlab
---@field version string The vmlab release, e.g. "0.1.0".
local vmlab = {}

---Runs `fn` after each check of the enclosing `describe`, even when the check failed.
---@param fn function
function vmlab.after_each(fn) end

---Assembles RV64GC source (labels, `1f`/`1b` local labels, pseudo-instructions such as `li`/`la`/`call`, GNU-style directives) into machine code. An assembly error raises `asm:LINE:COL: message`.
---@param source string The assembly text.
---@param options? vmlab.AsmOptions
---@return string code # The flat image: every section laid out from `base`, gaps zero-filled.
---@return table<string, integer> symbols # Labels and `.equ` constants: name → address (addresses ≥ 2^63 read negative; `vmlab.hex` prints them). Marked as symbols (its metatable is named `vmlab.Symbols`), so `vmlab.disasm(code, symbols)` labels a listing with them.
function vmlab.asm(source, options) end

---Runs `fn` before each check of the enclosing `describe` (and those nested in it).
---@param fn function
function vmlab.before_each(fn) end

---Declares a check in a lab; the same as `it`.
---@param name string
---@param body function
function vmlab.check(name, body) end

---Runs a guest's benchmarks under several modes and compares them: each (benchmark, mode) boots a fresh VM, runs to its poweroff and keeps its counters; then each benchmark's console output, without the lines starting with "# " (the guest's own timings), must be identical under every mode. Returns a `vmlab.Comparison`: rows in benchmark-then-mode order, cycles relative to native. Raises when a VM cannot be built, a run does not power off with exit code 0 (for instance when `max_instructions` is used up; the message quotes the guest's last console line), or the outputs differ (the message names the first differing line); with `csv=`/`json=`, a file that cannot be written raises too.
---@param options vmlab.CompareOptions
---@return vmlab.Comparison comparison
function vmlab.compare(options) end

---A cost profile: the price in modelled cycles of every event, each with its source. `vmlab.costs("core2-2006")` is a built-in profile ("classic-2006", "core2-2006", "modern"); `vmlab.costs(p, { vm_entry = 1000 })` is `p` (a name or a profile) with prices replaced, and `vmlab.costs{ vm_entry = 1000 }` the standard profile ("classic-2006") with them. Without arguments, the list of built-in profile names. An unknown profile or event, or a price that is not an integer from 0 to 2^32 cycles, raises. The sources are documented in the "Cost profiles" article of the Hypervisor documentation.
---@param profile? string|vmlab.CostProfile
---@param edits? table<string, integer> Prices to replace, by event name: whole numbers of cycles from 0 to 2^32 (4294967296).
---@return vmlab.CostProfile|string[] profile # The profile, or the built-in names when called without arguments.
function vmlab.costs(profile, edits) end

---Groups checks under a name; `body` runs at once to declare them.
---@param name string
---@param body function
function vmlab.describe(name, body) end

---Disassembles machine code: one line per instruction, `ADDRESS: HEX  TEXT` (with `symbols`, also a `name:` line before each named address). An integer is one instruction's bits (compressed when its low two bits are not 11). Bytes that are not a valid instruction print as `.word`/`.half`; a trailing odd byte as `.byte`. `vmlab.disasm(vmlab.asm(source))` lists the code with its labels: the symbols that `vmlab.asm` and `vm:symbols()` return are marked as such, and one given as the second argument stands for `{ symbols = ... }`. Any other table there is the options, and a key that is not an option raises.
---@param code string|integer Machine code bytes (as `vmlab.asm` returns) or one instruction as an integer.
---@param options? table<string, integer>|vmlab.DisasmOptions The options, or a symbols table that `vmlab.asm` (second result) or `vm:symbols()` returned, standing for `{ symbols = ... }`. A table of names made otherwise (or copied) goes in the `symbols` option.
---@return string text
function vmlab.disasm(code, options) end

---Starts an expectation about `value`: `expect(x).to_equal(3)`.
---@param value any
---@return vmlab.Expectation
function vmlab.expect(value) end

---Every fault injector `vm:inject` knows, as plain data: name, summary and parameters (name, type, meaning, required). Now: `bitflip_memory` (`address`, `bit`, `space`?, `vcpu`?): flip one bit of one byte of guest memory; `bitflip_register` (`register`, `bit`, `vcpu`?): flip one bit of an integer register or the pc of a vCPU; `bitflip_pte` (`address`, `bit`, `level`?, `vcpu`?): flip one bit of a page-table entry the guest's tables use for an address; `interrupt_drop` (`source`, `count`?, `vcpu`?): the next assertions of an interrupt are never delivered; `interrupt_delay` (`source`, `cycles`, `count`?, `vcpu`?): the next assertions of an interrupt reach the guest late; `interrupt_spurious` (`source`, `vcpu`?): raise an interrupt once with no cause behind it; `device_failure` (`device`?, `count`?): a device fails its next requests: virtio-blk completes them with IOERR, virtio-net drops received frames; `link_down` (`device`?, `cycles`?): a network card loses its link, as a cable pulled out: the driver is told (a configuration-change interrupt; status without LINK_UP), and every frame it sends or is sent is lost until the link comes back; `link_up` (`device`?): a network card's link comes back, as a cable plugged in again: the driver is told (a configuration-change interrupt; status with LINK_UP), and a return `link_down` had planned is cancelled.
---@return vmlab.FaultInfo[] faults
function vmlab.faults() end

---The path of a bundled guest ELF, built from labs/guests first if it is missing or stale: `vmlab.guest "tinyos"` is `.build/guests/tinyos/tinyos.elf`, `vmlab.guest "isa/rv64i"` is `.build/guests/isa/rv64i.elf`. A folder is checked once per process: sources edited while a script runs are built by its next run. The checkout is found from `VMLAB_ROOT`, else above the vmlab executable, else above the current directory. An unknown name or a failed build (for instance when the toolchain's clang is missing) raises an error with the build's messages: a lab cannot go on without its guest.
---@param name string `folder` or `folder/program`, as under labs/guests.
---@return string path
function vmlab.guest(name) end

---Unsigned hexadecimal text of a 64-bit integer, "0x"-prefixed: `vmlab.hex(-1)` is "0xffffffffffffffff".
---@param x integer The integer; negative values print as their two's-complement bit pattern.
---@param digits? integer Minimum number of hex digits (zero-padded), 1 to 16.
---@return string text
function vmlab.hex(x, digits) end

---A host: the physical machine a VMM runs on. `host:vm{...}` builds VMs whose RAM is carved out of the host's (a VM can never reach outside its carve-out), and `host:run` time-shares the host between them.
---@param options? vmlab.HostOptions
---@return vmlab.Host host
function vmlab.host(options) end

---Declares a check. Without `body` the check is pending (reported as skipped).
---@param name string
---@param body? function
function vmlab.it(name, body) end

---Reads a snapshot file written by `snapshot:save`, for `vm:restore` on a VM built with the same options as the one it was taken of (in this process or another: a cold migration across runs). A file that is missing, not a snapshot file, of another format, truncated, damaged (its checksum) or malformed raises, naming the file and what is wrong; what it holds is checked again against the VM by `vm:restore`, which changes nothing when it does not fit.
---@param path string The file.
---@return vmlab.Snapshot snapshot
function vmlab.load_snapshot(path) end

---Declares a check that is not written yet, or that cannot run here (reported as skipped, with `reason` beneath its SKIP line): `if not found then pending("against QEMU", "qemu-system-riscv64 not found") else it(...) end`.
---@param name string
---@param reason? string Why it is skipped, shown beneath the SKIP line (and as JUnit's `<skipped message>`).
function vmlab.pending(name, reason) end

---The Popek–Goldberg checker: executes every sensitive instruction of RV64 (every CSR instruction on a supervisor- or machine-level CSR, the counters, sret, mret, wfi, sfence.vma) at the guest kernel's privilege under the given configuration and reports which trap. The ISA is classically virtualisable when every sensitive instruction traps. A misspelt option, a bad value or an unknown hole raises.
---@param options? vmlab.PopekGoldbergOptions
---@return vmlab.PopekGoldbergReport report
function vmlab.popek_goldberg(options) end

---An Ethernet switch for the `nics` of VMs: it learns the source address of each frame, sends a frame for a known address to that card only, and floods broadcasts, multicasts and unknown addresses to every other card, in the order they were plugged in. A card leaves it when its VM is closed.
---@param options? vmlab.SwitchOptions
---@return vmlab.Switch switch
function vmlab.switch(options) end

---Builds a machine (QEMU `virt` board: RAM at 0x80000000, UART, CLINT, PLIC, virtio-mmio, test finisher) with the images loaded and the harts at their entry; nothing runs until `vm:run`. A misspelt option or a malformed value (a wrong type, a size that does not parse, a negative number) raises; a machine that cannot be built as asked (a missing or malformed file, images that do not fit in RAM, a RAM size the board does not take: under 1 MiB, over 1 TiB, not whole 4 KiB pages) returns `nil, message`.
---@param options vmlab.VMOptions
---@return vmlab.VM vm
---@return string message # Why the VM could not be built.
function vmlab.vm(options) end

---One frame of `switch:frames()`.
---@class vmlab.CapturedFrame
---@field card string The address of the card that sent it (the switch port's card, whatever the frame's own source field says).
---@field time integer The sender's guest time when it sent the frame, in ticks of the 10 MHz timebase (`mtime`).
---@field destination? string The frame's destination address (ff:ff:ff:ff:ff:ff for a broadcast).
---@field source? string The frame's source address, as the guest wrote it.
---@field ethertype? integer The frame's EtherType (0x0800 IPv4, 0x0806 ARP, ...). The three header fields are absent for a frame shorter than a header.
---@field length integer Bytes in the frame (headers included, no frame check sequence).
---@field bytes string The whole frame.
local vmlab_CapturedFrame = {}

---What `vmlab.compare` returns: a plain table of the runs with methods to print and export them. The methods read the table, so rows a script removed are not printed.
---@class vmlab.Comparison
---@field guest string The guest that ran.
---@field profile string The cost profile that priced every cycle, with its edits.
---@field baseline string The mode `ratio` is relative to: "native" when it ran, else the first mode.
---@field n? integer The iterations asked of every benchmark.
---@field rows vmlab.ComparisonRow[] One row per (benchmark, mode), benchmarks outer, modes inner.
local vmlab_Comparison = {}

---Prints `:text()` with `print`: a title naming the guest, the profile and the baseline, then one line per row (instructions, cycles, ratio, traps, exits, TLB misses, and the cycles of every category that has any).
function vmlab_Comparison:print() end

---The table `:print()` prints.
---@return string text
function vmlab_Comparison:text() end

---CSV (RFC 4180, CRLF line ends): a header, then one line per row with the guest and the profile in every line, and a `cycles_<category>` column for every category.
---@return string csv
function vmlab_Comparison:csv() end

---JSON: `{ guest, profile, baseline, n, rows = [...] }` with each row's fields and `by_category`; keys in a fixed order.
---@return string json
function vmlab_Comparison:json() end

---Writes `:csv()` to a file; `true`, or `nil, message` when the file cannot be written.
---@param path string
---@return boolean ok
---@return string message
function vmlab_Comparison:write_csv(path) end

---Writes `:json()` to a file; `true`, or `nil, message` when the file cannot be written.
---@param path string
---@return boolean ok
---@return string message
function vmlab_Comparison:write_json(path) end

---One run of a comparison: a benchmark under a mode, boot to poweroff.
---@class vmlab.ComparisonRow
---@field bench string The benchmark.
---@field mode string The mode, or the `label` of its entry in `modes`.
---@field instructions integer Guest instructions retired.
---@field cycles integer Modelled cycles of the whole run.
---@field ratio number `cycles` over the baseline row's of the same benchmark (1.0 for the baseline).
---@field by_category table<string, integer> Cycles by category, as `vm:stats().cycles.by_category`.
---@field traps integer Traps taken (exceptions and interrupts).
---@field exits integer VM exits (0 where no VMM runs).
---@field tlb_misses integer TLB misses (`vm:stats().tlb.misses`).
---@field walk_references integer Page-table entries the page walker read or wrote back (`vm:stats().walk.references`).
---@field mmio integer Device register accesses.
---@field result string The benchmark's result line (`bench=NAME iterations=N status=ok ...`), or "".
---@field guest_cycles? integer The cycles the guest measured itself around its timed loop (its `# bench=` line).
---@field guest_instructions? integer The instructions the guest measured itself around its timed loop.
---@field guest_ratio? number `guest_cycles` over the baseline row's.
local vmlab_ComparisonRow = {}

---A cost profile (`vmlab.costs`): a plain table of prices with methods. `tostring` lists every price with its basis. Pass it as `vmlab.vm{ profile = p }` or to `vmlab.costs(p, edits)`; changing a field in place is an edit too.
---@class vmlab.CostProfile
---@field name string The built-in profile it is, or was edited from.
---@field description string The name with its edits, as results print it: `classic-2006 (edited: vm_entry=1000)`.
---@field summary string What machine the profile describes.
---@field clock_hz integer The core clock converting cycles to time (not editable).
---@field clock_source string Where the clock rate comes from.
---@field edits string[] Events whose price was edited, in taxonomy order.
---@field instruction integer Price in cycles of one event: a guest instruction retired: executed directly, or completed by the VMM after a trap or callout (which charges its own work on top) (category `guest`).
---@field csr_write integer Price in cycles of one event: the extra cost of a privileged CSR write executed by the hardware (it serialises the pipeline) (category `guest`).
---@field walk_reference integer Price in cycles of one event: one page-table entry read or written back by a page walk (hardware or VMM software) (category `mmu`).
---@field tlb_miss integer Price in cycles of one event: fixed cost of a TLB miss beyond its walk references (category `mmu`).
---@field tlb_flush integer Price in cycles of one event: a TLB flush (sfence.vma, or a satp write on an untagged TLB) (category `mmu`).
---@field trap integer Price in cycles of one event: an exception taken by the hardware: trap entry and return (category `trap`).
---@field interrupt integer Price in cycles of one event: an interrupt taken by the hardware: trap entry and return (category `trap`).
---@field firmware_call integer Price in cycles of one event: a trap into M-mode firmware (an SBI call) serviced and returned (category `trap`).
---@field exception_reflected integer Price in cycles of one event: the VMM delivering a guest exception to the guest kernel in software (category `trap`).
---@field interrupt_injected integer Price in cycles of one event: the VMM injecting a virtual interrupt into a guest (category `trap`).
---@field vm_exit integer Price in cycles of one event: a VM exit: guest state saved, VMM state loaded (category `exit`).
---@field vm_entry integer Price in cycles of one event: a VM entry: VMM state saved, guest state checked and loaded (category `exit`).
---@field vmcs_read integer Price in cycles of one event: one read of a VM control structure field by the VMM (category `exit`).
---@field vmcs_write integer Price in cycles of one event: one write of a VM control structure field by the VMM (category `exit`).
---@field world_switch integer Price in cycles of one event: a hosted VMM's round trip between the VMM world and the host OS (category `exit`).
---@field privileged_emulated integer Price in cycles of one event: VMM software decoding and emulating one trapped privileged instruction (category `emulation`).
---@field bt_callout integer Price in cycles of one event: a privileged instruction in translated code emulated by a call into the VMM (category `emulation`).
---@field bt_inline integer Price in cycles of one event: a privileged instruction emulated inline in translated code (category `emulation`).
---@field bt_inline_csr integer Price in cycles of one event: a CSR access emulated inline in translated code as a load or store of the virtual register (category `emulation`).
---@field shadow_fault integer Price in cycles of one event: VMM software handling a hidden page fault: guest walk and shadow fill (category `emulation`).
---@field traced_write integer Price in cycles of one event: VMM software emulating a trapped store to a write-protected guest page table (category `emulation`).
---@field traced_write_inline integer Price in cycles of one event: a store to a guest page table emulated by adapted translated code (category `emulation`).
---@field hypercall integer Price in cycles of one event: a hypercall: entry into the VMM and return (category `hypercall`).
---@field pv_update integer Price in cycles of one event: one page-table update validated and applied inside a (batched) hypercall (category `hypercall`).
---@field translation integer Price in cycles of one event: translating one guest instruction into the translation cache (category `translation`).
---@field bt_indirect_jump integer Price in cycles of one event: an indirect jump in translated code (a return, an indirect call, a jump table), beyond its own cycle: finding the translation of its target (category `translation`).
---@field mmio_access integer Price in cycles of one event: a device register access on real hardware (category `device`).
---@field device_emulated integer Price in cycles of one event: VMM software emulating one trapped device register access (category `device`).
---@field dma integer Price in cycles of one event: a device model moving one 64-byte line of guest memory (category `device`).
---@field interpretation integer Price in cycles of one event: a guest instruction run by the software CPU (instead of `instruction`) (category `interpretation`).
local vmlab_CostProfile = {}

---Every price as a plain table: event → cycles.
---@return table<string, integer> prices
function vmlab_CostProfile:table() end

---Where the price of `event` comes from: a citation or a derivation.
---@param event string
---@return string source
function vmlab_CostProfile:source(event) end

---How the price of `event` was obtained: "measured", "derived", "estimate", "convention" or "edited".
---@param event string
---@return string basis
function vmlab_CostProfile:basis(event) end

---What a hook receives: a plain table describing one event, after it took effect.
---@class vmlab.Event
---@field kind "trap"|"exit"|"privileged"|"hypercall"|"shadow_fault"|"traced_write"|"translation"|"callout"|"page_walk"|"tlb_flush"|"interrupt_injected"|"mmio"|"dma"|"world_switch"|"iommu_fault" The event's kind (the name `vm:on` was given).
---@field vcpu integer The vCPU it happened on.
---@field cause? string For traps, exits, hypercalls: `ecall_u`, `store_page_fault`, `sbi_time`...
---@field cause_code? integer The cause as `mcause`/`scause` encodes it (interrupts with bit 63 set).
---@field pc integer The guest pc of the instruction concerned (for an interrupt, where the guest was).
---@field address? integer A trap's value (faulting address), a device register's or DMA's physical address, a page walk's virtual address.
---@field value? integer The value read or written (MMIO).
---@field insn? integer For an exit: the bits of the instruction that trapped (16 bits when compressed; `vmlab.disasm(ev.insn)`), read through the guest's own page tables; absent when they do not map it for a fetch.
---@field size? integer The access size in bytes (MMIO), or bytes moved (DMA).
---@field write? boolean Whether the access was a write.
---@field privilege "user"|"supervisor"|"machine" The privilege the guest was in.
---@field asid? integer The ASID in use.
---@field references? integer Page-table entries a walk read or wrote back.
---@field instructions integer The guest's instructions retired when it happened.
---@field cycles integer The guest's modelled cycles when it happened.
local vmlab_Event = {}

---Matchers about one value. They are called with a dot: `expect(x).to_equal(y)`; a failed matcher raises an error naming the line of the check.
---@class vmlab.Expectation
---@field never vmlab.Expectation The same matchers, negated: `expect(x).never.to_equal(y)`.
---@field to_equal fun(expected: any) Equal values; tables are compared deeply.
---@field to_be fun(expected: any) The very same value (`==`).
---@field to_be_truthy fun() Neither nil nor false.
---@field to_be_falsy fun() nil or false.
---@field to_be_nil fun() nil.
---@field to_be_a fun(type_name: string) `type(value)` (or `math.type` for "integer"/"float") is `type_name`.
---@field to_match fun(pattern: string) A string in which the Lua pattern is found.
---@field to_raise fun(pattern?: string) A function that raises an error (whose message contains the Lua pattern, if given).
---@field to_be_near fun(expected: number, tolerance: number) A number within `tolerance` of `expected`.
local vmlab_Expectation = {}

---One injector of `vmlab.faults()`.
---@class vmlab.FaultInfo
---@field name string What `vm:inject{ fault = ... }` calls it.
---@field summary string What it does.
---@field parameters { name: string, type: string, meaning: string, required: boolean }[] Its parameters; `type` is "integer", "string" or "integer|string".
local vmlab_FaultInfo = {}

---What `vm:inject` takes: the injector, its parameters (see `vmlab.faults()`), and `at`.
---@class vmlab.FaultSpec
---@field fault "bitflip_memory"|"bitflip_register"|"bitflip_pte"|"interrupt_drop"|"interrupt_delay"|"interrupt_spurious"|"device_failure"|"link_down"|"link_up" The injector.
---@field at? { instructions: integer?, cycles: integer?, pc: integer|string?, event: string?, count: integer? } When it fires, one trigger: the guest's retired instructions reach `instructions`; its modelled clock reaches `cycles`; it is about to execute `pc` (an address or a symbol); right after the `count`th (default 1) event of kind `event` from now. Without `at`: now.
local vmlab_FaultSpec = {}

---A hook, breakpoint or watchpoint on a VM. `:remove()` (or `:close()`, or the end of a `<close>` variable's scope) takes it away; removing twice is harmless.
---@class vmlab.Hook
local vmlab_Hook = {}

---Takes the hook, breakpoint or watchpoint away (also from inside a hook: it runs no more).
function vmlab_Hook:remove() end

---Releases the resources this handle holds.
function vmlab_Hook:close() end

---A host made by `vmlab.host`. Closing it closes its VMs and releases its RAM.
---@class vmlab.Host
local vmlab_Host = {}

---Builds a VM on this host: the options of `vmlab.vm`, with a VMM mode (default the first available: "interpret"; "native" is no VMM, so it is refused). Its RAM is carved out of the host's; a host without room for it returns `nil, message`.
---@param options vmlab.VMOptions
---@return vmlab.VM vm
---@return string message
function vmlab_Host:vm(options) end

---Runs the VMs round robin, `slice` instructions each turn, until none can run on, one stops for a reason the script asked for (a breakpoint, watchpoint or hook: `details.vm` is that VM), or a budget (instructions or cycles, summed over the VMs) is used. What a guest does to itself never stops the others: a VM that powers off, resets or halts (a trap no firmware handles; or a hart stuck on its trap vector, which a script may mend: the next `host:run` tries it again) drops out and the rest run on. When none is left running, the result is `"idle"` if one waits, else the end of the last VM in creation order (`details.vm` when there is one VM); `host:stats().vms[i].stop` says why each VM stopped. Hooks of every VM fire as in `vm:run`.
---@param budget? vmlab.HostRunOptions
---@return "budget"|"poweroff"|"reset"|"breakpoint"|"watchpoint"|"hook"|"idle"|"halted" reason
---@return { message: string, vm: vmlab.VM? } details
function vmlab_Host:run(budget) end

---The host's counters and its VMs (see `vmlab.HostStats`).
---@return vmlab.HostStats stats
function vmlab_Host:stats() end

---The host's open VMs, in creation order.
---@return vmlab.VM[] vms
function vmlab_Host:vms() end

---Releases the resources this handle holds.
function vmlab_Host:close() end

---What `host:stats()` returns: a plain table.
---@class vmlab.HostStats
---@field cycles integer Host time in modelled cycles: the sum of every VM turn's cycles.
---@field switches integer Changes of VM made by the scheduler.
---@field memory integer Host RAM in bytes.
---@field free_memory integer Host RAM not carved out.
---@field vms { name: string, mode: string, memory: integer, instructions: integer, cycles: integer, stop: string?, stop_message: string? }[] The VMs, in creation order. `stop` and `stop_message` say why a VM's last turn ended (absent before its first), as `vm:run` names it: `"budget"` for one that used its slice, `"poweroff"`, `"halted"` (also a hart stuck on its trap vector) or `"idle"` for one that dropped out.
local vmlab_HostStats = {}

---How the IOMMU translates one device's DMA (the RISC-V IOMMU's device context).
---@class vmlab.IOMMUContext
---@field device integer The device ID: the virtio-mmio slot (0 at 0x10001000).
---@field mode "bare"|"second_stage" "second_stage": its addresses are guest-physical, translated by a G-stage table; "bare": machine addresses.
---@field root? integer The G-stage table's root (machine address; the same table as the vCPUs' hgatp).
---@field gscid? integer The guest-soft-context ID its IOTLB entries are tagged with (the VM's VMID).
local vmlab_IOMMUContext = {}

---A DMA the IOMMU refused (`vm:iommu().faults`; the event `iommu_fault` reports each as it happens).
---@class vmlab.IOMMUFault
---@field cause "read_access_fault"|"write_access_fault"|"read_guest_page_fault"|"write_guest_page_fault"|"device_context_not_valid" The fault: a guest-page fault (the G stage does not map the page for the access), an access fault (the page is not RAM a device may reach) or a device without a context.
---@field cause_code integer The RISC-V IOMMU's cause code (21, 23, 5, 7, 258).
---@field device integer The device ID.
---@field address integer The address the device presented (guest-physical), or for an access fault the machine address it translated to.
---@field write boolean Whether the device was writing memory.
local vmlab_IOMMUFault = {}

---A `hw` VM's IOMMU (`vm:iommu()`).
---@class vmlab.IOMMUView
---@field contexts vmlab.IOMMUContext[] Each device's context, by device ID (the virtio slot).
---@field iotlb vmlab.IOTLBEntry[] The IOTLB's entries, oldest first (it replaces in order of arrival).
---@field iotlb_capacity integer Its entries at most (`hw = { iotlb = }`).
---@field faults vmlab.IOMMUFault[] The most recent faults, oldest first (at most 64; `counters.faults` counts them all).
---@field counters { translations: integer, iotlb_hits: integer, iotlb_misses: integer, walk_references: integer, faults: integer, invalidations: integer } As `vm:stats().technique.iommu`.
local vmlab_IOMMUView = {}

---One cached DMA translation (`vm:iommu().iotlb`).
---@class vmlab.IOTLBEntry
---@field gscid integer The context's tag.
---@field guest_physical integer The first guest-physical address of the page.
---@field machine integer Where that page is in the machine.
---@field page_size integer 4096, 2 MiB or 1 GiB: the G-stage leaf's level.
---@field readable boolean A device may read it.
---@field writable boolean A device may write it (W and D set).
local vmlab_IOTLBEntry = {}

---A fault that fired (`vm:stats().faults`).
---@class vmlab.InjectedFault
---@field id integer What `vm:inject` returned.
---@field fault string The injector.
---@field parameters table<string, integer|string> The parameters it was given, by name (without `fault` and `at`).
---@field trigger string When it was set to fire, in words.
---@field instructions integer The guest's retired instructions when it fired.
---@field cycles integer The guest's modelled cycles when it fired.
---@field pc integer Where the vCPU was.
---@field effect string What it did, in a sentence.
local vmlab_InjectedFault = {}

---One nested TLB entry (`vm:tlb { which = "nested" }`): a G-stage translation.
---@class vmlab.NestedTLBEntry
---@field vmid integer The VMID of the guest whose G stage it caches.
---@field guest_physical integer The guest physical address of the page's first byte.
---@field pa integer The host physical address of the page's first byte.
---@field page_size integer 4096, 2 MiB or 1 GiB: the G-stage leaf's level.
local vmlab_NestedTLBEntry = {}

---A page walk (`vm:page_tables`).
---@class vmlab.PageWalk
---@field va integer The address walked.
---@field which string "guest", "shadow" or "nested".
---@field view? string Under `trap` and `bt`: "kernel" or "user".
---@field mode string "bare", "sv39", "sv48" or "sv57".
---@field root integer The root table's address (0 for bare).
---@field levels vmlab.PageWalkLevel[] The PTEs read, root first.
---@field ok boolean Whether the walk translates `va`.
---@field physical? integer Where `va` maps to (guest-physical for "guest", machine-physical for "shadow").
---@field page_size? integer The size of the page the leaf maps (4096, 2 MiB, 1 GiB...).
---@field fault? string The exception the access would raise (`load_page_fault`...).
local vmlab_PageWalk = {}

---One page-table entry read by a walk.
---@class vmlab.PageWalkLevel
---@field level integer Its level: the root's is the highest, 0 maps 4 KiB pages.
---@field pte_address integer Where the entry is.
---@field pte integer Its value.
---@field flags { v: boolean, r: boolean, w: boolean, x: boolean, u: boolean, g: boolean, a: boolean, d: boolean } The permission and status bits 0–7 (privileged spec, "Sv39").
---@field flags_text string The same bits as text, `DAGUXWRV` with `-` for a clear bit.
---@field leaf boolean Whether it is a leaf (valid, with R or X set).
---@field next integer The address its PPN names: the next table, or the page for a leaf.
---@field stage? string In a "nested" walk: "guest" (the guest's own tables; `pte_address` host-physical, `guest_physical` where the guest put it) or "host" (the VMM's G stage).
---@field guest_physical? integer In a "nested" walk, for a guest entry: its guest physical address.
local vmlab_PageWalkLevel = {}

---What `vmlab.popek_goldberg` found.
---@class vmlab.PopekGoldbergReport
---@field virtualisable boolean Every sensitive instruction traps: trap-and-emulate suffices (Popek and Goldberg's theorem 1).
---@field summary string The verdict in one line, naming up to ten violations.
---@field configuration { guest: string, tvm: boolean, tsr: boolean, tw: boolean, mcounteren: integer, scounteren: integer, holes: string[], description: string } The configuration checked.
---@field rows vmlab.PopekGoldbergRow[] Every instruction executed, in catalogue order.
---@field violations vmlab.PopekGoldbergRow[] The sensitive instructions that did not trap.
---@field table string Markdown, condensed: forms of one CSR that behave alike share a line.
---@field violations_table string The condensed table of the violations only (empty when there are none).
---@field full_table string Markdown, one line per instruction, with why it is sensitive.
local vmlab_PopekGoldbergReport = {}

---One instruction as the checker executed it.
---@class vmlab.PopekGoldbergRow
---@field instruction string Its text: `csrw sstatus, t1`, `sret`.
---@field name string The CSR it accesses, or the mnemonic.
---@field writes boolean A write form of a CSR instruction.
---@field class "control"|"behaviour" Popek and Goldberg's kind of sensitivity.
---@field sensitive boolean Sensitive for a guest kernel at the configured privilege.
---@field reason string Why it is sensitive.
---@field traps boolean It raised an exception when executed.
---@field cause? string The exception (`illegal_instruction`) when it trapped.
---@field effect string What it did: `traps (illegal_instruction)`, `the write is silently dropped`...
---@field verdict "traps"|"does not trap"|"guest state" "traps", "does not trap" (a violation) or "guest state" (not sensitive here).
local vmlab_PopekGoldbergRow = {}

---A `to` of `vm:run` that waits for events: the filter keys of `vm:on` (`cause`, `address`, `privilege`, `asid`, `vcpu`) may be added.
---@class vmlab.RunToEvent
---@field event "trap"|"exit"|"privileged"|"hypercall"|"shadow_fault"|"traced_write"|"translation"|"callout"|"page_walk"|"tlb_flush"|"interrupt_injected"|"mmio"|"dma"|"world_switch"|"iommu_fault" The kind of event.
---@field count? integer Stop after this many matching events of this run (default 1).
local vmlab_RunToEvent = {}

---A shadow entry that disagrees with the guest's tables, or a TLB entry the shadows no longer back (`vm:check_shadows`).
---@class vmlab.ShadowIncoherence
---@field satp integer The guest satp of the shadowed address space.
---@field view string "kernel" or "user".
---@field va integer The virtual address the entry maps.
---@field shadow_pte integer The shadow entry (for a TLB entry: the shadow's entry for its address, 0 if none).
---@field shadow_address integer Where it is (machine-physical; 0 when the shadow has no table there).
---@field problem string What is wrong.
---@field message string All of it in one line.
local vmlab_ShadowIncoherence = {}

---A VM's state at one moment (`vm:snapshot()`), which `vm:restore` goes back to. It lives in memory, up to the guest's RAM in size: `:close()` (or a `<close>` variable) lets go of it at once.
---@class vmlab.Snapshot
local vmlab_Snapshot = {}

---Where the snapshot was taken, as plain data (see `vmlab.SnapshotInfo`).
---@return vmlab.SnapshotInfo info
function vmlab_Snapshot:info() end

---The guest-physical addresses of the guest's RAM pages whose contents differ between `earlier` and this snapshot, in address order: what a pre-copy live migration that had sent `earlier` must send again (dirty pages, found by comparing contents). Both must be of VMs built with the same options.
---@param earlier vmlab.Snapshot
---@return integer[] pages
function vmlab_Snapshot:changed_pages(earlier) end

---Writes the snapshot to a file (`vmlab.load_snapshot` reads it back): a header, the saved state as JSON, the RAM pages it keeps as raw bytes, and a checksum. The file is written whole and then renamed into place, so a failed save leaves an existing file as it was. Disk images are not in it (only a copy-on-write disk's overlay is): a restore needs the same image files, and the file records the contents of each (but a writable disk's, whose file changes as the guest writes), so that `vm:restore` refuses an image whose contents differ.
---@param path string The file to write (replaced if it exists).
function vmlab_Snapshot:save(path) end

---Lets go of the snapshot's memory now rather than when Lua collects it (also at the end of a `<close>` variable's scope); closing twice is harmless.
function vmlab_Snapshot:close() end

---Where a snapshot was taken (`snapshot:info()`), and what the VM it was taken of was built with: the options a VM needs to take it (with the same disks, cards and policies), for a snapshot read from a file.
---@class vmlab.SnapshotInfo
---@field vm string The name of the VM it was taken of.
---@field instructions integer `vm:stats().instructions` then.
---@field cycles integer `vm:stats().cycles.total` then: the modelled clock.
---@field ram_bytes integer Bytes of guest RAM it keeps: only pages that were not all zero.
---@field mode string The VM's mode (`vmlab.vm { mode = }`).
---@field profile string The name of its cost profile (of the built-in one it was edited from, if it was).
---@field memory integer Its guest RAM, in bytes (`memory`).
---@field harts integer Its harts (vCPUs).
---@field bootargs string Its kernel command line.
---@field kernel? string The path of its kernel, when it was loaded from a file (not for `image =` bytes).
local vmlab_SnapshotInfo = {}

---The counters of `vm:stats()`: a plain table, summed over harts. Every count is an integer.
---@class vmlab.Stats
---@field profile string The cost profile that priced the cycles, with its edits: `classic-2006 (edited: vm_entry=1000)`.
---@field mode string The execution mode: "native", "interpret"...
---@field instructions integer Instructions retired.
---@field cycles { total: integer, by_category: table<string, integer>, by_event: table<string, { count: integer, cycles: integer }> } Modelled cycles: `total` is the machine's clock (the one `mtime` follows); `by_category` (`guest`, `mmu`, `trap`, `exit`, `emulation`, `hypercall`, `translation`, `device`, `interpretation`, and `waited`: WFI sleep and catching up with another hart) and `by_event` (every event of `vmlab.costs`, with its count) split the harts' work, priced by `profile`. With one hart `by_category` sums to `total`.
---@field traps { total: integer, exceptions: integer, interrupts: integer, by_cause: table<string, integer>, firmware: { total: integer, by_cause: table<string, integer> } } Traps taken, by cause name (`ecall_u`, `store_page_fault`, `supervisor_timer`...; every cause present); `firmware`: those the built-in SBI handled.
---@field tlb { hits: integer, misses: integer, flushes: integer, evictions: integer, nested_hits: integer, nested_misses: integer, pwc_hits: integer, pwc_misses: integer, fetch: { hits: integer, misses: integer }, load: { hits: integer, misses: integer }, store: { hits: integer, misses: integer }, flushes_by_kind: { full: integer, asid: integer, address: integer, satp: integer, host: integer } } The architectural TLB.
---@field walk { references: integer } Page-table entries read, or written back to set A/D, by the page walker.
---@field wfi integer WFI instructions that put a hart to sleep.
---@field mmio { accesses: integer } Device register accesses the guest made, whether the hardware performed them or the VMM did for it (under trap and bt), so that the same work counts the same in every mode; `cycles.by_event` prices them (`mmio_access`, `device_emulated`, `bt_inline`).
---@field exits { total: integer, by_cause: table<string, integer> } VM exits to the VMM by cause (every trap cause present; none under `native` and `interpret`).
---@field hypercalls { total: integer, by_cause: table<string, integer> } Calls into the VMM's virtual SBI by extension (`sbi_time`, `sbi_srst`...); under `native` the built-in firmware serves them (`traps.firmware`) and this is empty.
---@field privileged integer Privileged and CSR instructions the guest executed (counted while a hook or trigger observes them).
---@field dma { reads: integer, writes: integer, bytes_read: integer, bytes_written: integer } Device transfers to and from guest memory.
---@field nics { mac: string, frames_sent: integer, frames_received: integer, frames_dropped: integer, backlog: integer, link: "up"|"down" }[] Each network card (`nics`), in order: frames the guest sent and received, frames lost (no switch, a full backlog, a receive buffer too small, `device_failure`, sent or received while the link is down), frames waiting for the guest to post receive buffers, and its link (`link_down` takes it down).
---@field events table<string, integer> Events by kind (every kind of `vm:on` present), counted while some hook, `vm:run{ to = ... }` or fault trigger observes that kind.
---@field vcpus { instructions: integer, cycles: integer, traps: integer }[] Per vCPU: instructions, cycles priced by the technique, traps delivered.
---@field technique table<string, table<string, integer>> The technique's own counters, by group (`interpreter.instructions`, `hypercalls.sbi_time`...; under trap `trap`, `shadow`; under bt also `bt.blocks_translated`, `bt.callouts`, `bt.adaptations`..., `callouts_by_kind`, and `afterburn` with `bt={afterburn=true}`; under pv `pv`, `hypercalls`).
---@field faults vmlab.InjectedFault[] The faults that fired (`vm:inject`), in order, each with its effect.
---@field host? { cycles: integer, switches: integer, vms: integer } For a VM under a VMM: the host's modelled time, its VM switches, and how many VMs share it.
local vmlab_Stats = {}

---Details of why a run stopped (the second result of `vm:run`).
---@class vmlab.Stop
---@field message string A sentence for people.
---@field instructions integer Instructions retired during this run, over all harts.
---@field exit_code? integer The guest's exit code, for "poweroff".
---@field pc? integer For "breakpoint" and "reached" at a pc: the pc reached (not yet executed); for "watchpoint": the pc of the accessing instruction, which has completed (the hart's own pc is past it).
---@field hart? integer The hart (vCPU) at the breakpoint or watchpoint.
---@field address? integer For "watchpoint": the first watched byte the access touched (guest-physical).
---@field write? boolean For "watchpoint": whether the access wrote.
---@field stepped? boolean For `vm:step { vcpu = N }`: whether vCPU N executed its instruction.
local vmlab_Stop = {}

---An Ethernet switch made by `vmlab.switch()`; VMs plug cards into it with `nics = { { switch = sw } }`.
---@class vmlab.Switch
local vmlab_Switch = {}

---The switch's counters (see `vmlab.SwitchStats`).
---@return vmlab.SwitchStats stats
function vmlab_Switch:stats() end

---The frames the capture holds, oldest first (empty without `capture`).
---@return vmlab.CapturedFrame[] frames
function vmlab_Switch:frames() end

---Writes the capture to `path` as a libpcap file (Ethernet; each frame stamped with its sender's guest time), for Wireshark or tcpdump. Returns true, or `nil, message` when the file cannot be written.
---@param path string
---@return boolean ok
---@return string message
function vmlab_Switch:write_pcap(path) end

---What `switch:stats()` returns: a plain table.
---@class vmlab.SwitchStats
---@field frames_in integer Frames cards sent into the switch.
---@field frames_delivered integer Copies of frames handed to receiving cards (a flooded frame counts once per card).
---@field frames_flooded integer Frames sent to every other card: broadcast, multicast, or for an address the switch has not learnt.
---@field frames_dropped integer Frames the switch dropped: shorter than an Ethernet header, or for the card that sent them or for one that has left.
---@field ports integer Cards plugged in now.
---@field captured integer Frames the capture holds now (0 without `capture`).
---@field capture_discarded integer Frames the capture recorded and let go of to keep only the most recent `capture`.
local vmlab_SwitchStats = {}

---One valid TLB entry (`vm:tlb()`).
---@class vmlab.TLBEntry
---@field va integer The virtual address of the page's first byte.
---@field pa integer The physical address of the page's first byte (machine-physical under `trap` and `bt`).
---@field page_size integer 4096, 2 MiB, 1 GiB or 512 GiB: the leaf's level, kept whole (a superpage is one entry).
---@field asid integer The ASID of `satp` when it was filled: what it matches on a tagged TLB; an untagged one (`tlb = { tagged = false }`) records it and matches any.
---@field global boolean The PTE's G bit: it matches every ASID and survives an ASID's flush.
---@field vmid? integer Under `hw`: the VMID of the guest whose translation it caches, guest virtual to host physical with both stages combined (`va` is the guest's, `pa` the machine's, `asid` the one of `vsatp`, `flags` the VS-stage leaf's); absent for the host's own translations.
---@field flags { r: boolean, w: boolean, x: boolean, u: boolean, g: boolean, a: boolean, d: boolean } The leaf PTE's permission and status bits it caches.
---@field flags_text string The same bits as `vmlab.PageWalkLevel.flags_text` writes them (`DAGUXWRV`).
---@field set integer The set it is in (0 up to entries / ways - 1).
---@field way integer Its way within the set.
local vmlab_TLBEntry = {}

---A machine built by `vmlab.vm`. Close it (`vm:close()`, or `local vm <close> = ...`) to release its memory at once; a closed VM raises on use.
---@class vmlab.VM
local vmlab_VM = {}

---Runs until the guest stops, a budget is used up, it reaches `to`, or a breakpoint, watchpoint or hook stops it (no budget: until it stops). With `echo`, console output appears as it is written. A hook that raised an error stops the run, and `run` then raises that error (a message with the hook's traceback; any other error value unchanged). Not allowed inside a hook.
---@param budget? vmlab.RunOptions
---@return "budget"|"poweroff"|"reset"|"breakpoint"|"watchpoint"|"reached"|"hook"|"idle"|"halted" reason # "budget": a budget ran out (run again to go on); "poweroff" (test finisher, HTIF or SBI system reset; see `exit_code`) and "reset" end the guest for good: later runs return them again at once; "breakpoint" (`vm:breakpoint`), "watchpoint" (`vm:watch`), "reached" (the run reached its `to`) and "hook" (a hook returned "stop") can run on; "idle": every hart waits and nothing can wake one; "halted": the machine cannot go on (a trap that no firmware handles, or a hart stuck on a trap vector it cannot fetch: mtvec in M-mode, or a kernel's stvec with its translation off, under the built-in SBI or any VMM, and with its translation on once the same fault has come back 100000 times with no instruction retired; with several harts, once every hart is stuck so, stopped, or asleep in `wfi` with no interrupt enabled in `mie`; `pc`, `hart`; run again and it stops again).
---@return vmlab.Stop details
function vmlab_VM:run(budget) end

---Runs one instruction on the hart whose turn it is; hooks fire as in `run`. With `vcpu`, steps that vCPU: runs one instruction at a time, the other vCPUs taking their turns meanwhile, until it has executed one (retired it or trapped on it) — "budget" with `stepped = true` and `hart` — or another stop comes (a breakpoint another vCPU meets, an idle machine, the guest's end; `stepped` says whether the vCPU's instruction came first), or `max_instructions` pass with it not moving (asleep in `wfi`, or not started: "budget" with `stepped = false`; step again to wait longer). `instructions` counts the whole step, over all vCPUs.
---@param options? vmlab.StepOptions
---@return "budget"|"poweroff"|"reset"|"breakpoint"|"watchpoint"|"reached"|"hook"|"idle"|"halted" reason # "budget": a budget ran out (run again to go on); "poweroff" (test finisher, HTIF or SBI system reset; see `exit_code`) and "reset" end the guest for good: later runs return them again at once; "breakpoint" (`vm:breakpoint`), "watchpoint" (`vm:watch`), "reached" (the run reached its `to`) and "hook" (a hook returned "stop") can run on; "idle": every hart waits and nothing can wake one; "halted": the machine cannot go on (a trap that no firmware handles, or a hart stuck on a trap vector it cannot fetch: mtvec in M-mode, or a kernel's stvec with its translation off, under the built-in SBI or any VMM, and with its translation on once the same fault has come back 100000 times with no instruction retired; with several harts, once every hart is stuck so, stopped, or asleep in `wfi` with no interrupt enabled in `mie`; `pc`, `hart`; run again and it stops again).
---@return vmlab.Stop details
function vmlab_VM:step(options) end

---Everything the guest printed so far (UART, SBI console and HTIF, in order).
---@return string text
function vmlab_VM:console() end

---Queues bytes for the guest's console input (the UART receiver, and the SBI console under the built-in SBI).
---@param text string
function vmlab_VM:input(text) end

---The counters so far, as a plain nested table: `profile` (the cost profile's name, with edits), `instructions`, `cycles.total` (with `cycles.by_category` and `cycles.by_event` priced by the profile), `traps.{total,exceptions,interrupts}`, `traps.by_cause.<cause>` (every cause, 0 when it never happened), `traps.firmware.by_cause` (handled by the built-in SBI), `tlb.{hits,misses,flushes,evictions}`, `tlb.{nested_hits,nested_misses}` (the nested TLB's G-stage lookups), `tlb.{pwc_hits,pwc_misses}` (the page-walk cache's two-stage walks), `tlb.fetch/load/store.{hits,misses}`, `tlb.flushes_by_kind`, `walk.references`, `wfi`, `mmio.accesses`; and what the VMM adds: `mode`, `exits`, `hypercalls`, `privileged`, `dma`, `nics` (each network card's frames), `events` (by kind), `vcpus[i]`, `technique` (the technique's own counters), `faults` (each fault that fired, with its effect) and, under a VMM, `host`. Summed over harts. Readable at any time, also from inside a hook. With a dotted `path` (`vm:stats "tlb.hits"`, `"traps.by_cause"`, `"vcpus.1.cycles"`) only that part: a number, the profile's name or a table, computing only the top-level entry the path starts with (a hook that runs on every trap should ask for what it reads); a path that names nothing raises, naming what there is at that level.
---@param path? string
---@return vmlab.Stats|integer|string|table stats
function vmlab_VM:stats(path) end

---A register: "pc", "priv" ("M", "S" or "U"), "x5" or "t0", "f10" or "fa0" (raw bits), "csr.satp" or "csr.0x180". Integers are the 64-bit pattern as a Lua integer (≥ 2^63 reads negative; `vmlab.hex` prints it).
---@param register string
---@param options? vmlab.RegisterOptions
---@return integer|string value
function vmlab_VM:read(register, options) end

---Sets a register (names as `read`; "priv" takes "M", "S" or "U"). CSRs keep their WARL rules; writing x0 changes nothing.
---@param register string
---@param value integer|string
---@param options? vmlab.RegisterOptions
function vmlab_VM:write(register, value, options) end

---The kernel's and firmware's ELF symbols, and those given as `vmlab.vm`'s `symbols`: name → address, marked as symbols as `vmlab.asm`'s are (`vmlab.disasm(code, vm:symbols())`).
---@return table<string, integer> symbols
function vmlab_VM:symbols() end

---`length` bytes of guest memory: guest-physical by default (the VM's RAM), or guest-virtual through the guest's page tables (`{ space = "guest-virtual" }`). A physical range outside the VM's RAM raises; an unmapped virtual address returns `nil, message`.
---@param address integer
---@param length integer
---@param options? vmlab.MemoryOptions
---@return string bytes
---@return string message # Why a virtual address could not be read.
function vmlab_VM:read_memory(address, length, options) end

---Writes bytes into guest memory (spaces as `read_memory`); nothing is written unless every byte can be. The guest executes what was written (decoded instructions on those bytes are dropped). A physical range outside the VM's RAM raises; an unmapped virtual address returns `nil, message`.
---@param address integer
---@param bytes string
---@param options? vmlab.MemoryOptions
---@return boolean ok
---@return string message
function vmlab_VM:write_memory(address, bytes, options) end

---Loads machine code (`vmlab.asm`) into guest-physical memory at `address` and sets hart `hart`'s pc there, so that the next `vm:run` or `vm:step` runs it; every other register, the privilege and the rest of memory stay as they are. `address` defaults to where the VM's kernel (or `image`) was loaded. The guest executes what was written (decoded instructions on those bytes are dropped). A range outside the VM's RAM raises, and nothing is written.
---@param code string
---@param options? vmlab.LoadOptions
---@return integer address # Where the code was loaded.
function vmlab_VM:load(code, options) end

---The guest-physical address a guest-virtual address maps to now, through vCPU `vcpu`'s page tables (`satp`) at its current privilege (the guest's own under `trap` and `bt`, not the shadow's), as a load would translate it; with paging off, the address itself. No TLB fill, no A/D update, no trap. An unmapped address returns `nil, message`.
---@param va integer
---@param options? vmlab.VCPUOptions
---@return integer pa
---@return string message
function vmlab_VM:translate(va, options) end

---Calls `fn(event)` after every event of kind `event` that matches `filter` (checked in Swift, before Lua runs), while `vm:run`, `vm:step` or `host:run` runs this VM. Kinds: trap, exit, privileged, hypercall, shadow_fault, traced_write, translation, callout, page_walk, tlb_flush, interrupt_injected, mmio, dma, world_switch, iommu_fault (kinds a mode never produces simply never fire). The hook runs after the event took effect (a trap has been delivered, an MMIO access completed, a page walk finished), except `privileged`, which runs before the instruction's effect; it may read and write registers, CSRs and memory with `vm:read`, `vm:write`, `vm:read_memory`, `vm:write_memory`, and the changes are what the vCPU sees when it resumes. Returning "stop" (or false) stops the run after the current instruction (reason "hook"); returning nothing (or true) lets it go on, and any other value is an error. An error in the hook stops the run and `vm:run` raises it: a message as "error in a hook: " with the hook's message and traceback, any other value (`error({ code = 1 })`) unchanged, so `pcall` gets it back. It may not run or step the VM; closing it from a hook stops the run and closes it when the run returns.
---@param event "trap"|"exit"|"privileged"|"hypercall"|"shadow_fault"|"traced_write"|"translation"|"callout"|"page_walk"|"tlb_flush"|"interrupt_injected"|"mmio"|"dma"|"world_switch"|"iommu_fault"
---@param filter? vmlab.EventFilter|function What must match (may be omitted: `vm:on("trap", fn)`).
---@param fn? function `function(event: vmlab.Event): "stop"|boolean|nil`
---@return vmlab.Hook hook # Remove it with `hook:remove()` (or `:close()`, or a `<close>` variable).
function vmlab_VM:on(event, filter, fn) end

---Stops a run (reason "breakpoint", with `pc` and `hart`) before the instruction at a guest pc executes: an address, or a symbol of `vm:symbols()`. An unknown symbol raises.
---@param at integer|string A guest pc or a symbol name.
---@return vmlab.Hook breakpoint # `:remove()` it to run past it.
function vmlab_VM:breakpoint(at) end

---A watchpoint on guest memory: a run stops (reason "watchpoint", with `pc`, `address` and `write`) after an instruction that accessed the range as `access` says. Device memory cannot be watched (it raises), nor a virtual range that is not mapped.
---@param options vmlab.WatchOptions
---@return vmlab.Hook watchpoint
function vmlab_VM:watch(options) end

---Schedules a fault: `{ fault = NAME, <its parameters>, at = { instructions = N } | { cycles = N } | { pc = ADDRESS_OR_SYMBOL } | { event = KIND, count = N } }` (without `at`: now, before the next instruction). Faults fire deterministically, at the same instruction in every run, and each one that fired is listed in `vm:stats().faults` with its effect. An unknown fault or parameter, a missing required one or a bad value raises. Injectors: `bitflip_memory` (`address`, `bit`, `space`?, `vcpu`?): flip one bit of one byte of guest memory; `bitflip_register` (`register`, `bit`, `vcpu`?): flip one bit of an integer register or the pc of a vCPU; `bitflip_pte` (`address`, `bit`, `level`?, `vcpu`?): flip one bit of a page-table entry the guest's tables use for an address; `interrupt_drop` (`source`, `count`?, `vcpu`?): the next assertions of an interrupt are never delivered; `interrupt_delay` (`source`, `cycles`, `count`?, `vcpu`?): the next assertions of an interrupt reach the guest late; `interrupt_spurious` (`source`, `vcpu`?): raise an interrupt once with no cause behind it; `device_failure` (`device`?, `count`?): a device fails its next requests: virtio-blk completes them with IOERR, virtio-net drops received frames; `link_down` (`device`?, `cycles`?): a network card loses its link, as a cable pulled out: the driver is told (a configuration-change interrupt; status without LINK_UP), and every frame it sends or is sent is lost until the link comes back; `link_up` (`device`?): a network card's link comes back, as a cable plugged in again: the driver is told (a configuration-change interrupt; status with LINK_UP), and a return `link_down` had planned is cancelled.
---@param fault vmlab.FaultSpec The fault, its parameters and its trigger.
---@return integer id # The fault's number in `vm:stats().faults`.
function vmlab_VM:inject(fault) end

---The page walk of `va` as plain data: the PTEs read, root first (address, value, decoded flags), and where it ends (a physical address, or the fault the access would raise). Reads memory only: no TLB fill, no A/D update, no trap. `which = "shadow"` outside `trap`, `bt` and shadow-paging `hw` returns `nil, message`.
---@param options vmlab.PageTablesOptions
---@return vmlab.PageWalk walk
---@return string message # Why there is no such walk.
function vmlab_VM:page_tables(options) end

---The shadow coherence checker (under `trap`, `bt` and shadow-paging `hw`): every shadow entry that disagrees with the guest's tables now — mapping another page, or allowing what the guest's tables deny, or writable over a page-table page — and every entry in a vCPU's TLB that the shadows no longer back (its `problem` names the hart and machine ASID). An empty list means coherent. Other modes have no shadows: always empty.
---@return vmlab.ShadowIncoherence[] problems
function vmlab_VM:check_shadows() end

---The valid entries of a vCPU's TLB now, in set and way order, as plain data: what each maps (virtual and physical page, size), its ASID and global bit, its permissions, and where it sits (set, way). Reading changes nothing. Under `trap` and `bt` they are the shadow's entries (machine-physical, 4 KiB, U set, the VMM's ASIDs). With `which`, the entries of the hart's nested TLB or page-walk cache instead.
---@param options? vmlab.TLBReadOptions
---@return vmlab.TLBEntry[]|vmlab.NestedTLBEntry[]|vmlab.WalkCacheEntry[] entries
function vmlab_VM:tlb(options) end

---The IOMMU of a `hw` VM whose devices are assigned (`hw = { io = "assigned" }`) as it stands, as plain data: each device's context, the IOTLB's entries in the order they arrived, the most recent faults (up to 64, oldest first) and the counters of `vm:stats().technique.iommu`. Reading changes nothing. `nil` for a VM without one.
---@return vmlab.IOMMUView? iommu
function vmlab_VM:iommu() end

---The guest-physical addresses of the pages written since the dirty log was last cleared (at first: since the VM was built, so every page of its RAM), in ascending order, as the VMM keeps its log: under `hw` with nested paging the G stage's D bits, which the hart sets on a guest's store, and the pages the VMM's devices (by DMA) and `vm:write_memory` wrote, noted as they were written; under `trap`, `bt` and `hw` with shadow paging by write protection, the guest's first store to each page after a clear being a hidden fault, and what the VMM wrote itself (DMA, emulated stores, A/D bits, `vm:write_memory`) noted as written; under `interpret` from every store the software CPU makes (the first to each page after a clear takes its slow path) and every DMA or tool write. A page written back with what it held counts, unlike in `snapshot:changed_pages`. With `clear`, the log starts again from here. Reading is the VMM's work on another CPU, counted in `vm:stats().technique.dirty_log`, not charged to the guest; the guest pays for a clear afterwards (under nested paging the TLB misses of the flush and the walks that set D again; under shadow paging a write fault per page; under `interpret` nothing modelled). `native`, `pv`, and nested paging with `ad_bits = "fault"` keep no such log: `nil, message`. Not inside a hook.
---@param options? vmlab.DirtyPagesOptions
---@return integer[] pages
---@return string message # Why the VM keeps no dirty log.
function vmlab_VM:dirty_pages(options) end

---Hands the VM, where it stands, to GDB: waits for gdb-multiarch's `target remote :PORT` and serves GDB's remote protocol (registers and memory as `vm:read` sees them, breakpoints, watchpoints, harts as threads, `monitor stats`, `monitor tlb` and `monitor walk VA`; as `vmlab boot --gdb`) until GDB detaches ("detached": the VM stays where GDB left it, and the script goes on), kills the guest ("killed") or the guest powers off ("poweroff"). The script waits meanwhile; hooks fire as in `run`. A port that cannot be listened on returns `nil, message`. Not inside a hook.
---@param options? vmlab.GDBOptions
---@return "detached"|"killed"|"poweroff" reason
---@return vmlab.Stop details # The guest's last stop (for "poweroff", its exit code); or, on failure, why GDB could not be waited for.
function vmlab_VM:gdb(options) end

---The VM's whole state now, kept in memory: registers and CSRs of every vCPU, RAM, the TLBs, every device, the built-in firmware, the console so far, the modelled clock and the counters of `vm:stats()`. `vm:restore` goes back to it. Every mode, the VMM's state included (under `trap` its virtual CPU and shadow page tables, under `bt` also the translator's state and its translation cache, so that nothing is translated and paid for twice, under `pv` its domain's validated page tables, channels and grants, under `hw` its counters, timers, shadow pager or IOMMU); a VM alone on its private host takes the host's clock back too. Not inside a hook.
---@return vmlab.Snapshot snapshot
function vmlab_VM:snapshot() end

---Puts the VM back in the state `snapshot` holds: it then runs on exactly as it did from there, counters and modelled cycles included (a VM that powered off since runs again; under `bt` the engine builds its blocks again, counted in `block_cache` and `bt.blocks_translated` alone). The snapshot may also be another VM's, built with the same options (mode, profile, memory, harts, kernel, bootargs, disks, cards): a cold migration, which raises, naming the first difference, for a VM built otherwise. The console goes back to what it held; hooks, breakpoints, watchpoints, the profile and planned faults stay as they are (a fault planned for a point the restore goes back before fires again when the VM gets there), and so do the network cards' frame counts and `stats().events` and `faults`, which count what happened. A snapshot may be restored any number of times. Not inside a hook.
---@param snapshot vmlab.Snapshot
---@param options? vmlab.RestoreOptions
function vmlab_VM:restore(snapshot, options) end

---Releases the resources this handle holds.
function vmlab_VM:close() end

---One page-walk cache entry (`vm:tlb { which = "pwc" }`): where the guest's table for `level` is, for the addresses under `va`.
---@class vmlab.WalkCacheEntry
---@field vmid integer The guest's VMID.
---@field asid integer The guest's ASID (vsatp) when it was found.
---@field level integer The level of the table it points to (0: the leaf level).
---@field va integer The first guest virtual address the entry serves (it serves 512 times the size of one of that table's pages).
---@field table integer The table's guest physical address.
local vmlab_WalkCacheEntry = {}

---@class vmlab.AsmOptions
---@field base? integer Address of the first byte (default 0x80000000, where `vmlab.vm` loads an image).
---@field rvc? boolean Use compressed encodings where they fit, as if the source began `.option rvc` (default false: every instruction is 4 bytes).

---@class vmlab.BinaryTranslationOptions
---@field adapt_threshold? integer Traps a kernel store may take on a traced page-table page before it is retranslated into a callout that emulates it without a trap (VMware's adaptive binary translation; default 4; 0 never adapts).
---@field inline? boolean Emulate simple privileged instructions (reads and writes of virtual CSRs whose only effect is the CSR) inline in translated code, priced `bt_inline_csr`, rather than by a callout, `bt_callout` (default true).
---@field afterburn? boolean Patch the kernel's sensitive instructions once, at load time (L4Ka afterburning), instead of translating its code at run time (default false; see Afterburning in the Hypervisor documentation).

---@class vmlab.CompareMode
---@field mode string The mode (a name `modes` takes as a string).
---@field label? string The name of this entry's rows (`row.mode`) and of its column in the printed table (default: the mode's name). Two entries may share a mode, not a label.
---@field bt? vmlab.BinaryTranslationOptions The binary translator's policy, as `vmlab.vm`'s `bt` (mode "bt" only).
---@field pv? vmlab.ParavirtualOptions The para-virtual VMM's policy, as `vmlab.vm`'s `pv` (mode "pv" only).
---@field shadow? vmlab.ShadowOptions The shadow pager's policy, as `vmlab.vm`'s `shadow` (modes "trap" and "bt", and "hw" with `hw = { paging = "shadow" }`).
---@field hw? vmlab.HardwareAssistOptions The hardware-assisted VMM's policy, as `vmlab.vm`'s `hw` (mode "hw" only).

---@class vmlab.CompareOptions
---@field guest string A bundled guest (`"tinyos"`, built on demand as by `vmlab.guest`) or the path of a kernel ELF. Under mode "pv" a bundled guest runs as its para-virtual flavour (`tinyos-pv`: the same sources with the hypercall layer), since an unmodified kernel is refused there. Its command line is `bench=NAME n=N` and then `bootargs`; labs/guests/tinyos/README.md lists the benchmarks.
---@field bench string|string[] A benchmark name, or a list of them; each runs on a fresh VM under every mode. The bundled tinyos guests have syscall, pagefault, csr, ctxsw, fork, pte, mmio, disk, compute, tlb; another name raises before anything runs. A guest given by path is checked by what it prints: a result line `bench=NAME ... status=WORD` with a status other than `ok` raises.
---@field modes? (string|vmlab.CompareMode)[] The modes to compare (native, interpret, trap, bt, pv, hw), in row order (default: every available mode, "native", "interpret", "trap", "bt", "pv", "hw"). An entry may be a table that runs a mode with a policy under a label of its own: `{ mode = "bt", bt = { afterburn = true }, label = "afterburn" }`. Ratios are relative to native when it is listed, else to the first mode.
---@field profile? string|vmlab.CostProfile The cost profile every run is priced by (default "classic-2006").
---@field n? integer Iterations of every benchmark (`n=` on the command line; default: each benchmark's own).
---@field memory? string|integer RAM of every VM, as `vmlab.vm`'s `memory` (default 128M).
---@field bootargs? string More command-line words after `bench=` and `n=`, e.g. "pages=64".
---@field max_instructions? integer Instructions one run may take before the comparison fails (default 1e9).
---@field csv? string Also write the CSV to this file.
---@field json? string Also write the JSON to this file.

---@class vmlab.DirtyPagesOptions
---@field clear? boolean Clear the log after reading it (default false): under nested paging the G stage's D bits are cleared and every vCPU's TLB flushed, so that the next store to each page sets its D bit again (and 2 MiB G-stage leaves, `gstage_page_size`, are split into 4 KiB ones, as KVM does, so that the log tells their pages apart from then on: `huge_pages_split`); under shadow paging every shadow leaf is made read-only and every vCPU's TLB flushed, so that the next store to each page is a hidden fault; under `interpret` every page is marked clean and the software CPU's soft TLBs dropped, so that the next store to each page takes its slow path.

---@class vmlab.DisasmOptions
---@field base? integer Address of the first byte, used for branch and jump targets (default 0x80000000).
---@field aliases? boolean Print pseudo-instructions (`li`, `mv`, `ret`...) where one applies (default false: every instruction under its own mnemonic).
---@field symbols? table<string, integer> Names of addresses (name → address: `vmlab.asm`'s second result, `vm:symbols()`): a `name:` line before the instruction at each address, and `<name>` after a branch or jump target that has one. Give `base` too when the code was assembled at another base.

---@class vmlab.DiskOptions
---@field file string A raw disk image file, a whole number of 512-byte sectors (the device reads and writes whole sectors; a file with a partial last sector is refused: `vmlab.vm` returns nil and a message naming its size).
---@field writable? boolean Whether the guest's writes reach the file (default false: they stay in memory, copy-on-write, and the file never changes).
---@field slot? integer The virtio-mmio slot, 0 to 7 (slot n at 0x10001000 + n × 0x1000, PLIC source n + 1), as QEMU's `bus=virtio-mmio-bus.n`: xv6, for one, looks only at slot 0. Default: QEMU's order, the highest free slot (the first disk at 0x10008000). A slot that does not exist or is taken twice: `vmlab.vm` returns nil and a message.

---@class vmlab.EventFilter
---@field cause? string|string[] A cause name or a list of them: `ecall_u`, `store_page_fault`, `supervisor_timer`... (also `exception_N`, `interrupt_N`), `sbi_time`, `sbi_srst`... for SBI calls (`sbi_0xN` for an extension the SBI does not implement), `pv_mmu_update`, `pv_set_satp`... for para-virtual hypercalls (`pv_0xN` for an unknown call number), "fault" for a page walk that faulted. An unknown name raises, listing the valid ones.
---@field address? { [1]: integer, [2]: integer } `{ lo, hi }`, inclusive: the event's address (trap value, device register, page-walk address) must lie in it; events without an address do not match.
---@field privilege? "user"|"supervisor"|"machine" The privilege the guest was in.
---@field asid? integer The address-space identifier in use (events that carry one).
---@field vcpu? integer The vCPU (hart) the event happened on.

---@class vmlab.GDBOptions
---@field port? integer The TCP port on 127.0.0.1 to wait on (default 0: any free port); the line `vmlab: waiting for gdb on 127.0.0.1:PORT` on standard error names it.

---@class vmlab.HardwareAssistOptions
---@field paging? "nested"|"shadow" How the guest's addresses are translated: "nested" (default: the G stage, the guest's page tables its own, a TLB miss walks both stages) or "shadow" (shadow-on-hw, VT-x before EPT: the G stage off, the VMM's shadow tables in vsatp; page faults, satp accesses, fences, stores to the guest's page tables and device accesses exit; `shadow = {...}` sets the shadow pager's policy). Counted in `vm:stats().technique.shadow`.
---@field gstage_page_size? integer The size of the G stage's leaves, in bytes: 4096 (default: a TLB miss of an Sv39 guest reads 15 entries) or 2 MiB, 2097152 (the G walk ends a level sooner: 11 entries; a guest superpage keeps a 2 MiB TLB entry). Nested paging only.
---@field intercept? ("wfi"|"sret"|"satp")[] What else of the guest kernel exits, each emulated by the VMM (its execution controls; default none): "wfi" (hstatus.VTW), "sret" (VTSR), "satp" (VTVM: satp accesses and sfence.vma, as CR3 loads under VT-x without EPT). Counted in `vm:stats().technique.intercepted`.
---@field io? "emulated"|"assigned" How the guest reaches its virtio devices: "emulated" (default: every register access is a guest-page fault, an exit, performed by the VMM) or "assigned" (direct assignment behind an IOMMU: the G stage maps the virtio registers, so the guest drives the devices without exits, and their DMA goes through an IOMMU that translates the guest-physical addresses its driver programs by the guest's G-stage table and refuses any other; their interrupts still exit). Nested paging only. Counted in `vm:stats().technique.iommu`; refused DMA fires `iommu_fault` events.
---@field iommu? boolean With `io = "assigned"`: whether an IOMMU stands between the devices and memory (default true). `false` assigns them without one: their DMA goes to the machine addresses the guest's driver wrote, anywhere in the machine's RAM, the VMM's own memory included — unsafe, there to show why an IOMMU is needed (lab 11, part 6).
---@field iotlb? integer The IOMMU's IOTLB entries, with `io = "assigned"` (default 32, 1 to 256): translations cached per 4 KiB, 2 MiB or 1 GiB G-stage page; a miss walks the G-stage table (3 references for 4 KiB pages).

---@class vmlab.HostOptions
---@field memory? string|integer Host RAM the VMs are carved from, as `vmlab.vm`'s `memory` (default 1G; only pages a VM touches cost real memory).
---@field harts? integer Host harts, 1 to 64 (default 1).
---@field slice? integer Guest instructions per VM turn of the round-robin scheduler (default 100000).
---@field profile? string|vmlab.CostProfile The cost profile of VMs that do not name their own (default "classic-2006").

---@class vmlab.HostRunOptions
---@field max_instructions? integer Stop after this many instructions (summed over harts), retired or trapped: an instruction that raised an exception counts too, so a guest looping through faults comes back; one that a VMM traps and then emulates counts once, as retired. A trap a VMM takes for itself and the guest never sees (a hidden shadow fault) does not count, so the same budget takes a guest exactly as far in every mode; `vm:stats().instructions` counts retired ones only.
---@field max_cycles? integer Stop after this many modelled cycles.

---@class vmlab.LoadOptions
---@field address? integer Guest-physical address of the code's first byte (default: where the VM's kernel or `image` was loaded).
---@field hart? integer The hart (vCPU) whose pc is set to `address` (default 0).

---@class vmlab.MemoryOptions
---@field space? "guest-physical"|"guest-virtual" "guest-physical" (default: the VM's RAM, no translation) or "guest-virtual" (translated through the guest's page tables as they are in memory now, as vCPU `vcpu` would translate a load, or a store for a write, at its privilege now, under `trap` and `bt` the guest's own privilege and tables rather than the shadow the hart walks; no TLB fill, no A/D update, no trap). In a hook that is after the event: after a trap, the handler's privilege, which may not reach the user page the trap came from (an `exit` event carries its instruction as `insn`).
---@field vcpu? integer The vCPU whose translation "guest-virtual" uses (default 0).

---@class vmlab.NICOptions
---@field mac? string The card's address, "52:54:00:00:00:0a" (or with dashes), a unicast one. Default: QEMU's, 52:54:00:12:34:56 for the VM's first card without one, :57 for the next... so cards of two VMs on one switch need theirs given: the same address twice on a switch returns `nil, message`.
---@field switch? vmlab.Switch The switch its cable plugs into (`vmlab.switch()`). Without it (and without `loopback`) the cable plugs into nothing: frames sent are dropped and counted.
---@field loopback? boolean Frames the card sends come straight back to it (default false); not with `switch`.
---@field slot? integer The virtio-mmio slot, 0 to 7, as a disk's. Default: the highest slot still free once the disks have theirs.

---@class vmlab.PageTablesOptions
---@field va integer The guest-virtual address to walk.
---@field which? "guest"|"shadow"|"nested" "guest" (default: the guest's own tables, PTE addresses guest-physical) or "shadow" (under `trap`, `bt` and `hw` with `paging = "shadow"`: the tables the hart walks, PTE addresses machine-physical; other modes have none and return `nil, message`) or "nested" (under `hw` with nested paging: every entry the two-dimensional walk reads, the guest's and the VMM's G stage's, in order, each level with its `stage`; other modes return `nil, message`).
---@field view? "user"|"kernel" Under `trap` and `bt`: the guest kernel's ("kernel") or the guest user's ("user") view; default the view the vCPU is in now. Under `hw` with shadow paging, whose one shadow keeps the guest's U bits: the privilege the guest's tables are walked at (default that of the VMM's last walk). Other modes have one view and ignore it.
---@field vcpu? integer The vCPU whose satp the walk starts from, in modes other than `trap` and `bt` (default 0).

---@class vmlab.ParavirtualOptions
---@field batch_limit? integer Most page-table updates one `mmu_update` hypercall may carry (default 2048, Xen's).
---@field trust_kernel_linear_map? boolean Whether a supervisor-only global superpage over all RAM (the kernel's linear map) may cover page-table pages without counting as a writable mapping of them (default true; false checks strictly, as Xen does with 4 KiB mappings).
---@field trap_sret? boolean Set mstatus.TSR so each `sret` of the guest kernel traps and is emulated (default false).

---@class vmlab.PopekGoldbergOptions
---@field guest? "user"|"supervisor" Where the guest kernel runs: "user" (default: trap-and-emulate, ring compression) or "supervisor" (an M-mode VMM relying on TVM/TSR/TW).
---@field tvm? boolean mstatus.TVM: satp and sfence.vma trap from S-mode (default false).
---@field tsr? boolean mstatus.TSR: sret traps from S-mode (default false).
---@field tw? boolean mstatus.TW: wfi traps from S-mode (default false).
---@field mcounteren? integer Counters S-mode may read: bit 0 cycle, 1 time, 2 instret (default 0).
---@field scounteren? integer Counters U-mode may read, within `mcounteren` (default 0).
---@field holes? string[] Sensitive instructions made NOT to trap when executed with too little privilege (`SensitiveHole`): a deprivileged CSR read returns the real value (`csr_read:sstatus`, like x86's PUSHF), a deprivileged CSR write is silently dropped (`csr_write:sstatus`, like POPF), `sret`, `mret`, `wfi`, `sfence_vma` become no-ops. Names: sret, mret, wfi, sfence_vma, csr_read:NAME, csr_write:NAME, csr:NAME (both; NAME a CSR name such as sstatus, or a number such as 0x100), or a group: x86_like, supervisor_csrs, privileged_instructions. An unknown name raises.
---@field vm? vmlab.VM Start from a VM's configuration now: its hart 0's mstatus TVM/TSR/TW and counter enables, and its machine's holes (`vmlab.vm{ holes = ... }`); the other options override. `guest` defaults to "user" under `trap` and to "supervisor" otherwise.

---@class vmlab.RegisterOptions
---@field hart? integer The hart (vCPU; default 0).
---@field view? "guest"|"hardware" "guest" (default): the register as the guest sees it. Under `trap` and `bt` the guest kernel runs deprivileged, so "priv" and the supervisor CSRs (sstatus, sie, stvec, scounteren, senvcfg, sscratch, sepc, scause, stval, sip, satp) are the vCPU's, kept by the VMM; a write has the effects of the guest's own (a satp write switches the shadow, an unmasked interrupt is taken). Under `hw`, while the vCPU runs the guest, the supervisor CSRs with a VS counterpart (sstatus, sie, stvec, sscratch, sepc, scause, stval, sip, satp) are the hart's VS CSRs (vsstatus, ...), and with shadow paging satp is the guest's, kept by the VMM; "priv" is the guest's S or U (VS or VU). "hardware": the hart as the VMM runs it (under `trap` and `bt`: U-mode, the shadow's satp; under `hw`: the HS-mode CSRs). In the other modes both are the hart's.

---@class vmlab.RestoreOptions
---@field translation_cache? boolean Under `bt`: restore the translation cache the snapshot holds (default true). `false` restores the VM with an empty cache, as a VMM that did not save it would: the VM runs on as before, but translates, and pays `translation` for, every kernel instruction again as it next runs it (`bt.translated_instructions`).

---@class vmlab.RunOptions
---@field max_instructions? integer Stop after this many instructions (summed over harts), retired or trapped: an instruction that raised an exception counts too, so a guest looping through faults comes back; one that a VMM traps and then emulates counts once, as retired. A trap a VMM takes for itself and the guest never sees (a hidden shadow fault) does not count, so the same budget takes a guest exactly as far in every mode; `vm:stats().instructions` counts retired ones only.
---@field max_cycles? integer Stop after this many modelled cycles.
---@field to? integer|string|vmlab.RunToEvent Run to a point and stop there (reason "reached"): before the instruction at a guest pc (an integer, or a symbol of `vm:symbols()`: `vm:run{ to = "sys_getpid" }`), or after the `count`th event matching `{ event = "mmio", count = 3, <filter> }` (the filter keys of `vm:on`), counted from the start of this run.

---@class vmlab.ShadowOptions
---@field unshadow_after? integer Traced writes to a guest page-table page, with no shadow fault using a shadow table that mirrors it in between, after which that shadow table is dropped, and the page is no longer write-protected once no shadow mirrors it (write-flood detection, as KVM's shadow MMU; default 3, KVM's; 0 never unshadows: a page table the guest freed and reuses as memory stays traced while a cached shadow mirrors it).
---@field capacity? integer Guest address spaces (satp values: root and ASID) whose shadows the VMM keeps at once, the least recently used evicted (default 16, 1 to 256): 1 rebuilds the shadow, one hidden fault at a time, at every switch of address space.

---@class vmlab.StepOptions
---@field vcpu? integer The vCPU to step (default: the one whose turn it is).
---@field max_instructions? integer With `vcpu`: the most instructions the step waits for it (default 1000000).

---@class vmlab.SwitchOptions
---@field capture? integer Keep the most recent N frames that enter the switch (default 0: none), for `switch:frames()` and `switch:write_pcap(path)`: a port mirror, which records every frame whatever the switch then does with it.

---@class vmlab.TLBOptions
---@field entries? integer Entries in all (default 64), 1 to 65536; a multiple of `ways`.
---@field ways? integer Entries per set (default 4); `ways = entries` makes it fully associative, `ways = 1` direct-mapped.
---@field tagged? boolean Whether entries carry the ASID of `satp` (default true). With false, every `satp` write flushes the TLB, as an x86 CR3 load does without PCIDs; under `hw` every switch between the guest and the VMM does too, as VT-x without VPIDs.
---@field nested? integer Entries of a nested TLB (default 0: none), 0 to 256: G-stage translations (guest physical page to host physical page) a two-stage walk looks up before walking the G stage, for each VS-stage entry it reads and for the final address ([B08]'s NTLB), fully associative, FIFO. Hits and misses are `vm:stats().tlb.nested_hits` and `nested_misses`. Needs the hypervisor extension (mode "hw" or `h_extension = true`).
---@field pwc? integer Entries of a page-walk cache (default 0: none), 0 to 256: the guest's non-leaf page-table entries that two-stage walks read, so that a later walk under them starts at the deepest table it knows, skipping the upper levels' reads and their G walks ([B08]'s page-walk cache, Intel's paging-structure caches), tagged with the VMID, the guest's ASID and its root, fully associative, FIFO, dropped by every fence that reaches the guest. Hits and misses are `vm:stats().tlb.pwc_hits` and `pwc_misses`. Needs the hypervisor extension (mode "hw" or `h_extension = true`).
---@field keep_global? boolean With `tagged = false`: whether a `satp` write spares the global entries (PTE.G), as an x86 CR3 load spares global pages with CR4.PGE (Pentium Pro onwards); default false, everything goes, as on the 386 and 486. Given with a tagged TLB, it raises.

---@class vmlab.TLBReadOptions
---@field vcpu? integer The vCPU whose TLB to read (default 0).
---@field which? "tlb"|"nested"|"pwc" Which cache: "tlb" (default: the TLB's entries, `vmlab.TLBEntry`), "nested" (the nested TLB's G-stage translations, `vmlab.NestedTLBEntry`, in slot order; `tlb = { nested = N }`) or "pwc" (the page-walk cache's guest non-leaf entries, `vmlab.WalkCacheEntry`, in slot order; `tlb = { pwc = N }`). Empty for a hart without that cache.

---@class vmlab.VCPUOptions
---@field vcpu? integer The vCPU (default 0).

---@class vmlab.VMOptions
---@field mode? "native"|"interpret"|"trap"|"bt"|"pv"|"hw" How the guest runs: "native" (default: directly on the machine, no VMM) or "interpret" (the VMM runs it in a software CPU over RAM carved out of a private host: every instruction emulated and charged the profile's `interpretation` price) or "trap" (trap-and-emulate: the guest kernel runs deprivileged, every privileged instruction traps to the VMM, the MMU walks shadow page tables; see `vm:page_tables`) or "pv" (para-virtualisation: a kernel built for vmlab's hypercall interface, such as `vmlab.guest "tinyos-pv"`, runs in S-mode with TVM/TW set and makes hypercalls for page-table updates, address-space switches and its block I/O; an unmodified kernel's privileged instructions trap and are emulated, but a satp write must name a page table the VMM has validated, so a kernel that turns paging on by itself is refused with an illegal-instruction exception at that write) or "bt" (binary translation: the unmodified kernel runs deprivileged on shadow page tables as under "trap", but its code is translated block by block before it runs — sensitive instructions become callouts into the VMM or inline emulation instead of traps, and hot stores to page-table pages are retranslated (adaptive BT); user code runs directly; see `bt=`) or "hw" (hardware assistance: the guest's machine gets the H extension and the unmodified kernel runs in VS-mode, its CSRs, traps and interrupts its own; its page tables are walked in two stages over the VMM's G-stage tables (Sv39x4, 4 KiB pages: 15 references per TLB miss where a native walk makes 3); only SBI calls, device register accesses and the external interrupt line exit to the VMM, each priced `vm_exit` + `vm_entry`).
---@field memory? string|integer RAM at 0x80000000: bytes, or text with a binary unit ("128M", "1G"). Default 128M.
---@field harts? integer Number of harts, 1 to 64 (default 1). Modes `trap` and `bt` run one vCPU and refuse more.
---@field firmware? string "builtin" (vmlab's SBI in Swift), "none" (the kernel runs bare-metal in M-mode) or the path of an M-mode firmware ELF such as OpenSBI's fw_jump.elf. Default: builtin, or none for a kernel ELF loaded at 0x80000000 and for an `image` under native and interpret.
---@field kernel? string Path of the kernel ELF (or raw image) — `vmlab.guest "tinyos"`.
---@field initrd? string Path of an initial RAM disk.
---@field bootargs? string The kernel command line (/chosen/bootargs); a NUL byte in it raises (the device tree's C string would end there).
---@field disks? vmlab.DiskOptions[] virtio-blk disks, each in its `slot` or else in QEMU's order (the first at 0x10008000, the next below it).
---@field nics? vmlab.NICOptions[] virtio-net cards (virtio 1.2 §5.1: a MAC, link up, no offloads), in the slots the disks leave, from the top. Cards on one `vmlab.switch()` exchange Ethernet frames; see `vm:stats().nics`.
---@field virtio_console? boolean A virtio-console (one port, virtio 1.2 §5.3) after the disks and cards: what the guest writes to it joins `vm:console()`, and `vm:input` reaches it as it reaches the UART (default false).
---@field rng? boolean|integer A virtio-rng (virtio 1.2 §5.4) after the disks, cards and console: `true` draws from vmlab's default seed, an integer from that seed (its 64 bits). The bytes are a SplitMix64 stream, the same in every run with the same seed; not cryptographic.
---@field pv? vmlab.ParavirtualOptions The para-virtual VMM's policy (mode "pv" only; see HypercallABI in the Hypervisor documentation).
---@field bt? vmlab.BinaryTranslationOptions The binary translator's policy (mode "bt" only; see BinaryTranslation in the Hypervisor documentation).
---@field shadow? vmlab.ShadowOptions The shadow pager's policy (modes "trap" and "bt", and "hw" with `hw = { paging = "shadow" }`, which shadow the guest's page tables; see TrapAndEmulate in the Hypervisor documentation).
---@field hw? vmlab.HardwareAssistOptions The hardware-assisted VMM's policy (mode "hw" only; see HardwareAssisted in the Hypervisor documentation).
---@field image? string Raw machine code (`vmlab.asm`): loaded at 0x80000000 and entered in M-mode, without firmware; or, with a firmware (`firmware = "builtin"`, the default under trap, bt and pv), the kernel, loaded at 0x80200000 and entered in S-mode.
---@field symbols? table<string, integer> More names of guest addresses, for `vm:symbols()`, `vm:breakpoint` and `vm:run{ to = }`: name → address, such as the second result of `vmlab.asm` for an `image` (give `vmlab.asm` the `base` the image is loaded at). They are added to the ELF files' symbols, and win over them.
---@field echo? boolean Copy the console to standard output as the guest writes it (default false).
---@field profile? string|vmlab.CostProfile The cost profile the machine charges (`vmlab.costs`): a name ("classic-2006", "core2-2006", "modern") or a profile. Modelled cycles and guest-visible time (`mtime`) follow its prices. Default "classic-2006".
---@field holes? string[] Sensitive instructions made NOT to trap when executed with too little privilege (`SensitiveHole`): a deprivileged CSR read returns the real value (`csr_read:sstatus`, like x86's PUSHF), a deprivileged CSR write is silently dropped (`csr_write:sstatus`, like POPF), `sret`, `mret`, `wfi`, `sfence_vma` become no-ops. Names: sret, mret, wfi, sfence_vma, csr_read:NAME, csr_write:NAME, csr:NAME (both; NAME a CSR name such as sstatus, or a number such as 0x100), or a group: x86_like, supervisor_csrs, privileged_instructions. An unknown name raises. They matter where the guest kernel runs deprivileged (`trap`); `vmlab.popek_goldberg{ vm = vm }` names what they break.
---@field tlb? vmlab.TLBOptions The architectural TLB: unified, set-associative, FIFO within a set; its counters are `vm:stats().tlb`.
---@field ad_bits? "hardware"|"fault" Who sets a PTE's A and D bits: "hardware" (default: the page walker, atomically, as QEMU does; Svadu) or "fault" (a page fault, for software to set them; Svade).
---@field misaligned? "hardware"|"trap" What a misaligned load or store does: "hardware" (default: performed, byte by byte, as QEMU does) or "trap" (an address-misaligned exception, as Spike does). Misaligned atomics always trap.
---@field h_extension? boolean Give the harts the hypervisor extension (`misa.H`: VS- and VU-modes, two-stage translation, the hypervisor CSRs and instructions), for a guest that is a hypervisor itself, such as a bare-metal program running a VM of its own (default false; mode "hw" gives its guest's machine the extension itself, and its guest does not see it).
---@field sstc? boolean Give the harts the Sstc extension: S-mode's own timer compare, `stimecmp` (and with the hypervisor extension VS-mode's, `vstimecmp`), which the firmware enables and the device tree names (`riscv,isa` ends in `_sstc`), so that a kernel that looks for it (Linux) programs its timer without an SBI call (default false, as before; QEMU 7.2's hart has it). In every mode: under `trap` and `bt` the VMM emulates the guest's `stimecmp`, under `hw` the guest reaches `vstimecmp` without an exit, under `pv` the kernel runs on the hart's own.
---@field plic? "qemu"|"level" How the PLIC's gateways turn a device's interrupt line into requests: "qemu" (default, as QEMU's PLIC: a request each time the device raises its line, none when a handler completes while it is still high) or "level" (the PLIC specification's level-triggered gateway: a completion while the line is high makes the source pending again at once). xv6, whose UART handler leaves THR-empty raised, takes an interrupt storm under "level".

---@class vmlab.WatchOptions
---@field address integer The first byte watched.
---@field size? integer Bytes watched (default 8).
---@field access? "write"|"read"|"rw" Which accesses hit (default "write").
---@field space? "guest-physical"|"guest-virtual" How `address` is read (default "guest-physical"); a virtual range is translated now, through vCPU `vcpu`'s page tables, and the watchpoint stays on the physical bytes.
---@field vcpu? integer The vCPU whose page tables translate a virtual address (default 0).

after_each = vmlab.after_each
before_each = vmlab.before_each
describe = vmlab.describe
expect = vmlab.expect
it = vmlab.it
pending = vmlab.pending

return vmlab
