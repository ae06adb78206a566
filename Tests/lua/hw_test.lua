-- Mode "hw": the unmodified kernel in VS-mode under the H extension — what labs/11 relies on.
local vmlab = require "vmlab"
local tinyos = require "tinyos_run"
local blk = require "virtio_blk_request"

describe("mode hw", function()
  it("runs tinyos as native does, the kernel's own work without an exit", function()
    local native <close> = tinyos.vm("native", "fork")
    local hw <close> = tinyos.vm("hw", "fork")
    expect((native:run())).to_equal("poweroff")
    expect((hw:run())).to_equal("poweroff")
    expect(tinyos.result(hw)).to_equal(tinyos.result(native))
    local s = hw:stats()
    expect(s.mode).to_equal("hw")
    expect(s.instructions).to_equal(native:stats "instructions")
    -- fork's page faults and system calls are the guest's: the exits are its SBI calls and the
    -- console's device register accesses.
    for cause, count in pairs(s.exits.by_cause) do
      if count > 0 then
        expect(cause == "ecall_vs" or cause == "load_guest_page_fault" or cause == "store_guest_page_fault")
          .to_be(true)
      end
    end
    expect(s.traps.by_cause.ecall_u > 0).to_be(true)          -- taken in VS-mode, by the hardware
    local hw_counters = s.technique.hw
    expect(hw_counters.exits).to_equal(s.exits.total)
    expect(hw_counters.device_emulated).to_equal(s.mmio.accesses)
    expect(s.technique.hypercalls.sbi_time ~= nil or s.technique.hypercalls.sbi_srst ~= nil).to_be(true)
  end)

  it("prices an exit as a VM exit and a VM entry, and accounts for every cycle", function()
    local vm <close> = tinyos.vm("hw", "syscall")
    vm:run()
    local s = vm:stats()
    local total = 0
    for _, cycles in pairs(s.cycles.by_category) do total = total + cycles end
    expect(total).to_equal(s.cycles.total)
    local prices = vmlab.costs(s.profile)
    expect(s.cycles.by_event.vm_exit.count).to_equal(s.exits.total)
    expect(s.cycles.by_event.vm_exit.cycles).to_equal(s.exits.total * prices.vm_exit)
    expect(s.cycles.by_event.vm_entry.cycles).to_equal(s.exits.total * prices.vm_entry)
  end)

  it("tags the guest's TLB entries with its VMID and walks two stages on a miss", function()
    local vm <close> = tinyos.vm("hw", "tlb")
    vm:run()
    local entries = vm:tlb()
    expect(#entries > 0).to_be(true)
    for _, e in ipairs(entries) do
      expect(e.vmid).to_equal(1)              -- the VM's id: vm1
      expect(e.page_size).to_equal(4096)      -- the G stage maps 4 KiB pages
    end
    -- The timed loop's misses (two runs of different lengths, differenced): random accesses to
    -- 4 KiB user pages, each miss reading (3 + 1) x (3 + 1) - 1 = 15 entries, where a native
    -- walk reads 3.
    local function loop(mode, hw)
      local counts = {}
      for i, n in ipairs { 256, 512 } do
        local v <close> = assert(vmlab.vm { mode = mode, kernel = tinyos.kernel, bootargs = "bench=tlb n=" .. n, hw = hw })
        v:run()
        counts[i] = v:stats()
      end
      local misses = counts[2].tlb.misses - counts[1].tlb.misses
      return (counts[2].walk.references - counts[1].walk.references) / misses
    end
    expect(loop("native")).to_equal(3)
    local hw = loop("hw")
    expect(hw > 14.5 and hw <= 15).to_be(true)   -- a few misses fault before their walk ends
    -- 2 MiB G-stage pages: each G walk ends a level sooner, (3 + 1) x (2 + 1) - 1 = 11.
    local mega = loop("hw", { gstage_page_size = 2 * 1024 * 1024 })
    expect(mega > 10.5 and mega <= 11).to_be(true)
  end)

  -- The TLB benchmark's timed loop under hw on a hart with `tlb`: its walk references per TLB
  -- miss, and how much each counter of `stats().tlb` grew (n = 512 against n = 256).
  local function timed_loop(tlb)
    local counts = {}
    for i, n in ipairs { 256, 512 } do
      local v <close> = assert(vmlab.vm { mode = "hw", kernel = tinyos.kernel, bootargs = "bench=tlb n=" .. n, tlb = tlb })
      expect((v:run())).to_equal("poweroff")
      counts[i] = v:stats "tlb"
      counts[i].references = v:stats "walk.references"
    end
    local grew = {}
    for k, v in pairs(counts[2]) do
      if math.type(v) == "integer" then grew[k] = v - counts[1][k] end
    end
    return grew.references / grew.misses, grew
  end

  it("caches G-stage translations in a nested TLB when the hart has one", function()
    local plain, none = timed_loop()
    expect(plain > 14.5 and plain <= 15).to_be(true)
    expect(none.nested_hits).to_equal(0)
    -- The timed loop's misses: the guest's page-table pages stay cached, so most of the VS
    -- entries' G walks are saved; the random data pages' G walks mostly are not.
    local cached, grew = timed_loop { nested = 16 }
    expect(cached < plain * 0.6 and cached > 3).to_be(true)
    expect(grew.nested_hits > grew.nested_misses).to_be(true)
    expect(function() vmlab.vm { kernel = tinyos.kernel, tlb = { nested = 16 } } end)
      .to_raise("option 'tlb.nested' needs the hypervisor extension")
    expect(function() vmlab.vm { mode = "hw", kernel = tinyos.kernel, tlb = { nested = 300 } } end)
      .to_raise("option 'tlb.nested': must be 0 %(none%) to 256, got 300")
    local ok <close> = assert(vmlab.vm { kernel = tinyos.kernel, h_extension = true, tlb = { nested = 4 } })
  end)

  it("starts walks below the guest's root with a page-walk cache", function()
    local _, none = timed_loop()
    expect(none.pwc_hits + none.pwc_misses).to_equal(0)
    -- The timed loop's walks find the benchmark's level-0 table: the leaf entry, its G walk and
    -- the page's, 7 references where a walk from the root reads 15.
    local cached, grew = timed_loop { pwc = 16 }
    expect(cached > 6.5 and cached <= 7).to_be(true)
    expect(grew.pwc_hits > 10 * grew.pwc_misses).to_be(true)
    expect(function() vmlab.vm { kernel = tinyos.kernel, tlb = { pwc = 16 } } end)
      .to_raise("option 'tlb.pwc' needs the hypervisor extension")
    expect(function() vmlab.vm { mode = "hw", kernel = tinyos.kernel, tlb = { pwc = -1 } } end)
      .to_raise("option 'tlb.pwc': must be 0 %(none%) to 256, got %-1")
    local ok <close> = assert(vmlab.vm { kernel = tinyos.kernel, h_extension = true, tlb = { pwc = 4 } })
    -- What the caches hold (vm:tlb { which = }): the benchmark's guest tables, by level, at guest
    -- physical addresses the nested TLB translates.
    local v <close> = assert(vmlab.vm { mode = "hw", kernel = tinyos.kernel, bootargs = "bench=tlb n=64",
                                        tlb = { nested = 8, pwc = 8 } })
    v:run { max_instructions = 3e6 }
    local walk_cache, nested = v:tlb { which = "pwc" }, v:tlb { which = "nested" }
    expect(#walk_cache > 0 and #walk_cache <= 8).to_be(true)
    expect(#nested > 0 and #nested <= 8).to_be(true)
    for _, e in ipairs(walk_cache) do
      expect(e.level == 0 or e.level == 1).to_be(true)           -- Sv39: the tables below the root
      expect(e.va % (4096 << (9 * (e.level + 1)))).to_equal(0)
      expect(e.table % 4096).to_equal(0)
      expect(e.vmid).to_equal(nested[1].vmid)
    end
    for _, e in ipairs(nested) do expect(e.page_size).to_equal(4096) end
    expect(#ok:tlb { which = "pwc" }).to_equal(0)
  end)

  it("takes the G stage's page size as its policy, and refuses another", function()
    local vm <close> = tinyos.vm("hw", "compute", { hw = { gstage_page_size = 2 * 1024 * 1024 } })
    expect((vm:run())).to_equal("poweroff")
    -- The kernel's gigapages now make 2 MiB entries (the smaller of the two leaves).
    local sizes = {}
    for _, e in ipairs(vm:tlb()) do sizes[e.page_size] = true end
    expect(sizes[2 * 1024 * 1024]).to_be(true)
    expect(function() tinyos.vm("hw", "compute", { hw = { gstage_page_size = 8192 } }) end)
      .to_raise("option 'hw.gstage_page_size': must be 4096 or 2097152 %(2 MiB%), got 8192")
    expect(function() tinyos.vm("trap", "compute", { hw = { gstage_page_size = 4096 } }) end)
      .to_raise("'hw'")
    expect(function() tinyos.vm("hw", "compute", { hw = { page = 1 } }) end).to_raise("unknown option")
    -- vmlab.compare takes it in a mode entry.
    local t = vmlab.compare { guest = "tinyos", bench = "tlb", n = 64,
                              modes = { "hw", { mode = "hw", label = "hw-2mib", hw = { gstage_page_size = 2 * 1024 * 1024 } } } }
    expect(t.rows[2].mode).to_equal("hw-2mib")
    expect(t.rows[2].result).to_equal(t.rows[1].result)
    expect(t.rows[2].cycles < t.rows[1].cycles).to_be(true)
    expect(function() vmlab.compare { guest = "tinyos", bench = "tlb", modes = { { mode = "trap", hw = {} } } } end)
      .to_raise("needs mode \"hw\"")
  end)

  it("shows the two-dimensional walk, entry by entry", function()
    local vm <close> = tinyos.vm("hw", "tlb", { bootargs = "bench=tlb n=100000" })
    vm:run { max_instructions = 3000000 }
    expect(vm:read("priv")).to_equal("U")         -- the benchmark's loop, in VU-mode
    local w = assert(vm:page_tables { va = vm:read("pc"), which = "nested" })
    expect(w.ok).to_be(true)
    expect(#w.levels).to_equal(15)
    local stages = {}
    for _, l in ipairs(w.levels) do stages[#stages + 1] = l.stage:sub(1, 1) end
    expect(table.concat(stages)).to_equal("hhhghhhghhhghhh")
    -- The guest's own walk of the same address: its three entries, at their guest physical addresses.
    local g = vm:page_tables { va = vm:read("pc") }
    expect(#g.levels).to_equal(3)
    expect(g.levels[1].pte_address).to_equal(w.levels[4].guest_physical)
    expect(g.physical).to_equal(w.physical)
    local native <close> = tinyos.vm("native", "tlb")
    local none, why = native:page_tables { va = 0, which = "nested" }
    expect(none).to_be_nil()
    expect(why).to_match("only 'hw' translates in two stages")
  end)

  it("makes what the policy intercepts exit, and emulates it", function()
    local plain <close> = tinyos.vm("hw", "ctxsw")
    local controlled <close> = tinyos.vm("hw", "ctxsw", { hw = { intercept = { "satp" } } })
    plain:run()
    controlled:run()
    expect(tinyos.result(controlled)).to_equal(tinyos.result(plain))
    local a, b = plain:stats(), controlled:stats()
    expect(a.technique.intercepted.satp).to_equal(0)
    expect(b.technique.intercepted.satp > 5).to_be(true)     -- every switch of address space
    expect(b.exits.by_cause.virtual_instruction).to_equal(b.technique.hw.emulated)
    -- The timed loop retires the same instructions (the whole runs differ by the digits of the
    -- cycle counts they print).
    local function instret(vm) return vm:console():match("# bench=ctxsw cycles=%d+ instret=(%d+)") end
    expect(instret(controlled)).to_equal(instret(plain))
    expect(b.cycles.total > a.cycles.total).to_be(true)
    expect(function() tinyos.vm("hw", "ctxsw", { hw = { intercept = { "cr3" } } }) end)
      .to_raise("unknown intercept 'cr3' %(expected one of: wfi, sret, satp%)")
  end)

  it("runs on shadow page tables with paging = \"shadow\" (VT-x before EPT)", function()
    local native <close> = tinyos.vm("native", "pte")
    local vm <close> = tinyos.vm("hw", "pte", { hw = { paging = "shadow" }, shadow = { capacity = 4 } })
    local events = { shadow_fault = 0, traced_write = 0 }
    local faults <close> = vm:on("shadow_fault", function() events.shadow_fault = events.shadow_fault + 1 end)
    local traced <close> = vm:on("traced_write", function() events.traced_write = events.traced_write + 1 end)
    expect((native:run())).to_equal("poweroff")
    expect((vm:run())).to_equal("poweroff")
    expect(tinyos.result(vm)).to_equal(tinyos.result(native))
    local s = vm:stats()
    -- The timed loop retires what it retires natively (whole runs differ by the digits of the
    -- cycle counts they print).
    local function instret(v) return v:console():match("# bench=pte cycles=%d+ instret=(%d+)") end
    expect(instret(vm)).to_equal(instret(native))
    local shadow, hw = s.technique.shadow, s.technique.hw
    -- Page faults, satp accesses and page-table stores exit now; device accesses are access faults.
    expect(shadow.hidden_faults > 0 and shadow.traced_writes > 0).to_be(true)
    expect(hw.shadow_faults).to_equal(shadow.hidden_faults)
    expect(hw.traced_writes).to_equal(shadow.traced_writes)
    expect(events.shadow_fault).to_equal(shadow.hidden_faults)
    expect(events.traced_write).to_equal(shadow.traced_writes)
    expect(s.technique.intercepted.satp > 0).to_be(true)
    expect(s.exits.by_cause.load_guest_page_fault).to_equal(0)
    expect(s.exits.by_cause.store_access_fault > 0).to_be(true)
    expect(hw.device_emulated).to_equal(s.mmio.accesses)
    expect(s.cycles.by_event.shadow_fault.count).to_equal(shadow.hidden_faults)
    expect(s.cycles.by_event.traced_write.count).to_equal(shadow.traced_writes)
    -- The shadow the hart walks, next to the guest's own tables; coherent.
    expect(#vm:check_shadows()).to_equal(0)
    local pc = vm:read("pc")
    local guest = assert(vm:page_tables { va = pc })
    local walked = assert(vm:page_tables { va = pc, which = "shadow" })
    expect(walked.physical).to_equal(guest.physical)
    local none, why = vm:page_tables { va = pc, which = "nested" }
    expect(none).to_be_nil()
    expect(why).to_match("the G stage is off")
    -- A miss walks one dimension again.
    local tlb <close> = tinyos.vm("hw", "tlb", { hw = { paging = "shadow" } })
    tlb:run()
    local t = tlb:stats()
    expect(t.walk.references / t.tlb.misses <= 3).to_be(true)
  end)

  it("refuses what shadow paging cannot do, and a shadow policy without shadows", function()
    expect(function() tinyos.vm("hw", "pte", { hw = { paging = "shadow", gstage_page_size = 4096 } }) end)
      .to_raise("option 'hw.gstage_page_size': shadow paging has no G stage")
    expect(function() tinyos.vm("hw", "pte", { hw = { paging = "tables" } }) end)
      .to_raise("paging")
    expect(function() tinyos.vm("hw", "pte", { shadow = { capacity = 2 } }) end)
      .to_raise("option 'shadow' needs hw = { paging = \"shadow\" } under mode \"hw\"")
    expect(function() tinyos.vm("hw", "pte", { harts = 2, hw = { paging = "shadow" }, shadow = { capacity = 1 } }) end)
      .to_raise("caches at least one address space per vCPU")
    -- vmlab.compare takes the paging in a mode entry, and the shadow policy beside it.
    local t = vmlab.compare { guest = "tinyos", bench = "pte", n = 8,
                              modes = { "hw", { mode = "hw", label = "hw-shadow", hw = { paging = "shadow" }, shadow = { capacity = 2 } } } }
    expect(t.rows[2].result).to_equal(t.rows[1].result)
    expect(t.rows[2].cycles > t.rows[1].cycles).to_be(true)
    expect(function() vmlab.compare { guest = "tinyos", bench = "pte", modes = { { mode = "hw", shadow = {} } } } end)
      .to_raise("nested paging has no shadows")
    -- A checkpoint of one kind of paging does not restore onto the other.
    local nested <close> = tinyos.vm("hw", "pte")
    local shadowed <close> = tinyos.vm("hw", "pte", { hw = { paging = "shadow" } })
    nested:run { max_instructions = 100000 }
    expect(function() shadowed:restore(nested:snapshot()) end)
      .to_raise("the snapshot is of a VM under hw with nested paging, not shadow")
  end)

  it("assigns the virtio devices behind an IOMMU with io = \"assigned\"", function()
    local path = blk.tinyos_fixture()
    local function run(hw)
      local vm <close> = tinyos.vm("hw", "disk", { hw = hw, disks = { { file = path } } })
      expect((vm:run())).to_equal("poweroff")
      return tinyos.result(vm), vm:stats(), vm:iommu()
    end
    local emulated_result, emulated, none = run(nil)
    local assigned_result, assigned, view = run { io = "assigned", iotlb = 4 }
    expect(none).to_be_nil()
    -- The IOMMU as it stands: a context per virtio slot on the guest's G-stage table, a full
    -- IOTLB of 4 KiB pages (the guest's RAM is mapped at its own addresses here).
    expect(#view.contexts).to_equal(8)
    for i, c in ipairs(view.contexts) do
      expect(c.device).to_equal(i - 1)
      expect(c.mode).to_equal("second_stage")
      expect(c.root).to_equal(view.contexts[1].root)
    end
    expect(view.iotlb_capacity).to_equal(4)
    expect(#view.iotlb).to_equal(4)
    for _, e in ipairs(view.iotlb) do
      expect(e.page_size).to_equal(4096)
      expect(e.machine).to_equal(e.guest_physical)
      expect(e.gscid).to_equal(view.contexts[1].gscid)
      expect(e.readable and e.writable).to_be(true)
    end
    expect(#view.faults).to_equal(0)
    expect(view.counters.translations).to_equal(assigned.technique.iommu.translations)
    expect(assigned_result).to_match("status=ok")
    expect(assigned_result).to_equal(emulated_result)
    -- The virtio registers are the guest's own: fewer device exits, the same device accesses.
    expect(assigned.technique.hw.device_emulated < emulated.technique.hw.device_emulated).to_be(true)
    expect(assigned.mmio.accesses > assigned.technique.hw.device_emulated).to_be(true)
    expect(emulated.technique.iommu).to_be_nil()
    local iommu = assigned.technique.iommu
    expect(iommu.faults).to_equal(0)
    expect(iommu.translations).to_equal(iommu.iotlb_hits + iommu.iotlb_misses)
    expect(iommu.walk_references).to_equal(3 * iommu.iotlb_misses)   -- 4 KiB G-stage pages
    expect(assigned.cycles.total < emulated.cycles.total).to_be(true)
    -- What it cannot be combined with.
    expect(function() tinyos.vm("hw", "disk", { hw = { paging = "shadow", io = "assigned" } }) end)
      .to_raise("option 'hw.io': assigned devices need nested paging")
    expect(function() tinyos.vm("hw", "disk", { hw = { iotlb = 8 } }) end)
      .to_raise("option 'hw.iotlb': there is no IOMMU without io = \"assigned\"")
    expect(function() tinyos.vm("hw", "disk", { hw = { io = "assigned", iotlb = 0 } }) end)
      .to_raise("option 'hw.iotlb': must be 1 to 256, got 0")
    expect(function() tinyos.vm("hw", "disk", { hw = { io = "sriov" } }) end).to_raise("io")
    expect(function() tinyos.vm("hw", "disk", { hw = { iommu = false } }) end)
      .to_raise("option 'hw.iommu': only assigned devices %(io = \"assigned\"%) have an IOMMU or not")
    expect(function() tinyos.vm("hw", "disk", { hw = { io = "assigned", iommu = false, iotlb = 4 } }) end)
      .to_raise("there is no IOMMU without io = \"assigned\" %(and iommu = true%)")
    -- Without the IOMMU the disk still works (the guest's RAM is at its own machine addresses),
    -- unconfined.
    do
      local vm <close> = tinyos.vm("hw", "disk", { hw = { io = "assigned", iommu = false }, disks = { { file = path } } })
      expect((vm:run())).to_equal("poweroff")
      expect(tinyos.result(vm)).to_equal(emulated_result)
      expect(vm:iommu()).to_be_nil()
      expect(vm:stats().technique.iommu).to_be_nil()
    end
    os.remove(path)
    -- A checkpoint of emulated devices does not restore onto assigned ones.
    local a <close> = tinyos.vm("hw", "syscall", { hw = { io = "assigned" } })
    local e <close> = tinyos.vm("hw", "syscall")
    expect(function() a:restore(e:snapshot()) end)
      .to_raise("the snapshot is of a VM under hw with emulated devices, not assigned devices")
  end)

  it("refuses an assigned device's DMA outside the guest's memory, and reports it", function()
    -- A kernel that has its virtio-blk (slot 7, the first disk's) read sector 0 into 0x81000000,
    -- just past its 16 MiB: the VMM's hidden memory, where the G-stage tables are. Then it powers off.
    local disk = blk.filled_disk()
    local ring = 0x80400000
    local source = blk.read_sector { slot = 0x10008000, ring = ring, header = 0x80500000, status = 0x80500400,
                                     target = 0x81000000, length = 4096 }
    source = source .. "\nli a7, 0x53525354\nli a6, 0\nli a0, 0\nli a1, 0\necall"
    local kernel = os.tmpname()
    local k <close> = assert(io.open(kernel, "wb"))
    k:write((vmlab.asm(source)))
    k:flush()
    local vm <close> = assert(vmlab.vm { mode = "hw", kernel = kernel, memory = "16M", hw = { io = "assigned" },
                                         disks = { { file = disk } } })
    local faults = {}
    local hook <close> = vm:on("iommu_fault", function(e) faults[#faults + 1] = e end)
    expect((vm:run { max_instructions = 200000 })).to_equal("poweroff")
    os.remove(disk)
    os.remove(kernel)
    expect(#faults).to_equal(1)
    expect(faults[1].cause).to_equal("write_guest_page_fault")
    expect(faults[1].cause_code).to_equal(23)
    expect(faults[1].address).to_equal(0x81000000)
    expect(faults[1].write).to_be(true)
    expect(faults[1].value).to_equal(7)
    -- (Tools cannot read the VMM's memory; HardwareAssignedDeviceTests checks the tables are intact.)
    expect(vm:stats().technique.iommu.faults).to_equal(1)
    local view = vm:iommu()
    expect(#view.faults).to_equal(1)
    expect(view.faults[1].cause).to_equal("write_guest_page_fault")
    expect(view.faults[1].cause_code).to_equal(23)
    expect(view.faults[1].device).to_equal(7)
    expect(view.faults[1].address).to_equal(0x81000000)
    expect(view.faults[1].write).to_be(true)
    expect(view.contexts[8].root).to_equal(0x81000000)            -- what the DMA aimed at: the G-stage root
    expect(blk.used_index(vm, ring)).to_equal(0)                 -- nothing was used: the device gave up
  end)

  it("reads and writes the guest's supervisor CSRs, which are the hart's VS CSRs", function()
    local native <close> = tinyos.vm("native", "tlb", { bootargs = "bench=tlb n=100000" })
    native:run { max_instructions = 3000000 }
    for _, hw in ipairs { {}, { paging = "shadow" } } do
      local vm <close> = tinyos.vm("hw", "tlb", { bootargs = "bench=tlb n=100000", hw = hw })
      vm:run { max_instructions = 3000000 }
      -- The same kernel at the same point: the guest's satp, sstatus and stvec are native's.
      for _, csr in ipairs { "csr.satp", "csr.sstatus", "csr.stvec" } do
        expect(vm:read(csr)).to_equal(native:read(csr))
      end
      -- The HS-mode CSRs of the same names are the VMM's: no translation of its own.
      expect(vm:read("csr.satp", { view = "hardware" })).to_equal(0)
      if hw.paging == "shadow" then
        -- vsatp holds the shadow's root, not the guest's.
        expect(vm:read("csr.vsatp") ~= vm:read("csr.satp")).to_be(true)
      else
        expect(vm:read("csr.vsatp")).to_equal(vm:read("csr.satp"))
      end
      vm:write("csr.sscratch", 0x1234)
      expect(vm:read("csr.vsscratch")).to_equal(0x1234)
      expect(vm:read("csr.sscratch")).to_equal(0x1234)
      -- A satp written as the guest would: under shadow paging the VMM switches the shadow.
      local satp = vm:read("csr.satp")
      vm:write("csr.satp", satp)
      expect(vm:read("csr.satp")).to_equal(satp)
      -- The guest runs on as before (its loop has far to go).
      expect((vm:run { max_instructions = 1000000 })).to_equal("budget")
      expect(vm:console()).never.to_match("panic")
    end
  end)

  it("sees each exit as an event, with its cause", function()
    local vm <close> = tinyos.vm("hw", "syscall")
    local exits = {}
    local hook <close> = vm:on("exit", function(ev) exits[ev.cause] = (exits[ev.cause] or 0) + 1 end)
    vm:run()
    local by_cause = vm:stats().exits.by_cause
    for cause, count in pairs(exits) do expect(by_cause[cause]).to_equal(count) end
    expect(exits.ecall_vs > 0).to_be(true)
  end)
end)
