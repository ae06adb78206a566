-- Snapshot files: snapshot:save(path) and vmlab.load_snapshot(path). A snapshot read back from its
-- file restores onto a VM built with the same options, which runs on as the first VM did; a file
-- that is not one, or is damaged, or says what no VM could be, raises and changes nothing.
local vmlab = require "vmlab"
local tinyos = require "tinyos_run"
local guest = require "cell_guest"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local bytes = f:read "a"
  f:close()
  return bytes
end

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

-- The file's checksum (GuestSnapshot+File.swift): FNV-1a's mixing over little-endian 8-byte
-- words, the last padded with zeros and mixed with the length. Lua's integers wrap as UInt64s do.
local function checksum(bytes)
  local hash, prime = -3750763034362895579, 0x100000001b3     -- 0xcbf29ce484222325
  local words = #bytes // 8
  for i = 0, words - 1 do
    hash = (hash ~ string.unpack("<i8", bytes, i * 8 + 1)) * prime
  end
  local last = 0
  for k = words * 8 + 1, #bytes do last = last | (bytes:byte(k) << (8 * (k - words * 8 - 1))) end
  return (hash ~ last ~ #bytes) * prime
end

-- The file at `path` with its description (the JSON) passed through `edit`, and the checksum
-- made right again: a file that passes every check but the restore's own.
local function forge(path, edit)
  local bytes = read(path)
  local magic, format, length, ram_length, at = string.unpack("<c8 I4 I8 I8", bytes)
  local description = bytes:sub(at, at + length - 1)
  local ram = bytes:sub(at + length, at + length + ram_length - 1)
  local edited = edit(description)
  assert(edited ~= description, "the edit changed nothing")
  local body = string.pack("<c8 I4 I8 I8", magic, format, #edited, #ram) .. edited .. ram
  local forged = os.tmpname()
  write(forged, body .. string.pack("<i8", checksum(body)))
  return forged
end

-- Replaces the first match of the Lua pattern `pattern` in a text.
local function replace(text, pattern, by)
  local edited, count = text:gsub(pattern, by, 1)
  assert(count == 1, "not in the description: " .. pattern)
  return edited
end

describe("snapshot files", function()
  local cases = {
    { mode = "native" }, { mode = "interpret" }, { mode = "trap" }, { mode = "bt" },
    { mode = "pv", extra = { kernel = vmlab.guest "tinyos-pv" } },
    { mode = "hw" }, { mode = "hw", extra = { hw = { paging = "shadow" } }, label = "hw, shadow paging" },
  }
  for _, case in ipairs(cases) do
    it("carry a VM to another built alike, which runs on as the first did (" .. (case.label or case.mode) .. ")", function()
      local a <close> = tinyos.vm(case.mode, "fork", case.extra)
      a:run { max_instructions = 300000 }
      local at = a:stats("instructions")
      local path = os.tmpname()
      do
        local snap <close> = a:snapshot()
        snap:save(path)
      end
      expect((a:run())).to_equal("poweroff")

      local loaded <close> = vmlab.load_snapshot(path)
      os.remove(path)
      expect(loaded:info().vm).to_equal("vm1")
      expect(loaded:info().instructions).to_equal(at)
      -- The VM to restore it onto, built from what the file says the first was built with.
      local info = loaded:info()
      expect(info.mode).to_equal(case.mode)
      expect(info.profile).to_equal("classic-2006")
      expect(info.memory).to_equal(128 * 2^20)
      expect(info.harts).to_equal(1)
      local o = { mode = info.mode, profile = info.profile, memory = info.memory, harts = info.harts,
                  bootargs = info.bootargs, kernel = info.kernel }
      for k, v in pairs(case.extra or {}) do if k ~= "kernel" then o[k] = v end end
      local b <close> = assert(vmlab.vm(o))
      b:restore(loaded)
      expect(b:stats("instructions")).to_equal(at)
      expect((b:run())).to_equal("poweroff")
      expect(tinyos.result(b)).to_be_truthy()
      expect(b:console()).to_equal(a:console())
      local first, second = a:stats(), b:stats()
      expect(second.cycles).to_equal(first.cycles)
      expect(second.tlb).to_equal(first.tlb)
      expect(second.traps).to_equal(first.traps)
      expect(tinyos.modelled(second.technique)).to_equal(tinyos.modelled(first.technique))
    end)
  end

  it("keep what a VM wrote to its copy-on-write disk", function()
    local disk = os.tmpname()
    write(disk, string.rep("\0", 64 * 512))
    local function vm() return tinyos.vm("native", "disk", { disks = { { file = disk } } }) end
    local a <close> = vm()
    a:run { max_instructions = 2e6 }
    local path = os.tmpname()
    a:snapshot():save(path)
    expect((a:run())).to_equal("poweroff")
    local b <close> = vm()
    b:restore(vmlab.load_snapshot(path))
    expect((b:run())).to_equal("poweroff")
    expect(b:console()).to_equal(a:console())
    expect(b:stats().cycles).to_equal(a:stats().cycles)
    expect(read(disk)).to_equal(string.rep("\0", 64 * 512))   -- the file never changed
    os.remove(disk)
    os.remove(path)
  end)

  it("refuse disk images other than those they were saved with (a writable disk's file is its own state)", function()
    local disk = os.tmpname()
    write(disk, string.rep("\0", 64 * 512))
    local function vm(writable)
      return tinyos.vm("native", "disk", { memory = "16M", disks = { { file = disk, writable = writable } } })
    end
    local a <close> = vm()
    a:run { max_instructions = 2e6 }
    local path = os.tmpname()
    a:snapshot():save(path)
    local b <close> = vm()
    b:restore(vmlab.load_snapshot(path))
    -- Another image under the same name: refused, changing nothing.
    write(disk, string.rep("\0", 63 * 512) .. "x" .. string.rep("\0", 511))
    local c <close> = vm()
    c:run { max_instructions = 1000 }
    local before = c:stats()
    expect(function() c:restore(vmlab.load_snapshot(path)) end)
      .to_raise(("the disk image %s is not the one the snapshot was saved with: its contents differ"):format(disk:gsub("%p", "%%%0")))
    expect(c:stats()).to_equal(before)
    -- A file whose record does not fit the VM's disks.
    local forged = forge(path, function(d) return replace(d, '"diskContents":%[%-?%d+%]', '"diskContents":[]') end)
    expect(function() c:restore(vmlab.load_snapshot(forged)) end)
      .to_raise("the snapshot records 0 disk images and this VM has 1 %(a malformed file%)")
    os.remove(forged)
    -- A writable disk: the guest's writes reach the file, which the snapshot cannot hold, so it
    -- records nothing of it, and another file restores.
    local w <close> = vm(true)
    w:run { max_instructions = 2e6 }
    w:snapshot():save(path)
    expect(read(path)).to_match('"diskContents":%[null%]')
    write(disk, string.rep("\0", 64 * 512))
    local v <close> = vm(true)
    v:restore(vmlab.load_snapshot(path))
    os.remove(disk)
    os.remove(path)
  end)

  it("refuse a file that is not a snapshot file, naming it and what is wrong", function()
    local a <close> = assert(vmlab.vm { image = guest(10), memory = "16M" })
    a:run { max_instructions = 5 }
    local path = os.tmpname()
    a:snapshot():save(path)
    local good = read(path)
    local bad = os.tmpname()

    expect(function() vmlab.load_snapshot("/nonexistent/snap") end)
      .to_raise("bad argument #1 to 'load_snapshot' %(cannot read the snapshot file /nonexistent/snap: no such file")
    -- Not a regular file: refused, not read (/dev/zero would never end).
    expect(function() vmlab.load_snapshot("/dev/zero") end)
      .to_raise("cannot read the snapshot file /dev/zero: it is a character device")
    expect(function() vmlab.load_snapshot("/tmp") end).to_raise("cannot read the snapshot file /tmp: it is a directory")
    write(bad, "")
    expect(function() vmlab.load_snapshot(bad) end).to_raise("is not a vmlab snapshot file")
    write(bad, "-- a Lua script\n" .. string.rep("x", 100))
    expect(function() vmlab.load_snapshot(bad) end).to_raise("is not a vmlab snapshot file %(it does not start with VMLABSNP%)")
    write(bad, good:sub(1, 8) .. string.pack("<I4", 99) .. good:sub(13))
    expect(function() vmlab.load_snapshot(bad) end).to_raise("is a snapshot file of format 99; this vmlab reads format 1")
    write(bad, good:sub(1, #good - 100))
    expect(function() vmlab.load_snapshot(bad) end).to_raise("is truncated or damaged: its lengths say")
    write(bad, good .. "\0")
    expect(function() vmlab.load_snapshot(bad) end).to_raise("is truncated or damaged")
    -- One bit of RAM: the checksum.
    local ram_byte = #good - 8 - 100
    write(bad, good:sub(1, ram_byte - 1) .. string.char(good:byte(ram_byte) ~ 1) .. good:sub(ram_byte + 1))
    expect(function() vmlab.load_snapshot(bad) end).to_raise("is damaged: its checksum does not match its contents")
    -- A description that does not decode, with a checksum that matches.
    local forged = forge(path, function(d) return replace(d, '"mode":"native"', '"mode":"warp"') end)
    expect(function() vmlab.load_snapshot(forged) end).to_raise("is malformed: at snapshot.mode: ")
    forged = forge(path, function(d) return replace(d, '"kind":"CLINTState"', '"kind":"Bogus"') end)
    expect(function() vmlab.load_snapshot(forged) end).to_raise("is malformed: at snapshot.board.devices%[0%].kind: no device state of kind 'Bogus'")
    forged = forge(path, function(d) return d:sub(1, #d // 2) end)
    expect(function() vmlab.load_snapshot(forged) end).to_raise("is malformed")
    -- The file is still whole: nothing above wrote to it.
    expect(read(path)).to_equal(good)
    expect((a:run { max_instructions = 10000 })).to_equal("poweroff")
    os.remove(path)
    os.remove(bad)
  end)

  it("refuse at restore, changing nothing, a state no VM of these options could be in", function()
    local a <close> = assert(vmlab.vm { image = guest(10), memory = "16M" })
    a:run { max_instructions = 5 }
    local path = os.tmpname()
    a:snapshot():save(path)
    local edits = {
      { '"priv":3', '"priv":2', "the snapshot is malformed: hart 0: privilege 2/3" },
      { '("privilegedCSRWrites":%d+,"registers":%[)', '%10,', "the snapshot is malformed: hart 0: 65 registers, 192 trap counts" },
      { '"tlbReplacement":%[0', '"tlbReplacement":[9', "a TLB replacement pointer beyond its set" },
      { '"frm":0', '"frm":300', "the snapshot is malformed: hart 0: fcsr 0x2580" },
      { '"ramPages":%[', '"ramPages":[4096,', "the snapshot is malformed" },
      { '"msip":%[false%]', '"msip":[false,false]', "the snapshot's CLINT state does not fit this board's" },
      { '"triggerLevel":1', '"triggerLevel":3', "the snapshot's UART16550 state does not fit this board's" },
    }
    for _, e in ipairs(edits) do
      local forged = forge(path, function(d) return replace(d, e[1], e[2]) end)
      local ok, loaded = pcall(vmlab.load_snapshot, forged)
      if ok then
        local b <close> = assert(vmlab.vm { image = guest(10), memory = "16M" })
        b:run { max_instructions = 3 }
        local before = b:stats()
        expect(function() b:restore(loaded) end).to_raise(e[3]:gsub("[%(%)%[%]%-]", "%%%0"))
        expect(b:stats()).to_equal(before)
        expect((b:run { max_instructions = 10000 })).to_equal("poweroff")
      else
        -- The RAM page list's own check: it is read with the file.
        expect(loaded).to_match("is malformed")
      end
      os.remove(forged)
    end
    os.remove(path)
  end)

  -- The VMM's own state: indices into its tables and pools, which a file could point anywhere.
  for _, case in ipairs {
    { mode = "trap", edit = { '"currentSlots":%[%d+%]', '"currentSlots":[99]' } },
    { mode = "trap", edit = { '"free":%[%]', '"free":[2147483648]' } },           -- a "free" page in guest RAM
    { mode = "trap", edit = { '"next":(%d+),"pages":1024', '"next":4096,"pages":1024' } },
    { mode = "pv", kernel = vmlab.guest "tinyos-pv", edit = { '"entries":%[null,', '"entries":[' } },
    { mode = "pv", kernel = vmlab.guest "tinyos-pv", edit = { '"ports":%[null,', '"ports":[' } },
    { mode = "hw", edit = { '"writtenByDMA":%[%]', '"writtenByDMA":[4096]' } },    -- a DMA-dirty page below RAM
    { mode = "hw", edit = { '"gStageAllocation":%d+', '"gStageAllocation":4096' } }, -- G-stage tables over guest RAM
  } do
    it(("refuse at restore a VMM state that points outside its own tables (%s: %s)"):format(case.mode, case.edit[2]), function()
      local function vm() return tinyos.vm(case.mode, "fork", { memory = "16M", kernel = case.kernel }) end
      local a <close> = vm()
      a:run { max_instructions = 300000 }
      local path = os.tmpname()
      a:snapshot():save(path)
      local forged = forge(path, function(d) return replace(d, case.edit[1], case.edit[2]) end)
      local b <close> = vm()
      b:run { max_instructions = 1000 }
      local before = b:stats()
      expect(function() b:restore(vmlab.load_snapshot(forged)) end)
        .to_raise("the snapshot's VMM state does not fit this VM's %(another shadow policy or IOTLB size, or a malformed file%)")
      expect(b:stats()).to_equal(before)
      expect((b:run())).to_equal("poweroff")
      expect(tinyos.result(b)).to_be_truthy()
      os.remove(path)
      os.remove(forged)
    end)
  end

  -- The translation cache of a bt VM: where its runs of decoded code lie is checked before
  -- anything changes; a rewrite is one the translator makes of the instruction, or none.
  -- The G-stage pool's allocation is checked to lie in the pool; one at its very end leaves no
  -- table for the dirty log's splits, which then leave the 2 MiB leaves whole.
  it("restore a G-stage allocation at the pool's end, splitting nothing after (hw, 2 MiB leaves)", function()
    local function vm() return tinyos.vm("hw", "fork", { memory = "16M", hw = { gstage_page_size = 2 * 2^20 } }) end
    local a <close> = vm()
    a:run { max_instructions = 300000 }
    local path = os.tmpname()
    a:snapshot():save(path)
    local allocation = tonumber(read(path):match('"gStageAllocation":(%d+)'))
    -- The pool is the VMM's hidden memory after the guest's 16 MiB: NestedPageTables.size
    -- rounded up to 1 MiB.
    expect(allocation > 0x81000000 and allocation < 0x81100000).to_be(true)
    local pool_end = 0x81100000
    local beyond = forge(path, function(d) return replace(d, '"gStageAllocation":%d+', '"gStageAllocation":' .. pool_end + 4096) end)
    local b <close> = vm()
    expect(function() b:restore(vmlab.load_snapshot(beyond)) end).to_raise("does not fit this VM's")
    os.remove(beyond)
    local forged = forge(path, function(d) return replace(d, '"gStageAllocation":%d+', '"gStageAllocation":' .. pool_end) end)
    b:restore(vmlab.load_snapshot(forged))
    expect(#b:dirty_pages { clear = true }).to_equal(4096)
    expect(b:stats().technique.dirty_log.huge_pages_split).to_equal(0)
    expect((b:run())).to_equal("poweroff")
    expect(tinyos.result(b)).to_be_truthy()
    os.remove(path)
    os.remove(forged)
  end)

  it("refuse at restore decoded code outside RAM or a page (bt)", function()
    local a <close> = tinyos.vm("bt", "fork", { memory = "16M" })
    a:run { max_instructions = 400000 }   -- mid-run: 16 MiB take half a million
    local path = os.tmpname()
    a:snapshot():save(path)
    for _, edit in ipairs {
      { '"runs":%[{"bytes":%d+,"start":%d+}', '"runs":[{"bytes":8,"start":4096}', "decoded code 0x1000%+8 is not a run of one page of RAM" },
      { '"runs":%[{"bytes":%d+,', '"runs":[{"bytes":5000,', "decoded code 0x80200000%+5000 is not a run of one page of RAM" },
    } do
      local forged = forge(path, function(d) return replace(d, edit[1], edit[2]) end)
      local b <close> = tinyos.vm("bt", "fork", { memory = "16M" })
      b:run { max_instructions = 1000 }
      local before = b:stats()
      expect(function() b:restore(vmlab.load_snapshot(forged)) end).to_raise("the snapshot is malformed: " .. edit[3])
      expect(b:stats()).to_equal(before)
      os.remove(forged)
    end
    -- Every rewrite made another callout: none is one the translator makes of its instruction,
    -- so each runs as decoded, trapping into the monitor as under trap, and the guest is none
    -- the worse.
    local forged = forge(path, function(d)
      local edited, count = d:gsub('"rewrite":{"callout":%d+}', '"rewrite":{"callout":4000}')
      assert(count > 10)
      return edited
    end)
    local b <close> = tinyos.vm("bt", "fork", { memory = "16M" })
    b:restore(vmlab.load_snapshot(forged))
    local traps = b:stats().traps.total
    expect((b:run())).to_equal("poweroff")
    expect(tinyos.result(b)).to_be_truthy()
    expect((a:run())).to_equal("poweroff")
    expect(tinyos.result(b)).to_equal(tinyos.result(a))
    expect(b:stats().instructions).to_equal(a:stats().instructions)
    expect(b:stats().traps.total - traps > a:stats().traps.total - traps).to_be(true)
    expect(b:stats().cycles.total > a:stats().cycles.total).to_be(true)
    os.remove(forged)
    os.remove(path)
  end)

  it("restore only onto a VM built with the same options", function()
    local a <close> = assert(vmlab.vm { image = guest(10), memory = "16M" })
    local path = os.tmpname()
    a:snapshot():save(path)
    local other <close> = assert(vmlab.vm { image = guest(10), memory = "32M" })
    expect(function() other:restore(vmlab.load_snapshot(path)) end)
      .to_raise("the snapshot is of a VM built with memory 16 MiB, not 32 MiB %(it was taken of 'vm1'%)")
    local trap <close> = assert(vmlab.vm { image = guest(10), memory = "16M", mode = "trap" })
    expect(function() trap:restore(vmlab.load_snapshot(path)) end).to_raise("the snapshot is of a VM under native, not trap")
    os.remove(path)
  end)

  it("raise on misuse", function()
    local a <close> = assert(vmlab.vm { image = guest(10), memory = "16M" })
    local snap = a:snapshot()
    expect(function() snap:save("/nonexistent/dir/snap") end)
      .to_raise("bad argument #1 to 'save' %(cannot write the snapshot file /nonexistent/dir/snap: ")
    expect(function() snap:save() end).to_raise("bad argument #1 to 'save' %(string expected, got no value%)")
    expect(function() vmlab.load_snapshot() end).to_raise("bad argument #1 to 'load_snapshot' %(string expected, got no value%)")
    snap:close()
    expect(function() snap:save(os.tmpname()) end).to_raise("the snapshot is closed")
  end)
end)
