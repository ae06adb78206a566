-- Lab 08: the TLB, its reach, its geometry and its tags.
--
-- Every memory access translates a virtual address; the TLB caches recent translations so that
-- most accesses skip the page walk (three page-table references under Sv39 with 4 KiB pages). The
-- hart's TLB is a teaching object: its size, its associativity and whether its entries carry the
-- address-space identifier (ASID) of `satp` are options of `vmlab.vm` (`tlb = { entries, ways,
-- tagged }`), its counters are `vm:stats().tlb` and `vm:stats().walk`, and `vm:tlb()` lists what it
-- holds. tinyos's `tlb` benchmark makes pseudo-random accesses over a working set of `pages` 4 KiB
-- pages; its `ctxsw` benchmark bounces a byte between two processes, two address-space switches
-- a round trip.
--
--   1. reach: misses per iteration of the `tlb` loop as the working set grows past what 64 entries
--      map, the walk behind each miss and what it costs; what the TLB holds afterwards;
--   2. geometry: the same loop at the edge of the TLB's reach with 1, 2, 4 and 64 ways, and with
--      four times the entries;
--   3. tags: the `ctxsw` loop with an ASID-tagged TLB and with an untagged one, which flushes on
--      every `satp` write (x86's CR3 load without PCIDs), everything (the 386) or all but the
--      global entries (`keep_global`: the Pentium Pro's CR4.PGE), natively and under
--      trap-and-emulate, where the TLB caches the VMM's shadow tables.
--
-- Every count is the difference between a run of n and one of 2n iterations, so the boot and the
-- set-up cancel and only the timed loop remains.
--
-- Questions: 64 entries map 256 KiB; why does a working set of 64 pages already miss (look at
-- what else the TLB holds: which entries are global, and what size are the kernel's)? Why is a
-- miss three references here, and what would a heap in 2 MiB pages pay? Why do fewer ways miss
-- more at 64 pages, but not at 48 consecutive pages? With ASIDs, why does a context switch under
-- tinyos cost no misses at all? Without them, count the misses each switch costs: what must be
-- refilled, and which of those does keeping global entries save? Under trap, why does an
-- untagged TLB flush ten times a round trip where the machine
-- flushes twice natively (count the guest's system calls, and think of what the VMM loads into
-- `satp` when the guest's privilege changes)? Why does trap miss even with ASIDs (run `vm:tlb()`
-- under trap: what size are the kernel's entries now, and are any of them global)? Why does
-- `keep_global` change nothing under trap, and why may a shadow entry never be global?
local vmlab = require "vmlab"

local kernel = vmlab.guest "tinyos"
local profile = "classic-2006"
local prices = vmlab.costs(profile)
local n = 2048

-- The counters one more `n` iterations of `bench` add: the difference between n and 2n.
local function loop(bench, extra, options)
  local stats = {}
  for i, iterations in ipairs { n, 2 * n } do
    local o = { kernel = kernel, profile = profile, bootargs = ("bench=%s n=%d %s"):format(bench, iterations, extra or "") }
    for k, v in pairs(options or {}) do o[k] = v end
    local vm <close> = assert(vmlab.vm(o))
    assert(vm:run { max_instructions = 100e6 } == "poweroff")
    stats[i] = { s = vm:stats(), tlb = vm:tlb() }
  end
  local a, b = stats[1].s, stats[2].s
  return {
    misses = (b.tlb.misses - a.tlb.misses) / n,
    references = b.walk.references - a.walk.references,
    miss_count = b.tlb.misses - a.tlb.misses,
    cycles = (b.cycles.total - a.cycles.total) / n,
    satp_flushes = (b.tlb.flushes_by_kind.satp - a.tlb.flushes_by_kind.satp) / n,
    entries = stats[2].tlb,
  }
end

print(("cost profile: %s (walk_reference %d, tlb_miss %d, tlb_flush %d); n = %d")
  :format(profile, prices.walk_reference, prices.tlb_miss, prices.tlb_flush, n))

-- 1. Reach -----------------------------------------------------------------------------------
print("\n1. the tlb loop (one page touched an iteration) with a 64-entry, 4-way TLB")
print(("%8s %14s %14s %16s"):format("pages", "misses/iter", "refs/miss", "cycles/iter"))
local reach = {}
local sizes = { 16, 32, 48, 64, 96, 128, 512 }
for _, pages in ipairs(sizes) do
  local r = loop("tlb", "pages=" .. pages)
  reach[pages] = r
  print(("%8d %14.3f %14s %16.1f"):format(pages, r.misses, r.miss_count > 0 and ("%.2f"):format(r.references / r.miss_count) or "-", r.cycles))
end
local per_miss = (reach[512].cycles - reach[16].cycles) / (reach[512].misses - reach[16].misses)
print(("a miss costs %.1f cycles: tlb_miss + 3 walk references = %d"):format(per_miss, prices.tlb_miss + 3 * prices.walk_reference))

-- What the TLB holds after the 32-page run: entries by size, and the global ones.
local held = { total = 0, global = 0, by_size = {}, asids = {} }
for _, e in ipairs(reach[32].entries) do
  held.total = held.total + 1
  if e.global then held.global = held.global + 1 end
  held.by_size[e.page_size] = (held.by_size[e.page_size] or 0) + 1
  held.asids[e.asid] = true
end
local function size_name(bytes) return bytes >= 1 << 30 and (bytes >> 30) .. " GiB" or bytes >= 1 << 20 and (bytes >> 20) .. " MiB" or (bytes >> 10) .. " KiB" end
local parts = {}
for size, count in pairs(held.by_size) do parts[#parts + 1] = ("%d of %s"):format(count, size_name(size)) end
table.sort(parts)
print(("after the 32-page run the TLB holds %d entries: %s; %d global (the kernel's)")
  :format(held.total, table.concat(parts, ", "), held.global))

-- 2. Geometry --------------------------------------------------------------------------------
print("\n2. misses per iteration by associativity (64 entries) and size")
print(("%8s %10s %10s %10s %10s %18s"):format("pages", "1-way", "2-way", "4-way", "64-way", "256 entries, 4-way"))
local geometry = {}
for _, pages in ipairs { 48, 64, 128 } do
  local row = {}
  for _, ways in ipairs { 1, 2, 4, 64 } do row[ways] = loop("tlb", "pages=" .. pages, { tlb = { entries = 64, ways = ways } }).misses end
  row.big = loop("tlb", "pages=" .. pages, { tlb = { entries = 256, ways = 4 } }).misses
  geometry[pages] = row
  print(("%8d %10.3f %10.3f %10.3f %10.3f %18.3f"):format(pages, row[1], row[2], row[4], row[64], row.big))
end

-- 3. Tags --------------------------------------------------------------------------------------
print("\n3. the ctxsw loop (two address-space switches a round trip), per round trip")
print(("%-8s %-12s %10s %14s %14s %18s"):format("mode", "TLB", "misses", "satp flushes", "cycles", "ASIDs in the TLB"))
local tags = {}
local kinds = { { name = "tagged", tlb = { tagged = true } }, { name = "untagged", tlb = { tagged = false } },
                { name = "keep_global", tlb = { tagged = false, keep_global = true } } }
for _, mode in ipairs { "native", "trap" } do
  tags[mode] = {}
  for _, kind in ipairs(kinds) do
    local r = loop("ctxsw", nil, { mode = mode, tlb = kind.tlb })
    local asids = {}
    for _, e in ipairs(r.entries) do asids[e.asid] = true end
    local count = 0
    for _ in pairs(asids) do count = count + 1 end
    r.asids = count
    tags[mode][kind.name] = r
    print(("%-8s %-12s %10.1f %14.1f %14.0f %18d"):format(mode, kind.name, r.misses, r.satp_flushes, r.cycles, count))
  end
end

-- What `vmlab test labs` verifies.
vmlab.check("a working set within the TLB's reach does not miss; past it, nearly every access does", function()
  expect(reach[16].misses).to_equal(0)
  expect(reach[32].misses).to_equal(0)
  expect(reach[512].misses > 0.8).to_be(true)
  for i = 2, #sizes do expect(reach[sizes[i]].misses >= reach[sizes[i - 1]].misses).to_be(true) end
end)

vmlab.check("a miss is one Sv39 walk of three references, priced tlb_miss + 3 walk_reference", function()
  expect(reach[512].references).to_equal(3 * reach[512].miss_count)
  expect(math.abs(per_miss - (prices.tlb_miss + 3 * prices.walk_reference)) < 1).to_be(true)
end)

vmlab.check("the TLB holds the kernel's global gigapages beside the process's 4 KiB pages", function()
  expect(held.global > 0).to_be(true)
  expect(held.by_size[1 << 30] > 0).to_be(true)
  expect(held.by_size[4096] >= 32).to_be(true)
  expect(held.total <= 64).to_be(true)
end)

vmlab.check("fewer ways miss more at the edge of the reach; four times the entries, four times the reach", function()
  expect(geometry[64][1] > geometry[64][64]).to_be(true)
  expect(geometry[48][1]).to_equal(0)
  expect(geometry[128].big).to_equal(0)
  expect(geometry[128][4] > 0.3).to_be(true)
end)

vmlab.check("ASIDs keep both processes' entries; an untagged TLB flushes at every switch and refills", function()
  local tagged, untagged, kept = tags.native.tagged, tags.native.untagged, tags.native.keep_global
  expect(tagged.satp_flushes).to_equal(0)
  expect(untagged.satp_flushes).to_equal(2)
  expect(untagged.misses > tagged.misses).to_be(true)
  expect(untagged.cycles > tagged.cycles).to_be(true)
  expect(tagged.asids >= 2).to_be(true)
  expect(untagged.asids).to_equal(1)
  -- Keeping the kernel's global gigapages saves their refills, not the process's pages'.
  expect(kept.satp_flushes).to_equal(2)
  expect(kept.misses < untagged.misses and kept.misses > tagged.misses).to_be(true)
end)

vmlab.check("under trap every shadow switch is a satp write: untagged, more flushes and misses than natively", function()
  local tagged, untagged = tags.trap.tagged, tags.trap.untagged
  expect(tagged.satp_flushes).to_equal(0)
  expect(untagged.satp_flushes > tags.native.untagged.satp_flushes).to_be(true)
  expect(untagged.misses > tagged.misses).to_be(true)
  expect(untagged.misses > tags.native.untagged.misses).to_be(true)
  -- No shadow entry is global: keeping global entries keeps nothing.
  expect(tags.trap.keep_global.misses).to_equal(untagged.misses)
end)
