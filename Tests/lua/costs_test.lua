-- vmlab.costs and profile=: cost profiles from Lua, and the cycle split of vm:stats().
local vmlab = require "vmlab"

-- M-mode guest: N ecalls, each taken by its own trap handler (mtvec), then the test finisher.
local function ecalls(n)
  return vmlab.asm(([[
    la t0, handler
    csrw mtvec, t0
    li s0, %d
  loop:
    beqz s0, done
    ecall
    addi s0, s0, -1
    j loop
  done:
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
  1: j 1b
  handler:
    csrr t2, mepc
    addi t2, t2, 4
    csrw mepc, t2
    mret
  ]]):format(n))
end

local function run(profile, n)
  local vm <close> = assert(vmlab.vm { image = ecalls(n), profile = profile })
  local stop = vm:run { max_instructions = 100000 }
  expect(stop).to_equal("poweroff")
  return vm:stats()
end

describe("vmlab.costs", function()
  it("lists the built-in profiles", function()
    expect(vmlab.costs()).to_equal({ "classic-2006", "core2-2006", "modern" })
  end)

  it("reads a profile as data, with sources", function()
    local p = vmlab.costs("core2-2006")
    expect(p.name).to_equal("core2-2006")
    expect(p.description).to_equal("core2-2006")
    expect(math.type(p.clock_hz)).to_equal("integer")
    expect(p:table().vm_entry).to_equal(p.vm_entry)
    expect(type(p:source("vm_entry"))).to_equal("string")
    expect(#p:source("vm_entry") > 0).to_be(true)
    expect(tostring(p):find("core2-2006", 1, true)).to_equal(1)
    expect(tostring(p):find("vm_entry", 1, true) ~= nil).to_be(true)
  end)

  it("edits prices and names the edits", function()
    local p = vmlab.costs("classic-2006", { vm_entry = 1000, trap = 7.0 })
    expect(p.vm_entry).to_equal(1000)
    expect(p.trap).to_equal(7)
    expect(p.edits).to_equal({ "trap", "vm_entry" })
    expect(p.description).to_equal("classic-2006 (edited: trap=7, vm_entry=1000)")
    expect(p:basis("vm_entry")).to_equal("edited")
    local q = vmlab.costs { vm_exit = 3 }
    expect(q.name).to_equal("classic-2006")
    expect(q.vm_exit).to_equal(3)
    -- A profile table reads back as itself, and edits stack.
    local r = vmlab.costs(p, { vm_exit = 3 })
    expect(r.description).to_equal("classic-2006 (edited: trap=7, vm_exit=3, vm_entry=1000)")
  end)

  it("rejects unknown profiles, events and bad prices with the Hypervisor's messages", function()
    local ok, err = pcall(vmlab.costs, "pentium")
    expect(ok).to_be(false)
    expect(tostring(err):find("unknown cost profile 'pentium' (expected one of classic-2006, core2-2006, modern)", 1, true) ~= nil).to_be(true)
    ok, err = pcall(vmlab.costs, "modern", { vm_entyr = 1 })
    expect(tostring(err):find("unknown cost event 'vm_entyr'", 1, true) ~= nil).to_be(true)
    expect(function() vmlab.costs("modern", { [1] = 5 }) end)
      .to_raise("bad argument #2 to '[%w.]*costs' %(cost event names must be strings, got number%)")
    expect(function() vmlab.costs { [1] = 5 } end)
      .to_raise("bad argument #1 to '[%w.]*costs' %(cost profile keys must be strings, got number%)")
    ok, err = pcall(vmlab.costs, "modern", { trap = -1 })
    expect(tostring(err):find("bad cost for 'trap': -1", 1, true) ~= nil).to_be(true)
    ok, err = pcall(vmlab.costs, "modern", { trap = 1.5 })
    expect(tostring(err):find("bad cost for 'trap'", 1, true) ~= nil).to_be(true)
    -- A price past 2^32 cycles is refused (math.maxinteger made cycles.total wrap).
    expect(function() vmlab.costs { trap = math.maxinteger } end)
      .to_raise("bad cost for 'trap': 9223372036854775807 %(expected a non%-negative integer number of cycles, at most 2%^32 = 4294967296%)")
    expect(vmlab.costs { trap = 1 << 32 }.trap).to_equal(1 << 32)
    ok, err = pcall(vmlab.vm, { image = ecalls(1), profile = "nope" })
    expect(tostring(err):find("unknown cost profile 'nope'", 1, true) ~= nil).to_be(true)
  end)
end)

describe("profile = and vm:stats().cycles", function()
  it("names the profile and splits cycles by category, summing to the total", function()
    local s = run("modern", 10)
    expect(s.profile).to_equal("modern")
    local sum = 0
    for _, cycles in pairs(s.cycles.by_category) do sum = sum + cycles end
    expect(sum).to_equal(s.cycles.total)
    expect(s.cycles.by_event.trap.count).to_equal(10)
    expect(s.cycles.by_event.trap.cycles).to_equal(10 * vmlab.costs("modern").trap)
  end)

  it("charges N traps N times the trap price", function()
    local base = vmlab.costs("classic-2006")
    local dearer = vmlab.costs(base, { trap = base.trap + 1000 })
    local a, b = run(base, 25), run(dearer, 25)
    expect(b.profile).to_equal(("classic-2006 (edited: trap=%d)"):format(base.trap + 1000))
    expect(b.instructions).to_equal(a.instructions)
    expect(b.cycles.total - a.cycles.total).to_equal(25 * 1000)
    expect(b.cycles.by_category.trap - a.cycles.by_category.trap).to_equal(25 * 1000)
  end)

  it("prices the same run by each profile's data", function()
    for _, name in ipairs(vmlab.costs()) do
      local p, s = vmlab.costs(name), run(name, 5)
      local expected = 0
      for event, e in pairs(s.cycles.by_event) do
        expect(e.cycles).to_equal(e.count * p[event])
        expected = expected + e.cycles
      end
      expect(expected + s.cycles.by_category.waited).to_equal(s.cycles.total)
    end
  end)

  it("gives bit-identical statistics when the same script runs twice", function()
    local function script()
      local vm <close> = assert(vmlab.vm { kernel = vmlab.guest "tinyos", profile = "core2-2006" })
      vm:run { max_instructions = 200000 }
      return vm:stats()
    end
    local a, b = script(), script()
    expect(a).to_equal(b)
    expect(a.cycles.total > 0).to_be(true)
  end)
end)

describe("a profile table edited in place", function()
  it("reads as the edited profile in its methods, tostring and profile=", function()
    local p = vmlab.costs "modern"
    p.trap = 3
    expect(p:table().trap).to_equal(3)
    expect(p:basis("trap")).to_equal("edited")
    expect(tostring(p):find("modern (edited: trap=3)", 1, true)).to_equal(1)
    local vm <close> = assert(vmlab.vm { image = vmlab.asm("wfi"), profile = p })
    expect(vm:stats().profile).to_equal("modern (edited: trap=3)")
    p.trap = "x"
    expect(function() return p:table() end).to_raise("bad cost for 'trap'")
    p.trap, p.clock_hz = 3, 1
    expect(function() return tostring(p) end).to_raise("'clock_hz' of a cost profile cannot be changed")
  end)
end)

describe("vmlab.costs in a coroutine", function()
  it("builds the same profile table", function()
    local co = coroutine.wrap(function()
      local p = vmlab.costs("core2-2006", { dma = 2 })
      coroutine.yield(p.description, p:table().dma, tostring(p):match("^[^\n]*"))
    end)
    local description, dma, first = co()
    expect(description).to_equal("core2-2006 (edited: dma=2)")
    expect(dma).to_equal(2)
    expect(first:find("core2-2006 (edited: dma=2)", 1, true)).to_equal(1)
  end)
end)
