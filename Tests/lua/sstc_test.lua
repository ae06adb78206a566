-- Sstc under every technique: an S-mode kernel that programs its own timer with `stimecmp`, as
-- Linux does when its device tree names `sstc` (vmlab.vm's `sstc = true`), gets its interrupts
-- without an SBI call, whoever runs it: the hart's comparator natively and under interpret and pv,
-- the VMM's emulation under trap and bt, `vstimecmp` under hw. Without the option the register is
-- not there. (The hart's own rules are the ISA program labs/guests/isa/sstc.S, held to QEMU.)
local vmlab = require "vmlab"

local MODES = { "native", "interpret", "trap", "bt", "pv", "hw" }

-- Three ticks, each programmed 200 ticks of `time` ahead by the handler; the kernel waits in wfi.
local ticking = [[
  start:
    la t0, handler
    csrw stvec, t0
    li s2, 0
    li t0, 32               # sie.STIE
    csrs sie, t0
    csrr t1, time
    addi t1, t1, 200
    csrw stimecmp, t1
    csrsi sstatus, 2        # sstatus.SIE
  wait:
    li t0, 3
    bge s2, t0, done
    wfi
    j wait
  done:
    j done
    .align 2
  handler:
    csrr s3, scause
    addi s2, s2, 1
    csrr t1, time
    addi t1, t1, 200
    li t0, 3
    blt s2, t0, again
    li t1, -1               # the last: no more
  again:
    csrw stimecmp, t1
    sret
]]

-- Reads stimecmp once: all ones (never) with Sstc, an illegal instruction without.
local probing = [[
  start:
    la t0, handler
    csrw stvec, t0
    li s3, 0
    csrr a0, stimecmp
    j done
    .align 2
  handler:
    csrr s3, scause
  done:
    j done
]]

local function kernel_vm(source, mode, sstc)
  local code, symbols = vmlab.asm(source, { base = 0x80200000 })
  return assert(vmlab.vm { mode = mode, image = code, symbols = symbols, firmware = "builtin", sstc = sstc })
end

describe("stimecmp", function()
  it("brings a kernel its timer interrupts with no SBI call, under every mode", function()
    for _, mode in ipairs(MODES) do
      local vm <close> = kernel_vm(ticking, mode, true)
      expect(vm:run { to = "done", max_instructions = 1e6 }).to_equal("reached")
      expect({ mode, vm:read("s2"), vmlab.hex(vm:read("s3")) }).to_equal({ mode, 3, "0x8000000000000005" })
      local calls = (vm:stats().technique or {}).hypercalls or {}
      expect({ mode, calls.sbi_time }).to_equal({ mode, nil })
      expect({ mode, vmlab.hex(vm:read("csr.stimecmp")) }).to_equal({ mode, "0xffffffffffffffff" })
    end
  end)

  it("under hw is the guest's vstimecmp: programming it and its interrupts exit nowhere", function()
    local vm <close> = kernel_vm(ticking, "hw", true)
    expect(vm:run { to = "done", max_instructions = 1e6 }).to_equal("reached")
    local exits = vm:stats().exits.by_cause
    -- wfi is intercepted by default; nothing else of the timer's reaches the VMM.
    for cause, n in pairs(exits) do
      if n > 0 then expect(cause).to_equal("wfi") end
    end
  end)

  it("is the VMM's to emulate under trap and bt: each write is a privileged instruction emulated", function()
    for _, mode in ipairs { "trap", "bt" } do
      local vm <close> = kernel_vm(ticking, mode, true)
      local writes = 0
      local h <close> = vm:on("exit", function(ev)
        if ev.cause == "illegal_instruction" and ev.insn and (ev.insn >> 20) == 0x14D then writes = writes + 1 end
      end)
      expect(vm:run { to = "done", max_instructions = 1e6 }).to_equal("reached")
      if mode == "trap" then expect(writes).to_equal(4) end
      expect(vm:read("s2")).to_equal(3)
    end
  end)

  it("is not there without the option: reading it is an illegal instruction in every mode", function()
    for _, mode in ipairs(MODES) do
      for _, sstc in ipairs { false, true } do
        local vm <close> = kernel_vm(probing, mode, sstc)
        expect(vm:run { to = "done", max_instructions = 1e5 }).to_equal("reached")
        if sstc then
          expect({ mode, vm:read("s3"), vm:read("a0") }).to_equal({ mode, 0, -1 })
        else
          expect({ mode, vm:read("s3") }).to_equal({ mode, 2 })
        end
      end
    end
  end)

  it("survives a snapshot: a restored VM takes its ticks at the same instructions", function()
    for _, mode in ipairs { "native", "trap", "hw" } do
      local vm <close> = kernel_vm(ticking, mode, true)
      expect(vm:run { max_instructions = 40 }).to_equal("budget")
      local snap <close> = vm:snapshot()
      expect(vm:run { to = "done", max_instructions = 1e6 }).to_equal("reached")
      local first = { vm:stats().instructions, vm:stats().cycles.total, vm:read("s2") }
      vm:restore(snap)
      expect(vm:run { to = "done", max_instructions = 1e6 }).to_equal("reached")
      expect({ mode, vm:stats().instructions, vm:stats().cycles.total, vm:read("s2") }).to_equal({ mode, table.unpack(first) })
    end
  end)
end)
