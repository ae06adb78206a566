-- vm:dirty_pages: the VMMs' dirty logs — hw's from the G stage's D bits and its record of DMA,
-- the shadow pager's (trap, bt, hw with shadow paging) by write protection. Every page whose
-- contents changed between two snapshots must be in the log kept meanwhile (a page can be written
-- and not changed, never changed and not written).
local vmlab = require "vmlab"
local tinyos = require "tinyos_run"
local blk = require "virtio_blk_request"
local sv39_kernel = require "sv39_kernel"

-- tinyos under `mode` (default hw), 16 MiB, running `bench` (long enough not to finish in these runs).
local function vm(bench, extra, mode)
  local o = { memory = "16M", bootargs = ("bench=%s n=2000"):format(bench) }
  for k, v in pairs(extra or {}) do o[k] = v end
  return tinyos.vm(mode or "hw", bench, o)
end

-- Whether every element of `inner` is in `outer`.
local function within(inner, outer)
  local set = {}
  for _, p in ipairs(outer) do set[p] = true end
  for _, p in ipairs(inner) do if not set[p] then return false, vmlab.hex(p) end end
  return true
end

describe("vm:dirty_pages", function()
  it("starts with every page of RAM, then holds what the guest wrote since it was cleared", function()
    local v <close> = vm("fork")
    expect((v:run { max_instructions = 2e6 })).to_equal("budget")
    local all = v:dirty_pages { clear = true }
    expect(#all).to_equal(4096)
    expect(all[1]).to_equal(0x80000000)
    expect(all[#all]).to_equal(0x80000000 + 16 * 2^20 - 4096)
    expect(v:dirty_pages()).to_equal({})                 -- nothing ran since
    local before = v:snapshot()
    expect((v:run { max_instructions = 1e6 })).to_equal("budget")
    local dirty = v:dirty_pages()
    expect(v:dirty_pages()).to_equal(dirty)              -- reading does not clear
    local changed = v:snapshot():changed_pages(before)
    expect(#changed > 0).to_be_truthy()
    expect(#dirty >= #changed and #dirty < 100).to_be_truthy()
    expect(within(changed, dirty)).to_be_truthy()
    for i = 2, #dirty do expect(dirty[i] > dirty[i - 1]).to_be_truthy() end
    local log = v:stats().technique.dirty_log
    expect(log.harvests).to_equal(4)
    expect(log.clears).to_equal(1)
    expect(log.leaves_scanned).to_equal(4 * 4096)
  end)

  it("splits 2 MiB G-stage leaves when first cleared, as KVM does, so that it tells pages apart", function()
    local v <close> = vm("fork", { hw = { gstage_page_size = 2 * 2^20 } })
    v:run { max_instructions = 2e6 }
    local unsplit <close> = v:snapshot()
    local walks = v:stats("walk.references")
    expect(#v:dirty_pages()).to_equal(4096)                  -- eight 2 MiB leaves, D set
    expect(v:stats().technique.dirty_log.leaves_scanned).to_equal(8)
    expect(v:stats().technique.dirty_log.huge_pages_split).to_equal(0)
    expect(#v:dirty_pages { clear = true }).to_equal(4096)
    expect(v:stats().technique.dirty_log.huge_pages_split).to_equal(8)
    local before = v:snapshot()
    v:run { max_instructions = 1e6 }
    local dirty = v:dirty_pages()
    expect(#dirty > 0 and #dirty < 100).to_be_truthy()     -- pages, not 2 MiB at a time
    expect(within(v:snapshot():changed_pages(before), dirty)).to_be_truthy()
    expect(v:stats().technique.dirty_log.leaves_scanned).to_equal(8 + 8 + 4096)
    -- What the guest pays: its G walks end a level later (4 KiB leaves), so walks read more.
    local split_walks = v:stats("walk.references") - walks
    v:restore(unsplit)
    v:run { max_instructions = 1e6 }
    expect(split_walks > v:stats("walk.references") - walks).to_be_truthy()

    -- A snapshot from before the split takes the G stage's pool back too: splitting again and
    -- again from it never runs out of tables.
    for _ = 1, 4 do
      v:restore(unsplit)
      expect(#v:dirty_pages { clear = true }).to_equal(4096)
      v:run { max_instructions = 1e5 }
      expect(#v:dirty_pages() < 100).to_be_truthy()
    end
    expect(v:stats().technique.dirty_log.huge_pages_split).to_equal(8)
  end)

  -- Under hw no D bit shows what the VMM wrote; under trap no write fault does; under interpret
  -- no store of the software CPU's.
  for _, mode in ipairs { "hw", "trap", "interpret" } do
    it("under " .. mode .. ": holds the pages an emulated disk wrote by DMA and a tool wrote", function()
      local disk = blk.tinyos_fixture()
      local v <close> = vm("disk", { disks = { { file = disk } } }, mode)
      expect((v:run { max_instructions = 1e6 })).to_equal("budget")
      v:dirty_pages { clear = true }
      local before = v:snapshot()
      local dma = v:stats("dma.writes")
      expect((v:run { max_instructions = 2e6 })).to_equal("budget")
      expect(v:stats("dma.writes") > dma).to_be_truthy()
      expect(v:stats().technique.dirty_log.pages_written_by_vmm > 0).to_be_truthy()
      local ok, missing = within(v:snapshot():changed_pages(before), v:dirty_pages { clear = true })
      expect(missing).to_be_nil()
      expect(ok).to_be_truthy()
      -- A page nothing maps: only the tool's write can dirty it.
      v:write_memory(0x80f00000, "x")
      expect(v:dirty_pages()).to_equal({ 0x80f00000 })
      os.remove(disk)
    end)
  end

  -- hw's D bits are in the G stage and its record of the VMM's writes in its state; trap's and
  -- bt's clean pages in the shadow pager's; interpret's in the technique's.
  for _, mode in ipairs { "hw", "trap", "bt", "interpret" } do
    it("under " .. mode .. ": goes back with a snapshot, also through a file onto another VM", function()
      local v <close> = vm("fork", {}, mode)
      v:run { max_instructions = 2e6 }
      v:dirty_pages { clear = true }
      local snap = v:snapshot()
      local path = os.tmpname()
      snap:save(path)
      v:run { max_instructions = 5e5 }
      local first, counters = v:dirty_pages(), v:stats().technique.dirty_log
      v:restore(snap)
      v:run { max_instructions = 5e5 }
      expect(v:dirty_pages()).to_equal(first)
      expect(v:stats().technique.dirty_log).to_equal(counters)
      local other <close> = vm("fork", {}, mode)
      other:restore(vmlab.load_snapshot(path))
      other:run { max_instructions = 5e5 }
      expect(other:dirty_pages()).to_equal(first)
      expect(other:stats().technique.dirty_log).to_equal(counters)
      os.remove(path)
    end)
  end

  it("is kept by every VMM but pv's; nested paging needs the hart's A/D updates", function()
    local native <close> = tinyos.vm("native", "fork", { memory = "16M" })
    expect(select(2, native:dirty_pages())).to_equal("no dirty log under 'native': there is no VMM to keep one (interpret, trap, bt and hw keep one)")
    local pv <close> = tinyos.vm("pv", "fork", { memory = "16M" })
    expect(select(2, pv:dirty_pages())).to_equal("no dirty log under 'pv': the guest maps its own memory writable and this VMM keeps no shadow of its tables to take that away (interpret, trap, bt and hw keep one)")
    local svade <close> = vm("fork", { ad_bits = "fault" })
    expect(select(2, svade:dirty_pages())).to_match("no dirty log with ad_bits = \"fault\"")
  end)

  it("raises on misuse", function()
    local v <close> = vm("fork")
    expect(function() v:dirty_pages { clear = 1 } end).to_raise("clear")
    expect(function() v:dirty_pages { bogus = true } end).to_raise("bogus")
    v:on("exit", function() v:dirty_pages() end)
    expect(function() v:run { max_instructions = 2e6 } end).to_raise("not allowed while the VM runs")
  end)

  -- Under shadow paging the log is write protection: the shadows' writable leaves made read-only
  -- at each clear, the guest's first store to each page a hidden fault.
  for _, case in ipairs { { "trap", {} }, { "bt", {} }, { "hw", { hw = { paging = "shadow" } } }, { "trap", { ad_bits = "fault" } } } do
    local mode, extra = case[1], case[2]
    local name = mode .. (extra.hw and " with shadow paging" or extra.ad_bits and " with ad_bits = \"fault\"" or "")
    it("under " .. name .. ": starts with every page, then holds each round's writes, a write fault each", function()
      local v <close> = vm("pagefault", extra, mode)
      expect((v:run { max_instructions = 2e6 })).to_equal("budget")
      expect(#v:dirty_pages { clear = true }).to_equal(4096)
      expect(v:dirty_pages()).to_equal({})
      local logged = 0
      for _ = 1, 3 do
        local before = v:snapshot()
        expect((v:run { max_instructions = 1e6 })).to_equal("budget")
        local dirty = v:dirty_pages { clear = true }
        expect(#dirty > 100 and #dirty < 1000).to_be_truthy()   -- the benchmark's pages, not all of RAM
        logged = logged + #dirty
        local ok, missing = within(v:snapshot():changed_pages(before), dirty)
        expect(missing).to_be_nil()
        expect(ok).to_be_truthy()
      end
      local log = v:stats().technique.dirty_log
      expect(log.harvests).to_equal(5)
      expect(log.clears).to_equal(4)
      -- Every page logged was clean as its round began: the guest's store faulted on it, or the VMM wrote it.
      expect(log.write_faults + log.pages_written_by_vmm).to_equal(logged)
      expect(log.write_faults > 0 and log.leaves_write_protected > 0).to_be_truthy()
      expect(v:check_shadows()).to_equal({})
    end)
  end

  -- The software CPU sees every store: its soft TLB keeps clean pages' stores on the slow path,
  -- which notes each page once. Host time only: nothing the guest can count changes.
  it("under interpret: starts with every page, then holds each round's writes, and changes no count", function()
    local v <close> = vm("pagefault", {}, "interpret")
    local quiet <close> = vm("pagefault", {}, "interpret")
    expect((v:run { max_instructions = 2e6 })).to_equal("budget")
    quiet:run { max_instructions = 2e6 }
    expect(#v:dirty_pages { clear = true }).to_equal(4096)
    expect(v:dirty_pages()).to_equal({})
    local logged = 0
    for _ = 1, 3 do
      local before = v:snapshot()
      expect((v:run { max_instructions = 1e6 })).to_equal("budget")
      quiet:run { max_instructions = 1e6 }
      local dirty = v:dirty_pages { clear = true }
      expect(#dirty > 100 and #dirty < 1000).to_be_truthy()
      logged = logged + #dirty
      local ok, missing = within(v:snapshot():changed_pages(before), dirty)
      expect(missing).to_be_nil()
      expect(ok).to_be_truthy()
    end
    local log = v:stats().technique.dirty_log
    expect({ log.harvests, log.clears }).to_equal({ 5, 4 })
    expect(log.first_stores + log.pages_written_by_vmm).to_equal(logged)
    local a, b = v:stats(), quiet:stats()
    expect({ a.cycles.total, a.instructions, a.tlb.hits, a.tlb.misses }).to_equal({ b.cycles.total, b.instructions, b.tlb.hits, b.tlb.misses })
    -- A working set written over and over through mappings that stay: its stores would stay on
    -- the fast path through a clear unless the clear dropped the soft TLBs' entries.
    local working <close> = vm("tlb", { bootargs = "bench=tlb n=10000000 pages=64" }, "interpret")
    working:run { max_instructions = 2e6 }
    working:dirty_pages { clear = true }
    for _ = 1, 2 do
      local before = working:snapshot()
      working:run { max_instructions = 1e6 }
      local dirty = working:dirty_pages { clear = true }
      expect(#dirty >= 64).to_be_truthy()
      local ok, missing = within(working:snapshot():changed_pages(before), dirty)
      expect(missing).to_be_nil()
      expect(ok).to_be_truthy()
    end
  end)

  it("under shadow paging: holds a guest table the VMM's walker set an A bit in", function()
    -- l0[0] maps a page with A clear; the load from it makes the VMM's walker set A (Svadu),
    -- a write to the guest's memory that no store of the guest made.
    local kernel, symbols = sv39_kernel {
      leaves = { 0x7 },    -- V R W, A = D = 0
      kernel = 0xcf,       -- V R W X A D
      body = [[
    load:
      li a1, 0x40000000
      ld a0, 0(a1)
      ]],
    }
    for _, case in ipairs { { "trap" }, { "bt" }, { "hw", { paging = "shadow" } } } do
      local v <close> = assert(vmlab.vm { mode = case[1], hw = case[2], image = kernel, firmware = "builtin", symbols = symbols })
      expect((v:run { to = "load" })).to_equal("reached")
      v:dirty_pages { clear = true }
      expect((v:run { max_instructions = 1000 })).to_equal("poweroff")
      expect({ case[1], v:dirty_pages() }).to_equal({ case[1], { symbols.l0 } })
    end
  end)

end)
