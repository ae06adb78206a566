-- Lab 02: the VMM's basic tools — events and hooks, a breakpoint, a fault, and a comparison.
--
-- Lab 01 ran tinyos `native`: directly on the machine, with no VMM. Here it runs under `interpret`:
-- the VMM runs the guest in a software CPU, so every guest instruction is emulated and charged
-- the profile's interpretation cost. The guest cannot tell — it prints exactly what it printed
-- natively — but the VMM sees everything it does, and can change it:
--
--   1. a hook on the `trap` event counts the system calls by cause (filters run in Swift, before
--      any Lua), and a second one on `hypercall` counts the kernel's calls into the VMM's SBI;
--   2. a breakpoint on the kernel's `sys_getpid` stops the run before the system call's body;
--   3. a hook stops the run at the tenth getpid, and a fault flips a bit of the system-call
--      number in a7: that one call becomes an unknown system call, and the benchmark notices;
--   4. `vmlab.compare` runs two benchmarks under both modes and checks the output is identical.
--
-- Questions: why is the timed loop's instruction count (the guest's own `instret`) the same under
-- both modes, while the whole run's differs a little? Which category holds the extra cycles? Why
-- is the `compute` loop's ratio exactly the profile's interpretation price, and `syscall`'s lower?
-- What would a fault on bit 0 of a7 have done instead (see labs/guests/tinyos/include/abi.h)?
local vmlab = require "vmlab"

local kernel = vmlab.guest "tinyos"
local profile = "classic-2006"
local n = 20

print(("cost profile: %s"):format(profile))

-- A fresh tinyos under `interpret`, running the syscall benchmark (n getpid calls).
local function tinyos()
  return assert(vmlab.vm { mode = "interpret", kernel = kernel, bootargs = ("bench=syscall n=%d"):format(n),
                           profile = profile })
end

-- 1. Events and hooks ------------------------------------------------------------------------
local vm <close> = tinyos()
local traps, calls, first = {}, {}, nil
-- Traps into the kernel from user mode: system calls (ecall_u), and anything else.
local on_trap <close> = vm:on("trap", { privilege = "user" }, function(ev)
  traps[ev.cause] = (traps[ev.cause] or 0) + 1
  if ev.cause == "ecall_u" and not first then first = ev end
end)
-- The kernel's SBI calls, served by the VMM's virtual SBI.
local on_call <close> = vm:on("hypercall", function(ev) calls[ev.cause] = (calls[ev.cause] or 0) + 1 end)
local stop1 = vm:run { max_instructions = 50e6 }
local console1, stats1 = vm:console(), vm:stats()

local function counts(title, t)
  local names = {}
  for name in pairs(t) do names[#names + 1] = name end
  table.sort(names)
  print(title)
  for _, name in ipairs(names) do print(("  %-20s %6d"):format(name, t[name])) end
end
print(("\n1. bench=syscall n=%d under interpret: %s"):format(n, stop1))
counts("traps from user mode, by cause:", traps)
counts("SBI calls (hypercalls), by extension:", calls)
print(("the first system call: ecall at pc %s in %s mode, after %d instructions and %d cycles")
  :format(vmlab.hex(first.pc), first.privilege, first.instructions, first.cycles))

-- 2. A breakpoint ------------------------------------------------------------------------------
local vm2 <close> = tinyos()
local bp = vm2:breakpoint "sys_getpid"
local stop2, at = vm2:run { max_instructions = 50e6 }
local sys_getpid, priv2, a7 = vm2:symbols().sys_getpid, vm2:read "priv", vm2:read "a7"
print(("\n2. breakpoint on sys_getpid: %s at %s, in %s-mode; a7 (the call number) = %d")
  :format(stop2, vmlab.hex(at.pc), priv2, a7))
bp:remove()

-- 3. A fault -----------------------------------------------------------------------------------
-- Stop at the tenth getpid (system call 5), then flip bit 5 of a7: 5 becomes 37, which no system
-- call has, so the kernel returns -1 and the benchmark counts one wrong pid.
local vm3 <close> = tinyos()
local seen = 0
local tenth <close> = vm3:on("trap", { cause = "ecall_u" }, function()
  if vm3:read "a7" == 5 then
    seen = seen + 1
    if seen == 10 then return "stop" end
  end
end)
local stop3 = vm3:run { max_instructions = 50e6 }
tenth:remove()
local fault = vm3:inject { fault = "bitflip_register", register = "a7", bit = 5 }
vm3:run { max_instructions = 50e6 }
local faults3 = vm3:stats().faults
local fired = faults3[1]
local faulty = vm3:console():match("bench=syscall iterations=%d+ [^\r\n]*")
print(("\n3. stopped by the hook (%s) at the tenth getpid; fault %d: %s"):format(stop3, fault, fired.effect))
print("   the benchmark now says: " .. faulty)

-- 4. A comparison ------------------------------------------------------------------------------
print("\n4. native vs interpret")
local t = vmlab.compare { guest = "tinyos", bench = { "syscall", "compute" }, modes = { "native", "interpret" },
                          n = n, profile = profile }
t:print()

-- What `vmlab test labs` verifies.
vmlab.check("the guest runs to its poweroff under interpret, and prints its result", function()
  expect(stop1).to_equal("poweroff")
  expect(console1).to_match(("bench=syscall iterations=%d status=ok"):format(n))
  expect(stats1.mode).to_equal("interpret")
  expect(stats1.cycles.by_category.interpretation > 0).to_be(true)
end)

vmlab.check("the hook saw every system call; the kernel's SBI calls are hypercalls", function()
  expect(traps.ecall_u >= n).to_be(true)
  expect(first.kind).to_equal("trap")
  expect(first.privilege).to_equal("user")
  expect(calls.sbi_srst or calls.sbi_legacy).to_be_truthy()
  expect(stats1.events.trap >= traps.ecall_u).to_be(true)
end)

vmlab.check("the breakpoint stops in the kernel, at the symbol", function()
  expect(stop2).to_equal("breakpoint")
  expect(at.pc).to_equal(sys_getpid)
  expect(priv2).to_equal("S")
  expect(a7).to_equal(5)
end)

vmlab.check("the fault fired once, where the hook stopped, and one getpid went wrong", function()
  expect(stop3).to_equal("hook")
  expect(#faults3).to_equal(1)
  expect(fired.fault).to_equal("bitflip_register")
  expect(faulty).to_match(("iterations=%d status=wrong%%-pid checksum=0x0*%x$"):format(n, n - 1))
end)

vmlab.check("both modes print the same and run the same timed loop; interpret costs more", function()
  expect(t.profile).to_equal(profile)
  for i = 1, #t.rows, 2 do
    local native, interpret = t.rows[i], t.rows[i + 1]
    expect(native.mode).to_equal("native")
    expect(interpret.mode).to_equal("interpret")
    expect(interpret.result).to_equal(native.result)
    -- The timed loop is the same instructions; the whole run differs by a few idle-loop rounds,
    -- since the timer fires at other instructions when time runs at another pace.
    expect(interpret.guest_instructions).to_equal(native.guest_instructions)
    expect(math.abs(interpret.instructions - native.instructions) < native.instructions // 100).to_be(true)
    expect(interpret.ratio > 1).to_be(true)
    expect(interpret.by_category.interpretation > 0).to_be(true)
  end
end)
