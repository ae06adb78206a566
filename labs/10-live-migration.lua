-- Lab 10: live migration by pre-copy.
--
-- A VMM moves a running VM to another host by copying its memory while it runs (Clark et al.,
-- "Live Migration of Virtual Machines", NSDI 2005, the Xen scheme; KVM does the same): a first
-- round sends every page; each later round sends the pages the VM dirtied while the previous one
-- was being sent; when little is left, or the rounds stop shrinking, the VM is stopped and the
-- rest is sent with its registers and devices: the downtime. Here the link sends a page in
-- `cycles_per_page` modelled cycles, and during each round the VM runs for exactly as long as the
-- round's pages take. The dirty pages of a round are the pages whose contents changed between two
-- snapshots (`snapshot:changed_pages(earlier)`), and the final snapshot is restored onto a VM
-- built alike on another host.
--
--   1. a VM that computes in registers and a small stack: after the first round, a few pages are
--      left for the stop-and-copy;
--   2. a writable working set: tinyos's `tlb` benchmark writes over `pages` pages; the dirty set
--      stops shrinking at its size, however many rounds are run, and the downtime grows with it;
--   3. a link ten times slower: the same working set, longer rounds;
--   4. the target: the VM restored on the other host finishes exactly as it would have finished
--      where it was;
--   5. the log a hypervisor keeps instead of comparing contents (`vm:dirty_pages { clear = true }`),
--      beside the pages whose contents changed: the same working set under `hw`, whose log is the
--      G stage's D bits (and again with 2 MiB G-stage leaves, which the first clear splits, as KVM
--      splits huge pages for dirty logging), under `trap`, whose shadow pager logs by write protection (each clear
--      makes every shadow leaf read-only; the guest's first store to each page after it is a
--      hidden fault), and under `interpret`, whose software CPU sees every store (QEMU's way under
--      TCG: its soft TLB sends the first store to each clean page down its slow path).
--
-- Questions: Why does the first round send nearly all of the VM's RAM although tinyos uses little
-- of it (see lab 09)? What would a VMM gain by skipping pages that are all zero, and how would it
-- know? In section 2, why is the dirty set of every round the working set, and what decides the
-- downtime? When should a VMM give up iterating? In section 3, the working set is the same: why
-- is the outcome not? What would post-copy migration (start on the target at once, fetch pages on
-- demand) trade against pre-copy? Why can the target's run be compared with the source's, cycle
-- for cycle, here, and never on real hardware? In section 5, why may a log hold more pages than
-- changed, and why can it never hold fewer? What does the guest pay for each clear under each
-- VMM (compare the instructions per cycle it got done while migrating), and why does a VMM
-- comparing contents never know which pages to compare? Why does the shadow pager not need the
-- hardware's D bits? Why does the dirty set under `trap` shrink a little every round, where under
-- `hw` it stays the working set, and would a VMM want that? What does the interpreter's log cost,
-- and whom? With 2 MiB G-stage leaves the guest runs faster than with 4 KiB ones until the log
-- is first cleared, and then no faster: why must the leaves be split to log pages, and what did
-- the larger leaves save the guest?
local vmlab = require "vmlab"

local kernel = vmlab.guest "tinyos"
local page_bytes = 4096
-- 4 KiB at 10 Gbit/s is 3.28 microseconds: 3 277 cycles of the 1 GHz modelled clock.
local fast_link = 3277
local max_rounds = 8
local small_enough = 16

-- A VM running `bootargs` (on `host`, under interpret, when given; else under `mode`, native by
-- default, with the `hw` policy `hw`), stopped as its benchmark prints `begin`.
local function started(bootargs, host, mode, hw)
  local o = { kernel = kernel, bootargs = bootargs, memory = "16M", profile = "classic-2006", mode = mode, hw = hw }
  local vm
  if host then
    o.mode = "interpret"
    vm = host:vm(o)
  else
    vm = assert(vmlab.vm(o))
  end
  while not vm:console():find("begin", 1, true) do
    assert(vm:run { max_instructions = 5000 } == "budget")
  end
  return vm
end

