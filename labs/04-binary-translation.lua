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
-- (`traced_write_inline`; a table written again and again with nothing walking it in between
-- is no longer traced at all, lab 03's write floods), and a kernel load or store that reaches a
-- device register is retranslated into a direct call of the device model (`bt_inline`).
-- Translated code is not free either: an indirect jump (a return, mostly) must find its target's
-- translation (`bt_indirect_jump`: [AA06]'s call/ret pair, 51 cycles under BT against 11). User
-- code runs directly.
--
--   1. five tinyos benchmarks under native, trap and bt (profile classic-2006), with the same
--      output; the orderings of the cost model that involve bt (cost-model.md, "Results a lab must
--      reproduce"): a system call costs more under bt than natively, a CSR write and a device
--      register access cost less (under trap each device access traps to be emulated, as a VM
--      exit would), fork/exit/wait lies between native and trap;
--   2. page-table stores before adaptation (adapt_threshold = 0: every store traps, as under trap)
--      and after (the default: a store is retranslated after 4 traps);
--   3. the translator's counters: blocks and instructions translated, callouts by kind, inline
--      emulations, adaptations;
--   4. why BT existed: a "hole" (`sret` made not to trap when deprivileged, as x86's POPF ignored
--      IF in ring 3 [RI00]) breaks trap-and-emulate — the Popek–Goldberg condition fails [PG74] —
--      while bt, which rewrites `sret` before it ever runs, is unaffected;
--   5. runtime translation against load-time patching (L4Ka "afterburning", `bt.afterburn`): the
--      loader rewrites the kernel's sensitive instructions once, before it runs;
--   6. what translated code costs by itself: a call/ret pair, [AA06]'s 51 cycles under BT against
--      11 natively, as a small inline kernel.
--
-- Questions: why does a null system call cost ~5× native under bt, when the user code runs
-- directly (where do the guest's two privilege changes go)? Why can a CSR write be *cheaper*
-- than on the bare machine, though tinyos makes it in a function of its own, whose return costs
-- bt 40 cycles more? What does adaptation buy on `pte`, and why does `fork` gain less?
-- The translator pays 2300 cycles per instruction it translates: how many times must a block
-- run to pay that back against trapping (compare csr at n = 20 and n = 2000)? Why is afterburning
-- cheaper than runtime BT on csr and dearer on fork? Which hole could bt not cover, had the
-- kernel generated code at run time without a `fence.i`? In a call/ret pair, why is the return
-- dear under bt and the call, an `auipc` + `jalr`, not?
local vmlab = require "vmlab"

local profile = "classic-2006"
local n = 20                 -- iterations of the short runs
local long = 2000            -- iterations that pay the translation back
local benches = { "syscall", "csr", "mmio", "pte", "fork" }
local kernel = vmlab.guest "tinyos"
-- 32 MiB of RAM rather than the default 128: enough for every benchmark here, and smaller VMs
-- build faster; the timed loops cost the same.
local memory = "32M"
local prices = vmlab.costs(profile)

print(("cost profile: %s (bt_callout %d, bt_inline %d, bt_inline_csr %d, csr_write %d, mmio_access %d, translation %d, bt_indirect_jump %d)")
  :format(profile, prices.bt_callout, prices.bt_inline, prices.bt_inline_csr, prices.csr_write, prices.mmio_access,
          prices.translation, prices.bt_indirect_jump))

local function row(comparison, bench, mode)
  for _, r in ipairs(comparison.rows) do if r.bench == bench and r.mode == mode then return r end end
end
-- Cycles of one iteration of the timed loop, as the guest measured it.
local function per(comparison, bench, mode)
  return row(comparison, bench, mode).guest_cycles / (comparison.n or n)
end
local function per_iteration_table(comparison, names, modes)
  local header = { ("%-8s"):format("bench") }
  for _, mode in ipairs(modes) do header[#header + 1] = ("%12s"):format(mode) end
  for i = 2, #modes do header[#header + 1] = ("%8s"):format(modes[i]:sub(1, 4) .. "/nat") end
  print(table.concat(header, " "))
  for _, bench in ipairs(names) do
    local cells = { ("%-8s"):format(bench) }
    for _, mode in ipairs(modes) do cells[#cells + 1] = ("%12.0f"):format(per(comparison, bench, mode)) end
    for i = 2, #modes do cells[#cells + 1] = ("%8.2f"):format(per(comparison, bench, modes[i]) / per(comparison, bench, modes[1])) end
    print(table.concat(cells, " "))
  end
end

-- 1. native, trap, bt ---------------------------------------------------------------------------
print(("\n1. native vs trap vs bt, n = %d"):format(n))
local t = vmlab.compare { guest = "tinyos", memory = memory, bench = benches, modes = { "native", "trap", "bt" }, n = n, profile = profile }
t:print()
print("\ncycles per iteration of the timed loop, as the guest measured it")
per_iteration_table(t, benches, { "native", "trap", "bt" })

-- With n = 20 the kernel code of the csr and mmio loops is translated inside the timed loop, and
-- its 2300 cycles an instruction are not paid back. With n = 2000 they are.
local l = vmlab.compare { guest = "tinyos", memory = memory, bench = { "csr", "mmio" }, modes = { "native", "trap", "bt" }, n = long,
                          profile = profile }
print(("\nthe same for csr and mmio with n = %d: the translation is paid back"):format(long))
per_iteration_table(l, { "csr", "mmio" }, { "native", "trap", "bt" })

-- One benchmark under bt (with a policy and holes, if given), run to its end.
local function bt_run(bench, iterations, policy, holes)
  local vm <close> = assert(vmlab.vm { mode = "bt", kernel = kernel, memory = memory, profile = profile, bt = policy, holes = holes,
                                       bootargs = ("bench=%s n=%d"):format(bench, iterations) })
  local stop, details = vm:run { max_instructions = 100e6 }
  return { stop = stop, exit_code = details.exit_code, console = vm:console(), stats = vm:stats() }
end

-- 2. Adaptation -----------------------------------------------------------------------------
-- A mode entry that is a table runs bt with another policy, under a label of its own.
local a = vmlab.compare { guest = "tinyos", memory = memory, bench = "pte", n = n, profile = profile,
                          modes = { { mode = "bt", bt = { adapt_threshold = 0 }, label = "bt-unadapted" } } }
local unadapted, adapted = per(a, "pte", "bt-unadapted"), per(t, "pte", "bt")
-- The adapted PTE stores of n more iterations (the run of n is section 3's too).
local pte_runs = { bt_run("pte", n), bt_run("pte", 2 * n) }
local stores = (pte_runs[2].stats.technique.bt.traced_write_inline - pte_runs[1].stats.technique.bt.traced_write_inline) / n
local saved = (unadapted - adapted) / stores
print(("\n2. pte: %.0f cycles per iteration never adapted, %.0f adapted; trap %.0f, native %.0f")
  :format(unadapted, adapted, per(t, "pte", "trap"), per(t, "pte", "native")))
print(("   %.0f traced PTE stores an iteration (map, unmap): adapting saves %.0f cycles on each, which then costs traced_write_inline (%d)")
  :format(stores, saved, prices.traced_write_inline))

-- 3. The translator's counters --------------------------------------------------------------
local counted = { "csr", "mmio", "pte", "fork" }
local runs, counters, twice = {}, {}, {}
for _, bench in ipairs(counted) do
  runs[bench] = bench == "pte" and pte_runs[1] or bt_run(bench, n)
  counters[bench] = runs[bench].stats
end
-- n more iterations: what one more CSR write and one more device read cost the translator.
for _, bench in ipairs { "csr", "mmio" } do twice[bench] = bt_run(bench, 2 * n).stats end
print(("\n3. the translator, per benchmark run (boot included), n = %d"):format(n))
print(("%-8s %8s %10s %8s %8s %8s %8s %8s %8s %8s"):format("bench", "blocks", "instrs", "inval", "callouts", "inline",
                                                           "csr", "device", "adapted", "traced"))
for _, bench in ipairs(counted) do
  local b = counters[bench].technique.bt
  print(("%-8s %8d %10d %8d %8d %8d %8d %8d %8d %8d"):format(bench, b.blocks_translated, b.translated_instructions,
    b.invalidations, b.callouts, b.inline, b.inline_csr, b.device_inline, b.adaptations, b.traced_write_inline))
end
local kinds = {}
for kind, count in pairs(counters.fork.technique.callouts_by_kind) do
  if count > 0 then kinds[#kinds + 1] = ("%s %d"):format(kind, count) end
end
table.sort(kinds)
print("callouts and inline emulations by kind (fork): " .. table.concat(kinds, ", "))
local function more(bench, group, key) return twice[bench].technique[group][key] - counters[bench].technique[group][key] end
print(("%d more csr iterations: %d more inline CSR emulations, %d more callouts, %d more exits")
  :format(n, more("csr", "bt", "inline_csr"), more("csr", "bt", "callouts"), twice.csr.exits.total - counters.csr.exits.total))
print(("%d more mmio iterations: %d more device accesses emulated inline, %d more callouts, %d more exits")
  :format(n, more("mmio", "bt", "device_inline"), more("mmio", "bt", "callouts"), twice.mmio.exits.total - counters.mmio.exits.total))

-- 4. Holes: why BT existed ------------------------------------------------------------------
local pg = vmlab.popek_goldberg {}
local holed_pg = vmlab.popek_goldberg { holes = { "sret" } }
print("\n4. Popek–Goldberg, " .. pg.configuration.description .. ": " .. pg.summary)
print("   with the hole 'sret': " .. holed_pg.summary)
local holed <close> = assert(vmlab.vm { mode = "trap", kernel = kernel, memory = memory, profile = profile, holes = { "sret" },
                                        bootargs = ("bench=syscall n=%d"):format(n) })
local trap_stop, trap_details = holed:run { max_instructions = 20e6 }
local trap_console = holed:console()
local bt_holed = bt_run("syscall", n, nil, { "sret" })
local function result_line(console) return console:match("bench=syscall iterations[^\r\n]*") end
print(("   under trap: %s, exit code %s, %s"):format(trap_stop, tostring(trap_details.exit_code),
  trap_console:match("pid 1 %(init%) killed[^\r\n]*") or result_line(trap_console) or "no result"))
print(("   under bt:   %s, exit code %s, %s"):format(bt_holed.stop, tostring(bt_holed.exit_code),
  result_line(bt_holed.console) or "no result"))

-- 5. Runtime translation against load-time patching ----------------------------------------
-- `bt = { afterburn = true }`: before the kernel runs, the loader overwrites each sensitive
-- instruction of its text with a call into the VMM (L4Ka's afterburning). Nothing is translated at
-- run time, so there is no translation cost; but nothing adapts either (traced stores keep trapping)
-- and the guest sees the patched words if it reads its own text.
local burnt = {}
for _, bench in ipairs { "csr", "fork" } do burnt[bench] = bt_run(bench, n, { afterburn = true }) end
local function loop_cycles(console) return tonumber(console:match("# bench=%S+ cycles=(%d+)")) end
print(("\n5. runtime BT against afterburning, n = %d"):format(n))
print(("%-6s %-10s %14s %12s %10s %10s %10s %12s"):format("bench", "", "translation", "loop/iter", "callouts", "inline",
                                                        "exits", "patched"))
local runtime = runs
for _, bench in ipairs { "csr", "fork" } do
  for _, r in ipairs { { "runtime", runtime[bench] }, { "afterburn", burnt[bench] } } do
    local s = r[2].stats
    print(("%-6s %-10s %14d %12.0f %10d %10d %10d %12s"):format(bench, r[1], s.cycles.by_category.translation,
      loop_cycles(r[2].console) / n, s.technique.bt.callouts, s.technique.bt.inline, s.exits.total,
      s.technique.afterburn and tostring(s.technique.afterburn.sites_patched) .. " sites" or "-"))
  end
end

-- 6. What translated code costs by itself: a call/ret pair -----------------------------------
-- [AA06] timed a call/ret pair at 11 cycles natively and 51 under BT: the call, a direct jump, is
-- translated in place, but the return's target is known only at run time, and translated code must
-- find that target's translation. A small inline kernel (an `image`, run under the built-in SBI) makes
-- the pairs; one more iteration's cycles are the difference between two runs.
local function pairs_kernel(iterations)
  return vmlab.asm(([[
      li s0, %d
  1:  call 2f                 # auipc + jalr: a direct call, its target known when translated
      addi s0, s0, -1
      bnez s0, 1b
      li a7, 0x53525354       # SBI system reset: shutdown
      li a6, 0
      li a0, 0
      li a1, 0
      ecall
  2:  ret                     # an indirect jump
  ]]):format(iterations))
end
local function pair_cycles(mode, policy)
  local total = {}
  for i, iterations in ipairs { 1000, 2000 } do
    local vm <close> = assert(vmlab.vm { mode = mode, image = pairs_kernel(iterations), firmware = "builtin", profile = profile,
                                         bt = policy })
    assert(vm:run { max_instructions = 1e6 } == "poweroff")
    total[i] = vm:stats()
  end
  return (total[2].cycles.total - total[1].cycles.total) / 1000,
         total[2].technique.bt and total[2].technique.bt.indirect_jumps - total[1].technique.bt.indirect_jumps
end
local pair, returns = {}, nil
pair.native, pair.trap = pair_cycles("native"), pair_cycles("trap")
pair.bt, returns = pair_cycles("bt")
pair.afterburn = pair_cycles("bt", { afterburn = true })
print(("\n6. one loop iteration with a call/ret pair (auipc, jalr, ret, addi, bnez): native %.0f, trap %.0f, bt %.0f, afterburnt %.0f cycles")
  :format(pair.native, pair.trap, pair.bt, pair.afterburn))
print(("   bt − native = %.0f = bt_indirect_jump (%d) for the one return; %d more returns counted for 1000 more pairs")
  :format(pair.bt - pair.native, prices.bt_indirect_jump, returns))

-- What `vmlab test labs` verifies.
vmlab.check("bt prints what native prints, for every benchmark", function()
  expect(t.profile).to_equal(profile)
  for _, bench in ipairs(benches) do
    local native = row(t, bench, "native")
    expect(native.result).to_match(("bench=%s iterations=%d status=ok"):format(bench, n))
    expect(row(t, bench, "bt").result).to_equal(native.result)
    expect(row(t, bench, "trap").result).to_equal(native.result)
  end
  expect(row(a, "pte", "bt-unadapted").result).to_equal(row(t, "pte", "native").result)
  for _, bench in ipairs { "csr", "mmio" } do expect(row(l, bench, "bt").result).to_equal(row(l, bench, "native").result) end
end)

vmlab.check("cost model: a system call costs more under bt than natively (and less than under trap)", function()
  expect(per(t, "syscall", "native") < per(t, "syscall", "bt")).to_be(true)
  expect(per(t, "syscall", "bt") < per(t, "syscall", "trap")).to_be(true)
end)

vmlab.check("cost model: a CSR write not intercepted costs less under bt than natively", function()
  expect(per(l, "csr", "bt") < per(l, "csr", "native")).to_be(true)
  expect(per(l, "csr", "bt") < per(l, "csr", "trap")).to_be(true)
  -- Each more write is one more inline emulation: no callout, no exit, nothing translated.
  expect(more("csr", "bt", "inline_csr")).to_equal(n)
  expect(more("csr", "bt", "callouts")).to_equal(0)
  expect(more("csr", "bt", "translated_instructions")).to_equal(0)
  expect(twice.csr.exits.total - counters.csr.exits.total).to_equal(0)
end)

vmlab.check("cost model: a device register access costs less under bt (inline emulation) than natively, more under trap (an exit each)", function()
  expect(per(l, "mmio", "bt") < per(l, "mmio", "native")).to_be(true)
  expect(per(l, "mmio", "native") < per(l, "mmio", "trap")).to_be(true)
  expect(more("mmio", "bt", "device_inline") >= n).to_be(true)
  expect(more("mmio", "bt", "callouts")).to_equal(0)
  expect(twice.mmio.exits.total - counters.mmio.exits.total).to_equal(0)
  expect(counters.mmio.technique.bt.devices_learnt > 0).to_be(true)
end)

vmlab.check("cost model: adapted page-table stores are much cheaper than trapped ones, and cheaper than trap", function()
  expect(stores).to_equal(2)
  expect(saved > 10 * prices.traced_write_inline).to_be(true)
  expect(adapted < per(t, "pte", "trap")).to_be(true)
  expect(per(t, "pte", "native") < adapted).to_be(true)
  expect(counters.pte.technique.bt.adaptations > 0).to_be(true)
  expect(counters.pte.technique.bt.traced_write_inline >= 2 * n).to_be(true)
end)

vmlab.check("cost model: fork/exit/wait native < bt < trap", function()
  expect(per(t, "fork", "native") < per(t, "fork", "bt")).to_be(true)
  expect(per(t, "fork", "bt") < per(t, "fork", "trap")).to_be(true)
end)

vmlab.check("the translator counts its work, and charges it", function()
  for _, bench in ipairs(counted) do
    local s = counters[bench]
    expect(s.mode).to_equal("bt")
    expect(s.technique.bt.blocks_translated > 0).to_be(true)
    expect(s.technique.bt.translated_instructions >= s.technique.bt.blocks_translated).to_be(true)
    expect(s.technique.bt.callouts > 0).to_be(true)
    expect(s.cycles.by_event.translation.count).to_equal(s.technique.bt.translated_instructions)
    expect(s.cycles.by_event.translation.cycles).to_equal(s.technique.bt.translated_instructions * prices.translation)
    -- Returns (indirect jumps) in translated code: each finds its target's translation.
    expect(s.technique.bt.indirect_jumps > 0).to_be(true)
    expect(s.cycles.by_event.bt_indirect_jump.cycles).to_equal(s.technique.bt.indirect_jumps * prices.bt_indirect_jump)
    expect(s.cycles.by_category.translation).to_equal(s.cycles.by_event.translation.cycles + s.cycles.by_event.bt_indirect_jump.cycles)
    expect(s.cycles.by_event.bt_callout.count).to_equal(s.technique.bt.callouts)
  end
end)

vmlab.check("a call/ret pair costs bt_indirect_jump more under bt than natively, and no more under trap or afterburnt", function()
  expect(pair.native).to_equal(5)
  expect(pair.trap).to_equal(pair.native)
  expect(pair.afterburn).to_equal(pair.native)
  expect(pair.bt).to_equal(pair.native + prices.bt_indirect_jump)
  expect(returns).to_equal(1000)
end)

vmlab.check("a hole breaks trap-and-emulate but not binary translation", function()
  expect(pg.virtualisable).to_be(true)
  expect(holed_pg.virtualisable).to_be(false)
  expect(#holed_pg.violations).to_equal(1)
  expect(holed_pg.violations[1].instruction).to_equal("sret")
  expect(trap_stop).to_equal("poweroff")
  expect(trap_details.exit_code ~= 0).to_be(true)
  expect(trap_console).to_match("pid 1 %(init%) killed")
  expect(trap_console:match("status=ok")).to_be(nil)
  expect(bt_holed.stop).to_equal("poweroff")
  expect(bt_holed.exit_code).to_equal(0)
  expect(result_line(bt_holed.console)).to_equal(row(t, "syscall", "native").result)
end)

vmlab.check("afterburning: the same output, no translation, no adaptation", function()
  for _, bench in ipairs { "csr", "fork" } do
    local b, r = burnt[bench], runtime[bench]
    expect(b.stop).to_equal("poweroff")
    expect(b.console:match("bench=%S+ iterations[^\r\n]*")).to_equal(row(t, bench, "native").result)
    expect(b.stats.cycles.by_category.translation).to_equal(0)
    expect(b.stats.technique.bt.translated_instructions).to_equal(0)
    expect(b.stats.technique.afterburn.sites_patched > 0).to_be(true)
    expect(b.stats.technique.afterburn.patched_calls > 0).to_be(true)
    expect(r.stats.cycles.by_category.translation > 0).to_be(true)
  end
  -- csr: the loop's writes are patched calls inline, as translated ones are, without the
  -- translation inside the timed loop.
  expect(loop_cycles(burnt.csr.console) < loop_cycles(runtime.csr.console)).to_be(true)
  -- fork: without adaptation, every store to a page-table page traps, as under trap.
  expect(burnt.fork.stats.technique.bt.adaptations).to_equal(0)
  expect(loop_cycles(burnt.fork.console) > loop_cycles(runtime.fork.console)).to_be(true)
end)
