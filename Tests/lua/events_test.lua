-- vm:on, vm:breakpoint, vm:watch, vm:run{ to = }: the VMM's events, seen from Lua.
local vmlab = require "vmlab"

-- M-mode guest: N ecalls (each taken by its own handler, which counts in s1), a store to `cell`,
-- then the test finisher. Returns the code and its symbols.
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
    la t0, cell
    ld t1, 0(t0)
    addi t1, t1, 1
    sd t1, 0(t0)
  finish:
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
  1: j 1b
  handler:
    addi s1, s1, 1
    csrr t2, mepc
    addi t2, t2, 4
    csrw mepc, t2
    mret
  .align 3
  cell: .dword 41
  ]]):format(n))
end

local function vm_with(n, mode)
  local code, symbols = ecalls(n)
  return assert(vmlab.vm { image = code, mode = mode or "interpret" }), symbols
end

describe("vm:on", function()
  it("calls the hook after every matching event, with a plain table", function()
    local vm <close> = vm_with(5)
    local seen = {}
    local hook <close> = vm:on("trap", { cause = "ecall_m" }, function(ev) seen[#seen + 1] = ev end)
    expect((vm:run { max_instructions = 10000 })).to_equal("poweroff")
    expect(#seen).to_equal(5)
    local ev = seen[1]
    expect(ev.kind).to_equal("trap")
    expect(ev.cause).to_equal("ecall_m")
    expect(ev.cause_code).to_equal(11)
    expect(ev.privilege).to_equal("machine")
    expect(ev.vcpu).to_equal(0)
    expect(ev.pc >= 0x80000000).to_be(true)
    expect(ev.instructions < seen[2].instructions).to_be(true)
    expect(ev.cycles < seen[2].cycles).to_be(true)
    expect(vm:stats().events.trap).to_equal(5)
  end)

  it("may omit the filter, and filters in Swift by cause, privilege and address", function()
    local vm <close> = vm_with(3)
    local all, none, list, ranged = 0, 0, 0, 0
    vm:on("trap", function() all = all + 1 end)
    vm:on("trap", { privilege = "user" }, function() none = none + 1 end)
    vm:on("trap", { cause = { "ecall_m", "ecall_s" } }, function() list = list + 1 end)
    vm:on("trap", { cause = "ecall_m", address = { 0, 0 } }, function() ranged = ranged + 1 end)   -- tval is 0
    vm:run { max_instructions = 10000 }
    expect({ all, none, list, ranged }).to_equal({ 3, 0, 3, 3 })
  end)

  it("reads and writes registers inside a hook; the guest sees the change", function()
    local vm <close> = vm_with(4)
    local values = {}
    vm:on("trap", { cause = "ecall_m" }, function()
      values[#values + 1] = vm:read "s0"
      vm:write("s1", 100)            -- the handler adds 1 after the hook
    end)
    vm:run { max_instructions = 10000 }
    expect(values).to_equal({ 4, 3, 2, 1 })
    expect(vm:read "s1").to_equal(101)
  end)

  it("may read the statistics inside a hook", function()
    local vm <close> = vm_with(3)
    local counts = {}
    vm:on("trap", function() counts[#counts + 1] = vm:stats().traps.by_cause.ecall_m end)
    vm:run { max_instructions = 10000 }
    expect(counts).to_equal({ 1, 2, 3 })
  end)

  it("stops the run when the hook returns \"stop\", and the run goes on after", function()
    local vm <close> = vm_with(5)
    local n = 0
    vm:on("trap", function() n = n + 1; if n == 2 then return "stop" end end)
    local stop, details = vm:run { max_instructions = 10000 }
    expect(stop).to_equal("hook")
    expect(details.message).to_equal("a hook stopped the run")
    expect(vm:read "s0").to_equal(4)   -- the second ecall trapped; its handler has not run
    expect((vm:run { max_instructions = 10000 })).to_equal("poweroff")
    expect(n).to_equal(5)
  end)

  it("raises when a hook returns something other than \"stop\", false, true or nothing", function()
    local vm <close> = vm_with(3)
    local h = vm:on("trap", function() return "Stop" end)
    expect(function() vm:run { max_instructions = 10000 } end)
      .to_raise("error in a hook: the hook on 'trap' returned \"Stop\" %(a hook returns \"stop\" or false to stop the run, nothing or true to let it go on%)")
    h:remove()
    local trues = 0
    vm:on("trap", function() trues = trues + 1; return true end)
    expect((vm:run { max_instructions = 10000 })).to_equal("poweroff")
    expect(trues > 0).to_be(true)
  end)

  it("raises a hook's error from vm:run, with its message, and the VM goes on", function()
    local vm <close> = vm_with(3)
    local h = vm:on("trap", function() error("boom in the hook") end)
    local ok, err = pcall(vm.run, vm, { max_instructions = 10000 })
    expect(ok).to_be(false)
    expect(err).to_match("error in a hook: .*events_test.lua:%d+: boom in the hook")
    expect(err).to_match("stack traceback")
    h:remove()
    expect((vm:run { max_instructions = 10000 })).to_equal("poweroff")
  end)

  it("raises a hook's non-string error value unchanged, so pcall gets it back", function()
    local vm <close> = vm_with(3)
    local raised = { code = 1 }
    local h = vm:on("trap", function() error(raised) end)
    local ok, err = pcall(function() vm:run { max_instructions = 10000 } end)
    expect(ok).to_be(false)
    expect(err).to_be(raised)
    h:remove()
    h = vm:on("trap", function() error(42) end)
    ok, err = pcall(vm.run, vm, { max_instructions = 10000 })
    expect(err).to_be(42)
    expect(math.type(err)).to_equal("integer")
    h:remove()
    expect((vm:run { max_instructions = 10000 })).to_equal("poweroff")
  end)

  it("forbids running or stepping the VM from its own hook", function()
    local vm <close> = vm_with(2)
    vm:on("trap", function() vm:step() end)
    expect(function() vm:run { max_instructions = 10000 } end).to_raise("a hook cannot run its own VM")
  end)

  it("is removed by its handle, also from inside the hook", function()
    local vm <close> = vm_with(5)
    local n = 0
    local h
    h = vm:on("trap", function()
      n = n + 1
      if n == 2 then h:remove() end
    end)
    expect(tostring(h)).to_equal("vmlab.Hook (hook on 'trap')")
    vm:run { max_instructions = 10000 }
    expect(n).to_equal(2)
    expect(tostring(h)).to_equal("vmlab.Hook (hook on 'trap', removed)")
    h:remove()   -- harmless
  end)

  it("raises for unknown events, causes, filter keys and values", function()
    local vm <close> = vm_with(1)
    local f = function() end
    expect(function() vm:on("traps", f) end).to_raise("unknown event 'traps' %(expected one of: trap, exit, privileged, hypercall, shadow_fault")
    expect(function() vm:on("trap", { cause = "ecall" }, f) end).to_raise("unknown cause 'ecall' %(expected one of: instruction_address_misaligned, ")
    expect(function() vm:on("trap", { causes = "ecall_u" }, f) end).to_raise("unknown option 'causes' to 'on' %(expected one of: address, asid, cause, privilege, vcpu%)")
    expect(function() vm:on("trap", { privilege = "kernel" }, f) end).to_raise("unknown privilege 'kernel' %(expected one of: user, supervisor, machine%)")
    expect(function() vm:on("trap", { address = { 5, 1 } }, f) end).to_raise("filter 'address': lo %(0x5%) is above hi %(0x1%)")
    expect(function() vm:on("trap", {}) end).to_raise("bad argument #3 to 'on' %(function expected, got no value%)")
    expect(function() vm:on("trap", f, f) end).to_raise("bad argument #2 to 'on' %(table expected, got function%)")
  end)
end)

describe("vm:breakpoint and vm:run{ to = }", function()
  it("stops before the instruction at a pc, and runs past it once removed", function()
    local vm <close>, symbols = vm_with(3)
    local bp = vm:breakpoint(symbols.done)
    local stop, details = vm:run { max_instructions = 10000 }
    expect(stop).to_equal("breakpoint")
    expect(details.pc).to_equal(symbols.done)
    expect(vm:read "pc").to_equal(symbols.done)
    expect(vm:read "s1").to_equal(3)
    bp:remove()
    expect((vm:run { max_instructions = 10000 })).to_equal("poweroff")
  end)

  it("takes symbols of the kernel", function()
    local vm <close> = assert(vmlab.vm { kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=3", mode = "interpret" })
    vm:breakpoint "sys_getpid"
    local stop, details = vm:run { max_instructions = 50e6 }
    expect(stop).to_equal("breakpoint")
    expect(details.pc).to_equal(vm:symbols().sys_getpid)
    expect(function() vm:breakpoint "no_such_symbol" end).to_raise("unknown symbol 'no_such_symbol'")
    expect(function() vm:breakpoint(3.5) end).to_raise("bad argument #1 to 'breakpoint' %(number has no integer representation%)")
    expect(function() vm:breakpoint {} end).to_raise("bad argument #1 to 'breakpoint' %(integer or string expected, got table%)")
    expect(function() vm:run { to = 0.5 } end).to_raise("option 'to': number has no integer representation")
  end)

  it("stops a run at a pc or after the Nth matching event", function()
    local vm <close>, symbols = vm_with(5)
    local stop, details = vm:run { to = symbols.finish, max_instructions = 10000 }
    expect(stop).to_equal("reached")
    expect(details.pc).to_equal(symbols.finish)
    local vm2 <close> = vm_with(5)
    expect((vm2:run { to = { event = "trap", cause = "ecall_m", count = 3 }, max_instructions = 10000 })).to_equal("reached")
    expect(vm2:read "s0").to_equal(3)
    -- Counted from the start of each run.
    expect((vm2:run { to = { event = "trap", count = 2 } })).to_equal("reached")
    expect(vm2:read "s0").to_equal(1)
    expect(function() vm2:run { to = { event = "trap", count = 0 } } end).to_raise("'count' must be a positive integer")
    expect(function() vm2:run { to = { count = 1 } } end).to_raise("option 'to': a table needs 'event'")
    expect(function() vm2:run { to = { event = "trap", kind = 1 } } end).to_raise("unknown option 'kind' to 'run'")
  end)
end)

describe("vm:watch", function()
  it("stops after a write to the watched bytes, naming the access", function()
    local vm <close>, symbols = vm_with(2)
    local w = vm:watch { address = symbols.cell, size = 8 }
    local stop, details = vm:run { max_instructions = 10000 }
    expect(stop).to_equal("watchpoint")
    expect(details.address).to_equal(symbols.cell)
    expect(details.write).to_be(true)
    expect(vm:read_memory(symbols.cell, 1)).to_equal("\42")
    -- details.pc names the store (the instruction before `finish`); the hart is past it.
    expect(details.pc).to_equal(symbols.finish - 4)
    expect(vm:read "pc").to_equal(symbols.finish)
    w:remove()
    expect((vm:run { max_instructions = 10000 })).to_equal("poweroff")
  end)

  it("catches reads when asked", function()
    local vm <close>, symbols = vm_with(1)
    vm:watch { address = symbols.cell + 4, size = 1, access = "read" }
    local stop, details = vm:run { max_instructions = 10000 }
    expect(stop).to_equal("watchpoint")
    expect(details.write).to_be(false)
  end)

  it("refuses device memory", function()
    local vm <close> = vm_with(1)
    expect(function() vm:watch { address = 0x10000000 } end).to_raise("only the VM's RAM can be watched")
    expect(function() vm:watch { address = 0x80000000, access = "exec" } end).to_raise("unknown access 'exec'")
  end)
end)

describe("guest memory", function()
  it("reads and writes guest-physical memory, and raises outside RAM", function()
    local vm <close>, symbols = vm_with(1)
    expect(vm:write_memory(symbols.cell, "\1\2", { space = "guest-physical" })).to_be(true)
    expect(vm:read_memory(symbols.cell, 2)).to_equal("\1\2")
    expect(function() vm:read_memory(0x1000, 4) end).to_raise("are not all RAM")
  end)

  it("translates guest-virtual addresses through the guest's page tables", function()
    local vm <close> = assert(vmlab.vm { kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=3", mode = "interpret" })
    -- The first user program's entry: U-mode, on that process's page table.
    vm:breakpoint(0x40000000)
    expect((vm:run { max_instructions = 50e6 })).to_equal("breakpoint")
    expect(vm:read "priv").to_equal("U")
    -- The kernel maps RAM at its physical address (kernel only: a U-mode load may not use it).
    expect(vm:translate(0x80200000)).to_be_nil()
    local pa = assert(vm:translate(0x40000000))
    expect(pa >= 0x80000000).to_be(true)
    expect(vm:read_memory(0x40000000, 16, { space = "guest-virtual" })).to_equal(vm:read_memory(pa, 16))
    local none, message = vm:translate(0x50000000)
    expect(none).to_be_nil()
    expect(message).to_match("guest%-virtual 0x50000000 is not mapped")
    local bytes, why = vm:read_memory(0x50000000, 4, { space = "guest-virtual" })
    expect(bytes).to_be_nil()
    expect(why).to_match("not mapped")
    expect(function() vm:translate(0, { vcpu = 3 }) end).to_raise("no vCPU 3")
  end)
end)
