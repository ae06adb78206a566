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
---@return table<string, integer> symbols # Labels and `.equ` constants: name → address (addresses ≥ 2^63 read negative; `vmlab.hex` prints them).
function vmlab.asm(source, options) end

---Runs `fn` before each check of the enclosing `describe` (and those nested in it).
---@param fn function
function vmlab.before_each(fn) end

---Declares a check in a lab; the same as `it`.
---@param name string
---@param body function
function vmlab.check(name, body) end

---A cost profile: the price in modelled cycles of every event, each with its source. `vmlab.costs("core2-2006")` is a built-in profile ("classic-2006", "core2-2006", "modern"); `vmlab.costs(p, { vm_entry = 1000 })` is `p` (a name or a profile) with prices replaced, and `vmlab.costs{ vm_entry = 1000 }` the standard profile ("classic-2006") with them. Without arguments, the list of built-in profile names. An unknown profile or event, or a price that is not a non-negative integer, raises. The sources are documented in the "Cost profiles" article of the Hypervisor documentation.
---@param profile? string|vmlab.CostProfile
---@param edits? table<string, integer>
---@return vmlab.CostProfile|string[] profile # The profile, or the built-in names when called without arguments.
function vmlab.costs(profile, edits) end

---Groups checks under a name; `body` runs at once to declare them.
---@param name string
---@param body function
function vmlab.describe(name, body) end

---Disassembles machine code: one line per instruction, `ADDRESS: HEX  TEXT`. An integer is one instruction's bits (compressed when its low two bits are not 11). Bytes that are not a valid instruction print as `.word`/`.half`; a trailing odd byte as `.byte`.
---@param code string|integer Machine code bytes (as `vmlab.asm` returns) or one instruction as an integer.
---@param options? vmlab.DisasmOptions
---@return string text
function vmlab.disasm(code, options) end

---Starts an expectation about `value`: `expect(x).to_equal(3)`.
---@param value any
---@return vmlab.Expectation
function vmlab.expect(value) end

