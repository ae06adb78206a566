-- vmlab.faults and vm:inject: deterministic fault injection, recorded in vm:stats().faults.
local vmlab = require "vmlab"

local cell_guest = require "cell_guest"

local function vm_with(n)
  local code, symbols = cell_guest(n)
  return assert(vmlab.vm { image = code, mode = "interpret" }), symbols
end

describe("vmlab.faults", function()
  it("lists every injector with its parameters", function()
    local names = {}
    for _, f in ipairs(vmlab.faults()) do
      names[#names + 1] = f.name
      expect(f.summary).to_be_a("string")
      expect(#f.parameters > 0).to_be(true)
      for _, p in ipairs(f.parameters) do
        expect(p.name).to_be_a("string")
        expect(({ integer = true, string = true, ["integer|string"] = true })[p.type]).to_be(true)
        expect(p.required).to_be_a("boolean")
      end
    end
    expect(names).to_equal({ "bitflip_memory", "bitflip_register", "bitflip_pte", "interrupt_drop",
                             "interrupt_delay", "interrupt_spurious", "device_failure", "link_down",
                             "link_up" })
  end)
end)

describe("vm:inject", function()
  it("flips a bit of guest memory at an instruction count, and records it", function()
    local vm <close>, symbols = vm_with(100)
    local id = vm:inject { fault = "bitflip_memory", address = symbols.cell, bit = 2, at = { instructions = 50 } }
    expect(id).to_be_a("integer")
    expect(#vm:stats().faults).to_equal(0)   -- not yet fired
    local stop, details = vm:run { max_instructions = 10000 }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(4)
    local f = vm:stats().faults[1]
    expect(f.id).to_equal(id)
    expect(f.fault).to_equal("bitflip_memory")
    expect(f.parameters.bit).to_equal(2)
    expect(f.instructions).to_equal(50)
    expect(f.effect).to_be_a("string")
  end)

  it("fires at a pc (an address or a label) and flips a register", function()
    local vm <close>, symbols = vm_with(10)
    vm:inject { fault = "bitflip_register", register = "s0", bit = 0, at = { pc = symbols.check } }
    expect((vm:run { max_instructions = 10000 })).to_equal("poweroff")
    expect(vm:read "s0").to_equal(1)
    expect(vm:stats().faults[1].pc).to_equal(symbols.check)
  end)

  it("fires now without 'at', and after the Nth event with 'event'", function()
    local vm <close>, symbols = vm_with(10)
    vm:inject { fault = "bitflip_memory", address = symbols.cell, bit = 0 }
    expect((select(2, vm:run { max_instructions = 10000 })).exit_code).to_equal(1)
    -- The same run twice gives the same record.
    local a <close> = vm_with(10)
    local b <close> = vm_with(10)
    for _, v in ipairs { a, b } do
      v:inject { fault = "bitflip_register", register = "a0", bit = 3, at = { instructions = 7 } }
      v:run { max_instructions = 10000 }
    end
    expect(a:stats().faults).to_equal(b:stats().faults)
  end)

  it("raises for unknown faults, parameters and triggers", function()
    local vm <close> = vm_with(1)
    expect(function() vm:inject { fault = "bitflip" } end)
      .to_raise("unknown fault 'bitflip' %(expected one of: bitflip_memory, bitflip_register, bitflip_pte, ")
    expect(function() vm:inject() end).to_raise("bad argument #1 to 'inject' %(table expected, got no value%)")
    expect(function() vm:inject { address = 0 } end).to_raise("field 'fault' is required")
    expect(function() vm:inject { fault = "bitflip_memory", bit = 1 } end).to_raise("fault 'bitflip_memory' needs 'address'")
    expect(function() vm:inject { fault = "bitflip_memory", address = 0x80000000, bit = 1, bits = 2 } end)
      .to_raise("unknown parameter 'bits' for fault 'bitflip_memory'")
    expect(function() vm:inject { fault = "bitflip_memory", address = 0x80000000, bit = 1, at = { instruction = 5 } } end)
      .to_raise("unknown trigger 'instruction' in 'at' %(expected one of: instructions, cycles, pc, event, count%)")
    expect(function() vm:inject { fault = "bitflip_memory", address = 0x80000000, bit = 1, at = { pc = 1, cycles = 2 } } end)
      .to_raise("'at' takes one trigger")
    expect(function() vm:inject { fault = "bitflip_memory", address = 0x80000000, bit = 1, at = { count = 2 } } end)
      .to_raise("'count' goes with 'event'")
    expect(function() vm:inject { fault = "bitflip_memory", address = 0x80000000, bit = 1, at = { event = "traps" } } end)
      .to_raise("unknown event 'traps'")
    expect(function() vm:inject { fault = "bitflip_memory", address = 0x80000000, bit = {} } end)
      .to_raise("bad 'bit' for fault 'bitflip_memory': integer or string expected, got table")
    -- Negative integers are refused as written (a level of -1 crashed the injector).
    expect(function() vm:inject { fault = "bitflip_pte", address = 0, bit = 1, level = -1 } end)
      .to_raise("bad 'level' %-1 for fault 'bitflip_pte' %(expected 0%-4%)")
    expect(function() vm:inject { fault = "bitflip_pte", address = 0, bit = -1 } end)
      .to_raise("bad 'bit' %-1 for fault 'bitflip_pte' %(expected 0%-63%)")
    expect(function() vm:inject { fault = "interrupt_drop", source = "uart", count = math.mininteger } end)
      .to_raise("bad 'count' %-9223372036854775808 for fault 'interrupt_drop'")
    -- The timer needs the built-in SBI; the message says what the VM has instead: no firmware at
    -- all for this bare-metal program (it said "boots M-mode firmware"), or an M-mode firmware.
    expect(function() vm:inject { fault = "interrupt_drop", source = "timer" } end)
      .to_raise("fault 'interrupt_drop' on the timer needs the built%-in SBI %(this VM runs a bare%-metal program in M%-mode, with no firmware: nothing raises STIP for it%)")
  end)

  -- Under an M-mode firmware the message names it. Without OpenSBI (Debian's opensbi package)
  -- the check is reported skipped, saying so, rather than passing without having run.
  local opensbi = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
  local present = io.open(opensbi)
  local timer_under_firmware = "refuses timer faults under an M-mode firmware, naming it"
  if present then
    present:close()
    it(timer_under_firmware, function()
      local under <close> = assert(vmlab.vm { firmware = opensbi, image = vmlab.asm "1: j 1b" })
      expect(function() under:inject { fault = "interrupt_delay", source = "timer", cycles = 10 } end)
        .to_raise("%(this VM boots M%-mode firmware, which raises STIP in software%)")
    end)
  else
    pending(timer_under_firmware, opensbi .. " not found (scripts/setup --with-test-tools installs it)")
  end
end)

describe("interrupt_delay on a sleeping guest", function()
  -- A kernel that sets its SBI timer 1 ms ahead, sleeps in wfi, and reads the time when the tick
  -- arrives. The delayed tick is a deadline of the machine: the guest sleeps until it comes.
  local kernel = vmlab.asm [[
      la t0, handler
      csrw stvec, t0
      li t0, 0x20
      csrs sie, t0
      rdtime a0
      li t1, 10000
      add a0, a0, t1
      li a7, 0x54494D45
      li a6, 0
      ecall
      csrsi sstatus, 2
    1:
      wfi
      j 1b
    .align 2
    handler:
      rdtime s2
      li a7, 0x53525354
      li a6, 0
      li a0, 0
      li a1, 0
      ecall
  ]]

  local function tick(mode, fault)
    local vm <close> = assert(vmlab.vm { image = kernel, firmware = "builtin", mode = mode })
    if fault then vm:inject(fault) end
    local stop = vm:run { max_instructions = 1e6 }
    return stop, vm:read("s2"), fault and vm:stats().faults[1].effect
  end

  it("delivers the tick late to a guest asleep in wfi, not at once", function()
    local _, on_time = tick("native")
    local stop, late, effect = tick("native", { fault = "interrupt_delay", source = "timer", cycles = 1000000 })
    expect(stop).to_equal("poweroff")
    -- 10^6 cycles are 10 000 ticks of the 10 MHz timebase.
    expect(late - on_time).to_equal(10000)
    local at, released = effect:match("last at cycle (%d+)%); released at cycle (%d+)")
    expect(tonumber(released) - tonumber(at)).to_equal(1000000)
  end)

  it("intercepts the vCPU's timer under trap and bt, where the VMM raises it", function()
    for _, mode in ipairs { "trap", "bt" } do
      local _, on_time = tick(mode)
      local stop, late, effect = tick(mode, { fault = "interrupt_delay", source = "timer", cycles = 1000000 })
      expect(stop).to_equal("poweroff")
      -- Released at the first instruction boundary after its cycle: the sleeping guest's wfi
      -- loop traps into the VMM once more on the way.
      expect(late - on_time >= 10000 and late - on_time < 10100).to_be(true)
      expect(effect).to_match("^delayed by 1000000 cycles 1 of 1 assertion")
      -- Dropped: the one-shot tick never comes, and the machine has nothing left to wait for.
      local dropped, never = tick(mode, { fault = "interrupt_drop", source = "timer" })
      expect(dropped).to_equal("idle")
      expect(never).to_equal(0)
    end
  end)
end)

describe("injectors on tinyos", function()
  local kernel = vmlab.guest "tinyos"

  -- tinyos under interpret, computing long enough for the timer to tick (every 10 ms of guest
  -- time); returns the stats and the benchmark's result line.
  local function run(spec, bootargs)
    local vm <close> = assert(vmlab.vm { kernel = kernel, bootargs = bootargs or "bench=compute n=300000", mode = "interpret" })
    if spec then vm:inject(spec) end
    expect((vm:run { max_instructions = 5e7 })).to_equal("poweroff")
    return vm:stats(), vm:console():match("bench=%S+ iterations[^\r\n]*")
  end

  local baseline = run()

  it("interrupt_drop: a dropped timer tick is never re-armed, so the ticks stop", function()
    expect(baseline.traps.by_cause.supervisor_timer > 5).to_be(true)
    local s, result = run { fault = "interrupt_drop", source = "timer", at = { instructions = 100000 } }
    expect(s.traps.by_cause.supervisor_timer).to_equal(0)
    expect(s.faults[1].effect).to_match("^dropped 1 of 1 assertion")
    expect(result).to_match("status=ok")
  end)

  it("interrupt_spurious: one timer interrupt more than the kernel asked for", function()
    local s = run { fault = "interrupt_spurious", source = "timer", at = { instructions = 1000000 } }
    expect(s.traps.by_cause.supervisor_timer).to_equal(baseline.traps.by_cause.supervisor_timer + 1)
    expect(s.faults[1].effect).to_match("with no cause behind it")
  end)

  it("interrupt_delay: the tick arrives late, and the ticks go on", function()
    local s = run { fault = "interrupt_delay", source = "timer", cycles = 1000, at = { instructions = 100000 } }
    expect(s.faults[1].fault).to_equal("interrupt_delay")
    expect(s.faults[1].parameters.cycles).to_equal(1000)
    local at, released = s.faults[1].effect:match("delayed by 1000 cycles .*last at cycle (%d+)%); released at cycle (%d+)")
    expect(tonumber(released) - tonumber(at)).to_equal(1000)
    expect(s.traps.by_cause.supervisor_timer > 5).to_be(true)
  end)

  it("bitflip_pte: clearing V of the first program's text page faults its first fetch", function()
    local s, result = run({ fault = "bitflip_pte", address = 0x40000000, bit = 0, at = { pc = 0x40000000 } }, "bench=syscall n=5")
    expect(s.traps.by_cause.instruction_page_fault).to_equal(1)
    expect(s.faults[1].effect).to_match("^flipped bit 0 of the level%-0 entry for 0x40000000")
    expect(result).to_be_nil()   -- init was killed before it could start the benchmark
  end)

  it("device_failure: needs a device the VM has", function()
    local vm <close> = assert(vmlab.vm { kernel = kernel, mode = "interpret" })
    expect(function() vm:inject { fault = "device_failure", device = "disk0" } end).to_raise("the VM has 0 disks")
  end)
end)

describe("device_failure on a disk", function()
  -- The disk benchmark's fixture (labs/guests/tinyos/mkdisk.sh's layout).
  local fixture = require("virtio_blk_request").tinyos_fixture

  it("fails the next disk request: the benchmark sees an I/O error", function()
    local disk = fixture()
    local function run(fail)
      local vm <close> = assert(vmlab.vm { kernel = vmlab.guest "tinyos", bootargs = "bench=disk n=2", mode = "interpret",
                                           disks = { { file = disk } } })
      if fail then vm:inject { fault = "device_failure", device = "disk0", at = { instructions = 800000 } } end
      vm:run { max_instructions = 5e7 }
      return vm:console():match("bench=disk iterations[^\r\n]*"), vm:stats().faults
    end
    local good = run(false)
    local bad, faults = run(true)
    os.remove(disk)
    expect(good).to_match("status=ok")
    expect(bad).to_match("status=io%-error")
    expect(faults[1].fault).to_equal("device_failure")
    expect(faults[1].effect).to_be_a("string")
  end)
end)
