-- Mode "pv": tinyos's para-virtual flavour under the para-virtual VMM — what labs/05 relies on.
local vmlab = require "vmlab"

local PV = 0x0A564D4C      -- the hypercall extension in a7 (HypercallABI.md)

-- The result lines of a tinyos run (its own "# " measurements dropped).
local function results(console)
  local lines = {}
  for line in console:gmatch("[^\r\n]+") do
    if line:match("^bench=") then lines[#lines + 1] = line end
  end
  return table.concat(lines, "\n")
end

local function run(mode, kernel, bootargs)
  local vm <close> = assert(vmlab.vm { mode = mode, kernel = vmlab.guest(kernel), bootargs = bootargs })
  local stop = vm:run { max_instructions = 100e6 }
  return stop, vm:console(), vm:stats()
end

-- An S-mode kernel assembled here, booted by the built-in SBI from a raw image file.
local function raw_kernel(source)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write((vmlab.asm(source, { base = 0x80200000 })))
  f:close()
  return path
end

describe("mode pv", function()
  it("finds the pv flavour of tinyos by name", function()
    expect(vmlab.guest "tinyos-pv").to_match("tinyos/tinyos%-pv%.elf$")
    expect(vmlab.guest "tinyos").to_match("tinyos/tinyos%.elf$")
    expect(function() vmlab.guest "tinyos-nonesuch" end).to_raise("tinyos%-nonesuch")
  end)

  it("runs tinyos-pv to the result native tinyos prints", function()
    local nstop, nconsole = run("native", "tinyos", "bench=pagefault n=4")
    local pstop, pconsole, stats = run("pv", "tinyos-pv", "bench=pagefault n=4")
    expect(nstop).to_equal("poweroff")
    expect(pstop).to_equal("poweroff")
    expect(results(pconsole)).to_equal(results(nconsole))
    expect(results(pconsole)).to_match("bench=pagefault")
    expect(stats.mode).to_equal("pv")
    expect(stats.technique.hypercalls.mmu_update > 0).to_be(true)
    -- The one refusal: the block front-end's connect on a VM with no disk (its probe).
    expect(stats.technique.hypercall_errors["block_connect.not_supported"]).to_equal(1)
    expect(stats.technique.pv.refusals).to_equal(1)
    expect(stats.technique.pv.emulated_privileged).to_equal(0)
    -- Groups with nothing in them are there, empty, so a script can index them.
    expect(stats.technique.emulated).to_equal({})
    expect(stats.technique.notifications).to_equal({})
    -- Every hypercall has a count, zero for those never made.
    expect(stats.technique.hypercalls.multicall).to_equal(0)
    expect(stats.technique.hypercalls.evtchn_close).to_equal(0)
    expect(stats.technique.hypercalls.unknown).to_be_nil()
  end)

  it("lets a hook filter hypercalls by name", function()
    local vm <close> = assert(vmlab.vm { mode = "pv", kernel = vmlab.guest "tinyos-pv", bootargs = "bench=pagefault n=4" })
    local updates, satps = 0, 0
    vm:on("hypercall", { cause = "pv_mmu_update" }, function(ev) updates = updates + 1 end)
    vm:on("hypercall", { cause = { "pv_set_satp" } }, function(ev)
      expect(ev.cause).to_equal("pv_set_satp")
      satps = satps + 1
    end)
    expect(vm:run { max_instructions = 100e6 }).to_equal("poweroff")
    local stats = vm:stats()
    expect(updates).to_equal(stats.technique.hypercalls.mmu_update)
    expect(satps).to_equal(stats.technique.hypercalls.set_satp)
    expect(function() vm:on("hypercall", { cause = "pv_nonesuch" }, function() end) end).to_raise("unknown cause 'pv_nonesuch'")
  end)

  it("takes the VMM's policy from pv={...}: a batch limit of 1 splits every batch", function()
    local function fork(pv)
      local vm <close> = assert(vmlab.vm { mode = "pv", kernel = vmlab.guest "tinyos-pv", bootargs = "bench=fork n=3", pv = pv })
      expect(vm:run { max_instructions = 100e6 }).to_equal("poweroff")
      return vm:stats().technique
    end
    local batched, single = fork(nil), fork { batch_limit = 1 }
    expect(batched.pv.updates_applied).to_equal(single.pv.updates_applied)
    expect(batched.hypercalls.mmu_update < batched.pv.updates_applied).to_be(true)
    expect(single.hypercalls.mmu_update >= single.pv.updates_applied).to_be(true)
    expect(function() vmlab.vm { mode = "native", kernel = vmlab.guest "tinyos", pv = { batch_limit = 4 } } end)
      .to_raise("option 'pv' needs mode \"pv\"")
    expect(function() vmlab.vm { mode = "pv", kernel = vmlab.guest "tinyos-pv", pv = { batch_limit = 0 } } end)
      .to_raise("pv.batch_limit")
    expect(function() vmlab.vm { mode = "pv", kernel = vmlab.guest "tinyos-pv", pv = { batch = 4 } } end)
      .to_raise("batch")
  end)

  it("says, when an unmodified kernel halts, that the VMM refused its page tables", function()
    local vm <close> = assert(vmlab.vm { mode = "pv", kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=2", memory = "16M" })
    local stop, details = vm:run { max_instructions = 3000000 }
    expect(stop).to_equal("halted")
    expect(details.message).to_match("^hart 0 is stuck: ")
    expect(details.message).to_match("; note: the VMM refused 1 satp write of the kernel %(page tables it never validated%) "
      .. "and reflected it as an illegal instruction: pv runs a kernel built for vmlab's hypercalls %(such as tinyos%-pv%.elf%); "
      .. "an unmodified kernel runs under native, interpret, trap, bt or hw$")
    expect(vm:stats("technique.emulated.satp_refused")).to_equal(1)
    -- A kernel built for pv halts for its own reasons without the note.
    local pv <close> = assert(vmlab.vm { mode = "pv", kernel = vmlab.guest "tinyos-pv", bootargs = "bench=syscall n=2", memory = "16M" })
    pv:run { max_instructions = 20000 }
    pv:write("csr.stvec", 0)
    pv:write("pc", 0)
    local stop2, details2 = pv:run { max_instructions = 3000000 }
    expect(stop2).to_equal("halted")
    expect(details2.message).never.to_match("note")
  end)

  it("puts the VMM's work on the clock: the account adds up to it", function()
    local _, _, stats = run("pv", "tinyos-pv", "bench=fork n=3")
    local sum = 0
    for _, cycles in pairs(stats.cycles.by_category) do sum = sum + cycles end
    expect(sum).to_equal(stats.cycles.total)
    expect(stats.cycles.by_event.pv_update.count).to_equal(stats.technique.pv.updates_applied)
    expect(stats.cycles.by_event.pv_update.cycles > 0).to_be(true)
    expect(stats.cycles.by_event.hypercall.count > 0).to_be(true)
  end)

  it("answers a bad hypercall with an error code and counts it", function()
    local path = raw_kernel(([[
      li a7, %d
      li a6, 99                 # no such hypercall
      ecall
      mv s0, a0
      li a7, %d
      li a6, 0                  # domain_info(1): the RAM base
      li a0, 1
      ecall
      mv s1, a1
      li a7, 0x53525354         # SBI SRST: shut down
      li a6, 0
      li a0, 0
      li a1, 0
      ecall
    ]]):format(PV, PV))
    local vm <close> = assert(vmlab.vm { mode = "pv", kernel = path })
    local stop = vm:run { max_instructions = 10000 }
    os.remove(path)
    expect(stop).to_equal("poweroff")
    expect(vm:read "s0").to_equal(-2)            -- not_supported
    expect(vm:read "s1").to_equal(0x80000000)
    local t = vm:stats().technique
    expect(t.hypercalls.unknown).to_equal(1)
    expect(t.hypercalls.domain_info).to_equal(1)
    expect(t.hypercall_errors["unknown.not_supported"]).to_equal(1)
    expect(t.pv.refusals).to_equal(1)
  end)

  it("shows what an unmodified kernel forgot", function()
    local vm <close> = assert(vmlab.vm { mode = "pv", kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=2" })
    vm:run { max_instructions = 3e6 }
    local t = vm:stats().technique
    expect(t.emulated.satp_write > 0).to_be(true)
    expect(t.pv.reflected_exceptions > 0).to_be(true)
    expect(vm:console()).never.to_match("bench=syscall iterations")
  end)

  it("retires the instructions it emulates, as they retire natively", function()
    -- Two satp reads, trapped by mstatus.TVM and emulated; then an SBI shutdown (an ecall,
    -- which never retires).
    local kernel = vmlab.asm [[
      csrr t0, satp
      csrr t1, satp
      li a7, 0x53525354
      li a6, 0
      li a0, 0
      li a1, 0
      ecall
    ]]
    local native <close> = assert(vmlab.vm { image = kernel, firmware = "builtin" })
    local pv <close> = assert(vmlab.vm { mode = "pv", image = kernel, firmware = "builtin" })
    expect(native:run()).to_equal("poweroff")
    expect(pv:run()).to_equal("poweroff")
    expect(pv:stats().technique.emulated.satp_read).to_equal(2)
    expect(pv:stats().instructions).to_equal(native:stats().instructions)
    expect(pv:stats().instructions).to_equal(7)
  end)
end)

describe("tinyos-pv outside mode pv", function()
  -- Its console is a hypercall, so without the VMM it used to power off with exit code 1 and
  -- nothing printed; it now says why, through the SBI's legacy console.
  for _, mode in ipairs { "native", "trap" } do
    it("says it needs mode pv (" .. mode .. ")", function()
      local vm <close> = assert(vmlab.vm { mode = mode, kernel = vmlab.guest "tinyos-pv", bootargs = "bench=syscall n=2" })
      local reason, details = vm:run { max_instructions = 100e6 }
      expect(reason).to_equal("poweroff")
      expect(details.exit_code).to_equal(1)
      expect(vm:console()).to_match("tinyos: panic: tinyos%-pv runs under vmlab's para%-virtual VMM %(mode pv%)")
    end)
  end
end)