-- Pre-copy from `vm`: the rounds (pages sent, pages dirtied meanwhile, pages whose contents
-- changed) and the final state. A round's dirty pages are those that changed, found by comparing
-- snapshots; with `logged`, those in the VMM's dirty log (a `hw` or `trap` VM's), cleared as each
-- round starts, and the first round sends what the log holds at first: every page.
local function migrate(vm, cycles_per_page, logged)
  local sent = vm:snapshot()
  local instructions, cycles = vm:stats "instructions", vm:stats "cycles.total"
  local to_send = logged and #vm:dirty_pages { clear = true } or sent:info().ram_bytes // page_bytes
  local rounds, total = {}, 0
  while true do
    total = total + to_send
    vm:run { max_cycles = to_send * cycles_per_page }
    local now = vm:snapshot()
    local changed = #now:changed_pages(sent)
    local dirty = logged and #vm:dirty_pages { clear = true } or changed
    rounds[#rounds + 1] = { sent = to_send, dirty = dirty, changed = changed }
    sent:close()
    sent = now
    -- Stop when little is left, when the round did not shrink what is left, or at the limit.
    local shrinking = dirty < to_send
    to_send = dirty
    if dirty <= small_enough or not shrinking or #rounds == max_rounds then break end
  end
  -- Stop and copy: the last dirty pages go with the registers and devices (`sent` holds them).
  total = total + to_send
  return { rounds = rounds, total = total, downtime_pages = to_send,
           downtime_us = to_send * cycles_per_page / 1000, final = sent,
           -- The guest's progress while it migrated: instructions per thousand cycles.
           throughput = (vm:stats "instructions" - instructions) * 1000 / (vm:stats "cycles.total" - cycles) }
end

local function show(m)
  local cells = {}
  for _, r in ipairs(m.rounds) do cells[#cells + 1] = ("%d/%d"):format(r.sent, r.dirty) end
  print(("      rounds (sent/dirtied): %s"):format(table.concat(cells, " ")))
  print(("      %d pages sent in all; stop-and-copy %d pages: %.1f us of downtime")
    :format(m.total, m.downtime_pages, m.downtime_us))
end

print("1. A VM that computes, over a 10 Gbit/s link")
local computing = started("bench=compute n=3000000")
local quiet = migrate(computing, fast_link)
show(quiet)
computing:close()
quiet.final:close()

print()
print("2. A writable working set (tinyos's tlb benchmark), 10 Gbit/s")
local working = {}
for _, pages in ipairs { 64, 256, 1024 } do
  local vm = started(("bench=tlb n=10000000 pages=%d"):format(pages))
  print(("   %d pages:"):format(pages))
  working[pages] = migrate(vm, fast_link)
  show(working[pages])
  vm:close()
  working[pages].final:close()
end

print()
print("3. The same 256 pages over 1 Gbit/s")
local slow = started("bench=tlb n=10000000 pages=256")
local slow_link = migrate(slow, 10 * fast_link)
show(slow_link)
slow:close()
slow_link.final:close()

print()
print("4. The target, on another host (both VMs under interpret)")
local host_a <close> = vmlab.host { memory = "64M" }
local host_b <close> = vmlab.host { memory = "64M" }
local on_a = started("bench=fork n=100", host_a)
local moved = migrate(on_a, fast_link)
show(moved)
-- Built alike on host B, which then takes the final state: the stop-and-copy.
local target = host_b:vm { kernel = kernel, bootargs = "bench=fork n=100", memory = "16M", profile = "classic-2006", mode = "interpret" }
target:restore(moved.final)
-- What the source would have done had it not moved: its state is the final snapshot too.
assert(on_a:run() == "poweroff" and target:run() == "poweroff")
local result = {
  source = { console = on_a:console(), cycles = on_a:stats().cycles.total },
  target = { console = target:console(), cycles = target:stats().cycles.total },
}
print("   on host A: " .. result.source.console:match("bench=fork iterations[^\n]*"))
print("   on host B: " .. result.target.console:match("bench=fork iterations[^\n]*"))
print(("   %d cycles either way"):format(result.target.cycles))

print()
print("5. The log a VMM keeps, the same 256 pages, 10 Gbit/s")
local logs = {}
local mechanisms = { hw = "the G stage's D bits", ["hw-2mib"] = "the same, 2 MiB G-stage leaves split at the first clear",
                     trap = "write protection of the shadows", interpret = "the software CPU's stores" }
for _, label in ipairs { "hw", "hw-2mib", "trap", "interpret" } do
  local mode = label:match("^%a+")
  local hw = label == "hw-2mib" and { gstage_page_size = 2 * 1024 * 1024 } or nil
  local vm = started("bench=tlb n=10000000 pages=256", nil, mode, hw)
  print(("   %s, %s:"):format(label, mechanisms[label]))
  local m = migrate(vm, fast_link, true)
  show(m)
  local cells = {}
  for _, r in ipairs(m.rounds) do cells[#cells + 1] = ("%d/%d"):format(r.dirty, r.changed) end
  print(("      rounds (logged/changed): %s"):format(table.concat(cells, " ")))
  m.log = vm:stats().technique.dirty_log
  if mode == "hw" then
    print(("      %d harvests, %d G-stage leaves read, %d 2 MiB leaves split"):format(m.log.harvests, m.log.leaves_scanned, m.log.huge_pages_split))
  elseif mode == "trap" then
    print(("      %d harvests, %d shadow leaves write-protected, %d write faults"):format(m.log.harvests, m.log.leaves_write_protected, m.log.write_faults))
  else
    print(("      %d harvests, %d first stores to clean pages"):format(m.log.harvests, m.log.first_stores))
  end
  -- The same migration with the log's cost taken away: contents compared, nothing protected.
  local unlogged_vm = started("bench=tlb n=10000000 pages=256", nil, mode, hw)
  local unlogged = migrate(unlogged_vm, fast_link)
  m.unlogged = unlogged
  print(("      the guest ran %.1f instructions per 1000 cycles while it migrated; without the log, %.1f"):format(m.throughput, unlogged.throughput))
  logs[label] = m
  vm:close()
  m.final:close()
  unlogged_vm:close()
  unlogged.final:close()
end
local logged = logs.hw

vmlab.check("a VM that barely writes converges at once: a small stop-and-copy", function()
  expect(#quiet.rounds <= 3).to_be(true)
  expect(quiet.downtime_pages <= small_enough).to_be(true)
end)

vmlab.check("a writable working set does not converge: it is dirtied again every round", function()
  for pages, m in pairs(working) do
    expect(m.downtime_pages >= pages).to_be(true)
    expect(m.downtime_pages < pages + small_enough).to_be(true)
  end
  expect(working[1024].downtime_us > working[64].downtime_us * 10).to_be(true)
end)

vmlab.check("a slower link pays the same working set ten times the downtime", function()
  expect(slow_link.downtime_us > 9 * working[256].downtime_us).to_be(true)
end)

vmlab.check("the target finishes exactly as the source would have", function()
  expect(result.target.console).to_equal(result.source.console)
  expect(result.target.cycles).to_equal(result.source.cycles)
end)

vmlab.check("each hypervisor's log holds every page that changed", function()
  for _, m in pairs(logs) do
    for _, r in ipairs(m.rounds) do expect(r.dirty >= r.changed).to_be(true) end
  end
  expect(logs.hw.downtime_pages >= 256).to_be(true)
end)

vmlab.check("write protection costs the guest a fault per page per round, and slows it more than the D bits", function()
  local trap, hw = logs.trap, logs.hw
  -- Every page a round logged was clean as it began: a write fault, or written by the VMM.
  local logged_pages = 0
  for _, r in ipairs(trap.rounds) do logged_pages = logged_pages + r.dirty end
  expect(trap.log.write_faults + trap.log.pages_written_by_vmm).to_equal(logged_pages)
  expect(trap.throughput < trap.unlogged.throughput).to_be(true)
  expect(trap.throughput / trap.unlogged.throughput < hw.throughput / hw.unlogged.throughput).to_be(true)
end)

vmlab.check("2 MiB G-stage leaves are split at the first clear: pages logged one by one, the guest as slow as with 4 KiB", function()
  local mega = logs["hw-2mib"]
  expect(mega.log.huge_pages_split).to_equal(8)
  for i = 2, #mega.rounds do expect(mega.rounds[i].dirty < 512).to_be(true) end
  expect(mega.throughput < mega.unlogged.throughput).to_be(true)
  -- (Within a thousandth: the TLB held 2 MiB entries until the first clear.)
  expect(math.abs(mega.throughput - logs.hw.throughput) < logs.hw.throughput / 1000).to_be(true)
end)

vmlab.check("the interpreter logs every store exactly, and it costs the guest no modelled cycle", function()
  local interpret = logs.interpret
  local logged_pages = 0
  for _, r in ipairs(interpret.rounds) do logged_pages = logged_pages + r.dirty end
  expect(interpret.log.first_stores + interpret.log.pages_written_by_vmm).to_equal(logged_pages)
  expect(math.abs(interpret.throughput - interpret.unlogged.throughput) < interpret.unlogged.throughput / 100).to_be(true)
end)
