-- vmlab.host: several VMs on one host, each with its own RAM (a carve-out) and console.
local vmlab = require "vmlab"

-- M-mode guest: prints `text` on the UART `times` times, then powers off.
local function printer(text, times)
  return (vmlab.asm(([[
    li s0, %d
  again:
    li t0, 0x10000000
    la t1, text
  1:lbu t2, 0(t1)
    beqz t2, 2f
    sb t2, 0(t0)
    addi t1, t1, 1
    j 1b
  2:addi s0, s0, -1
    bnez s0, again
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
  3:j 3b
  text: .asciz "%s"
  ]]):format(times, text)))
end

describe("vmlab.host", function()
  it("runs two VMs side by side, each with its own console", function()
    local host <close> = vmlab.host { memory = "64M", slice = 50 }
    local a = assert(host:vm { image = printer("a", 40), memory = "16M" })
    local b = assert(host:vm { image = printer("b", 40), memory = "16M" })
    expect(#host:vms()).to_equal(2)
    expect(tostring(host)).to_equal("vmlab.Host (64 MiB, 2 VMs)")
    local stop = host:run { max_instructions = 1e6 }
    expect(stop).to_equal("poweroff")
    expect(a:console()).to_equal(("a"):rep(40))
    expect(b:console()).to_equal(("b"):rep(40))
    local s = host:stats()
    expect(s.switches > 2).to_be(true)
    expect(s.cycles > 0).to_be(true)
    expect(s.free_memory).to_equal(32 * 2^20 // 1)
    expect(#s.vms).to_equal(2)
    expect(s.vms[1].mode).to_equal("interpret")
    expect(a:stats().host.vms).to_equal(2)
  end)

  it("gives a VM its own RAM: the other's writes never reach it", function()
    local host <close> = vmlab.host { memory = "32M" }
    local a = assert(host:vm { image = printer("a", 1), memory = "8M" })
    local b = assert(host:vm { image = printer("b", 1), memory = "8M" })
    a:write_memory(0x80100000, "from a")
    expect(b:read_memory(0x80100000, 6)).to_equal(("\0"):rep(6))
    expect(function() a:read_memory(0x80000000 + 8 * 2^20 // 1, 1) end).to_raise("1 byte at 0x80800000 is not RAM")
  end)

  it("keeps a hostile guest's random instructions and wild stores inside its own VM", function()
    -- Random bytes as code (a fixed-seed generator, so every run is the same), entered in M-mode:
    -- illegal instructions, loads and stores anywhere, jumps into the weeds.
    local state, words = 12345, {}
    for i = 1, 16384 do
      state = (state * 6364136223846793005 + 1442695040888963407) & 0xffffffffffffffff
      words[i] = string.pack("<I4", (state >> 32) & 0xffffffff)
    end
    local host <close> = vmlab.host { memory = "32M", slice = 1000 }
    -- Every trap skips the faulting instruction and goes on, so the random code keeps running.
    local preamble = vmlab.asm [[
        la t0, handler
        csrw mtvec, t0
        j random
      .align 2
      handler:
        csrr t0, mepc
        addi t0, t0, 4
        csrw mepc, t0
        mret
      random:
    ]]
    local hostile = assert(host:vm { image = preamble .. table.concat(words), memory = "8M" })
    local victim = assert(host:vm { image = printer("v", 1000000), memory = "8M" })
    local before = victim:read_memory(0x80000000, 8 * 2^20 // 1)
    local stop = host:run { max_instructions = 2e6 }
    expect(stop).to_equal("budget")
    local h = hostile:stats()
    expect(h.instructions > 1000).to_be(true)
    expect(h.traps.total > 100).to_be(true)
    expect(victim:read_memory(0x80000000, 8 * 2^20 // 1) == before).to_be(true)
    expect(victim:console()).to_match("^v+$")
  end)

  it("runs a guest to the same result and count beside hostile kernels under every VMM mode", function()
    -- Random-word kernels (hostile_kernel.lua), one per VMM mode, share the host with tinyos
    -- under trap: tinyos prints and retires exactly what it does alone. A neighbour that halts
    -- drops out; the run goes on with the others.
    local hostile = require "hostile_kernel"
    local options = { mode = "trap", kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=3", memory = "32M" }
    local alone <close> = assert(vmlab.vm(options))
    expect(alone:run { max_instructions = 5e7 }).to_equal("poweroff")
    local host <close> = vmlab.host { memory = "512M" }
    local victim = assert(host:vm(options))
    for seed, mode in ipairs { "interpret", "trap", "bt", "pv" } do
      assert(host:vm { mode = mode, image = hostile.image(seed), firmware = "builtin", memory = "16M" })
    end
    for _ = 1, 100 do
      local stop, details = host:run { max_instructions = 1e6 }
      expect(details.vm).to_be_nil()   -- no neighbour's halt stops the run
      if victim:console():match("status=") then break end
    end
    expect(victim:console():match("bench=[^\r\n]*")).to_equal(alone:console():match("bench=[^\r\n]*"))
    expect(victim:stats().instructions).to_equal(alone:stats().instructions)
  end)

  it("runs the others on when a VM halts, for good or stuck on its trap vector", function()
    local host <close> = vmlab.host { memory = "64M", slice = 50 }
    -- mtvec is 0 at reset, where nothing can be fetched: the first trap leaves the hart stuck.
    local stuck = assert(host:vm { image = vmlab.asm(".word 0"), memory = "8M" })
    -- An M-mode breakpoint under the built-in SBI: a trap no firmware handles, the end for good.
    local halted = assert(host:vm { image = vmlab.asm("ebreak"), firmware = "builtin", memory = "8M" })
    local printer_vm = assert(host:vm { image = printer("p", 20), memory = "8M" })
    expect(host:stats().vms[1].stop).to_be_nil()   -- nothing ran yet
    local stop, details = host:run { max_instructions = 1e6 }
    expect(stop).to_equal("poweroff")              -- the last VM's end: every VM is over or stuck
    expect(details.vm).to_be_nil()
    expect(printer_vm:console()).to_equal(("p"):rep(20))
    local vms = host:stats().vms
    expect(vms[1].stop).to_equal("halted")
    expect(vms[1].stop_message).to_match("hart 0 is stuck: its trap vector 0x0 %(mtvec%)")
    expect(vms[1].stop_message).to_match("the trap that led there: illegal_instruction")
    expect(vms[2].stop).to_equal("halted")
    expect(vms[3].stop).to_equal("poweroff")
    -- The stuck VM is tried again by the next run, and stops again at once with the same report.
    local instructions = host:stats().vms[1].instructions
    expect((host:run { max_instructions = 1e6 })).to_equal("poweroff")
    expect(host:stats().vms[1].instructions).to_equal(instructions)
    expect(host:stats().vms[1].stop_message).to_match("the trap that led there: illegal_instruction")
    -- Mended (a trap vector that parks the hart), it runs on: it waits, and the host is idle.
    stuck:load((vmlab.asm [[
        la t0, park
        csrw mtvec, t0
      park:
        wfi
        j park
    ]]))
    expect((host:run { max_instructions = 1e6 })).to_equal("idle")
    expect(host:stats().vms[1].stop).to_equal("idle")
  end)

  it("reports a lone VM's halt with the VM", function()
    local host <close> = vmlab.host { memory = "16M" }
    local vm = assert(host:vm { image = vmlab.asm(".word 0"), memory = "8M" })
    local stop, details = host:run { max_instructions = 1e6 }
    expect(stop).to_equal("halted")
    expect(details.vm).to_be(vm)
    expect(details.message).to_match("hart 0 is stuck")
  end)

  it("runs hooks of every VM, and names the VM that stopped", function()
    local host <close> = vmlab.host { slice = 10 }
    local a = assert(host:vm { image = printer("a", 5), memory = "4M" })
    local b = assert(host:vm { image = printer("b", 5), memory = "4M" })
    local writes = 0
    b:on("mmio", { address = { 0x10000000, 0x10000007 } }, function(ev)
      writes = writes + 1
      if writes == 3 then return "stop" end
    end)
    local stop, details = host:run { max_instructions = 1e6 }
    expect(stop).to_equal("hook")
    expect(details.vm).to_be(b)                      -- the very value host:vm returned
    expect(host:vms()[2]).to_be(b)
    expect(details.vm:console()).to_equal("bbb")
    expect((host:run { max_instructions = 1e6 })).to_equal("poweroff")
    expect(a:console()).to_equal("aaaaa")
  end)

  it("closes a host from a hook when its run returns", function()
    local host = vmlab.host {}
    local vm = assert(host:vm { image = printer("x", 3), memory = "4M" })
    vm:on("mmio", function() host:close() end)
    expect((host:run { max_instructions = 1e5 })).to_equal("poweroff")
    expect(tostring(host)).to_equal("vmlab.Host (closed)")
    expect(tostring(vm)).to_equal("vmlab.VM (closed)")
  end)

  it("refuses native VMs, VMs that do not fit, and use after close", function()
    local host = vmlab.host { memory = "8M" }
    expect(function() host:vm { image = printer("x", 1), mode = "native" } end).to_raise("needs a VMM mode")
    -- A bad value names the options table, the method's first argument, not its self.
    expect(function() host:vm { image = printer("x", 1), harts = 0 } end)
      .to_raise("bad argument #1 to 'vm' %(option 'harts': must be 1 to 64, got 0%)")
    expect(function() host:vm { image = printer("x", 1), tlb = { ways = 3 } } end)
      .to_raise("bad argument #1 to 'vm' %(option 'tlb.ways'")
    local vm, message = host:vm { image = printer("x", 1), memory = "16M" }
    expect(vm).to_be_nil()
    expect(message).to_match("not enough host memory")
    expect(function() vmlab.host { slice = 0 } end).to_raise("option 'slice': must be positive")
    expect(function() vmlab.host { cpus = 2 } end).to_raise("unknown option 'cpus' to 'host'")
    local small = assert(host:vm { image = printer("x", 1), memory = "4M" })
    host:close()
    expect(function() small:console() end).to_raise("the VM is closed")
    expect(function() small:run() end).to_raise("the VM is closed")
    expect(function() host:run() end).to_raise("the host is closed")
    expect(tostring(host)).to_equal("vmlab.Host (closed)")
  end)
end)
