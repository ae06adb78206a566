-- mode = "trap": the guest kernel deprivileged under the VMM, the shadow counters in vm:stats(),
-- exit events, and holes. (What tools see of a trap guest: trap_views_test.lua.)
local vmlab = require "vmlab"
local sv39_kernel = require "sv39_kernel"

local run = require "tinyos_run"
local tinyos, result, kernel = run.vm, run.result, run.kernel

describe("mode = \"trap\"", function()
  it("is available, and runs tinyos to the same output as native", function()
    local native <close> = tinyos("native", "pte")
    local trap <close> = tinyos("trap", "pte")
    expect(tostring(trap)).to_match("^vmlab.VM %(trap,")
    expect(native:run { max_instructions = 50e6 }).to_equal("poweroff")
    expect(trap:run { max_instructions = 50e6 }).to_equal("poweroff")
    expect(result(trap)).to_match("bench=pte iterations=5 status=ok")
    expect(result(trap)).to_equal(result(native))
  end)

  it("runs one vCPU, and says so when asked for more", function()
    for _, mode in ipairs { "trap", "bt" } do
      expect(function() tinyos(mode, "pte", { harts = 2 }) end)
        .to_raise(mode .. " mode runs one vCPU %(got 2 harts%): interpret, pv and hw run several, as native does")
      local host <close> = vmlab.host { memory = "512M" }
      local vm, message = host:vm { mode = mode, kernel = kernel, harts = 3 }
      expect(vm).to_be(nil)
      expect(message).to_match("runs one vCPU %(got 3 harts%)")
    end
  end)

  it("shows the shadow pager's and the monitor's counters in vm:stats()", function()
    local vm <close> = tinyos("trap", "pte")
    vm:run { max_instructions = 50e6 }
    local s = vm:stats()
    expect(s.mode).to_equal("trap")
    local shadow, trap = s.technique.shadow, s.technique.trap
    for _, name in ipairs { "hidden_faults", "true_faults", "traced_writes", "shadow_pages", "satp_switches", "flushes", "evictions" } do
      expect(math.type(shadow[name])).to_equal("integer")
    end
    expect(shadow.hidden_faults > 0).to_be(true)
    expect(shadow.traced_writes >= 10).to_be(true)   -- map and unmap, 5 times
    expect(shadow.shadow_pages > 0).to_be(true)
    expect(trap.privileged_emulated > 0).to_be(true)
    expect(trap.traced_writes).to_equal(shadow.traced_writes)
    expect(s.cycles.by_event.shadow_fault.count).to_equal(trap.shadow_faults)
    expect(s.cycles.by_event.traced_write.count).to_equal(trap.traced_writes)
    -- Every cause has a count, zero for those that never happened.
    expect(s.technique.traps_by_cause.breakpoint).to_equal(0)
    expect(s.technique.traps_by_cause.ecall_u > 0).to_be(true)
    expect(s.technique.reflected_by_cause.supervisor_external).to_equal(0)
    expect(s.technique.reflected_by_cause.ecall_u > 0).to_be(true)
    expect(vm:check_shadows()).to_equal({})
  end)

  it("emulates every device register access: a trap each, seen by mmio hooks and counted, none by the hardware", function()
    local runs = {}
    for _, mode in ipairs { "native", "trap" } do
      local vm <close> = tinyos(mode, "mmio")
      local seen = 0
      vm:on("mmio", function() seen = seen + 1 end)
      expect(vm:run { max_instructions = 50e6 }).to_equal("poweroff")
      runs[mode] = { seen = seen, stats = vm:stats(), result = result(vm) }
    end
    local native, trap = runs.native, runs.trap
    expect(trap.result).to_equal(native.result)
    expect(native.stats.mmio.accesses).to_equal(native.seen)
    local t = trap.stats.technique
    expect(trap.stats.mmio.accesses).to_equal(trap.seen)
    expect(t.trap.device_emulated).to_equal(trap.seen)
    expect(t.traps_by_cause.load_access_fault + t.traps_by_cause.store_access_fault).to_equal(t.trap.device_emulated)
    expect(t.reflected_by_cause.load_access_fault + t.reflected_by_cause.store_access_fault).to_equal(0)
    expect(trap.stats.cycles.by_event.device_emulated.count).to_equal(t.trap.device_emulated)
    expect(trap.stats.cycles.by_event.mmio_access.count).to_equal(0)   -- none by the hardware
  end)

  it("retires what the VMM emulates, so the guest counts the instructions it counts natively", function()
    -- Privileged instructions (trapped and emulated), a traced store to a page-table page
    -- (tinyos's pagefault benchmark maps and unmaps) and device register accesses (mmio),
    -- measured by the guest with rdinstret.
    for _, bench in ipairs { "syscall", "pagefault", "mmio" } do
      local counted = {}
      for _, mode in ipairs { "native", "trap", "bt", "interpret" } do
        local vm <close> = tinyos(mode, bench)
        expect(vm:run { max_instructions = 50e6 }).to_equal("poweroff")
        counted[mode] = tonumber(vm:console():match("# bench=" .. bench .. " cycles=%d+ instret=(%d+)"))
        if mode == "trap" then
          local t = vm:stats().technique.trap
          expect(t.privileged_emulated > 0).to_be(true)
          if bench == "pagefault" then expect(t.traced_writes > 0).to_be(true) end
        end
      end
      expect(counted.native > 0).to_be(true)
      for _, mode in ipairs { "trap", "bt", "interpret" } do
        expect({ bench, mode, counted[mode] }).to_equal({ bench, mode, counted.native })
      end
    end
  end)

  it("retires an emulated instruction once, for the budget too", function()
    -- Natively the CSR accesses and the li retire; the SBI call's ecall does not (it traps).
    local kernel = vmlab.asm [[
      csrr t0, sscratch
      csrw sscratch, t0
      csrr t1, sstatus
      li a7, 0x53525354
      li a6, 0
      li a0, 0
      li a1, 0
      ecall
    ]]
    local counts = {}
    for _, mode in ipairs { "native", "trap", "bt" } do
      local vm <close> = assert(vmlab.vm { mode = mode, image = kernel, firmware = "builtin" })
      expect(vm:run()).to_equal("poweroff")
      counts[#counts + 1] = vm:stats().instructions
      -- A budget of three counts the first three instructions once each: an emulated csrr is
      -- one, not a trap and a retirement, and the hidden shadow faults of the first fetches
      -- are the VMM's, not the guest's.
      local stepped <close> = assert(vmlab.vm { mode = mode, image = kernel, firmware = "builtin" })
      expect(stepped:run { max_instructions = 3 }).to_equal("budget")
      local s = stepped:stats()
      expect({ mode, s.instructions }).to_equal({ mode, 3 })
      if mode ~= "native" then expect(s.technique.shadow.hidden_faults > 0).to_be(true) end
    end
    expect(counts).to_equal({ 8, 8, 8 })   -- li a7 is two (lui, addiw); the ecall traps
  end)
  it("follows the machine's A/D policy in the guest's tables: with ad_bits = \"fault\", as natively", function()
    -- Svade (ad_bits = "fault"): a load through a leaf with A clear and a store through one with
    -- D clear raise page faults, which the guest's handler records in s1; under the default
    -- (Svadu) the walker sets the bits. The VMM's own walk of the guest's tables does the same.
    local kernel = sv39_kernel {
      prologue = [[
      la t0, handler
      csrw stvec, t0
      ]],
      leaves = { 0x7, 0x47 },   -- l0[0]: V R W, A = D = 0; l0[1]: V R W A, D = 0
      kernel = 0xcf,            -- V R W X A D
      body = [[
      li a1, 0x40000000
      li s1, 0
      ld a0, 0(a1)             # A = 0: a load page fault under Svade
      mv s2, s1
      li s1, 0
      li a1, 0x40001000
      ld a0, 0(a1)             # A = 1: no fault
      mv s3, s1
      li s1, 0
      sd a0, 0(a1)             # D = 0: a store page fault under Svade
      mv s4, s1
      ]],
      after = [[
    handler:
      csrr s1, scause
      csrr t0, sepc
      addi t0, t0, 4
      csrw sepc, t0
      sret
      ]],
    }
    for ad, want in pairs { fault = { 13, 0, 15 }, hardware = { 0, 0, 0 } } do
      for _, mode in ipairs { "native", "interpret", "trap", "bt" } do
        local vm <close> = assert(vmlab.vm { mode = mode, image = kernel, firmware = "builtin", ad_bits = ad })
        expect(vm:run { max_instructions = 1e6 }).to_equal("poweroff")
        expect({ ad, mode, vm:read("s2"), vm:read("s3"), vm:read("s4") }).to_equal({ ad, mode, table.unpack(want) })
      end
    end
  end)
end)

describe("shadow = {...}", function()
  -- tinyos's tlb benchmark with 32 pages: one of them is a page that was a page table of a
  -- process that has exited, still mirrored by that process's cached shadow, so every store to
  -- it traps as a traced write unless the shadow pager unshadows it.
  local bootargs = "bench=tlb n=4096 pages=32"
  local function loop(mode, shadow)
    local vm <close> = tinyos(mode, "tlb", { bootargs = bootargs, shadow = shadow })
    expect(vm:run { max_instructions = 50e6 }).to_equal("poweroff")
    local cycles = tonumber(vm:console():match("# bench=tlb cycles=(%d+)"))
    local shadows = mode ~= "native" and vm:stats().technique.shadow or nil
    return cycles, shadows, result(vm)
  end

  it("unshadows a page table the guest freed and reuses as memory, after unshadow_after traced writes", function()
    local native, _, want = loop("native")
    for _, mode in ipairs { "trap", "bt" } do
      local cycles, shadows, got = loop(mode)
      expect(got).to_equal(want)
      expect(shadows.unshadowed > 0).to_be(true)
      expect({ mode, cycles < native * 1.2 }).to_equal({ mode, true })
    end
    -- Never unshadowing: the loop's stores to that page are traced writes.
    local cycles, shadows, got = loop("trap", { unshadow_after = 0 })
    expect(got).to_equal(want)
    expect(shadows.unshadowed).to_equal(0)
    expect(cycles > native * 5).to_be(true)
  end)

  it("keeps capacity address spaces' shadows: with one, every switch rebuilds", function()
    local function ctxsw(capacity)
      local vm <close> = tinyos("trap", "ctxsw", { shadow = { capacity = capacity } })
      expect(vm:run { max_instructions = 50e6 }).to_equal("poweroff")
      return vm:stats().technique.shadow, result(vm)
    end
    local one, got = ctxsw(1)
    local default, want = ctxsw()
    expect(got).to_equal(want)
    expect(default.evictions).to_equal(0)
    -- Each switch to the other process evicts the one cached space and refills its shadow.
    expect(one.evictions >= one.satp_switches - 1).to_be(true)
    expect(one.hidden_faults > default.hidden_faults).to_be(true)
  end)

  it("is for the modes that shadow page tables, with a bounded threshold", function()
    expect(function() vmlab.vm { kernel = kernel, shadow = { unshadow_after = 3 } } end)
      .to_raise("option 'shadow' needs mode \"trap\" or \"bt\" or \"hw\" %(got mode \"native\"%)")
    expect(function() vmlab.vm { kernel = kernel, mode = "trap", shadow = { unshadow_after = -1 } } end)
      .to_raise("option 'shadow.unshadow_after': must be 0 %(never unshadow%) to 1048576, got %-1")
    expect(function() vmlab.vm { kernel = kernel, mode = "bt", shadow = { after = 3 } } end)
      .to_raise("after")
    expect(function() vmlab.vm { kernel = kernel, mode = "trap", shadow = { capacity = 0 } } end)
      .to_raise("option 'shadow.capacity': must be 1 to 256, got 0")
  end)
end)

describe("exit events", function()
  it("carry the instruction that trapped, read through the guest's own tables", function()
    local vm <close> = tinyos("trap", "syscall")
    local seen, ecalls = {}, {}
    vm:on("exit", function(ev)
      if not seen[ev.cause] then seen[ev.cause] = ev end
      if ev.cause == "ecall_u" then ecalls[ev.privilege] = ev end
    end)
    expect(vm:run { max_instructions = 50e6 }).to_equal("poweroff")
    -- A CSR access of the deprivileged kernel: insn is the instruction, which tval holds too.
    local csr = seen.illegal_instruction
    expect(csr.insn).to_equal(csr.address)
    expect(vmlab.disasm(csr.insn)).to_match("csr")
    -- A system call from user mode and an SBI call from the kernel (both ecall from the
    -- hardware's U-mode): read at a user address and at a kernel one, in each one's view.
    expect(ecalls.user.insn).to_equal(0x73)
    expect(ecalls.supervisor.insn).to_equal(0x73)
    expect(ecalls.user.pc < 0x80000000 and ecalls.supervisor.pc >= 0x80000000).to_be(true)
    -- A hidden page fault on a fetch: the guest's tables map the page (the shadow did not yet),
    -- so the instruction is there.
    expect(math.type(seen.instruction_page_fault.insn)).to_equal("integer")
    expect(seen.store_page_fault.insn).to_be_a("integer")
  end)

  it("have no insn in modes without exits", function()
    local vm <close> = tinyos("native", "syscall")
    local traps = 0
    vm:on("trap", function(ev) traps = traps + 1; expect(ev.insn).to_be_nil() end)
    vm:run { max_instructions = 50e6 }
    expect(traps > 0).to_be(true)
  end)
end)

describe("holes = {...}", function()
  it("makes a deprivileged sret a no-op: the guest goes wrong under trap, not natively", function()
    local trap <close> = tinyos("trap", "syscall", { holes = { "sret" } })
    local stop, details = trap:run { max_instructions = 20e6 }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(1)
    expect(trap:console()).to_match("pid 1 %(init%) killed")
    expect(result(trap)).to_be(nil)
    local native <close> = tinyos("native", "syscall", { holes = { "sret" } })
    native:run { max_instructions = 20e6 }
    expect(result(native)).to_match("status=ok")
  end)

  it("apply to a VM on a host too", function()
    local host <close> = vmlab.host { memory = "512M" }
    local vm = assert(host:vm { mode = "trap", kernel = kernel, bootargs = "bench=syscall n=5", holes = { "wfi" } })
    expect(vmlab.popek_goldberg { vm = vm }.configuration.holes).to_equal({ "wfi" })
    expect(host:run { max_instructions = 50e6 }).to_equal("poweroff")
    expect(result(vm)).to_match("status=ok")
    expect(vm:check_shadows()).to_equal({})
  end)

  it("raises for an unknown hole, listing the valid ones", function()
    expect(function() vmlab.vm { kernel = kernel, holes = { "pushf" } } end)
      .to_raise("unknown hole 'pushf' %(valid: sret, mret, wfi, sfence_vma, csr_read:NAME, csr_write:NAME, csr:NAME")
    expect(function() vmlab.vm { kernel = kernel, holes = "sret" } end).to_raise("holes")
    expect(function() vmlab.vm { kernel = kernel, holes = { true } } end).to_raise("item 1: string expected, got boolean")
  end)
end)
