-- Random RV64GC programs on vmlab and on QEMU: the same program, generated from a fixed seed,
-- runs on vmlab (in this process, under several modes) and on QEMU 7.2's virt board, and all of
-- them must print the same final state; the vmlab modes must also retire the same number of
-- instructions. M-mode programs run bare-metal (vmlab's native and
-- interpret modes, QEMU -bios none); S-mode programs run as a kernel under a firmware (vmlab's
-- native and interpret modes over the built-in SBI and the VMM techniques trap, bt, pv and hw; QEMU
-- over its OpenSBI). The generator, and what it leaves out because the specification or QEMU 7.2
-- leaves it open, is in random_program.lua.
--
--   vmlab test Tests/lua/random_programs_test.lua                  the CI seeds (SUITES)
--   VMLAB_RANDOM_SEEDS=1-2000 vmlab test --timeout 7200 Tests/lua/random_programs_test.lua
--   VMLAB_RANDOM_SEEDS=17,42 ...                                   some seeds again
--   VMLAB_ENGINE=interpreter ...                                   on the interpreter (or blocks)
--   VMLAB_QEMU=/path/to/qemu-system-riscv64 ...                    another QEMU
--
-- Without QEMU the programs still run under every mode, compared with each other, and a check of
-- each suite is reported skipped, naming what is missing.
local vmlab = require "vmlab"
local P = require "random_program"
local seed_list = require "seed_list"

-- The CI seeds: about 12 s on two shared cores.
local SUITES = {
  { privilege = "M", ci_seeds = 50, modes = { "native", "interpret" } },
  { privilege = "S", ci_seeds = 20, modes = { "native", "interpret", "trap", "bt", "pv", "hw" } },
}

local function parse_seeds(spec) return seed_list.parse(spec, "VMLAB_RANDOM_SEEDS") end
local chosen_seeds = seed_list.from("VMLAB_RANDOM_SEEDS")
local qemu_name = os.getenv("VMLAB_QEMU") or "qemu-system-riscv64"
local qemu = P.find_qemu(qemu_name)

