-- Lab 04: binary translation — VMware's answer to an architecture that cannot trap everything.
--
-- Under `bt` the unmodified tinyos kernel runs deprivileged on shadow page tables, as under `trap`
-- (lab 03), but the VMM does not wait for it to trap: it translates the kernel's code block by
-- block before it runs [AA06]. Innocuous instructions are copied as they are; each sensitive one
-- (a CSR access, `sret`, `sfence.vma`, `wfi`, an SBI `ecall`) becomes a *callout* into the VMM
-- (`bt_callout`) or, when its only effect is a virtual CSR, a few instructions *inline* in the
-- translated code (`bt_inline_csr`). Translation itself costs (`translation`, per instruction
-- translated), once per block. Two tricks are *adaptive*: a kernel store that keeps faulting on a
-- write-protected page-table page is retranslated into a callout that emulates it without a trap
-- (`traced_write_inline`), and a kernel load or store that reaches a device register is
-- retranslated into a direct call of the device model (`bt_inline`). User code runs directly.
--
--   1. five tinyos benchmarks under native, trap and bt (profile classic-2006), with the same
--      output; the orderings of the cost model that involve bt (cost-model.md, "Results a lab must
--      reproduce"): a system call costs more under bt than natively, a CSR write and a device
--      register access cost less, fork/exit/wait lies between native and trap;
--   2. page-table stores before adaptation (adapt_threshold = 0: every store traps, as under trap)
--      and after (the default: a store is retranslated after 4 traps);
--   3. the translator's counters: blocks and instructions translated, callouts by kind, inline
--      emulations, adaptations;
--   4. why BT existed: a "hole" (`sret` made not to trap when deprivileged, as x86's POPF ignored
--      IF in ring 3 [RI00]) breaks trap-and-emulate — the Popek–Goldberg condition fails [PG74] —
--      while bt, which rewrites `sret` before it ever runs, is unaffected.
--
-- Questions: why does a null system call cost ~10× native under bt, when the user code runs
-- directly (where do the guest's two privilege changes go)? Why can a CSR write be *cheaper*
-- than on the bare machine? What does adaptation buy on `pte`, and why does `fork` gain less?
-- The translator pays 2300 cycles per instruction it translates: how many times must a block
-- run to pay that back against trapping? Which hole could bt not cover, had the kernel generated
-- code at run time without a `fence.i`?
local vmlab = require "vmlab"

local profile = "classic-2006"
local n = 20
local benches = { "syscall", "csr", "mmio", "pte", "fork" }
local prices = vmlab.costs(profile)

print(("cost profile: %s (bt_callout %d, bt_inline %d, bt_inline_csr %d, csr_write %d, mmio_access %d, translation %d)")
  :format(profile, prices.bt_callout, prices.bt_inline, prices.bt_inline_csr, prices.csr_write, prices.mmio_access,
          prices.translation))

-- 1. native, trap, bt ---------------------------------------------------------------------------
print("\n1. native vs trap vs bt")
local t = vmlab.compare { guest = "tinyos", bench = benches, modes = { "native", "trap", "bt" }, n = n, profile = profile }
t:print()

local function row(comparison, bench, mode)
  for _, r in ipairs(comparison.rows) do if r.bench == bench and r.mode == mode then return r end end
end
-- Cycles of one iteration of the timed loop, as the guest measured it.
local function per(comparison, bench, mode) return row(comparison, bench, mode).guest_cycles / n end

print(("\ncycles per iteration of the timed loop (n = %d)"):format(n))
print(("%-8s %10s %10s %10s %8s %8s"):format("bench", "native", "trap", "bt", "bt/nat", "trap/nat"))
for _, bench in ipairs(benches) do
  local native, trap, bt = per(t, bench, "native"), per(t, bench, "trap"), per(t, bench, "bt")
  print(("%-8s %10.0f %10.0f %10.0f %8.2f %8.2f"):format(bench, native, trap, bt, bt / native, trap / native))
end

-- 2. Adaptation -----------------------------------------------------------------------------
local a = vmlab.compare { guest = "tinyos", bench = "pte", n = n, profile = profile,
                          modes = { "native", { mode = "bt", bt = { adapt_threshold = 0 }, label = "bt-unadapted" }, "bt" } }
local unadapted, adapted = per(a, "pte", "bt-unadapted"), per(a, "pte", "bt")
print(("\n2. pte: %.0f cycles per iteration never adapted, %.0f adapted (%.1f× cheaper); trap %.0f, native %.0f")
  :format(unadapted, adapted, unadapted / adapted, per(t, "pte", "trap"), per(a, "pte", "native")))

-- 3. The translator's counters --------------------------------------------------------------
local counters = {}
local function bt_run(bench, policy, holes)
  local vm <close> = assert(vmlab.vm { mode = "bt", kernel = vmlab.guest "tinyos", profile = profile, bt = policy,
                                       holes = holes, bootargs = ("bench=%s n=%d"):format(bench, n) })
  local stop, details = vm:run { max_instructions = 100e6 }
  return { stop = stop, exit_code = details.exit_code, console = vm:console(), stats = vm:stats() }
end
for _, bench in ipairs(benches) do counters[bench] = bt_run(bench).stats end
print("\n3. the translator, per benchmark run (boot included)")
print(("%-8s %8s %10s %8s %8s %8s %8s %8s %8s"):format("bench", "blocks", "instrs", "inval", "callouts", "inline",
                                                     "adapted", "traced", "device"))
for _, bench in ipairs(benches) do
  local b = counters[bench].technique.bt
  print(("%-8s %8d %10d %8d %8d %8d %8d %8d %8d"):format(bench, b.blocks_translated, b.translated_instructions,
    b.invalidations, b.callouts, b.inline, b.adaptations, b.traced_write_inline, b.device_inline))
end
local kinds = {}
for kind, count in pairs(counters.fork.technique.callouts_by_kind) do
  if count > 0 then kinds[#kinds + 1] = ("%s %d"):format(kind, count) end
end
table.sort(kinds)
print("callouts by kind (fork): " .. table.concat(kinds, ", "))

-- 4. Holes: why BT existed ------------------------------------------------------------------
local pg = vmlab.popek_goldberg { guest = "user" }
local holed_pg = vmlab.popek_goldberg { guest = "user", holes = { "sret" } }
print("\n4. Popek–Goldberg, " .. pg.configuration.description .. ": " .. pg.summary)
print("   with the hole 'sret': " .. holed_pg.summary)
local holed <close> = assert(vmlab.vm { mode = "trap", kernel = vmlab.guest "tinyos", profile = profile, holes = { "sret" },
                                        bootargs = ("bench=syscall n=%d"):format(n) })
local trap_stop, trap_details = holed:run { max_instructions = 20e6 }
local trap_console = holed:console()
local bt_holed = bt_run("syscall", nil, { "sret" })
local function result_line(console) return console:match("bench=syscall iterations[^\r\n]*") end
print(("   under trap: %s, exit code %s, %s"):format(trap_stop, tostring(trap_details.exit_code),
  trap_console:match("pid 1 %(init%) killed[^\r\n]*") or result_line(trap_console) or "no result"))
print(("   under bt:   %s, exit code %s, %s"):format(bt_holed.stop, tostring(bt_holed.exit_code),
  result_line(bt_holed.console) or "no result"))

-- What `vmlab test labs` verifies.
vmlab.check("bt prints what native prints, for every benchmark", function()
  expect(t.profile).to_equal(profile)
  for _, bench in ipairs(benches) do
    local native = row(t, bench, "native")
    expect(native.result).to_match(("bench=%s iterations=%d status=ok"):format(bench, n))
    expect(row(t, bench, "bt").result).to_equal(native.result)
    expect(row(t, bench, "trap").result).to_equal(native.result)
  end
  expect(row(a, "pte", "bt-unadapted").result).to_equal(row(a, "pte", "native").result)
end)

vmlab.check("cost model: a system call costs more under bt than natively", function()
  expect(per(t, "syscall", "native") < per(t, "syscall", "bt")).to_be(true)
end)

vmlab.check("cost model: a CSR write not intercepted costs less under bt than natively", function()
  expect(per(t, "csr", "bt") < per(t, "csr", "native")).to_be(true)
  expect(per(t, "csr", "bt") < per(t, "csr", "trap")).to_be(true)
end)

vmlab.check("cost model: a device register access costs less under bt (inline emulation) than natively", function()
  expect(per(t, "mmio", "bt") < per(t, "mmio", "native")).to_be(true)
  expect(counters.mmio.technique.bt.device_inline >= n).to_be(true)
end)

vmlab.check("cost model: adapted page-table stores are much cheaper than trapped ones, and cheaper than trap", function()
  expect(adapted * 2 < unadapted).to_be(true)
  expect(adapted < per(t, "pte", "trap")).to_be(true)
  expect(per(t, "pte", "native") < adapted).to_be(true)
  expect(counters.pte.technique.bt.adaptations > 0).to_be(true)
  expect(counters.pte.technique.bt.traced_write_inline >= n).to_be(true)
end)

vmlab.check("cost model: fork/exit/wait native < bt < trap", function()
  expect(per(t, "fork", "native") < per(t, "fork", "bt")).to_be(true)
  expect(per(t, "fork", "bt") < per(t, "fork", "trap")).to_be(true)
end)

vmlab.check("the translator counts its work, and charges it", function()
  for _, bench in ipairs(benches) do
    local s = counters[bench]
    expect(s.mode).to_equal("bt")
    expect(s.technique.bt.blocks_translated > 0).to_be(true)
    expect(s.technique.bt.translated_instructions >= s.technique.bt.blocks_translated).to_be(true)
    expect(s.technique.bt.callouts > 0).to_be(true)
    expect(s.cycles.by_event.translation.count).to_equal(s.technique.bt.translated_instructions)
    expect(s.cycles.by_category.translation > 0).to_be(true)
  end
  -- The csr benchmark's n writes of sscratch are emulated inline.
  expect(counters.csr.technique.bt.inline - counters.syscall.technique.bt.inline >= n).to_be(true)
end)

vmlab.check("a hole breaks trap-and-emulate but not binary translation", function()
  expect(pg.virtualisable).to_be(true)
  expect(holed_pg.virtualisable).to_be(false)
  expect(holed_pg.violations[1].instruction).to_equal("sret")
  expect(trap_stop).to_equal("poweroff")
  expect(trap_details.exit_code ~= 0).to_be(true)
  expect(trap_console:match("status=ok")).to_be(nil)
  expect(bt_holed.stop).to_equal("poweroff")
  expect(bt_holed.exit_code).to_equal(0)
  expect(result_line(bt_holed.console)).to_equal(row(t, "syscall", "native").result)
end)