---The path of a bundled guest ELF, built from labs/guests first if it is missing or stale: `vmlab.guest "tinyos"` is `.build/guests/tinyos/tinyos.elf`, `vmlab.guest "isa/rv64i"` is `.build/guests/isa/rv64i.elf`. The checkout is found from `VMLAB_ROOT`, else above the vmlab executable, else above the current directory. An unknown name or a failed build (for instance when the toolchain's clang is missing) raises an error with the build's messages: a lab cannot go on without its guest.
---@param name string `folder` or `folder/program`, as under labs/guests.
---@return string path
function vmlab.guest(name) end

---Unsigned hexadecimal text of a 64-bit integer, "0x"-prefixed: `vmlab.hex(-1)` is "0xffffffffffffffff".
---@param x integer The integer; negative values print as their two's-complement bit pattern.
---@param digits? integer Minimum number of hex digits (zero-padded), 1 to 16.
---@return string text
function vmlab.hex(x, digits) end

---Declares a check. Without `body` the check is pending (reported as skipped).
---@param name string
---@param body? function
function vmlab.it(name, body) end

---Declares a check that is not written yet (reported as skipped).
---@param name string
function vmlab.pending(name) end

---Builds a machine (QEMU `virt` board: RAM at 0x80000000, UART, CLINT, PLIC, virtio-mmio, test finisher) with the images loaded and the harts at their entry; nothing runs until `vm:run`. A misspelt option or a bad value raises; a missing or malformed file, or images that do not fit in RAM, return `nil, message`.
---@param options vmlab.VMOptions
---@return vmlab.VM vm
---@return string message # Why the VM could not be built.
function vmlab.vm(options) end

---A cost profile (`vmlab.costs`): a plain table of prices with methods. `tostring` lists every price with its basis. Pass it as `vmlab.vm{ profile = p }` or to `vmlab.costs(p, edits)`; changing a field in place is an edit too.
---@class vmlab.CostProfile
---@field name string The built-in profile it is, or was edited from.
---@field description string The name with its edits, as results print it: `classic-2006 (edited: vm_entry=1000)`.
---@field summary string What machine the profile describes.
---@field clock_hz integer The core clock converting cycles to time (not editable).
---@field clock_source string Where the clock rate comes from.
---@field edits string[] Events whose price was edited, in taxonomy order.
---@field instruction integer Price in cycles of one event: a guest instruction retired by direct execution (category `guest`).
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
---@field shadow_fault integer Price in cycles of one event: VMM software handling a hidden page fault: guest walk and shadow fill (category `emulation`).
---@field traced_write integer Price in cycles of one event: VMM software emulating a trapped store to a write-protected guest page table (category `emulation`).
---@field traced_write_inline integer Price in cycles of one event: a store to a guest page table emulated by adapted translated code (category `emulation`).
---@field hypercall integer Price in cycles of one event: a hypercall: entry into the VMM and return (category `hypercall`).
---@field pv_update integer Price in cycles of one event: one page-table update validated and applied inside a (batched) hypercall (category `hypercall`).
---@field translation integer Price in cycles of one event: translating one guest instruction into the translation cache (category `translation`).
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

---The counters of `vm:stats()`: a plain table, summed over harts. Every count is an integer.
---@class vmlab.Stats
---@field profile string The cost profile that priced the cycles, with its edits: `classic-2006 (edited: vm_entry=1000)`.
---@field instructions integer Instructions retired.
---@field cycles { total: integer, by_category: table<string, integer>, by_event: table<string, { count: integer, cycles: integer }> } Modelled cycles: `total` is the machine's clock (the one `mtime` follows); `by_category` (`guest`, `mmu`, `trap`, `exit`, `emulation`, `hypercall`, `translation`, `device`, `interpretation`, and `waited`: WFI sleep and catching up with another hart) and `by_event` (every event of `vmlab.costs`, with its count) split the harts' work, priced by `profile`. With one hart `by_category` sums to `total`.
---@field traps { total: integer, exceptions: integer, interrupts: integer, by_cause: table<string, integer>, firmware: { total: integer, by_cause: table<string, integer> } } Traps taken, by cause name (`ecall_u`, `store_page_fault`, `supervisor_timer`...; every cause present); `firmware`: those the built-in SBI handled.
---@field tlb { hits: integer, misses: integer, flushes: integer, evictions: integer, fetch: { hits: integer, misses: integer }, load: { hits: integer, misses: integer }, store: { hits: integer, misses: integer }, flushes_by_kind: { full: integer, asid: integer, address: integer, satp: integer, host: integer } } The architectural TLB.
---@field walk { references: integer } Page-table entries read, or written back to set A/D, by the page walker.
---@field wfi integer WFI instructions that put a hart to sleep.
---@field mmio { accesses: integer } Device register accesses.
local vmlab_Stats = {}

---Details of why a run stopped (the second result of `vm:run`).
---@class vmlab.Stop
---@field message string A sentence for people.
---@field instructions integer Instructions retired during this run, over all harts.
---@field exit_code? integer The guest's exit code, for "poweroff".
---@field pc? integer The breakpoint's address, for "breakpoint".
---@field hart? integer The hart at the breakpoint.
local vmlab_Stop = {}

---A machine built by `vmlab.vm`. Close it (`vm:close()`, or `local vm <close> = ...`) to release its memory at once; a closed VM raises on use.
---@class vmlab.VM
local vmlab_VM = {}

---Runs until the guest stops or a budget is used up (no budget: until it stops). With `echo`, console output appears as it is written.
---@param budget? vmlab.RunOptions
---@return "budget"|"poweroff"|"reset"|"breakpoint"|"idle"|"halted" reason # "budget": a budget ran out (run again to go on); "poweroff" (test finisher, HTIF or SBI system reset; see `exit_code`) and "reset" end the guest for good: later runs return them again at once; "idle": every hart waits and nothing can wake one; "halted": the machine cannot go on (a trap that no firmware handles).
---@return vmlab.Stop details
function vmlab_VM:run(budget) end

---Runs one instruction (on the hart whose turn it is).
---@return "budget"|"poweroff"|"reset"|"breakpoint"|"idle"|"halted" reason # "budget": a budget ran out (run again to go on); "poweroff" (test finisher, HTIF or SBI system reset; see `exit_code`) and "reset" end the guest for good: later runs return them again at once; "idle": every hart waits and nothing can wake one; "halted": the machine cannot go on (a trap that no firmware handles).
---@return vmlab.Stop details
function vmlab_VM:step() end

---Everything the guest printed so far (UART, SBI console and HTIF, in order).
---@return string text
function vmlab_VM:console() end

---Queues bytes for the guest's console input (the UART receiver, and the SBI console under the built-in SBI).
---@param text string
function vmlab_VM:input(text) end

---The counters so far, as a plain nested table: `profile` (the cost profile's name, with edits), `instructions`, `cycles.total` (with `cycles.by_category` and `cycles.by_event` priced by the profile), `traps.{total,exceptions,interrupts}`, `traps.by_cause.<cause>` (every cause, 0 when it never happened), `traps.firmware.by_cause` (handled by the built-in SBI), `tlb.{hits,misses,flushes,evictions}`, `tlb.fetch/load/store.{hits,misses}`, `tlb.flushes_by_kind`, `walk.references`, `wfi`, `mmio.accesses`. Summed over harts.
---@return vmlab.Stats stats
function vmlab_VM:stats() end

---A register: "pc", "priv" ("M", "S" or "U"), "x5" or "t0", "f10" or "fa0" (raw bits), "csr.satp" or "csr.0x180". Integers are the 64-bit pattern as a Lua integer (≥ 2^63 reads negative; `vmlab.hex` prints it).
---@param register string
---@param options? vmlab.HartOptions
---@return integer|string value
function vmlab_VM:read(register, options) end

---Sets a register (names as `read`; "priv" takes "M", "S" or "U"). CSRs keep their WARL rules; writing x0 changes nothing.
---@param register string
---@param value integer|string
---@param options? vmlab.HartOptions
function vmlab_VM:write(register, value, options) end

---`length` bytes of RAM at a physical address (no translation). An address range outside RAM raises.
---@param address integer
---@param length integer
---@return string bytes
function vmlab_VM:read_memory(address, length) end

---Writes bytes into RAM at a physical address (no translation). An address range outside RAM raises.
---@param address integer
---@param bytes string
function vmlab_VM:write_memory(address, bytes) end

---The kernel's and firmware's ELF symbols: name → address (empty for an image).
---@return table<string, integer> symbols
function vmlab_VM:symbols() end

---Releases the resources this handle holds.
function vmlab_VM:close() end

---@class vmlab.AsmOptions
---@field base? integer Address of the first byte (default 0x80000000, where `vmlab.vm` loads an image).
---@field rvc? boolean Use compressed encodings where they fit, as if the source began `.option rvc` (default false: every instruction is 4 bytes).

---@class vmlab.DisasmOptions
---@field base? integer Address of the first byte, used for branch and jump targets (default 0x80000000).
---@field aliases? boolean Print pseudo-instructions (`li`, `mv`, `ret`...) where one applies (default false: every instruction under its own mnemonic).

---@class vmlab.DiskOptions
---@field file string A raw disk image file.
---@field writable? boolean Whether the guest's writes reach the file (default false: they stay in memory, copy-on-write, and the file never changes).

---@class vmlab.HartOptions
---@field hart? integer The hart (default 0).

---@class vmlab.RunOptions
---@field max_instructions? integer Stop after this many instructions (summed over harts).
---@field max_cycles? integer Stop after this many modelled cycles.

---@class vmlab.VMOptions
---@field mode? "native"|"interpret"|"trap"|"bt"|"pv"|"hw" How the guest kernel runs (default "native"; the others come with later issues).
---@field memory? string|integer RAM at 0x80000000: bytes, or text with a binary unit ("128M", "1G"). Default 128M.
---@field harts? integer Number of harts, 1 to 64 (default 1).
---@field firmware? string "builtin" (vmlab's SBI in Swift), "none" (the kernel runs bare-metal in M-mode) or the path of an M-mode firmware ELF such as OpenSBI's fw_jump.elf. Default: builtin, or none for a kernel ELF entered at 0x80000000.
---@field kernel? string Path of the kernel ELF (or raw image) — `vmlab.guest "tinyos"`.
---@field initrd? string Path of an initial RAM disk.
---@field bootargs? string The kernel command line (/chosen/bootargs).
---@field disks? vmlab.DiskOptions[] virtio-blk disks, in slot order.
---@field image? string Raw machine code (`vmlab.asm`) loaded at 0x80000000 and entered in M-mode, without firmware.
---@field echo? boolean Copy the console to standard output as the guest writes it (default false).
---@field profile? string|vmlab.CostProfile The cost profile the machine charges (`vmlab.costs`): a name ("classic-2006", "core2-2006", "modern") or a profile. Modelled cycles and guest-visible time (`mtime`) follow its prices. Default "classic-2006".

after_each = vmlab.after_each
before_each = vmlab.before_each
describe = vmlab.describe
expect = vmlab.expect
it = vmlab.it
pending = vmlab.pending

return vmlab
