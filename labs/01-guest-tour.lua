-- Lab 01: a guided tour of a guest.
--
-- tinyos, the teaching kernel in labs/guests/tinyos, boots on vmlab's machine under the built-in
-- SBI firmware (the kernel runs in S-mode, its programs in U-mode). Its command line asks for a
-- microbenchmark; the kernel runs it, prints a result line and powers the machine off. We run two
-- of them and read what the machine counted while they ran:
--
--   syscall  a loop of `getpid` system calls: each is an `ecall` from U-mode, a trap into the
--            kernel and an `sret` back;
--   fork     a loop of fork + exit + wait: new address spaces, copy-on-write page faults, TLB
--            flushes on address-space switches.
--
-- The machine charges modelled cycles from a cost profile (`profile=`, default "classic-2006": a
-- Pentium 4-class machine of 2006; `vmlab.costs()` lists the others). `vm:stats().cycles` splits
-- them by category: guest instructions, the MMU (page walks, TLB misses and flushes), traps.
--
-- Questions to think about: which trap causes dominate each run? Why does fork cause store page
-- faults when syscall does not? How many page-table references does a TLB miss cost under Sv39?
-- Where do the cycles go? Why does `device` outweigh the guest's own instructions (count the UART
-- register accesses a line of output takes)? Try `profile = "modern"`: what changes, and why?
local vmlab = require "vmlab"

local kernel = vmlab.guest "tinyos"      -- built from labs/guests/tinyos on first use
local profile = vmlab.costs "classic-2006"

-- Boots tinyos with `bootargs`, runs it to its poweroff, and returns the console and the counters.
local function boot(bootargs)
  local vm <close> = assert(vmlab.vm { kernel = kernel, bootargs = bootargs, memory = "128M", profile = profile })
  local stop, details = vm:run { max_instructions = 50e6 }
  return { stop = stop, details = details, console = vm:console(), stats = vm:stats() }
end

local runs = {
  syscall = boot "bench=syscall n=20",
  fork = boot "bench=fork n=3",
}

-- The benchmark's result lines; tinyos marks its commentary with "# ".
for _, name in ipairs { "syscall", "fork" } do
  local run = runs[name]
  print(("== bench=%s: %s (exit code %s)"):format(name, run.stop, tostring(run.details.exit_code)))
  for line in run.console:gmatch("[^\n]+") do
    if line:match("^bench=") then print("   " .. line) end
  end
end

-- The counters, side by side. Every trap cause is in `traps.by_cause`; we show those that happened.
local function row(label, f)
  print(("%-28s %12s %12s"):format(label, tostring(f(runs.syscall.stats)), tostring(f(runs.fork.stats))))
end
print()
-- Every printed result names the profile that priced its cycles.
print(("cost profile: %s (clock %.1f GHz)"):format(runs.syscall.stats.profile, profile.clock_hz / 1e9))
print(("%-28s %12s %12s"):format("counter", "syscall", "fork"))
row("instructions", function(s) return s.instructions end)
row("cycles", function(s) return s.cycles.total end)
-- The categories with cycles in either run, in a fixed order so the table reads the same each time.
for _, category in ipairs { "guest", "mmu", "trap", "device", "waited" } do
  if runs.syscall.stats.cycles.by_category[category] + runs.fork.stats.cycles.by_category[category] > 0 then
    row("  " .. category, function(s) return s.cycles.by_category[category] end)
  end
end
row("traps", function(s) return s.traps.total end)
local causes = {}
for _, run in pairs(runs) do
  for cause, n in pairs(run.stats.traps.by_cause) do
    if n > 0 then causes[cause] = true end
  end
end
local names = {}
for cause in pairs(causes) do names[#names + 1] = cause end
table.sort(names)
for _, cause in ipairs(names) do
  row("  " .. cause, function(s) return s.traps.by_cause[cause] end)
end
row("SBI calls (built-in firmware)", function(s) return s.traps.firmware.total end)
row("TLB hits", function(s) return s.tlb.hits end)
row("TLB misses", function(s) return s.tlb.misses end)
row("TLB flushes", function(s) return s.tlb.flushes end)
row("page-walk references", function(s) return s.walk.references end)
row("walk references per miss", function(s)
  return s.tlb.misses > 0 and ("%.2f"):format(s.walk.references / s.tlb.misses) or "-"
end)

-- What `vmlab test labs` verifies.
vmlab.check("both benchmarks finish and power off cleanly", function()
  for _, run in pairs(runs) do
    expect(run.stop).to_equal("poweroff")
    expect(run.details.exit_code).to_equal(0)
  end
end)

vmlab.check("the benchmark result lines appear", function()
  expect(runs.syscall.console).to_match("bench=syscall iterations=20 status=ok")
  expect(runs.fork.console).to_match("bench=fork iterations=3 status=ok")
end)

vmlab.check("system calls are ecalls from U-mode, and SBI calls ecalls from S-mode", function()
  -- At least one ecall per getpid; the kernel also reaches the firmware (timer, console, poweroff).
  expect(runs.syscall.stats.traps.by_cause.ecall_u >= 20).to_be(true)
  expect(runs.syscall.stats.traps.by_cause.ecall_s > 0).to_be(true)
  expect(runs.syscall.stats.traps.firmware.by_cause.ecall_s).to_equal(runs.syscall.stats.traps.by_cause.ecall_s)
end)

vmlab.check("fork's copy-on-write shows as store page faults", function()
  expect(runs.fork.stats.traps.by_cause.store_page_fault > 0).to_be(true)
  expect(runs.syscall.stats.traps.by_cause.store_page_fault).to_equal(0)
end)

vmlab.check("the cycles are the profile's prices, and the categories add up to the total", function()
  for _, run in pairs(runs) do
    local s = run.stats
    expect(s.profile).to_equal("classic-2006")
    local sum = 0
    for _, cycles in pairs(s.cycles.by_category) do sum = sum + cycles end
    expect(sum).to_equal(s.cycles.total)
    expect(s.cycles.by_event.instruction.cycles).to_equal(s.instructions * profile.instruction)
    expect(s.cycles.by_event.firmware_call.count).to_equal(s.traps.firmware.total)
  end
end)

vmlab.check("paging is on: TLB misses and page walks are counted", function()
  for _, run in pairs(runs) do
    local s = run.stats
    expect(s.instructions > 0).to_be(true)
    expect(s.tlb.hits > 0).to_be(true)
    expect(s.tlb.misses > 0).to_be(true)
    -- Every miss walks the page table: at least one reference each, at most three reads (Sv39)
    -- plus A/D write-backs.
    expect(s.walk.references >= s.tlb.misses).to_be(true)
  end
end)
