-- Random RV64GC programs on vmlab and on QEMU: the same program, generated from a fixed seed,
-- runs on vmlab (modes native and interpret, in this process) and on QEMU 7.2's virt board, and
-- all of them must print the same final state (the generator, and what it leaves out because
-- the specification or QEMU 7.2 leaves it open, is in random_program.lua).
--
--   vmlab test Tests/lua/random_programs_test.lua                  the CI seeds (1..40)
--   VMLAB_RANDOM_SEEDS=1-2000 vmlab test --timeout 3600 Tests/lua/random_programs_test.lua
--   VMLAB_RANDOM_SEEDS=17,42 ...                                   some seeds again
--   VMLAB_ENGINE=interpreter ...                                   "native" on the interpreter
--   VMLAB_QEMU=/path/to/qemu-system-riscv64 ...                    another QEMU
--
-- Without QEMU the programs still run under both modes, compared with each other, and one
-- check is reported skipped, naming what is missing.
local vmlab = require "vmlab"
local P = require "random_program"

local CI_SEEDS = 40
local MODES = { "native", "interpret" }

-- "17", "1-2000", "3,17,40-50"
local function parse_seeds(spec)
  local seeds = {}
  for part in spec:gmatch("[^,%s]+") do
    local a, b = part:match("^(%d+)%-(%d+)$")
    if a then
      for s = tonumber(a), tonumber(b) do seeds[#seeds + 1] = s end
    elseif part:match("^%d+$") then
      seeds[#seeds + 1] = tonumber(part)
    else
      error(("VMLAB_RANDOM_SEEDS: bad seed list %q (expected e.g. 17, 1-2000 or 3,17,40-50)"):format(spec), 0)
    end
  end
  return seeds
end

local seeds = {}
local spec = os.getenv("VMLAB_RANDOM_SEEDS")
if spec and spec ~= "" then seeds = parse_seeds(spec) else
  for s = 1, CI_SEEDS do seeds[s] = s end
end

local qemu_name = os.getenv("VMLAB_QEMU") or "qemu-system-riscv64"
local qemu = P.find_qemu(qemu_name)

-- What a disagreement reports: the seed, the fields that differ, the first item that makes the
-- two runs part (found by cutting the program shorter and shorter), that item's source and
-- disassembly with the values of its registers just before it, and a file with everything.
local function report(seed, name_a, dump_a, name_b, dump_b, run_a, run_b)
  local program = P.generate(seed)
  local image, code = P.build(program)
  local lines = {
    ("seed %d: %s and %s disagree"):format(seed, name_a, name_b),
    P.describe(P.differences(dump_a, dump_b), name_a, name_b, 12),
  }
  local ok, k, before = pcall(P.bisect, seed, {}, run_a, run_b)
  if not ok then
    lines[#lines + 1] = "(finding the first differing item failed: " .. tostring(k) .. ")"
  elseif k == 0 then
    lines[#lines + 1] = "the program without any item already differs: the prologue or the epilogue"
  else
    lines[#lines + 1] = ("the first item that makes them differ is item %d (the program cut after item %d agrees):"):format(k, k - 1)
    lines[#lines + 1] = P.item_listing(program, code, k)
    local values = P.operand_values(program.items[k], before)
    if values ~= "" then lines[#lines + 1] = "  registers before it: " .. values end
  end
  lines[#lines + 1] = ("reproduce: VMLAB_RANDOM_SEEDS=%d vmlab test Tests/lua/random_programs_test.lua"):format(seed)
  local path = (os.getenv("TMPDIR") or "/tmp") .. ("/vmlab-random-seed-%d.txt"):format(seed)
  local f = io.open(path, "w")
  if f then
    f:write(table.concat(lines, "\n"), "\n\n# source\n", P.source(program), "\n# disassembly\n",
      vmlab.disasm(code), "\n\n# ", name_a, "\n", dump_a, "\n# ", name_b, "\n", dump_b)
    f:close()
    lines[#lines + 1] = "the source, its disassembly and both dumps: " .. path
  end
  return table.concat(lines, "\n")
end

local function vmlab_runner(mode)
  return function(image) return P.run_vmlab(image, mode) end
end

local function qemu_runner(image) return P.run_qemu(qemu, image) end

describe("the random program generator", function()
  it("makes the same bytes from the same seed, and different ones from another", function()
    local a = P.build(P.generate(1))
    expect(P.build(P.generate(1))).to_equal(a)
    expect(P.build(P.generate(2)) ~= a).to_be(true)
    -- A change to the generator (or to what vmlab.asm emits) changes the programs of every seed;
    -- when it is deliberate, put the new value here.
    expect(vmlab.hex(P.hash(a))).to_equal("0x8a8e4f101e5d7aca")
  end)

  it("cuts a program after any item without changing what comes before", function()
    local whole = P.generate(5)
    local cut = P.generate(5, { items = 10 })
    expect(#cut.items).to_equal(10)
    for i = 1, 10 do expect(cut.items[i]).to_equal(whole.items[i]) end
    expect(cut.data).to_equal(whole.data)
  end)

  it("reads seed lists as documented", function()
    expect(parse_seeds("17")).to_equal({ 17 })
    expect(parse_seeds("3,5-7, 9")).to_equal({ 3, 5, 6, 7, 9 })
    expect(function() parse_seeds("1..9") end).to_raise("bad seed list")
  end)
end)

describe("the comparison", function()
  local function dump_of(seed) return assert(P.run_vmlab(P.build(P.generate(seed)), "native")) end

  it("finds no difference between a dump and itself", function()
    local dump = dump_of(3)
    expect(#P.differences(dump, dump)).to_equal(0)
  end)

  it("names the register, the signature slot and the trap field that differ", function()
    local dump = dump_of(3)
    local lines = {}
    for line in dump:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    local index = {}
    for i = 1, #P.FIELDS do index[P.FIELDS[i]] = i end
    -- The last hex digit of a line, changed.
    local function altered_line(line)
      local digit = tonumber(line:sub(-1), 16)
      return line:sub(1, -2) .. ("%x"):format(digit ~ 1)
    end
    local altered = { table.unpack(lines) }
    for _, field in ipairs { "x5 (t0)", "f17", "signature 7" } do
      altered[index[field]] = altered_line(lines[index[field]])
    end
    local diffs = P.differences(dump, table.concat(altered, "\n") .. "\n")
    expect(#diffs).to_equal(3)
    local message = P.describe(diffs, "vmlab", "QEMU")
    expect(message).to_match("x5 %(t0%):%s+vmlab " .. lines[index["x5 (t0)"]] .. ", QEMU " .. altered[index["x5 (t0)"]])
    expect(message).to_match("f17:%s+vmlab " .. lines[index.f17] .. ", QEMU " .. altered[index.f17])
    expect(message).to_match("signature 7:")
    -- A missing line (a run that stopped early) is named too.
    local short = P.differences(dump, table.concat(lines, "\n", 1, #lines - 1) .. "\n")
    expect(short[1].b).to_equal("(none)")
    expect(P.field_name(#P.FIELDS)).to_equal("traps")
    expect(P.field_name(#P.FIELDS + 1)).to_equal("trap 1 mcause")
    expect(P.field_name(#P.FIELDS + 6)).to_equal("trap 2 mtval")
  end)

  it("finds the first item where two runs part", function()
    -- The second run flips a bit of an unused signature slot when item 20 starts (in a program
    -- that has item 20: a shorter one may have other code there): every program cut before
    -- item 20 agrees, every other one differs.
    local seed, k = 3, 20
    local program = P.generate(seed)
    local code, symbols = vmlab.asm(P.source(program))
    -- (the prologue's `la` of the trap handler differs with the length: compare from item 1 on)
    local from, to = symbols.item_1 - P.BASE + 1, symbols["item_" .. (k + 1)] - P.BASE
    local items = code:sub(from, to)
    local function flipped(image)
      local vm <close> = assert(vmlab.vm { image = image })
      if image:sub(from, to) == items then
        vm:inject { fault = "bitflip_memory", address = P.SIG + 8 * (P.SIG_SLOTS - 1), bit = 0,
                    at = { pc = symbols["item_" .. k] } }
      end
      assert(vm:run { max_instructions = 5000000 } == "poweroff")
      return vm:console()
    end
    local first = P.bisect(seed, {}, vmlab_runner("native"), flipped)
    expect(first).to_equal(k)
  end)
end)

describe("random programs", function()
  if not qemu then
    pending(("against QEMU: skipped, %s not found (scripts/setup --with-test-tools installs it)"):format(qemu_name))
  end

  -- QEMU runs as a process of its own: the next few seeds' runs start before this one's vmlab
  -- runs, so QEMU and vmlab share the cores.
  local started = {}
  local function start(i)
    local seed = seeds[i]
    if qemu and seed and not started[seed] then
      started[seed] = P.start_qemu(qemu, (P.build(P.generate(seed))))
    end
  end

  for i, seed in ipairs(seeds) do
    local names = table.concat(MODES, ", ", 1, #MODES - 1) .. (qemu and ", " or " and ") .. MODES[#MODES]
      .. (qemu and " and QEMU" or "")
    it(("seed %d: %s agree"):format(seed, names), function()
      for j = i, i + 2 do start(j) end
      local dumps = {}
      local ran, failure = pcall(function()
        local image = P.build(P.generate(seed))
        for _, mode in ipairs(MODES) do
          local dump, why = P.run_vmlab(image, mode)
          assert(dump, ("seed %d: %s"):format(seed, why))
          dumps[mode] = dump
        end
      end)
      -- QEMU's run is collected whatever happened here, so that no process or file is left.
      local reference, why = dumps[MODES[1]], nil
      local name, runner = "vmlab " .. MODES[1], vmlab_runner(MODES[1])
      if qemu then
        reference, why = P.finish_qemu(started[seed])
        started[seed] = nil
        name, runner = "QEMU", qemu_runner
      end
      if not ran then error(failure, 0) end
      assert(reference, ("seed %d: %s"):format(seed, why))
      for _, mode in ipairs(MODES) do
        if dumps[mode] ~= reference then
          error(report(seed, "vmlab " .. mode, dumps[mode], name, reference, vmlab_runner(mode), runner), 0)
        end
      end
    end)
  end
end)
