-- Lab 03: trap-and-emulate with shadow page tables, and Popek and Goldberg's condition.
--
-- Under `trap` the unmodified tinyos kernel runs deprivileged, in U-mode (ring compression). Every
-- privileged instruction and CSR access it executes raises illegal-instruction; the VMM decodes it
-- and emulates it against the vCPU's virtual CSRs. The MMU does not walk the guest's page tables
-- but shadow tables the VMM builds from them: a missing shadow entry is a *hidden* fault the guest
-- never sees, and the guest's page-table pages are write-protected so that every store to them
-- traps and is *traced* (emulated, and the shadow updated). The devices are the VMM's too: a load
-- or store to a device register is denied to the guest, traps, and is performed by the VMM on its
-- device model (an *emulated device*).
--
--   1. five tinyos benchmarks under native and trap, with the same output; the costs that the
--      cost model (cost-model.md, "Results a lab must reproduce") puts on trap;
--   2. one address walked twice: through the guest's tables and through the shadow the MMU uses;
--      the coherence checker after each benchmark;
--   3. the Popek–Goldberg checker: every sensitive instruction of RV64 traps when the guest kernel
--      runs in U-mode, so trap-and-emulate suffices;
--   4. one trap switched off (a "hole": a deprivileged `sret` does nothing instead of trapping, as
--      x86's POPF silently ignored IF in ring 3): the guest goes wrong, and the checker names why;
--   5. write floods: a page-table page the kernel freed and reuses as memory stays mirrored by the
--      cached shadow of an old address space; the shadow pager stops tracing a table that is
--      written three times with no shadow fault using it in between (`shadow.unshadow_after`, as
--      KVM's shadow MMU), and the same benchmark without that rule;
--   6. the shadow cache: ctxsw and fork with the shadows of 16 address spaces kept (the default)
--      and of one (`shadow.capacity = 1`: every switch of address space rebuilds the shadow).
--
-- Questions: which exits dominate the syscall benchmark under trap, and why is a guest system
-- call at least two hardware traps? tinyos writes to every 4 KiB page of its 128 MiB before it
-- turns paging on: why does its boot take only about a hundred hidden faults (hint: what the
-- guest's "page" is while it runs bare, or under a gigapage)? The pte benchmark writes two PTEs
-- an iteration: without unshadowing (section 5), why does it make about 500 traced writes an
-- iteration, and what is the kernel doing with those stores? Could a VMM without the rule tell a
-- freed page table from a live one? Why does keeping more shadows help ctxsw and hurt fork
-- (section 6: what does fork do with the address spaces it makes)? Why is the shadow's leaf for
-- a kernel page a 4 KiB page with U set, when the guest mapped a 1 GiB page without U? Why are the
-- `csr_write:sstatus`, `sfence_vma` and `wfi` holes harmless to tinyos (try them) while `sret`
-- is fatal — and is "harmless to one guest" the same as "virtualisable"? The mmio benchmark reads
-- a UART register in its loop: what does one read cost under trap against native, and what part
-- of that is the trap itself?
local vmlab = require "vmlab"

local kernel = vmlab.guest "tinyos"
local profile = "classic-2006"
local benches = { "syscall", "pagefault", "pte", "fork", "mmio" }
local n = 20

print(("cost profile: %s"):format(profile))

-- 1. native vs trap ----------------------------------------------------------------------------
print("\n1. native vs trap")
local t = vmlab.compare { guest = "tinyos", bench = benches, modes = { "native", "trap" }, n = n, profile = profile }
t:print()

-- One benchmark under trap with a shadow policy (nil: the defaults): the monitor's and the
-- shadow pager's counters, the timed loop's cycles per iteration, the result line, and what the
-- coherence checker finds after it.
local function trap_run(bench, policy)
  local vm <close> = assert(vmlab.vm { mode = "trap", kernel = kernel, profile = profile, shadow = policy,
                                       bootargs = ("bench=%s n=%d"):format(bench, n) })
  vm:run { max_instructions = 50e6 }
  local s = vm:stats()
  local monitor, pager, console = s.technique.trap, s.technique.shadow, vm:console()
  return { traps = monitor.traps, emulated = monitor.privileged_emulated, reflected = monitor.exceptions_reflected,
           devices = monitor.device_emulated, hidden = pager.hidden_faults, true_faults = pager.true_faults,
           traced = pager.traced_writes, switches = pager.satp_switches, unshadowed = pager.unshadowed,
           evictions = pager.evictions, loop = tonumber(console:match("# bench=%w+ cycles=(%d+)")) / n,
           result = console:match("bench=%w+ iterations[^\r\n]*"), coherent = vm:check_shadows() }
end

-- The shadow pager's counters for each benchmark under trap, and the coherence checker after it.
local shadow, coherent = {}, {}
for _, bench in ipairs(benches) do
  shadow[bench] = trap_run(bench)
  coherent[bench] = shadow[bench].coherent
end
print(("\n%-10s %9s %9s %9s %8s %8s %8s %8s %8s %s"):format("bench", "VMM traps", "emulated", "devices", "reflected", "hidden", "true", "traced", "satp sw", "shadows"))
for _, bench in ipairs(benches) do
  local c = shadow[bench]
  print(("%-10s %9d %9d %9d %9d %8d %8d %8d %8d %s"):format(bench, c.traps, c.emulated, c.devices, c.reflected, c.hidden, c.true_faults, c.traced, c.switches,
    #coherent[bench] == 0 and "coherent" or (#coherent[bench] .. " stale entries")))
end

-- 2. Two walks of one address ------------------------------------------------------------------
local vm <close> = assert(vmlab.vm { mode = "trap", kernel = kernel, profile = profile, bootargs = "bench=syscall n=5" })
local bp <close> = vm:breakpoint "sys_getpid"
vm:run { max_instructions = 50e6 }
local va = vm:symbols().sys_getpid
local guest_walk = vm:page_tables { which = "guest", va = va }
local shadow_walk = vm:page_tables { which = "shadow", va = va }
local function show(title, w)
  print(("%s (%s view), %s root %s:"):format(title, w.view, w.mode, vmlab.hex(w.root)))
  for _, l in ipairs(w.levels) do
    print(("  level %d  pte at %s = %s  %s  -> %s"):format(l.level, vmlab.hex(l.pte_address), vmlab.hex(l.pte), l.flags_text, vmlab.hex(l.next)))
  end
  local size = w.ok and (w.page_size >= 2^30 and ("%d GiB"):format(w.page_size // 2^30)
    or w.page_size >= 2^20 and ("%d MiB"):format(w.page_size // 2^20) or ("%d KiB"):format(w.page_size // 1024))
  print(("  => %s"):format(w.ok and ("%s (a %s page)"):format(vmlab.hex(w.physical), size) or w.fault))
end
print(("\n2. sys_getpid at %s, stopped there under trap"):format(vmlab.hex(va)))
show("the guest's tables", guest_walk)
show("the shadow the MMU walks", shadow_walk)
local native_vm <close> = assert(vmlab.vm { kernel = kernel, profile = profile, bootargs = "bench=syscall n=5" })
local no_shadow, why = native_vm:page_tables { which = "shadow", va = va }
print("under native: " .. why)

-- 3. Popek and Goldberg ------------------------------------------------------------------------
local pg = vmlab.popek_goldberg { guest = "user" }
print("\n3. Popek–Goldberg, " .. pg.configuration.description)
print("   " .. pg.summary)

-- 4. A hole ------------------------------------------------------------------------------------
-- The same benchmark with sret made a no-op when deprivileged: the guest kernel's return to user
-- mode silently does nothing, and the kernel runs on into whatever follows its sret.
local holed <close> = assert(vmlab.vm { mode = "trap", kernel = kernel, profile = profile, holes = { "sret" },
                                        bootargs = ("bench=syscall n=%d"):format(n) })
local stop4, details4 = holed:run { max_instructions = 20e6 }
local console4 = holed:console()
local pg4 = vmlab.popek_goldberg { vm = holed }
-- The same hole natively: the kernel runs in S-mode, where sret is legal, so the hole never opens.
local native_holed <close> = assert(vmlab.vm { kernel = kernel, profile = profile, holes = { "sret" },
                                               bootargs = ("bench=syscall n=%d"):format(n) })
native_holed:run { max_instructions = 20e6 }
local native_result4 = native_holed:console():match("bench=%w+ iterations[^\r\n]*")
print("\n4. with the hole 'sret' under trap: " .. pg4.summary)
for line in console4:gmatch("[^\n]+") do
  if line:match("killed") or line:match("exited") or line:match("^bench=") then print("   guest: " .. line) end
end
print(("   %s, exit code %s; the same hole under native: %s"):format(stop4, tostring(details4.exit_code), native_result4))
print(pg4.violations_table)

-- 5. Write floods ------------------------------------------------------------------------------
-- tinyos frees the page tables of a process that exits and hands their pages out again as memory.
-- The shadow of that address space stays cached (a process often runs again), still mirroring
-- them, so their pages stay write-protected: every store the kernel makes to zero one, and every
-- store a program makes to it later, traps as a traced write.
-- The default (unshadow_after = 3) is section 1's run.
local floods = { [3] = shadow.pte, [0] = trap_run("pte", { unshadow_after = 0 }) }
print(("\n5. pte, n = %d, under trap: traced writes, shadow tables unshadowed, cycles per iteration"):format(n))
for _, after in ipairs { 3, 0 } do
  local f = floods[after]
  print(("   unshadow_after = %d%-10s %7d traced %4d unshadowed %10.0f cycles/iteration"):format(after, after == 3 and " (default)" or "",
    f.traced, f.unshadowed, f.loop))
end

-- 6. The shadow cache -------------------------------------------------------------------------
-- A shadow kept for an address space the guest returns to saves rebuilding it, one hidden fault
-- at a time; a shadow kept for one that never comes back keeps its tables write-protected.
-- The default capacity (16) for fork is section 1's run.
local cache = { ctxsw = { [16] = trap_run("ctxsw"), [1] = trap_run("ctxsw", { capacity = 1 }) },
                fork = { [16] = shadow.fork, [1] = trap_run("fork", { capacity = 1 }) } }
print(("\n6. the shadow cache under trap, n = %d: cycles per iteration, hidden faults, traced writes, evictions"):format(n))
for _, bench in ipairs { "ctxsw", "fork" } do
  for _, capacity in ipairs { 16, 1 } do
    local c = cache[bench][capacity]
    print(("   %-6s capacity %2d %12.0f %8d hidden %8d traced %6d evictions"):format(bench, capacity, c.loop, c.hidden, c.traced, c.evictions))
  end
end

-- What `vmlab test labs` verifies.
local function row(bench, mode)
  for _, r in ipairs(t.rows) do if r.bench == bench and r.mode == mode then return r end end
end

vmlab.check("trap prints what native prints, for every benchmark", function()
  expect(t.profile).to_equal(profile)
  for _, bench in ipairs(benches) do
    local native, trap = row(bench, "native"), row(bench, "trap")
    expect(native.result).to_match(("bench=%s iterations=%d status=ok"):format(bench, n))
    expect(trap.result).to_equal(native.result)
  end
end)

vmlab.check("cost model: trap costs more than native for syscall, page fault, PTE store, fork and a device register read", function()
  for _, bench in ipairs(benches) do
    local native, trap = row(bench, "native"), row(bench, "trap")
    -- The timed loop's cycles (the guest's own measurement), and the whole run.
    expect(trap.guest_cycles > native.guest_cycles).to_be(true)
    expect(trap.cycles > native.cycles).to_be(true)
    -- Under trap the guest kernel's privileged instructions and page faults all trap too.
    expect(trap.traps > 10 * native.traps).to_be(true)
  end
end)

vmlab.check("hidden faults and traced writes are counted; the shadows stay coherent", function()
  for _, bench in ipairs(benches) do
    expect(shadow[bench].hidden > 0).to_be(true)
    expect(shadow[bench].emulated > 0).to_be(true)
    expect(#coherent[bench]).to_equal(0)
  end
  -- The mmio benchmark reads a device register once per iteration, each read an exit (and every
  -- benchmark prints through the UART, register by register).
  expect(shadow.mmio.devices >= n).to_be(true)
  -- The PTE benchmark writes a page-table entry twice per iteration (map, unmap).
  expect(shadow.pte.traced >= 2 * n).to_be(true)
  -- Each first touch of a fresh page is a true fault (the guest's tables lack it), reflected to
  -- the guest kernel; once the guest has mapped it, the shadow fill is a hidden fault.
  expect(shadow.pagefault.true_faults >= n).to_be(true)
  expect(shadow.syscall.true_faults).to_equal(0)
  expect(shadow.pagefault.hidden - shadow.syscall.hidden >= n).to_be(true)
  -- Every system call is a guest exception the VMM reflects into the guest kernel.
  expect(shadow.syscall.reflected >= n).to_be(true)
  -- fork makes address spaces: satp switches select or build shadows.
  expect(shadow.fork.switches > shadow.syscall.switches).to_be(true)
end)

vmlab.check("a page table reused as memory stops being traced after a write flood", function()
  expect(floods[3].result).to_equal(row("pte", "native").result)
  expect(floods[0].result).to_equal(row("pte", "native").result)
  expect(floods[3].unshadowed > 0).to_be(true)
  expect(floods[0].unshadowed).to_equal(0)
  -- Two PTE stores an iteration, and a few more around the loop; without the rule, hundreds an
  -- iteration, each one an exit.
  expect(floods[3].traced < 3 * n).to_be(true)
  expect(floods[0].traced > 100 * n).to_be(true)
  expect(floods[0].loop > 10 * floods[3].loop).to_be(true)
end)

vmlab.check("a shadow cache of one rebuilds at every switch (ctxsw pays) and mirrors no dead tables (fork gains)", function()
  expect(cache.fork[16].result).to_equal(row("fork", "native").result)
  for _, bench in ipairs { "ctxsw", "fork" } do
    expect(cache[bench][16].result).to_match(("bench=%s iterations=%d status=ok"):format(bench, n))
    expect(cache[bench][1].result).to_equal(cache[bench][16].result)
    expect(cache[bench][1].evictions > 0).to_be(true)
  end
  expect(cache.ctxsw[1].hidden > cache.ctxsw[16].hidden).to_be(true)
  expect(cache.ctxsw[1].loop > cache.ctxsw[16].loop).to_be(true)
  expect(cache.fork[1].traced < cache.fork[16].traced).to_be(true)
  expect(cache.fork[1].loop < cache.fork[16].loop).to_be(true)
end)

vmlab.check("the two walks: guest-physical tables of the guest, shadow entries the MMU uses", function()
  expect(guest_walk.ok).to_be(true)
  expect(shadow_walk.ok).to_be(true)
  -- The guest-physical map is the identity for RAM, so both end at the same page.
  expect(shadow_walk.physical).to_equal(guest_walk.physical)
  -- The guest kernel runs in U-mode, so its shadow pages are U pages; the guest's are not.
  local g, s = guest_walk.levels[#guest_walk.levels], shadow_walk.levels[#shadow_walk.levels]
  expect(g.flags.u).to_be(false)
  expect(s.flags.u).to_be(true)
  expect(s.level).to_equal(0)
  expect(no_shadow).to_be(nil)
  expect(why).to_match("no shadow")
end)

vmlab.check("RV64 is classically virtualisable with the guest kernel in U-mode", function()
  expect(pg.virtualisable).to_be(true)
  expect(#pg.violations).to_equal(0)
end)

vmlab.check("with sret holed the guest goes wrong under trap, and the checker names sret", function()
  expect(stop4).to_equal("poweroff")
  expect(details4.exit_code ~= 0).to_be(true)
  expect(console4).to_match("pid 1 %(init%) killed")
  expect(console4:match("status=ok")).to_be(nil)
  expect(pg4.virtualisable).to_be(false)
  expect(#pg4.violations).to_equal(1)
  expect(pg4.violations[1].instruction).to_equal("sret")
  expect(native_result4).to_match(("bench=syscall iterations=%d status=ok"):format(n))
end)
