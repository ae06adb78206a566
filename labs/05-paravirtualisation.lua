-- Lab 05: para-virtualisation — a kernel that cooperates with its VMM.
--
-- Under `trap` (lab 03) the unmodified kernel runs deprivileged and the VMM discovers what it
-- does by catching it: every privileged instruction, every page-table store (traced), every
-- switch of address space is a trap into the VMM. Under `pv` the kernel is modified (Xen's idea
-- [X03]): tinyos-pv is the same sources with a small para-virtual layer (labs/guests/tinyos/kernel/
-- arch_pv.c) that asks the VMM, by hypercall, for what it may not do itself — change a page-table
-- entry (`mmu_update`, validated and batched), switch address spaces (`set_satp`), flush the TLB,
-- set its timer. Everything else runs directly: system calls and page faults go straight to the
-- guest kernel, with no VMM on the path.
--
-- We run five tinyos benchmarks with a small n under four columns — tinyos under `native` (no
-- VMM), `trap` and `bt` (lab 04), tinyos-pv under `pv` — and compare what each costs per
-- iteration, as the guest measured it on its own clock (the VMM's work is charged to that clock
-- when it is done). Each run is made twice, with n and 2n iterations: the difference of the VMM's
-- counters between the two is what n more iterations cost, so we also get hypercalls per
-- iteration, exactly.
--
-- The orderings checked are the para-virtualisation ones of the cost model: a null system call costs what it costs natively; a page fault costs native + two VMM entries;
-- a context switch native + one hypercall; page-table stores cost ⌈K/N⌉ hypercalls for K stores
-- batched N at a time; fork/exit/wait lies between native and bt (native < pv < bt [AA06, X03]),
-- and below trap.
--
-- Questions: why does a null system call cost nothing extra under pv but ~70× under trap? Where
-- do a pv page fault's two VMM entries come from (see arch_pv.c)? Why does `pte` make one
-- `mmu_update` per store while `fork` puts several stores in one? What would a kernel that batched
-- every write (Linux's lazy-MMU mode) gain on `pte`, and what must it give up?
local vmlab = require "vmlab"

local profile = "classic-2006"
local n = 4
local benches = { "syscall", "pagefault", "ctxsw", "pte", "fork" }
local columns = {
  { mode = "native", guest = "tinyos" },
  { mode = "trap", guest = "tinyos" },
  { mode = "bt", guest = "tinyos" },
  { mode = "pv", guest = "tinyos-pv" },
}
local prices = vmlab.costs(profile)

print(("cost profile: %s (hypercall %d cycles, pv_update %d, tlb_flush %d)")
  :format(profile, prices.hypercall, prices.pv_update, prices.tlb_flush))

-- One run: the guest's own measurement of its timed loop (its "# bench=" line), its result line,
-- and the VMM's counters.
local function run(column, bench, iterations)
  local vm <close> = assert(vmlab.vm { mode = column.mode, kernel = vmlab.guest(column.guest), profile = profile,
                                       bootargs = ("bench=%s n=%d"):format(bench, iterations) })
  local stop = vm:run { max_instructions = 500e6 }
  local console = vm:console()
  local stats = vm:stats()
  return {
    stop = stop,
    cycles = tonumber(console:match("# bench=%S+ cycles=(%d+)")),
    result = console:match("(bench=" .. bench .. " iterations=[^\r\n]*)"),
    hypercalls = stats.technique.hypercalls or {},
    pv = stats.technique.pv or {},
    stats = stats,
  }
end

-- Per bench and column: cycles per iteration (the guest's measurement over n and 2n iterations,
-- differenced), and for pv the hypercalls and updates per iteration.
local results = {}
for _, bench in ipairs(benches) do
  results[bench] = {}
  for _, column in ipairs(columns) do
    local a, b = run(column, bench, n), run(column, bench, 2 * n)
    local r = { runs = { a, b }, per = (b.cycles - a.cycles) / n, calls = {} }
    -- Counts per iteration: integers when n more iterations made a multiple of n more calls.
    local function per(d) return d % n == 0 and d // n or d / n end
    for name, count in pairs(b.hypercalls) do r.calls[name] = per(count - (a.hypercalls[name] or 0)) end
    r.updates = per((b.pv.updates_applied or 0) - (a.pv.updates_applied or 0))
    results[bench][column.mode] = r
  end
end

-- The comparison table.
print(("\ncycles per iteration, as the guest measured them (profile %s; n = %d and %d, differenced)")
  :format(profile, n, 2 * n))
print(("%-10s %10s %12s %10s %10s %8s %8s %8s  %s"):format("bench", "native", "trap", "bt", "pv", "pv/nat", "bt/nat",
                                                           "trap/nat", "pv hypercalls per iteration"))
for _, bench in ipairs(benches) do
  local r = results[bench]
  local calls = {}
  for name, count in pairs(r.pv.calls) do
    if count ~= 0 then calls[#calls + 1] = ("%s %g"):format(name, count) end
  end
  table.sort(calls)
  print(("%-10s %10.0f %12.0f %10.0f %10.0f %8.2f %8.2f %8.1f  %s"):format(bench, r.native.per, r.trap.per, r.bt.per,
    r.pv.per, r.pv.per / r.native.per, r.bt.per / r.native.per, r.trap.per / r.native.per,
    #calls > 0 and table.concat(calls, ", ") or "none"))
end

-- What `vmlab test labs` verifies.
local h = prices.hypercall

vmlab.check("every run completes, and tinyos-pv prints what tinyos prints", function()
  for _, bench in ipairs(benches) do
    for _, column in ipairs(columns) do
      for _, run in ipairs(results[bench][column.mode].runs) do
        expect(run.stop).to_equal("poweroff")
        expect(run.result).to_be_truthy()
        expect(run.cycles).to_be_truthy()
      end
    end
    for i = 1, 2 do
      expect(results[bench].pv.runs[i].result).to_equal(results[bench].native.runs[i].result)
      expect(results[bench].trap.runs[i].result).to_equal(results[bench].native.runs[i].result)
      expect(results[bench].bt.runs[i].result).to_equal(results[bench].native.runs[i].result)
    end
    expect(results[bench].pv.runs[1].stats.mode).to_equal("pv")
    expect(results[bench].pv.runs[1].pv.refusals <= 1).to_be(true)   -- at most the disk probe
    expect(results[bench].pv.runs[1].pv.emulated_privileged).to_equal(0)
  end
end)

vmlab.check("a null system call under pv costs what it costs natively, with no hypercall", function()
  local r = results.syscall
  expect(math.abs(r.pv.per - r.native.per) <= r.native.per * 0.05).to_be(true)
  for name, count in pairs(r.pv.calls) do expect(("%s %s"):format(name, count)).to_equal(name .. " 0") end
  expect(r.trap.per > 10 * r.native.per).to_be(true)
  expect(r.pv.per < r.bt.per).to_be(true)          -- native ≈ pv < bt, trap
end)

vmlab.check("a pv page fault costs native + two VMM entries (the PTE update and its flush)", function()
  local r = results.pagefault
  expect(r.pv.calls.mmu_update).to_equal(1)
  expect(r.pv.calls.tlb_flush).to_equal(1)
  expect(r.pv.updates).to_equal(1)
  local extra = r.pv.per - r.native.per
  -- Two entries, their work (one validated update, one flush) and a few dozen instructions of
  -- the para-virtual layer.
  expect(extra >= 2 * h + prices.pv_update + prices.tlb_flush).to_be(true)
  expect(extra <= 2 * h + prices.pv_update + prices.tlb_flush + 100).to_be(true)
  expect(r.pv.per < r.trap.per).to_be(true)
end)

vmlab.check("a pv context switch costs native + one hypercall (set_satp)", function()
  local r = results.ctxsw
  -- A ctxsw iteration is a round trip: two process switches.
  expect(r.pv.calls.set_satp).to_equal(2)
  expect(r.pv.calls.mmu_update or 0).to_equal(0)
  -- The hypercall replaces the native kernel's satp write, which costs csr_write on the hardware.
  local extra = (r.pv.per - r.native.per) / 2
  expect(extra >= h - prices.csr_write).to_be(true)
  expect(extra <= h - prices.csr_write + 100).to_be(true)
  expect(r.pv.per < r.trap.per).to_be(true)
end)

vmlab.check("page-table stores cost ceil(K/N) hypercalls: one per unbatched store, fewer when batched", function()
  -- pte maps and unmaps a page: two stores, each outside a batch (K = 1: one mmu_update each).
  local pte = results.pte
  expect(pte.pv.updates).to_equal(2)
  expect(pte.pv.calls.mmu_update).to_equal(math.ceil(1 / 2048) * 2)
  -- fork copies the address space inside arch_pte_batch_begin/_end: several stores per
  -- mmu_update (batches are flushed at table links, so not all K in one).
  local fork = results.fork
  expect(fork.pv.updates > fork.pv.calls.mmu_update).to_be(true)
  expect(fork.pv.calls.mmu_update >= math.ceil(fork.pv.updates / 2048)).to_be(true)
  expect(pte.pv.per < pte.trap.per).to_be(true)
  -- native ≪ pv (batched) < bt (adaptive) ≪ trap.
  expect(pte.pv.per < pte.bt.per).to_be(true)
  expect(pte.bt.per < pte.trap.per).to_be(true)
end)

vmlab.check("fork/exit/wait between native and bt: native < pv < bt < trap", function()
  local r = results.fork
  expect(r.native.per < r.pv.per).to_be(true)
  expect(r.pv.per < r.bt.per).to_be(true)
  expect(r.bt.per < r.trap.per).to_be(true)
end)
