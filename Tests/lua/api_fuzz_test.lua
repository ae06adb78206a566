-- The Lua API under hostile use, seeded: what a careless or curious script can do must end in a
-- clear error message or a run that goes on, never in a crash, a hang or a VM that differs from
-- one run to the next.
--
-- Two kinds of scenario, each run twice with its seed, whose two outcomes must be identical:
-- * hostile values in valid shapes: runs with small budgets and `to` events, hooks on every event
--   kind that poke the VM (registers, the pc, memory, short runs, snapshots, restores) and stop it,
--   raise or return junk; faults planned with random parameters and trigger points; watchpoints,
--   breakpoints, console input, snapshots and restores between runs;
-- * random arguments to every method: wrong types, huge and negative integers, NaN, long strings,
--   tables whose metamethods raise, functions that raise or return junk.
-- A scenario fails when it raises anything but a message (or the tables its own hooks raise), when
-- a message looks like a host failure, or when `vm:check_shadows()` finds a stale shadow entry.
-- `vmlab test`'s timeout catches a hang.
--
-- The seeds below run in CI (seed 14, interpret with two harts, hung the run at its 76th step
-- before a restore dropped the fetch hold of a pc a hook had set), a hundred steps each, so that
-- the file stays well inside the time a worker has. VMLAB_FUZZ_SEEDS (a seed list, as in
-- seed_list.lua) runs others instead, to explore; `vmlab test`'s --timeout is the whole file's:
-- `VMLAB_FUZZ_SEEDS=1-50 vmlab test --timeout 3600 Tests/lua/api_fuzz_test.lua`.
local vmlab = require "vmlab"
local seed_list = require "seed_list"

local seeds = seed_list.from("VMLAB_FUZZ_SEEDS") or { 14 }

local RAM, MEM = 0x80000000, 16 * 1024 * 1024

-- A message a host failure would print rather than the API.
local function suspect(message)
  return message:match("Fatal") or message:match("nternal") or message:match("precondition")
      or message:match("Swift") or message:match("unexpectedly found nil")
end

