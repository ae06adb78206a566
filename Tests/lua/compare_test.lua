-- vmlab.compare: one guest, several modes, one table of counters and ratios.
local vmlab = require "vmlab"

-- Small runs: tinyos boots, runs the benchmark n times and powers off.
local function compare(options)
  options.guest = options.guest or "tinyos"
  options.n = options.n or 5
  return vmlab.compare(options)
end

describe("vmlab.compare", function()
  local t = compare { bench = { "syscall", "compute" }, modes = { "native", "interpret" }, profile = "core2-2006" }

  it("has one row per benchmark and mode, benchmarks outer", function()
    expect(#t.rows).to_equal(4)
    local order = {}
    for i, row in ipairs(t.rows) do order[i] = row.bench .. "/" .. row.mode end
    expect(order).to_equal({ "syscall/native", "syscall/interpret", "compute/native", "compute/interpret" })
  end)

  it("names the guest, the profile and the baseline", function()
    expect(t.guest).to_equal("tinyos")
    expect(t.profile).to_equal("core2-2006")
    expect(t.baseline).to_equal("native")
    expect(t.n).to_equal(5)
  end)

  it("keeps each run's counters and the benchmark's result line", function()
    for _, row in ipairs(t.rows) do
      expect(row.instructions > 0).to_be(true)
      expect(row.cycles > 0).to_be(true)
      expect(row.result).to_match("^bench=" .. row.bench .. " iterations=5 status=ok")
      expect(row.guest_cycles).to_be_a("integer")
      local sum = 0
      for _, cycles in pairs(row.by_category) do sum = sum + cycles end
      expect(sum).to_equal(row.cycles)
    end
  end)

  it("runs the same timed loop under every mode, and charges interpretation", function()
    local native, interpret = t.rows[1], t.rows[2]
    expect(interpret.guest_instructions).to_equal(native.guest_instructions)
    expect(interpret.guest_ratio > 1).to_be(true)
    expect(native.ratio).to_equal(1.0)
    expect(interpret.ratio > 1).to_be(true)
    expect(interpret.by_category.interpretation > 0).to_be(true)
    expect(native.by_category.interpretation).to_equal(0)
  end)

  it("prints a table that names the profile", function()
    local text = t:text()
    expect(text).to_match("profile core2%-2006")
    expect(text).to_match("syscall%s+interpret")
    expect(tostring(t)).to_equal(text)
  end)

  it("exports CSV with a header and one line per row", function()
    local csv = t:csv()
    local lines = {}
    for line in csv:gmatch("([^\r\n]+)") do lines[#lines + 1] = line end
    expect(#lines).to_equal(5)
    expect(lines[1]).to_match("^guest,profile,bench,mode,instructions,cycles,ratio,")
    expect(lines[2]).to_match("^tinyos,core2%-2006,syscall,native,")
  end)

  it("exports JSON", function()
    local json = t:json()
    expect(json).to_match('"profile": "core2%-2006"')
    expect(json).to_match('"mode": "interpret"')
    local _, rows = json:gsub('"bench":', "")
    expect(rows).to_equal(4)
  end)

  it("prints what is left when a script drops rows", function()
    local copy = setmetatable({ guest = t.guest, profile = t.profile, baseline = t.baseline, rows = { t.rows[3], t.rows[4] } },
      getmetatable(t))
    local text = copy:text()
    expect(text).to_match("compute")
    expect(text).never.to_match("syscall")
  end)

  it("writes files, and says when it cannot", function()
    local path = os.tmpname()
    expect(t:write_csv(path)).to_be(true)
    local f = assert(io.open(path, "rb"))
    expect(f:read("a")).to_equal(t:csv())
    f:close()
    expect(t:write_json(path)).to_be(true)
    os.remove(path)
    local ok, message = t:write_csv("/nonexistent-dir/x.csv")
    expect(ok).to_be_nil()
    expect(message).to_equal("cannot write '/nonexistent-dir/x.csv': No such file or directory")
  end)

  it("writes CSV and JSON when asked by csv= and json=", function()
    local csv, json = os.tmpname(), os.tmpname()
    local one = compare { bench = "compute", modes = { "native" }, n = 1, csv = csv, json = json }
    for path, text in pairs { [csv] = one:csv(), [json] = one:json() } do
      local f = assert(io.open(path, "rb"))
      expect(f:read("a")).to_equal(text)
      f:close()
      os.remove(path)
    end
    expect(function() compare { bench = "compute", modes = { "native" }, n = 1, csv = "/nonexistent-dir/x.csv" } end)
      .to_raise("cannot write '/nonexistent%-dir/x.csv'")
  end)

  it("runs a mode entry under its label, beside the same mode by name", function()
    local u = compare { bench = "compute", n = 2, modes = { { mode = "interpret", label = "software" }, "native", "interpret" } }
    expect(#u.rows).to_equal(3)
    expect(u.rows[1].mode).to_equal("software")
    expect(u.rows[2].mode).to_equal("native")
    expect(u.baseline).to_equal("native")
    -- The same mode twice: the same run, so the same counters.
    expect(u.rows[1].instructions).to_equal(u.rows[3].instructions)
    expect(u.rows[1].cycles).to_equal(u.rows[3].cycles)
    expect(u.rows[2].ratio).to_equal(1.0)
    expect(u:text()).to_match("\n[^\n]*compute%s+software%s")
  end)

  it("runs a shadow policy under its label: the pte loop without unshadowing", function()
    local u = compare { bench = "pte", n = 4, modes = { "trap", { mode = "trap", label = "flooded", shadow = { unshadow_after = 0 } } } }
    expect(u.rows[2].mode).to_equal("flooded")
    expect(u.rows[2].result).to_equal(u.rows[1].result)
    -- Each iteration zeroes a freed page table the cached shadows still mirror: 512 more exits.
    expect(u.rows[2].exits > u.rows[1].exits + 4 * 500).to_be(true)
    expect(u.rows[2].guest_cycles > 10 * u.rows[1].guest_cycles).to_be(true)
  end)

  it("gives the same numbers every time", function()
    local again = compare { bench = { "syscall", "compute" }, modes = { "native", "interpret" }, profile = "core2-2006" }
    expect(again:csv()).to_equal(t:csv())
  end)
end)

describe("vmlab.compare under pv", function()
  -- An unmodified kernel is refused under pv, so a bundled guest runs as its para-virtual
  -- flavour there; the comparable output must still be the same as under the other modes.
  it("runs tinyos-pv for the pv rows, every mode by default", function()
    local t = compare { bench = "syscall", n = 2 }
    local modes = {}
    for i, row in ipairs(t.rows) do modes[i] = row.mode end
    expect(modes).to_equal({ "native", "interpret", "trap", "bt", "pv", "hw" })
    local pv = t.rows[5]
    expect(pv.result).to_match("^bench=syscall iterations=2 status=ok")
    expect(pv.by_category.hypercall > t.rows[1].by_category.hypercall).to_be(true)
    -- hw runs the unmodified kernel: its result is native's.
    expect(t.rows[6].result).to_equal(t.rows[1].result)
  end)

  it("runs the guest as given when it names the flavour itself", function()
    local t = compare { guest = "tinyos-pv", bench = "syscall", n = 2, modes = { "pv" } }
    expect(t.rows[1].by_category.hypercall > 0).to_be(true)
  end)
end)

describe("vmlab.compare misuse", function()
  it("needs a guest and a benchmark", function()
    expect(function() vmlab.compare { bench = "syscall" } end).to_raise("option 'guest' is required")
    expect(function() vmlab.compare { guest = "tinyos" } end).to_raise("option 'bench' is required")
    expect(function() vmlab.compare { guest = "tinyos", bench = {} } end).to_raise("option 'bench': the list is empty")
    expect(function() vmlab.compare { guest = "tinyos", bench = "a b" } end).to_raise("bad benchmark name 'a b'")
    expect(function() vmlab.compare { guest = "tinyos", bench = { "syscall", "fork", "syscall" } } end)
      .to_raise("option 'bench': 'syscall' is listed twice")
    -- An unknown benchmark raises before anything runs, naming the ones there are (it made a row
    -- whose result said status=unknown-benchmark).
    expect(function() vmlab.compare { guest = "tinyos", bench = "nonexistent" } end)
      .to_raise("option 'bench': unknown benchmark 'nonexistent' %(tinyos has: syscall, pagefault, csr, ctxsw, fork, pte, mmio, disk, compute, tlb%)")
    expect(function() vmlab.compare { guest = "tinyos-pv", bench = { "syscall", "all" } } end)
      .to_raise("unknown benchmark 'all' %(tinyos%-pv has: syscall, ")
  end)

  it("stops at a benchmark the guest, given by path, reports it did not run", function()
    -- No list to check beforehand: tinyos's own result line says status=unknown-benchmark.
    local ok, err = pcall(vmlab.compare, { guest = vmlab.guest "tinyos", bench = "nonexistent", modes = { "native" }, n = 1 })
    expect(ok).to_be(false)
    expect(err).to_match("bench 'nonexistent' under native: the guest reports status=unknown%-benchmark")
  end)

  it("rejects unknown options and modes", function()
    expect(function() vmlab.compare { guest = "tinyos", bench = "syscall", mode = "native" } end)
      .to_raise("unknown option 'mode' to 'compare' %(expected one of: ")
    expect(function() vmlab.compare { guest = "tinyos", bench = "syscall", modes = { "natve" } } end)
      .to_raise("unknown mode 'natve' %(expected one of: native, interpret, trap, bt, pv, hw%)")
    expect(function() vmlab.compare { guest = "tinyos", bench = "syscall", modes = { "native", "native" } } end)
      .to_raise("'native' is listed twice")
    expect(function() vmlab.compare { guest = "tinyos", bench = "syscall", profile = "fast" } end)
      .to_raise("unknown cost profile 'fast'")
    expect(function() vmlab.compare { guest = "tinyos", bench = "syscall", bootargs = "pages=64\0" } end)
      .to_raise("option 'bootargs': the kernel command line holds a NUL byte at offset 8")
  end)

  it("checks mode entries that are tables", function()
    local function modes(list) return function() vmlab.compare { guest = "tinyos", bench = "syscall", modes = list } end end
    expect(modes { "native", { mode = "trap", lable = "x" } })
      .to_raise("unknown option 'lable' in option 'modes': item 2 to 'compare' %(expected one of: bt, hw, label, mode, pv, shadow%)")
    expect(modes { { label = "x" } }).to_raise("option 'modes': item 1: option 'mode' is required")
    expect(modes { { mode = "natve" } }).to_raise("unknown mode 'natve'")
    expect(modes { "native", { mode = "trap", bt = { inline = false } } })
      .to_raise("option 'modes': item 2: option 'bt' needs mode \"bt\" %(got mode \"trap\"%)")
    expect(modes { { mode = "native", pv = { batch_limit = 0 } } }).to_raise("option 'modes': item 1: option 'pv.batch_limit'")
    expect(modes { { mode = "native", bt = { adapt_threshold = -1 } } })
      .to_raise("option 'modes': item 1: option 'bt.adapt_threshold': must be 0 %(never adapt%)")
    expect(modes { { mode = "native", bt = { inline = "yes" } } }).to_raise("option 'inline': boolean expected, got string")
    expect(modes { "native", { mode = "pv", shadow = { capacity = 2 } } })
      .to_raise("option 'modes': item 2: option 'shadow' needs mode \"trap\" or \"bt\" or \"hw\" %(got mode \"pv\"%)")
    expect(modes { { mode = "bt", shadow = { capacity = 300 } } })
      .to_raise("option 'modes': item 1: option 'shadow.capacity': must be 1 to 256, got 300")
    expect(modes { "native", { mode = "native" } }).to_raise("'native' is listed twice")
    expect(modes { "native", { mode = "native", label = "native" } }).to_raise("'native' is listed twice")
    expect(modes { "native", { mode = "interpret", label = "" } }).to_raise("the label is empty")
    expect(modes { "native", 3 }).to_raise("unknown mode '3'")
    expect(modes { "native", true }).to_raise("item 2: string or table expected, got boolean")
  end)

  it("fails when the guest's output differs between modes, naming the first differing line", function()
    -- An S-mode kernel (a raw image at 0x80200000, under the built-in SBI) that prints the time
    -- (rdtime) after a loop in 16 letters, then shuts down: time follows the modelled cycles, so
    -- the line differs between native and interpret.
    local code = vmlab.asm([[
        li s0, 200
      1:addi s0, s0, -1
        bnez s0, 1b
        rdtime s1
        li t0, 0x10000000
        li s2, 60
      2:srl t1, s1, s2
        andi t1, t1, 15
        addi t1, t1, 0x41
        sb t1, 0(t0)
        addi s2, s2, -4
        bgez s2, 2b
        li t1, 10
        sb t1, 0(t0)
        li a7, 0x53525354   # SBI system reset: shutdown
        li a6, 0
        li a0, 0
        li a1, 0
        ecall
      3:j 3b
    ]], { base = 0x80200000 })
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(code)
    f:close()
    local ok, err = pcall(vmlab.compare, { guest = path, bench = "clock", modes = { "native", "interpret" } })
    os.remove(path)
    expect(ok).to_be(false)
    expect(err).to_match("bench 'clock': the guest's output differs between native and interpret at line 1: "
      .. "native printed 'A+%u+', interpret printed 'A+%u+'")
  end)

  it("fails a run that does not finish", function()
    expect(function() compare { bench = "syscall", modes = { "native" }, max_instructions = 1000 } end)
      .to_raise("bench 'syscall' under native did not finish cleanly: the budget is used up %(1000 instructions; raise max_instructions%)")
  end)

  it("quotes the console's last line when a run does not finish cleanly", function()
    -- A bare-metal guest that says why it gives up, then powers off with exit code 1.
    local code = vmlab.asm [[
        li t0, 0x10000000
        la t2, message
      1:lbu t1, 0(t2)
        beqz t1, 2f
        sb t1, 0(t0)
        addi t2, t2, 1
        j 1b
      2:li t0, 0x100000     # the test finisher: (code << 16) | 0x3333 fails with code
        li t1, 0x13333
        sw t1, 0(t0)
      3:j 3b
      message: .string "panic: out of frames\n\n"
    ]]
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(code)
    f:close()
    local ok, err = pcall(vmlab.compare, { guest = path, bench = "syscall", modes = { "native" } })
    os.remove(path)
    expect(ok).to_be(false)
    expect(err).to_match("did not finish cleanly: the guest powered off %(exit code 1%); the console's last line: 'panic: out of frames'$")
  end)
end)
