-- vmlab.faults and vm:inject: deterministic fault injection, recorded in vm:stats().faults.
local vmlab = require "vmlab"

-- M-mode guest: spins `n` times, then loads `cell` into a0 and powers off with exit code a0 & 0xff
-- (the test finisher's FAIL code carries it), so a flipped bit of `cell` shows as the exit code.
local function guest(n)
  return vmlab.asm(([[
    li s0, %d
  1:addi s0, s0, -1
    bnez s0, 1b
  check:
    la t0, cell
    ld a0, 0(t0)
    li t0, 0x100000
    beqz a0, pass
    li t2, 0x3333
    andi t1, a0, 0xff
    slli t1, t1, 16
    or t1, t1, t2
    sw t1, 0(t0)
  2:j 2b
  pass:
    li t1, 0x5555
    sw t1, 0(t0)
  3:j 3b
  .align 3
  cell: .dword 0
  ]]):format(n))
end

local function vm_with(n)
  local code, symbols = guest(n)
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
                             "interrupt_delay", "interrupt_spurious", "device_failure" })
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
  end)
end)
