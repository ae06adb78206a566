-- vm:snapshot() and vm:restore(): go back to a moment of a run, and run on from there exactly as
-- the first time, or try something else.
local vmlab = require "vmlab"
local tinyos = require "tinyos_run"
local guest = require "cell_guest"


local modelled = tinyos.modelled

describe("vm:snapshot and vm:restore", function()
  for _, mode in ipairs { "native", "interpret", "trap", "bt", "pv", "hw" } do
  it("go back to a moment, from which the VM runs on as it did: console, counters, clock (" .. mode .. ")", function()
    local vm <close> = tinyos.vm(mode, "fork", mode == "pv" and { kernel = vmlab.guest "tinyos-pv" } or nil)
    vm:run { max_instructions = 300000 }
    local at = vm:stats()
    local snap <close> = vm:snapshot()
    local info = snap:info()
    expect(info.instructions).to_equal(at.instructions)
    expect(info.cycles).to_equal(at.cycles.total)
    expect(info.vm).to_equal("vm1")
    expect(info.ram_bytes > 0).to_be(true)
    expect(tostring(snap)).to_match("vmlab.Snapshot %(vm1 at %d+ instructions")

    expect((vm:run())).to_equal("poweroff")
    local first, console = vm:stats(), vm:console()
    expect(tinyos.result(vm)).to_be_truthy()

    vm:restore(snap)
    expect(vm:stats("instructions")).to_equal(at.instructions)
    expect(vm:stats("cycles.total")).to_equal(at.cycles.total)
    expect(tinyos.result(vm)).to_be_nil()        -- the console went back too
    expect((vm:run())).to_equal("poweroff")     -- powered off before the restore; runs again
    expect(vm:console()).to_equal(console)
    local again = vm:stats()
    expect(again.cycles).to_equal(first.cycles)
    expect(again.tlb).to_equal(first.tlb)
    expect(again.traps).to_equal(first.traps)
    expect(again.instructions).to_equal(first.instructions)
    expect(again.host).to_equal(first.host)              -- interpret: its private host's clock
    expect(modelled(again.technique)).to_equal(modelled(first.technique))
  end)
  end

  it("under bt, take the translation cache back with what the translator learnt: nothing is translated or paid for twice", function()
    local vm <close> = tinyos.vm("bt", "fork")
    vm:run { max_instructions = 900000 }
    local at = vm:stats().technique.bt
    expect(at.adaptations > 0).to_be(true)             -- a store adapted (its traced writes now inline)
    expect(at.devices_learnt > 0).to_be(true)
    local snap <close> = vm:snapshot()
    expect((vm:run())).to_equal("poweroff")
    local first, console = vm:stats(), vm:console()
    expect(first.technique.bt.traced_write_inline > at.traced_write_inline).to_be(true)
    expect(first.technique.bt.translated_instructions > at.translated_instructions).to_be(true)

    -- On this VM, and on another built alike (a migration): the same translations, the same
    -- charges; only the engine's blocks are built again.
    local other <close> = tinyos.vm("bt", "fork")
    for _, target in ipairs { vm, other } do
      target:restore(snap)
      expect(target:stats().technique.bt.translated_instructions).to_equal(at.translated_instructions)
      expect((target:run())).to_equal("poweroff")
      expect(target:console()).to_equal(console)
      local again = target:stats()
      expect(again.cycles).to_equal(first.cycles)
      expect(again.traps).to_equal(first.traps)
      expect(modelled(again.technique)).to_equal(modelled(first.technique))
      expect(again.technique.block_cache.built > 0).to_be(true)
    end
  end)

  it("under bt, restore without the translation cache when asked: the same run, translated and paid for again", function()
    local vm <close> = tinyos.vm("bt", "fork")
    vm:run { max_instructions = 900000 }
    local snap <close> = vm:snapshot()
    local at = vm:stats()
    expect((vm:run())).to_equal("poweroff")
    local warm, result = vm:stats(), tinyos.result(vm)
    expect(result).to_match("status=ok")
    vm:restore(snap, { translation_cache = false })
    expect(vm:stats().technique.bt.translated_instructions).to_equal(at.technique.bt.translated_instructions)
    expect((vm:run())).to_equal("poweroff")
    local cold = vm:stats()
    expect(cold.instructions).to_equal(warm.instructions)
    expect(tinyos.result(vm)).to_equal(result)
    local again = cold.technique.bt.translated_instructions - warm.technique.bt.translated_instructions
    expect(again > 0).to_be(true)
    expect(cold.cycles.by_event.translation.count - warm.cycles.by_event.translation.count).to_equal(again)
    expect(cold.cycles.total > warm.cycles.total).to_be(true)
    vm:restore(snap, { translation_cache = true })               -- the default, said
    expect((vm:run())).to_equal("poweroff")
    expect(vm:stats().cycles).to_equal(warm.cycles)

    local trap <close> = tinyos.vm("trap", "syscall")
    local trap_snap <close> = trap:snapshot()
    expect(function() trap:restore(trap_snap, { translation_cache = false }) end)
      .to_raise("bad argument #2 to 'restore' %(option 'translation_cache' is for bt VMs %(this one runs under trap%)%)")
    expect(function() vm:restore(snap, { translation = false }) end).to_raise("unknown option 'translation'")
  end)

  it("under bt with afterburning, take the patch sites' counts back", function()
    local vm <close> = tinyos.vm("bt", "fork", { bt = { afterburn = true } })
    vm:run { max_instructions = 900000 }
    local snap <close> = vm:snapshot()
    expect((vm:run())).to_equal("poweroff")
    local first = vm:stats()
    expect(first.technique.afterburn.patched_calls > 0).to_be(true)
    vm:restore(snap)
    expect((vm:run())).to_equal("poweroff")
    expect(vm:stats().cycles).to_equal(first.cycles)
    expect(modelled(vm:stats().technique)).to_equal(modelled(first.technique))
  end)

  it("under bt, refuse a VM whose translator has another policy, naming it", function()
    local vm <close> = tinyos.vm("bt", "fork")
    vm:run { max_instructions = 300000 }
    local snap <close> = vm:snapshot()
    local other <close> = tinyos.vm("bt", "fork", { bt = { adapt_threshold = 8 } })
    expect(function() other:restore(snap) end).to_raise(
      "the snapshot is of a VM under bt with adapt_threshold 4, inline true, afterburn false, not adapt_threshold 8, inline true, afterburn false")
    expect(other:stats("instructions")).to_equal(0)
    local burnt <close> = tinyos.vm("bt", "fork", { bt = { afterburn = true } })
    expect(function() burnt:restore(snap) end).to_raise("afterburn false, not adapt_threshold 4, inline true, afterburn true")
  end)

  -- Linux mid-boot: SMP (IPIs, remote fences through the SBI), the PLIC, the timer, and under
  -- trap the shadow pager of a real kernel.
  for _, case in ipairs { { mode = "native", harts = 2 }, { mode = "trap", harts = 1 }, { mode = "bt", harts = 1 } } do
    it(("bring Linux back mid-boot to power off as it did (%s, %d hart%s)"):format(case.mode, case.harts, case.harts > 1 and "s" or ""), function()
      local vm <close> = assert(vmlab.vm { kernel = vmlab.guest "linux", mode = case.mode, harts = case.harts })
      expect((vm:run { max_instructions = 40e6 })).to_equal("budget")
      local snap <close> = vm:snapshot()
      expect((vm:run { max_instructions = 400e6 })).to_equal("poweroff")
      local first, console = vm:stats(), vm:console()
      expect(console).to_match("init: all checks passed")
      vm:restore(snap)
      expect((vm:run { max_instructions = 400e6 })).to_equal("poweroff")
      expect(vm:console()).to_equal(console)
      expect(vm:stats().cycles).to_equal(first.cycles)
      expect(modelled(vm:stats().technique)).to_equal(modelled(first.technique))
      expect(vm:stats().vcpus).to_equal(first.vcpus)
    end)
  end

  it("work for a VM on a shared host, whose clock counts on (it is every VM's time)", function()
    local host <close> = vmlab.host { memory = "64M" }
    local vm = host:vm { mode = "interpret", kernel = tinyos.kernel, bootargs = "bench=syscall n=5", memory = "32M" }
    vm:run { max_instructions = 100000 }
    local snap = vm:snapshot()
    expect((vm:run())).to_equal("poweroff")
    local first, host_cycles = vm:stats(), host:stats().cycles
    vm:restore(snap)
    expect(host:stats().cycles).to_equal(host_cycles)
    expect((vm:run())).to_equal("poweroff")
    expect(vm:stats().cycles).to_equal(first.cycles)
    expect(vm:stats().instructions).to_equal(first.instructions)
    expect(host:stats().cycles > host_cycles).to_be(true)
  end)

  it("move a VM to another built with the same options, which runs on as the first would have", function()
    local a <close> = tinyos.vm("native", "fork")
    local b <close> = tinyos.vm("native", "fork")
    a:run { max_instructions = 300000 }
    b:restore(a:snapshot())
    expect((a:run())).to_equal("poweroff")
    expect((b:run())).to_equal("poweroff")
    expect(b:console()).to_equal(a:console())
    expect(b:stats().cycles).to_equal(a:stats().cycles)
    local other <close> = tinyos.vm("native", "fork", { memory = "64M" })
    expect(function() other:restore(a:snapshot()) end).to_raise("built with memory 128 MiB, not 64 MiB")
  end)

  it("let a lab try something else from the same moment", function()
    local code, symbols = guest(100)
    local vm <close> = assert(vmlab.vm { image = code })
    vm:run { max_instructions = 50 }
    local snap = vm:snapshot()
    vm:write_memory(symbols.cell, "\42")
    local stop, details = vm:run { max_instructions = 10000 }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(42)
    vm:restore(snap)                                      -- RAM goes back: cell is 0 again
    expect(vm:read_memory(symbols.cell, 1)).to_equal("\0")
    stop, details = vm:run { max_instructions = 10000 }
    expect(details.exit_code).to_equal(0)
    vm:restore(snap)                                      -- as often as wanted
    vm:inject { fault = "bitflip_memory", address = symbols.cell, bit = 3 }
    expect((select(2, vm:run { max_instructions = 10000 })).exit_code).to_equal(8)
  end)

  for _, mode in ipairs { "native", "interpret" } do
  it("drop a pc a hook set before the restore, which belongs to the state it replaces (" .. mode .. ")", function()
    -- The hook moves the pc and stops the run; nothing reads the pc before the restore.
    local vm <close> = assert(vmlab.vm { mode = mode, image = vmlab.asm [[
      li t0, 0x10000000
      lbu a0, 5(t0)
      li t0, 0x100000
      li t1, 0x5555
      sw t1, 0(t0)
    1:j 1b
    ]] })
    local snap = vm:snapshot()
    local hook = vm:on("mmio", function() vm:write("pc", 0); return "stop" end)
    expect((vm:run { max_instructions = 10000 })).to_equal("hook")
    hook:remove()
    vm:restore(snap)
    local stop, details = vm:run { max_instructions = 10000 }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(0)
  end)
  end

  it("tell which pages changed between two snapshots, by content", function()
    local code, symbols = guest(10)
    local vm <close> = assert(vmlab.vm { image = code, memory = "16M" })
    local before = vm:snapshot()
    vm:write_memory(0x80200010, "\1")            -- a zero page gets a byte
    vm:write_memory(0x80300000, "\2\3")
    vm:write_memory(symbols.cell, "\0")          -- the same value again: not a change
    local after = vm:snapshot()
    expect(after:changed_pages(before)).to_equal({ 0x80200000, 0x80300000 })
    expect(after:changed_pages(after)).to_equal({})
    vm:write_memory(0x80200010, "\0")            -- back to all zero: a change from `after`
    local later = vm:snapshot()
    expect(later:changed_pages(after)).to_equal({ 0x80200000 })
    expect(later:changed_pages(before)).to_equal({ 0x80300000 })
    local other <close> = assert(vmlab.vm { image = code, memory = "32M" })
    expect(function() other:snapshot():changed_pages(before) end).to_raise("the snapshots are of VMs built otherwise")
    before:close()
    expect(function() after:changed_pages(before) end).to_raise("the snapshot is closed")
  end)

  it("raise on misuse, changing nothing", function()
    local a <close> = assert(vmlab.vm { image = guest(10) })
    local b <close> = assert(vmlab.vm { image = guest(11) })
    a:run { max_instructions = 5 }
    local snap = a:snapshot()
    expect(function() b:restore(snap) end).to_raise("the snapshot is of a VM built with another kernel or initrd %(it was taken of 'vm1'%)")
    expect(b:stats("instructions")).to_equal(0)
    expect(function() b:restore({}) end).to_raise("bad argument #1 to 'restore' %(vmlab.Snapshot expected, got table%)")
    snap:close()
    snap:close()
    expect(tostring(snap)).to_equal("vmlab.Snapshot (closed)")
    expect(function() a:restore(snap) end).to_raise("the snapshot is closed")
    expect(function() snap:info() end).to_raise("the snapshot is closed")

    local hooked = false
    a:on("mmio", function()
      hooked = true
      expect(function() a:snapshot() end).to_raise("not allowed while the VM runs")
    end)
    a:run { max_instructions = 10000 }
    expect(hooked).to_be(true)

    a:close()
    expect(function() a:snapshot() end).to_raise("the VM is closed")
  end)
end)