-- Notes what a failed call raised: problems for anything but a clear message.
local function noter(problems)
  return function(what, err)
    if type(err) == "string" then
      if suspect(err) then problems[#problems + 1] = what .. ": " .. err end
    elseif not (type(err) == "table" and err.code) then
      problems[#problems + 1] = what .. " raised a " .. type(err) .. ": " .. tostring(err)
    end
  end
end

-- Hostile values in valid shapes. Returns the outcome (counters, stops, errors) and the problems.
local function hostile(mode, harts, seed, steps)
  math.randomseed(seed)
  local R = math.random
  local problems = {}
  local note = noter(problems)
  local function addr()
    local c = R(8)
    if c == 1 then return R(0, 0xffff) elseif c == 2 then return 0x10000000 + R(0, 0xfff)
    elseif c == 3 then return RAM + MEM - R(1, 16) elseif c == 4 then return -R(1, 1 << 40)
    else return RAM + R(0, MEM - 1) end
  end
  local function int()
    local c = R(10)
    if c == 1 then return math.mininteger elseif c == 2 then return math.maxinteger elseif c == 3 then return -1
    elseif c == 4 then return 0 elseif c <= 6 then return R(0, 64) else return addr() end
  end
  local regs = { "pc", "priv", "a0", "sp", "ra", "t0", "s0", "f3", "fa0", "csr.satp", "csr.stvec", "csr.sstatus",
    "csr.sepc", "csr.sie", "csr.mstatus", "csr.mtvec", "csr.medeleg", "csr.mie", "csr.mip", "csr.fcsr",
    "csr.pmpcfg0", "csr.pmpaddr0", "csr.hgatp", "csr.vsatp", "csr.0x7c0", "csr.stimecmp", "csr.menvcfg" }
  local events = { "trap", "exit", "privileged", "hypercall", "shadow_fault", "traced_write", "translation", "callout",
    "page_walk", "tlb_flush", "interrupt_injected", "mmio", "dma", "world_switch", "iommu_fault" }
  local faults = vmlab.faults()
  local vm <close> = assert(vmlab.vm {
    mode = mode, harts = harts, memory = MEM, sstc = seed % 2 == 0,   -- (Sstc's timer: even seeds)
    kernel = vmlab.guest(mode == "pv" and "tinyos-pv" or "tinyos"),
    bootargs = "bench=" .. ({ "syscall", "pagefault", "forktest", "compute" })[R(4)] .. " n=5",
  })
  local snaps = {}
  local function poke()
    local c = R(12)
    if c == 1 then return pcall(vm.write, vm, regs[R(#regs)], int())
    elseif c == 2 then
      local b = {}
      for i = 1, R(1, 16) do b[i] = string.char(R(0, 255)) end
      return pcall(vm.write_memory, vm, addr(), table.concat(b))
    elseif c == 3 then return pcall(vm.read_memory, vm, addr(), R(0, 64))
    elseif c == 4 then return pcall(vm.run, vm, { max_instructions = 10 })
    elseif c == 5 then return pcall(vm.snapshot, vm)
    elseif c == 6 then if #snaps > 0 then return pcall(vm.restore, vm, snaps[R(#snaps)]) end
    elseif c == 7 then return pcall(vm.stats, vm)
    elseif c == 8 then return pcall(vm.translate, vm, addr())
    elseif c == 9 then return pcall(vm.page_tables, vm, { va = addr() })
    elseif c == 10 then return pcall(vm.tlb, vm)
    elseif c == 11 then return pcall(vm.check_shadows, vm)
    else return pcall(vm.dirty_pages, vm) end
  end
  local hookResults = { nil, true, false, "stop", 42 }
  local function hook()
    for _ = 1, R(0, 3) do poke() end
    local c = R(20)
    if c == 1 then error("hook boom") elseif c == 2 then error({ code = 7 }) end
    return hookResults[R(#hookResults)]
  end
  local function fault()
    local f = faults[R(#faults)]
    local spec = { fault = f.name }
    for _, p in ipairs(f.parameters) do
      if p.required or R(2) == 1 then
        if p.type == "string" then spec[p.name] = regs[R(#regs)]:gsub("csr%.", "") else spec[p.name] = int() end
      end
    end
    local t = R(5)
    if t == 1 then spec.at = { instructions = R(0, 2000000) } elseif t == 2 then spec.at = { cycles = R(0, 1 << 30) }
    elseif t == 3 then spec.at = { event = events[R(#events)], count = R(1, 50) } elseif t == 4 then spec.at = { pc = addr() } end
    return spec
  end
  local stops, errors = {}, 0
  for _ = 1, steps do
    local c = R(14)
    local ok, res
    if c <= 3 then
      local opts = { max_instructions = R(1, 300000) }
      if R(6) == 1 then opts.to = { event = events[R(#events)], count = R(1, 5) } end
      ok, res = pcall(vm.run, vm, opts)
      if ok then stops[res] = (stops[res] or 0) + 1 end
    elseif c == 4 then ok, res = pcall(vm.on, vm, events[R(#events)], hook)
    elseif c == 5 then ok, res = pcall(vm.inject, vm, fault())
    elseif c == 6 then ok, res = pcall(vm.watch, vm, { address = addr(), size = R(1, 64), access = ({ "write", "read", "rw" })[R(3)] })
    elseif c == 7 then ok, res = pcall(vm.breakpoint, vm, addr())
    elseif c == 8 then ok, res = pcall(vm.snapshot, vm); if ok then snaps[#snaps + 1] = res end
    elseif c == 9 then if #snaps > 0 then ok, res = pcall(vm.restore, vm, snaps[R(#snaps)]) end
    elseif c == 10 then ok, res = pcall(vm.step, vm)
    elseif c == 11 then ok, res = pcall(vm.dirty_pages, vm, { clear = R(2) == 1 })
    elseif c == 12 then ok, res = pcall(vm.input, vm, string.char(R(0, 255)):rep(R(1, 100)))
    else ok, res = poke() end
    if ok == false then errors = errors + 1; note("step " .. c, res) end
  end
  local stale = vm:check_shadows()
  if #stale > 0 then problems[#problems + 1] = #stale .. " stale shadow entries" end
  local parts = {}
  for k, v in pairs(stops) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  local s = vm:stats()
  return ("%d instructions, %d cycles, %d errors, stops %s, console %d bytes"):format(
    s.instructions, s.cycles.total, errors, table.concat(parts, " "), #vm:console()), problems
end

-- Random arguments to every method of a VM.
local function arguments(mode, seed, calls)
  math.randomseed(seed)
  local problems = {}
  local note = noter(problems)
  local raising = { __index = function() error("index boom") end, __len = function() error("len boom") end,
    __pairs = function() error("pairs boom") end, __tostring = function() error("tostring boom") end,
    __eq = function() error("eq boom") end, __lt = function() error("lt boom") end,
    __le = function() error("le boom") end, __call = function() error("call boom") end, __name = "boomtype" }
  local boom = setmetatable({}, raising)
  local fractional = setmetatable({}, { __index = function() return 1.5 end })
  local keys = { "at", "instructions", "cycles", "pc", "event", "count", "hart", "clear", "translation_cache", "kind",
    "address", "bit", "size", "value", "to", "max_instructions", "budget", "va", "view", "access", "length", "read",
    "write", "fault", "register", "cause", "filter", "mode", "stage", "vcpu", "asid", "file", "path", "offset",
    "lines", "entries", "device", "sector", "byte", "page", "times", "every", "after", "on", "name", "csr", "bits",
    "mask", "target", "kernel", "bootargs", "memory", "harts" }
  local pool = { false, true, 0, 1, -1, 2, 7, 31, 32, 4096, RAM, 0x80200000, math.maxinteger, math.mininteger,
    -4096, 1.5, 1e300, 0 / 0, "", "pc", "a0", "x5", "sstatus", "satp", "mstatus", "f0", "trap", "stop", "sv39",
    string.rep("x", 300), "0x80000000", boom, fractional, function() end, function() error("hook boom") end,
    function() return "stop" end, function() error({ code = 1 }) end, function() return 42 end,
    function() return {} end, function() return setmetatable({}, raising) end,
    function() return "tlb.hits" end, function() return "trap" end }
  local function value(depth)
    local r = math.random(1, 45)
    if r <= #pool then
      local v = pool[r]
      if type(v) == "function" and r > 38 then return v() end
      return v
    end
    if depth > 2 then return nil end
    local t = {}
    for _ = 1, math.random(0, 4) do t[keys[math.random(#keys)]] = value(depth + 1) end
    if math.random(4) == 1 then t[1] = value(depth + 1) end
    return t
  end
  local methods = { "run", "step", "console", "input", "stats", "read", "write", "symbols", "read_memory",
    "write_memory", "load", "translate", "on", "breakpoint", "watch", "inject", "page_tables", "check_shadows",
    "tlb", "iommu", "dirty_pages", "snapshot", "restore" }
  local vm <close> = assert(vmlab.vm {
    mode = mode, kernel = vmlab.guest(mode == "pv" and "tinyos-pv" or "tinyos"),
    bootargs = "bench=syscall n=3", memory = MEM,
  })
  vm:run { max_instructions = 20000 }
  local snaps, oks, errors = {}, 0, 0
  for _ = 1, calls do
    local m = methods[math.random(#methods)]
    local args, n = {}, math.random(0, 3)
    for k = 1, n do args[k] = value(0) end
    if m == "restore" and #snaps > 0 and math.random(2) == 1 then args[1] = snaps[math.random(#snaps)] end
    if m == "run" or m == "step" then
      -- Every run has a budget: a run without one may rightly go on for ever.
      if type(args[1]) ~= "table" or math.random(3) == 1 then args[1] = { max_instructions = math.random(0, 30000) } end
      if rawget(args[1], "max_instructions") == nil and rawget(args[1], "to") == nil then
        rawset(args[1], "max_instructions", 5000)
      end
      n = math.max(n, 1)
    end
    local ok, res = pcall(vm[m], vm, table.unpack(args, 1, n))
    if ok then
      oks = oks + 1
      if m == "snapshot" then snaps[#snaps + 1] = res end
    else
      errors = errors + 1
      note(m, res)
    end
  end
  local s = vm:stats()
  return ("%d instructions, %d cycles, %d calls returned, %d raised"):format(
    s.instructions, s.cycles.total, oks, errors), problems
end

describe("the Lua API under hostile use", function()
  local configurations = {
    { "native", 1 }, { "native", 2 }, { "interpret", 1 }, { "interpret", 2 }, { "trap", 1 }, { "bt", 1 },
    { "pv", 1 }, { "hw", 1 }, { "hw", 2 },
  }
  for _, seed in ipairs(seeds) do
    for _, c in ipairs(configurations) do
      local mode, harts = c[1], c[2]
      it(("hostile values in valid shapes end cleanly and the same each time (%s, %d hart%s, seed %d)"):format(
          mode, harts, harts > 1 and "s" or "", seed), function()
        local first, problems = hostile(mode, harts, seed, 100)
        expect(problems).to_equal({})
        expect((hostile(mode, harts, seed, 100))).to_equal(first)
      end)
    end
  end
  for _, seed in ipairs(seeds) do
    for _, mode in ipairs { "native", "interpret", "trap", "bt", "pv", "hw" } do
      it(("random arguments to every method raise clear errors, the same each time (%s, seed %d)"):format(mode, seed), function()
        local first, problems = arguments(mode, seed, 200)
        expect(problems).to_equal({})
        expect((arguments(mode, seed, 200))).to_equal(first)
      end)
    end
  end
end)