-- What a disagreement reports: the seed, the fields that differ, the first item that makes the
-- two runs part (found by cutting the program shorter and shorter), that item's source and
-- disassembly with the values of its registers just before it, and a file with everything.
local function report(seed, options, name_a, dump_a, name_b, dump_b, run_a, run_b)
  local program = P.generate(seed, options)
  local image, code = P.build(program)
  local lines = {
    ("seed %d (%s-mode): %s and %s disagree"):format(seed, program.at.privilege, name_a, name_b),
    P.describe(P.differences(dump_a, dump_b), name_a, name_b, 12),
  }
  local ok, k, before = pcall(P.bisect, seed, options, run_a, run_b)
  if not ok then
    lines[#lines + 1] = "(finding the first differing item failed: " .. tostring(k) .. ")"
  elseif k == nil then
    lines[#lines + 1] = "(run again, the two agree: the difference does not reproduce)"
  elseif k == 0 then
    lines[#lines + 1] = "the program without any item already differs: the prologue or the epilogue"
  else
    lines[#lines + 1] = ("the first item that makes them differ is item %d (the program cut after item %d agrees):"):format(k, k - 1)
    lines[#lines + 1] = P.item_listing(program, code, k)
    local values = P.operand_values(program.items[k], before)
    if values ~= "" then lines[#lines + 1] = "  registers before it: " .. values end
  end
  lines[#lines + 1] = ("reproduce: VMLAB_RANDOM_SEEDS=%d vmlab test Tests/lua/random_programs_test.lua"):format(seed)
  local path = ("%s/vmlab-random-%s-seed-%d.txt"):format(os.getenv("TMPDIR") or "/tmp", program.at.privilege, seed)
  local f = io.open(path, "w")
  if f then
    f:write(table.concat(lines, "\n"), "\n\n# source\n", P.source(program), "\n# disassembly\n",
      vmlab.disasm(code, { base = program.at.base }), "\n\n# ", name_a, "\n", dump_a, "\n# ", name_b, "\n", dump_b)
    f:close()
    lines[#lines + 1] = "the source, its disassembly and both dumps: " .. path
  end
  return table.concat(lines, "\n")
end

describe("the random program generator", function()
  it("makes the same bytes from the same seed, and different ones from another", function()
    local a = P.build(P.generate(1))
    expect(P.build(P.generate(1))).to_equal(a)
    expect(P.build(P.generate(2)) ~= a).to_be(true)
    -- A change to the generator (or to what vmlab.asm emits) changes the programs of every seed;
    -- when it is deliberate, put the new values here.
    expect(vmlab.hex(P.hash(a))).to_equal("0x21c2071f9636e95a")
    expect(vmlab.hex(P.hash(P.build(P.generate(1, { privilege = "S" }))))).to_equal("0x5b3b100f1cb8198d")
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
    expect(P.field_name(#P.FIELDS + 1)).to_equal("trap 1 cause")
    expect(P.field_name(#P.FIELDS + 6)).to_equal("trap 2 tval")
  end)

  it("finds the first item where two runs part", function()
    -- The second run flips a bit of an unused signature slot when item 20 starts (in a program
    -- that has item 20: a shorter one may have other code there): every program cut before
    -- item 20 agrees, every other one differs.
    local seed, k = 3, 20
    local program = P.generate(seed)
    local code, symbols = P.assemble(program)
    -- (the prologue's `la` of the trap handler differs with the length: compare from item 1 on)
    local base = program.at.base
    local from, to = symbols.item_1 - base + 1, symbols["item_" .. (k + 1)] - base
    local items = code:sub(from, to)
    local function flipped(image)
      local vm <close> = assert(vmlab.vm { image = image })
      if image:sub(from, to) == items then
        vm:inject { fault = "bitflip_memory", address = program.at.sig + 8 * (P.SIG_SLOTS - 1), bit = 0,
                    at = { pc = symbols["item_" .. k] } }
      end
      assert(vm:run { max_instructions = 5000000 } == "poweroff")
      return (vm:console():match("random program state\n(.*)$"))
    end
    local native = P.vmlab_runner("native", "M")
    expect(P.bisect(seed, {}, native, flipped)).to_equal(k)
    -- Runs that agree on the whole program have no first differing item.
    expect(P.bisect(seed, {}, native, native)).to_be_nil()
  end)
end)

for _, suite in ipairs(SUITES) do
  local privilege, modes = suite.privilege, suite.modes
  local options = { privilege = privilege }
  local seeds = chosen_seeds
  if not seeds then
    seeds = {}
    for s = 1, suite.ci_seeds do seeds[s] = s end
  end

  describe(("random %s-mode programs"):format(privilege), function()
    if not qemu then
      pending("against QEMU", ("%s not found (scripts/setup --with-test-tools installs it)"):format(qemu_name))
    end

    -- QEMU runs as a process of its own: the next few seeds' runs start before this one's vmlab
    -- runs, so QEMU and vmlab share the cores.
    local started = {}
    local function start(i)
      local seed = seeds[i]
      if qemu and seed and not started[seed] then
        started[seed] = P.start_qemu(qemu, (P.build(P.generate(seed, options))), privilege)
      end
    end

    local names = table.concat(modes, ", ", 1, #modes - 1) .. (qemu and ", " or " and ") .. modes[#modes]
      .. (qemu and " and QEMU" or "")
    for i, seed in ipairs(seeds) do
      it(("seed %d: %s agree"):format(seed, names), function()
        for j = i, i + 2 do start(j) end
        local dumps, retired = {}, {}
        local ran, failure = pcall(function()
          local image = P.build(P.generate(seed, options))
          for _, mode in ipairs(modes) do
            local dump, count = P.run_vmlab(image, mode, privilege)
            assert(dump, ("seed %d: %s"):format(seed, count))
            dumps[mode], retired[mode] = dump, count
          end
        end)
        -- QEMU's run is collected whatever happened here, so that no process or file is left.
        local reference, why = dumps[modes[1]], nil
        local name, runner = "vmlab " .. modes[1], P.vmlab_runner(modes[1], privilege)
        if qemu then
          reference, why = P.finish_qemu(started[seed])
          started[seed] = nil
          name, runner = "QEMU", P.qemu_runner(qemu, privilege)
        end
        if not ran then error(failure, 0) end
        assert(reference, ("seed %d: %s"):format(seed, why))
        for _, mode in ipairs(modes) do
          if dumps[mode] ~= reference then
            error(report(seed, options, "vmlab " .. mode, dumps[mode], name, reference,
              P.vmlab_runner(mode, privilege), runner), 0)
          end
        end
        -- The same work retires the same instructions in every mode, however a VMM performed
        -- them (vm:stats().instructions, labs/README.md); QEMU's count is not comparable.
        for _, mode in ipairs(modes) do
          if retired[mode] ~= retired[modes[1]] then
            error(("seed %d: vmlab %s retired %d instructions, %s %d"):format(seed, mode, retired[mode],
              modes[1], retired[modes[1]]), 0)
          end
        end
      end)
    end
  end)
end
