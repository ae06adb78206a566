-- mode = "trap" (and bt, which runs the kernel on the same shadows) seen by tools: the guest's
-- page tables and the shadows (vm:page_tables), registers and memory in the guest's view, and the
-- VMM's own memory out of every tool's and device's reach. (The technique itself: trap_test.lua.)
local vmlab = require "vmlab"

local run = require "tinyos_run"
local sv39_kernel = require "sv39_kernel"
local blk = require "virtio_blk_request"
local tinyos, result = run.vm, run.result

describe("vm:page_tables", function()
  it("walks the guest's tables and the shadow, in the kernel's and the user's view", function()
   for _, mode in ipairs { "trap", "bt" } do   -- bt runs the kernel on the same shadows
    local vm <close> = tinyos(mode, "syscall")
    local bp <close> = vm:breakpoint "sys_getpid"
    expect(vm:run { max_instructions = 50e6 }).to_equal("breakpoint")
    local va = vm:symbols().sys_getpid
    local g = vm:page_tables { va = va }
    expect(g.which).to_equal("guest")
    expect(g.view).to_equal("kernel")
    expect(g.mode).to_equal("sv39")
    expect(g.ok).to_be(true)
    expect(g.physical).to_equal(vm:translate(va))
    local leaf = g.levels[#g.levels]
    expect(leaf.leaf).to_be(true)
    expect(leaf.flags.v and leaf.flags.x and leaf.flags.r).to_be(true)
    expect(leaf.flags_text:sub(-1)).to_equal("V")
    expect(g.levels[1].pte_address >> 12).to_equal(g.root >> 12)
    expect(g.levels[1].pte_address).to_equal(g.root + ((va >> 30) & 511) * 8)
    local s = vm:page_tables { which = "shadow", va = va }
    expect(s.which).to_equal("shadow")
    expect(s.physical).to_equal(g.physical)
    expect(#s.levels).to_equal(3)
    expect(s.page_size).to_equal(4096)
    expect(s.levels[3].flags.u).to_be(true)      -- the guest kernel runs in U-mode
    -- The guest user cannot see kernel pages: its view faults where the kernel's translates.
    local gu = vm:page_tables { va = va, view = "user" }
    expect(gu.view).to_equal("user")
    expect(gu.ok).to_be(false)
    expect(gu.fault).to_match("page_fault")
    local su = vm:page_tables { which = "shadow", va = va, view = "user" }
    expect(su.ok).to_be(false)
    -- An address the guest never mapped.
    local none = vm:page_tables { va = 0x3f00000000 }
    expect(none.ok).to_be(false)
    expect(none.physical).to_be(nil)
    expect(vm:check_shadows()).to_equal({})
   end
  end)

  it("walks an Sv48 guest's four levels, and its shadow's", function()
    -- The guest's tables under a fourth level: the shadow tree takes the guest's mode.
    local kernel, symbols = sv39_kernel {
      sv48 = true,
      leaves = { 0xc7 },       -- l0[0]: V R W A D
      kernel = 0xcf,           -- V R W X A D
      body = [[
      li a1, 0x40000000
      li a0, 0x5eed
      sd a0, 0(a1)
      ]],
    }
    for _, m in ipairs { "trap", "bt", "hw-shadow" } do
      local mode, hw = m, nil
      if m == "hw-shadow" then mode, hw = "hw", { paging = "shadow" } end
      local vm <close> = assert(vmlab.vm { mode = mode, hw = hw, image = kernel, firmware = "builtin" })
      expect({ m, (vm:run { max_instructions = 1e5 }) }).to_equal({ m, "poweroff" })
      expect({ m, vm:read("csr.satp") >> 60 }).to_equal({ m, 9 })
      local g = vm:page_tables { va = 0x40000000 }
      expect({ m, g.mode, #g.levels, g.physical }).to_equal({ m, "sv48", 4, symbols.page })
      expect(g.root).to_equal(symbols.root48)
      local s = vm:page_tables { which = "shadow", va = 0x40000000 }
      expect({ m, s.mode, #s.levels }).to_equal({ m, "sv48", 4 })
      expect(vm:read_memory(0x40000000, 8, { space = "guest-virtual" })).to_equal(string.pack("<i8", 0x5eed))
      expect(vm:check_shadows()).to_equal({})
    end
  end)

  it("uses the machine's walk in other modes, which have no shadow", function()
    for _, mode in ipairs { "native", "interpret" } do
      local vm <close> = tinyos(mode, "syscall")
      local bp <close> = vm:breakpoint "sys_getpid"
      expect(vm:run { max_instructions = 50e6 }).to_equal("breakpoint")
      local va = vm:symbols().sys_getpid
      local g = vm:page_tables { which = "guest", va = va }
      expect(g.ok).to_be(true)
      expect(g.physical).to_equal(vm:translate(va))
      expect(g.mode).to_equal("sv39")
      expect(g.view).to_be(nil)
      local s, why = vm:page_tables { which = "shadow", va = va }
      expect(s).to_be(nil)
      expect(why).to_match("no shadow page tables under '" .. mode .. "'")
      expect(vm:check_shadows()).to_equal({})
    end
  end)

  it("reports bare mode before the kernel turns paging on", function()
    local vm <close> = tinyos("native", "syscall")
    local w = vm:page_tables { va = 0x80200000 }
    expect(w.mode).to_equal("bare")
    expect(w.physical).to_equal(0x80200000)
    expect(#w.levels).to_equal(0)
  end)

  it("raises on misuse", function()
    local vm <close> = tinyos("trap", "syscall")
    expect(function() vm:page_tables {} end).to_raise("va")
    expect(function() vm:page_tables { va = 0, which = "gstage" } end).to_raise("gstage")
    -- Under trap there is no two-dimensional walk: an expected failure, not an error.
    local none, why = vm:page_tables { va = 0, which = "nested" }
    expect(none).to_be_nil()
    expect(why).to_match("only 'hw' translates in two stages")
    expect(function() vm:page_tables { va = 0, view = "machine" } end).to_raise("machine")
    expect(function() vm:page_tables { va = 0, level = 2 } end).to_raise("level")
    local native <close> = tinyos("native", "syscall")
    expect(function() native:page_tables { va = 0, vcpu = 3 } end).to_raise("no vCPU 3")
    vm:close()
    expect(function() vm:page_tables { va = 0 } end).to_raise("closed")
    expect(function() vm:check_shadows() end).to_raise("closed")
  end)
end)

describe("registers", function()
  -- The point where tinyos has paging on, its trap vector set, and a syscall taken.
  local function at_getpid(mode)
    local vm = tinyos(mode, "syscall")
    local bp <close> = vm:breakpoint "sys_getpid"
    expect(vm:run { max_instructions = 50e6 }).to_equal("breakpoint")
    return vm
  end
  local supervisor = { "priv", "csr.sstatus", "csr.satp", "csr.stvec", "csr.scause", "csr.sepc", "csr.sie", "csr.sscratch" }

  it("are the guest's by default: the deprivileged kernel reads as natively", function()
    local native <close> = at_getpid("native")
    for _, mode in ipairs { "trap", "bt" } do
      local vm <close> = at_getpid(mode)
      for _, name in ipairs(supervisor) do
        expect(vm:read(name)).to_equal(native:read(name))
      end
      expect(vm:read("pc")).to_equal(native:read("pc"))
      -- The hardware view is the hart as the VMM runs it: U-mode, on the shadow's root.
      expect(vm:read("priv", { view = "hardware" })).to_equal("U")
      expect(vm:read("csr.satp", { view = "hardware" })).never.to_equal(vm:read("csr.satp"))
      expect(vm:read("csr.satp", { view = "hardware" }) >> 60).to_equal(8)
      expect(native:read("csr.satp", { view = "hardware" })).to_equal(native:read("csr.satp"))
    end
  end)

  it("written in the guest's view, have the effects of the guest's own write", function()
    for _, mode in ipairs { "trap", "bt" } do
      local vm <close> = at_getpid(mode)
      local satp, shadow = vm:read("csr.satp"), vm:read("csr.satp", { view = "hardware" })
      -- Bare: the hart moves to the VMM's bare shadow; back again: to the same shadow as before.
      vm:write("csr.satp", 0)
      expect(vm:read("csr.satp")).to_equal(0)
      expect(vm:read("csr.satp", { view = "hardware" })).never.to_equal(shadow)
      vm:write("csr.satp", satp)
      expect(vm:read("csr.satp", { view = "hardware" })).to_equal(shadow)
      -- WARL as for the guest: MODE 11 (Sv64) is reserved, so the write is ignored.
      vm:write("csr.satp", (11 << 60) | (satp & 0xfffffffffff))
      expect(vm:read("csr.satp")).to_equal(satp)
      vm:write("csr.sscratch", 0x5eed)
      expect(vm:read("csr.sscratch")).to_equal(0x5eed)
      expect(vm:read("csr.sscratch", { view = "hardware" })).never.to_equal(0x5eed)
      expect(function() vm:write("priv", "M") end).to_raise("the VMM is its M%-mode")
      expect((vm:run { max_instructions = 50e6 })).to_equal("poweroff")
      expect(result(vm)).to_match("iterations=5")
    end
  end)

  it("and guest-virtual memory go through the guest's own tables, not the shadow", function()
    -- Every symbol of tinyos, kernel and not: the same translation and bytes as natively, also
    -- for pages the shadow has not filled (or never fills: tinyos maps low addresses the VMM
    -- leaves to its MMIO emulation).
    local native <close> = at_getpid("native")
    local function view(vm, va)
      local pa, why = vm:translate(va)
      local ok, bytes = pcall(vm.read_memory, vm, va, 4, { space = "guest-virtual" })
      return tostring(pa) .. " " .. (why or "") .. " " .. tostring(ok and bytes)
    end
    for _, mode in ipairs { "trap", "bt" } do
      local vm <close> = at_getpid(mode)
      local compared = 0
      for name, va in pairs(native:symbols()) do
        expect(view(vm, va)).to_equal(view(native, va))
        compared = compared + 1
      end
      expect(compared > 100).to_be(true)
    end
  end)

  it("and a tool's write to a guest page table reaches the shadows", function()
    for _, mode in ipairs { "trap", "bt" } do
      local vm <close> = at_getpid(mode)
      local va = vm:symbols().sys_getpid
      local leaf = vm:page_tables({ va = va }).levels
      leaf = leaf[#leaf]
      expect(vm:page_tables({ which = "shadow", va = va }).ok).to_be(true)
      vm:write_memory(leaf.pte_address, string.pack("<I8", leaf.pte & ~(1 << 3)))   -- X taken away
      expect(vm:check_shadows()).to_equal({})
      expect(vm:page_tables({ which = "shadow", va = va }).ok).to_be(false)
      vm:write_memory(leaf.pte_address, string.pack("<I8", leaf.pte))
      expect((vm:run { max_instructions = 50e6 })).to_equal("poweroff")
      expect(result(vm)).to_match("iterations=5")
    end
  end)

  it("reach a guest kernel that reads them back", function()
    local kernel = vmlab.asm [[
        csrr a0, sscratch
        csrr a1, stvec
      1: j 1b
    ]]
    for _, mode in ipairs { "native", "trap", "bt", "pv" } do
      local vm <close> = assert(vmlab.vm { mode = mode, image = kernel, firmware = "builtin" })
      expect(vm:read("priv")).to_equal("S")
      vm:write("csr.sscratch", 0x1234)
      vm:write("csr.stvec", 0x80200100)
      vm:run { max_instructions = 10 }
      expect(vm:read("a0")).to_equal(0x1234)
      expect(vm:read("a1")).to_equal(0x80200100)
    end
  end)
end)

describe("the VMM's own memory", function()
  -- Under trap and bt the shadow page tables live in memory right behind the guest's RAM.
  it("is out of reach of the guest's devices and of tools, in every mode alike", function()
    local disk = blk.filled_disk()
    -- A guest that has virtio-blk read sector 0 into 0x81000000, just past its 16 MiB, then
    -- touches fresh pages (shadow faults, under trap and bt).
    local ring = 0x80400000
    local source = blk.read_sector { slot = 0x10008000, ring = ring, header = 0x80100000, status = 0x80100400,
                                     target = 0x81000000, length = 4096 }
    source = source .. "\nli t2, 0x80600000\n1: ld t3, 0(t2)\nli t4, 4096\nadd t2, t2, t4\nj 1b"
    local code = vmlab.asm(source)
    local outcome
    for _, mode in ipairs { "native", "interpret", "trap", "bt", "pv" } do
      local vm <close> = assert(vmlab.vm { mode = mode, image = code, memory = "16M", disks = { { file = disk } } })
      local stop, details = vm:run { max_instructions = 200000 }
      -- The device refused the transfer (nothing used); the guest then runs off its RAM's end.
      local used = blk.used_index(vm, ring)
      local seen = ("%s %d %s"):format(stop, used, details.message:match("load_access_fault at pc %w+ %(tval 0x81000000%)") and "past RAM" or details.message)
      outcome = outcome or seen
      expect(seen).to_equal(outcome)
      expect(used).to_equal(0)
      -- Tools: the VM's RAM ends where the guest's does.
      expect(function() vm:read_memory(0x81000000, 8) end).to_raise("physical RAM is 0x80000000%-0x80ffffff")
      expect(function() vm:write_memory(0x80fffffc, "12345678") end).to_raise("not all RAM")
      expect(function() vm:inject { fault = "bitflip_memory", address = 0x81000000, bit = 0 } end).to_raise("RAM of this VM")
    end
    os.remove(disk)
  end)
end)
