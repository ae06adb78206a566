-- Mode "bt": the policy table bt={...} of vmlab.vm and vmlab.compare, and what labs/04 relies on.
local vmlab = require "vmlab"

local image = vmlab.asm("wfi")

describe("bt={...}", function()
  it("names the valid options when one is misspelt", function()
    expect(function() vmlab.vm { image = image, bt = { inlne = true } } end)
      .to_raise("unknown option 'inlne' in option 'bt' to 'vm' %(expected one of: adapt_threshold, afterburn, inline%)")
    expect(function() vmlab.vm { image = image, bt = { inline = 1 } } end)
      .to_raise("option 'bt': option 'inline': boolean expected, got number")
    expect(function() vmlab.vm { image = image, bt = { adapt_threshold = 1.5 } } end)
      .to_raise("option 'adapt_threshold': number has no integer representation")
    expect(function() vmlab.vm { image = image, bt = "fast" } end)
      .to_raise("option 'bt': table expected, got string")
  end)

  it("checks the adaptation threshold's range", function()
    expect(function() vmlab.vm { image = image, bt = { adapt_threshold = -1 } } end)
      .to_raise("bad argument #1 to 'vm' %(option 'bt.adapt_threshold': must be 0 %(never adapt%) to 1048576, got %-1%)")
    expect(function() vmlab.vm { image = image, bt = { adapt_threshold = 1 << 21 } } end)
      .to_raise("option 'bt.adapt_threshold': must be 0")
  end)

  it("needs mode bt", function()
    expect(function() vmlab.vm { image = image, bt = { inline = false } } end)
      .to_raise("option 'bt' needs mode \"bt\" %(got mode \"native\"%)")
    expect(function() vmlab.vm { image = image, mode = "trap", bt = {} } end)
      .to_raise("option 'bt' needs mode \"bt\" %(got mode \"trap\"%)")
    local host <close> = vmlab.host { memory = "256M" }
    expect(function() host:vm { image = image, mode = "interpret", bt = { afterburn = true } } end)
      .to_raise("option 'bt' needs mode \"bt\" %(got mode \"interpret\"%)")
  end)
end)

