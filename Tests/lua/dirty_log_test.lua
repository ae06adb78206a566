-- vm:dirty_pages: the hw VMM's dirty log, from the G stage's D bits and its record of DMA. Every
-- page whose contents changed between two snapshots must be in the log kept meanwhile (a page
-- can be written and not changed, never changed and not written).
local vmlab = require "vmlab"
local tinyos = require "tinyos_run"
local blk = require "virtio_blk_request"

-- tinyos under hw, 16 MiB, running `bench` (long enough not to finish in these runs).
local function vm(bench, extra)
  local o = { memory = "16M", bootargs = ("bench=%s n=2000"):format(bench) }
  for k, v in pairs(extra or {}) do o[k] = v end
  return tinyos.vm("hw", bench, o)
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

  it("is as coarse as the G stage's leaves: 2 MiB pages log 512 pages at a time", function()
    local v <close> = vm("fork", { hw = { gstage_page_size = 2 * 2^20 } })
    v:run { max_instructions = 2e6 }
    expect(#v:dirty_pages { clear = true }).to_equal(4096)
    local before = v:snapshot()
    v:run { max_instructions = 1e6 }
    local dirty = v:dirty_pages()
    expect(#dirty > 0 and #dirty % 512 == 0).to_be_truthy()
    expect(within(v:snapshot():changed_pages(before), dirty)).to_be_truthy()
    expect(v:stats().technique.dirty_log.leaves_scanned).to_equal(2 * 8)
  end)

  it("holds the pages an emulated disk wrote by DMA, which no D bit shows", function()
    local disk = blk.tinyos_fixture()
    local v <close> = vm("disk", { disks = { { file = disk } } })
    expect((v:run { max_instructions = 1e6 })).to_equal("budget")
    v:dirty_pages { clear = true }
    local before = v:snapshot()
    local dma = v:stats("dma.writes")
    expect((v:run { max_instructions = 2e6 })).to_equal("budget")
    expect(v:stats("dma.writes") > dma).to_be_truthy()
    expect(v:stats().technique.dirty_log.pages_written_by_dma > 0).to_be_truthy()
    local ok, missing = within(v:snapshot():changed_pages(before), v:dirty_pages())
    expect(missing).to_be_nil()
    expect(ok).to_be_truthy()
    os.remove(disk)
  end)

  it("goes back with a snapshot: D bits, counters and the DMA record", function()
    local v <close> = vm("fork")
    v:run { max_instructions = 2e6 }
    v:dirty_pages { clear = true }
    local snap = v:snapshot()
    v:run { max_instructions = 5e5 }
    local first, counters = v:dirty_pages(), v:stats().technique.dirty_log
    v:restore(snap)
    v:run { max_instructions = 5e5 }
    expect(v:dirty_pages()).to_equal(first)
    expect(v:stats().technique.dirty_log).to_equal(counters)
  end)

  it("is kept only by hw with nested paging and the hart's own A/D updates", function()
    local native <close> = tinyos.vm("native", "fork", { memory = "16M" })
    local pages, why = native:dirty_pages()
    expect(pages).to_be_nil()
    expect(why).to_equal("no dirty log under 'native': only hw (with nested paging) keeps one, in the G stage's D bits")
    local shadow <close> = vm("fork", { hw = { paging = "shadow" } })
    expect(select(2, shadow:dirty_pages())).to_match("no dirty log under hw with paging = \"shadow\"")
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
end)
