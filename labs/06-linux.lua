-- Lab 06: an unmodified Linux kernel under every technique.
--
-- The kernel is Linux 6.1, built from Debian's source package by the toolchain's clang
-- (labs/guests/linux: tinyconfig plus a small fragment; `vmlab.guest "linux"` builds it the first
-- time, in about four minutes). Its only program, /init, checks fork and copy-on-write, the FPU
-- state of processes, atomics, a timed sleep and /proc, then powers the machine off. The same
-- kernel boots natively and under four VMMs: `interpret` (every instruction run by the software
-- CPU), `trap` (trap-and-emulate with shadow page tables), `bt` (binary translation of the
-- kernel's code) and `hw` (the kernel in VS-mode under the H extension, lab 11), the last also
-- with shadow paging (`hw-shadow`: VT-x before EPT); `pv` needs a kernel written for its
-- hypercalls, and Linux is not one.
--
--   1. the six boots, from reset to power-off: instructions, modelled cycles, the slowdown against
--      native, and the time Linux itself measured (printk's last timestamp);
--   2. where each mode's cycles went, by category;
--   3. what the VMMs did: trap's emulated instructions, device accesses and shadow faults, bt's
--      translations and callouts, hw's exits (nested and shadow-paged);
--   4. Linux's timer: without Sstc the kernel asks the SBI for each timer interrupt (set_timer, an
--      ecall), with it (`sstc = true`: the harts have `stimecmp` and the device tree says so) it
--      writes `stimecmp` itself; under trap and under hw, each way.
--
-- Questions: the boot runs about 45 M instructions in every mode; why does Linux's own clock say
-- it took longer under the VMMs, when it counts nothing but its timer? Under bt the translator
-- copies about 130 000 instructions into its translation cache: how many times does each run on
-- average, and why is a boot nevertheless a bad case for binary translation (compare lab 04's
-- benchmarks, which run the same few instructions millions of times)? Under trap, most exits are
-- emulated privileged instructions: which ones would you expect a kernel's boot to execute most
-- (look at `vm:stats().technique` and at the events of lab 02)? tinyos paid about a hundred hidden
-- faults for its boot under trap (lab 03); why does Linux pay thousands? hw-shadow exits more
-- often than hw, for every page fault, address-space switch and page-table store: why is its boot
-- nevertheless a little cheaper (compare the mmu column), and which workload of lab 11 reverses
-- that? In section 4, why does Sstc take the timer's exits away under hw but not under trap, where
-- the kernel's write of stimecmp traps as its ecall did? What did the H extension have to add for
-- a guest's timer to cost no exit (the `vstimecmp` register; compare x86's TSC-deadline timer,
-- which a VMM long had to emulate, and VT-x's preemption timer)? Why is the total number of exits
-- under hw with Sstc not lower by exactly the timer's calls (read the two consoles)?
local vmlab = require "vmlab"

local kernel = vmlab.guest "linux"
local profile = "classic-2006"
local modes = { "native", "interpret", "trap", "bt", "hw", "hw-shadow" }

local runs = {}
for _, mode in ipairs(modes) do
  local m, hw = mode, nil
  if mode == "hw-shadow" then m, hw = "hw", { paging = "shadow" } end
  local vm <close> = assert(vmlab.vm { kernel = kernel, mode = m, profile = profile, hw = hw })
  local stop = vm:run { max_instructions = 300e6 }
  local console = vm:console()
  local s = vm:stats()
  runs[mode] = {
    stop = stop,
    console = console,
    uptime = tonumber(console:match("%[%s*([%d.]+)%] reboot: Power down")),
    instructions = s.instructions,
    cycles = s.cycles.total,
    by_category = s.cycles.by_category,
    exits = s.exits.total,
    mmio = s.mmio.accesses,
    technique = s.technique,
  }
end

-- 1. Six boots -----------------------------------------------------------------------------------
print(("cost profile: %s\n\n1. Linux from reset to power-off"):format(profile))
print(("%-10s %12s %14s %9s %18s %10s"):format("mode", "instructions", "cycles", "x native", "Linux's uptime", "VMM exits"))
for _, mode in ipairs(modes) do
  local r = runs[mode]
  print(("%-10s %12d %14d %9.2f %16.6f s %10d"):format(mode, r.instructions, r.cycles, r.cycles / runs.native.cycles,
    r.uptime or -1, r.exits))
end

-- 2. Where the cycles went -----------------------------------------------------------------------
local categories = { "guest", "mmu", "trap", "device", "emulation", "translation", "interpretation", "waited" }
print("\n2. cycles by category, in % of each mode's total")
local header = ("%-10s"):format("mode")
for _, c in ipairs(categories) do header = header .. (" %13s"):format(c) end
print(header)
for _, mode in ipairs(modes) do
  local r = runs[mode]
  local line = ("%-10s"):format(mode)
  for _, c in ipairs(categories) do line = line .. (" %12.1f%%"):format(100 * (r.by_category[c] or 0) / r.cycles) end
  print(line)
end

-- 3. The deprivileging VMMs ----------------------------------------------------------------------
local trap, shadow = runs.trap.technique.trap, runs.trap.technique.shadow
print("\n3. trap: " .. ("%d exits: %d privileged instructions emulated, %d device register accesses emulated, %d hidden (shadow) faults, %d traced page-table writes (%d shadow tables dropped after write floods), %d exceptions and %d interrupts reflected to the kernel")
  :format(trap.traps, trap.privileged_emulated, trap.device_emulated, shadow.hidden_faults, shadow.traced_writes,
          shadow.unshadowed, trap.exceptions_reflected, trap.interrupts_injected))
local bt = runs.bt.technique.bt
print(("   bt: %d instructions translated in %d blocks (%.0f executions each on average), %d callouts, %d emulated inline, %d indirect jumps looked up")
  :format(bt.translated_instructions, bt.blocks_translated, runs.bt.instructions / bt.translated_instructions,
          bt.callouts, bt.inline, bt.indirect_jumps))
local hw = runs.hw.technique.hw
print(("   hw: %d exits: %d SBI calls, %d device register accesses emulated, %d external interrupts taken (%d injected in all), %d faults reflected; no privileged instruction, page fault or page-table store of the kernel exits")
  :format(hw.exits, hw.sbi_calls, hw.device_emulated, hw.interrupt_exits, hw.interrupts_injected, hw.exceptions_reflected))
local hws, hws_shadow = runs["hw-shadow"].technique.hw, runs["hw-shadow"].technique.shadow
print(("   hw-shadow: %d exits: %d hidden (shadow) faults, %d traced page-table writes, %d satp accesses and fences, %d device register accesses, %d faults reflected")
  :format(hws.exits, hws_shadow.hidden_faults, hws_shadow.traced_writes,
          runs["hw-shadow"].technique.intercepted.satp + runs["hw-shadow"].technique.intercepted.sfence_vma,
          hws.device_emulated, hws.exceptions_reflected))

-- What `vmlab test labs` verifies.
-- The lines /init prints that do not depend on time: its checks and its children's result.
local function checks(console)
  local lines = {}
  for line in console:gmatch("[^\n]+") do
    if line:match("^init: ok") or line:match("^init: FAIL") or line:match("^init: %d+ increments") then lines[#lines + 1] = line end
  end
  return lines
end

-- 4. The timer: SBI calls or Sstc ------------------------------------------------------------------
-- The same boots under trap and hw with Sstc in the harts.
local timers = {}
for _, mode in ipairs { "trap", "hw" } do
  for _, sstc in ipairs { false, true } do
    local r
    if sstc then
      local vm <close> = assert(vmlab.vm { kernel = kernel, mode = mode, profile = profile, sstc = true })
      local stop = vm:run { max_instructions = 300e6 }
      local s = vm:stats()
      r = { stop = stop, console = vm:console(), cycles = s.cycles.total, exits = s.exits.total, technique = s.technique }
    else
      r = runs[mode]
    end
    local t = r.technique
    timers[#timers + 1] = {
      label = mode .. (sstc and " + sstc" or ""), mode = mode, sstc = sstc, stop = r.stop, console = r.console,
      set_timer = t.hypercalls.sbi_time or 0, sbi_calls = t[mode].sbi_calls,
      privileged = mode == "trap" and t.trap.privileged_emulated or 0, exits = r.exits, cycles = r.cycles,
      technique = t,
    }
  end
end
print("\n4. Linux's timer: SBI set_timer calls, or stimecmp (Sstc)")
print(("%-12s %10s %10s %14s %10s %14s"):format("mode", "set_timer", "SBI calls", "priv. emulated", "exits", "cycles"))
for _, r in ipairs(timers) do
  print(("%-12s %10d %10d %14d %10d %14d"):format(r.label, r.set_timer, r.sbi_calls, r.privileged, r.exits, r.cycles))
end

vmlab.check("Linux boots to power-off in every mode, and /init's checks pass", function()
  for _, mode in ipairs(modes) do
    expect(runs[mode].stop).to_equal("poweroff")
    expect(runs[mode].console).to_match("init: all checks passed")
    expect(#checks(runs[mode].console)).to_equal(9)
    expect(checks(runs[mode].console)).to_equal(checks(runs.native.console))
  end
end)

vmlab.check("every VMM costs cycles, and Linux's own clock sees it", function()
  for _, mode in ipairs { "interpret", "trap", "bt", "hw", "hw-shadow" } do
    expect(runs[mode].cycles > runs.native.cycles).to_be(true)
    expect(runs[mode].uptime > runs.native.uptime).to_be(true)
  end
  -- The software CPU pays for every instruction: the dearest of them all.
  expect(runs.interpret.cycles > runs.bt.cycles and runs.interpret.cycles > runs.trap.cycles).to_be(true)
end)

vmlab.check("trap emulates privileged instructions and builds shadows; bt mostly translates", function()
  expect(trap.privileged_emulated > 0 and shadow.hidden_faults > 0 and shadow.traced_writes > 0).to_be(true)
  -- Its drivers' device register accesses: each one an exit, performed by the VMM.
  expect(trap.device_emulated > 0).to_be(true)
  expect(runs.trap.mmio).to_equal(trap.device_emulated)
  expect(runs.trap.by_category.emulation > runs.trap.by_category.translation).to_be(true)
  -- On a boot, translating the kernel's code costs more than emulating what it does.
  expect(runs.bt.by_category.translation > runs.bt.by_category.emulation).to_be(true)
  expect(runs.bt.exits < runs.trap.exits).to_be(true)
end)

vmlab.check("hw exits only for SBI calls and device register accesses, and pays for its walks", function()
  expect(hw.exits).to_equal(hw.sbi_calls + hw.device_emulated + hw.interrupt_exits + hw.exceptions_reflected)
  expect(hw.exceptions_reflected).to_equal(0)
  expect(runs.hw.mmio).to_equal(hw.device_emulated)
  -- The kernel's privileged work stays in the guest: far fewer exits than trap, nearly all of
  -- them the drivers' device accesses (bt learns those and emulates them inline: fewer still).
  expect(runs.hw.exits < runs.trap.exits / 5).to_be(true)
  expect(hw.device_emulated > 0.9 * hw.exits).to_be(true)
  -- Every TLB miss walks two dimensions: the MMU's share of the cycles grows.
  expect(runs.hw.by_category.mmu / runs.hw.cycles > 10 * runs.native.by_category.mmu / runs.native.cycles).to_be(true)
end)

vmlab.check("hw-shadow exits for the kernel's page-table work, as first-generation VT-x did", function()
  expect(hws_shadow.hidden_faults > 0 and hws_shadow.traced_writes > 0).to_be(true)
  expect(hws.shadow_faults).to_equal(hws_shadow.hidden_faults)
  expect(hws.traced_writes).to_equal(hws_shadow.traced_writes)
  -- The same device accesses as hw, and on top every page fault (hidden or reflected), traced
  -- store and satp access or fence.
  expect(hws.device_emulated).to_equal(hw.device_emulated)
  expect(runs["hw-shadow"].exits >= runs.hw.exits + hws.shadow_faults + hws.traced_writes).to_be(true)
  expect(runs["hw-shadow"].by_category.emulation > 0 and runs.hw.by_category.emulation == 0).to_be(true)
  -- Its walks are one-dimensional again: the MMU's share falls back towards native's. (Linux
  -- translates with Sv57, and the shadows take its mode: a TLB miss reads 5 entries where the
  -- nested walk over Sv39x4 reads up to 23; the flushes of its satp switches stay.)
  expect(runs["hw-shadow"].by_category.mmu / runs["hw-shadow"].cycles
         < runs.hw.by_category.mmu / runs.hw.cycles / 3).to_be(true)
end)

vmlab.check("with Sstc Linux programs its timer itself: no SBI call for it, and no exit under hw", function()
  local by = {}
  for _, r in ipairs(timers) do
    expect(r.stop).to_equal("poweroff")
    expect(r.console).to_match("init: all checks passed")
    by[r.label] = r
  end
  expect(by["trap + sstc"].console).to_match("Timer interrupt in S%-mode is available via sstc extension")
  for _, mode in ipairs { "trap", "hw" } do
    local without, with = by[mode], by[mode .. " + sstc"]
    expect(without.set_timer > 50).to_be(true)
    expect(with.set_timer).to_equal(0)
    -- The other SBI calls (probing, fences, power-off) are the same.
    expect(with.sbi_calls).to_equal(without.sbi_calls - without.set_timer)
  end
  -- Under hw an SBI call is an exit: the timer's are gone, vstimecmp needs none.
  expect(by["hw + sstc"].technique.hw.exits).to_equal(by["hw + sstc"].technique.hw.sbi_calls + by["hw + sstc"].technique.hw.device_emulated)
  -- Under trap the kernel's csrw stimecmp traps instead, emulated: more privileged instructions,
  -- about as many exits.
  expect(by["trap + sstc"].privileged > by.trap.privileged).to_be(true)
  expect(math.abs(by["trap + sstc"].exits - by.trap.exits) < by.trap.exits / 100).to_be(true)
end)