-- The result lines of a tinyos run (its own "# " measurements dropped).
local function results(console)
  local lines = {}
  for line in console:gmatch("[^\r\n]+") do
    if line:match("^bench=") then lines[#lines + 1] = line end
  end
  return table.concat(lines, "\n")
end

local function run(mode, bootargs, bt, holes)
  local vm <close> = assert(vmlab.vm { mode = mode, kernel = vmlab.guest "tinyos", bootargs = bootargs, bt = bt, holes = holes })
  local stop, details = vm:run { max_instructions = 100e6 }
  return { stop = stop, exit_code = details.exit_code, console = vm:console(), stats = vm:stats() }
end

describe("mode bt", function()
  it("runs tinyos to the result native prints, and shows the translator's counters", function()
    local native, bt = run("native", "bench=csr,mmio n=3"), run("bt", "bench=csr,mmio n=3")
    expect(bt.stop).to_equal("poweroff")
    expect(bt.exit_code).to_equal(0)
    expect(results(bt.console)).to_equal(results(native.console))
    expect(results(bt.console)).to_match("bench=mmio iterations=3 status=ok")
    local s = bt.stats
    expect(s.mode).to_equal("bt")
    for _, key in ipairs { "translated_instructions", "blocks_translated", "invalidations", "callouts", "inline",
                           "inline_csr", "adaptations", "traced_write_inline", "device_inline", "indirect_jumps" } do
      expect(s.technique.bt[key]).to_be_a("integer")
    end
    expect(s.technique.bt.blocks_translated > 0).to_be(true)
    expect(s.technique.callouts_by_kind.sret > 0).to_be(true)
    -- Under the trap monitor too: its groups are there, and its exits are traps by cause.
    expect(s.technique.trap.traps).to_equal(s.exits.total)
    expect(s.technique.shadow.hidden_faults > 0).to_be(true)
    -- The account adds up to the clock, translation included.
    local sum = 0
    for _, cycles in pairs(s.cycles.by_category) do sum = sum + cycles end
    expect(sum).to_equal(s.cycles.total)
    local prices = vmlab.costs("classic-2006")
    expect(s.cycles.by_category.translation).to_equal(s.technique.bt.translated_instructions * prices.translation
      + s.technique.bt.indirect_jumps * prices.bt_indirect_jump)
    expect(s.technique.bt.indirect_jumps > 0).to_be(true)
    expect(tostring(assert(vmlab.vm { mode = "bt", kernel = vmlab.guest "tinyos" }))).to_match("^vmlab.VM %(bt,")
  end)

  it("takes adapt_threshold: 0 never adapts, the default adapts hot page-table stores", function()
    local never, default = run("bt", "bench=pte n=6", { adapt_threshold = 0 }), run("bt", "bench=pte n=6")
    expect(results(never.console)).to_equal(results(default.console))
    expect(never.stats.technique.bt.adaptations).to_equal(0)
    expect(never.stats.technique.bt.traced_write_inline).to_equal(0)
    expect(default.stats.technique.bt.adaptations > 0).to_be(true)
    expect(default.stats.technique.bt.traced_write_inline > 0).to_be(true)
    expect(default.stats.exits.total < never.stats.exits.total).to_be(true)
    expect(default.stats.cycles.total < never.stats.cycles.total).to_be(true)
  end)

  it("takes inline: false makes every rewritten instruction a callout", function()
    local inline, callouts = run("bt", "bench=csr n=5"), run("bt", "bench=csr n=5", { inline = false })
    expect(results(callouts.console)).to_equal(results(inline.console))
    expect(inline.stats.technique.bt.inline_csr > 0).to_be(true)
    expect(callouts.stats.technique.bt.inline_csr).to_equal(0)
    expect(callouts.stats.technique.bt.callouts > inline.stats.technique.bt.callouts).to_be(true)
  end)

  it("takes afterburn: the kernel is patched at load time and nothing is translated", function()
    local burnt, native = run("bt", "bench=syscall n=3", { afterburn = true }), run("native", "bench=syscall n=3")
    expect(results(burnt.console)).to_equal(results(native.console))
    expect(burnt.stats.technique.afterburn.sites_patched > 0).to_be(true)
    expect(burnt.stats.technique.bt.translated_instructions).to_equal(0)
    expect(burnt.stats.cycles.by_category.translation).to_equal(0)
  end)

  it("is correct where a hole breaks trap", function()
    local trap, bt = run("trap", "bench=syscall n=3", nil, { "sret" }), run("bt", "bench=syscall n=3", nil, { "sret" })
    expect(trap.exit_code ~= 0).to_be(true)
    expect(bt.exit_code).to_equal(0)
    expect(results(bt.console)).to_match("bench=syscall iterations=3 status=ok")
  end)

  it("runs on a host beside another VM", function()
    local host <close> = vmlab.host { memory = "512M" }
    local a = assert(host:vm { mode = "bt", kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=3" })
    local b = assert(host:vm { mode = "trap", kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=3" })
    host:run { max_instructions = 200e6 }
    expect(results(a:console())).to_equal(results(b:console()))
    expect(a:stats().technique.bt.blocks_translated > 0).to_be(true)
  end)

  it("compares runtime BT with afterburning as two labelled entries", function()
    local t = vmlab.compare { guest = "tinyos", bench = "csr", n = 3,
                              modes = { "bt", { mode = "bt", bt = { afterburn = true }, label = "afterburn" } } }
    expect(#t.rows).to_equal(2)
    expect(t.baseline).to_equal("bt")
    expect(t.rows[2].mode).to_equal("afterburn")
    expect(t.rows[2].result).to_equal(t.rows[1].result)
    expect(t.rows[1].by_category.translation > 0).to_be(true)
    expect(t.rows[2].by_category.translation).to_equal(0)
  end)
end)
