-- Pieces the disk tests share: tinyos's disk fixture, and a few lines of assembly that have the
-- virtio-blk device in a slot read sector 0 into a chosen address. A module, not a test file (the
-- runner collects only *_test.lua).
local vmlab = require "vmlab"

local M = {}

-- A file in the layout of labs/guests/tinyos/mkdisk.sh (1 MiB): sectors 0-1023 carry their
-- number and a pattern, 1024-2047 are scratch. The caller removes it.
function M.tinyos_fixture()
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  for s = 0, 1023 do
    local bytes = { string.pack("<I8", s) }
    for j = 8, 511 do bytes[#bytes + 1] = string.char((s * 7 + j) & 0xff) end
    f:write(table.concat(bytes))
  end
  f:write(("\0"):rep(1024 * 512))
  f:close()
  return path
end

-- A disk file of eight sectors of 0xFF, for tests that care where a read lands, not what it
-- reads. The caller removes it.
function M.filled_disk()
  local path = os.tmpname()
  local f <close> = assert(io.open(path, "wb"))
  f:write(string.rep("\255", 4096))
  return path
end

-- Assembly (absolute addresses only) that sets up queue 0 of the virtio-mmio transport at `slot`
-- (version 2, 8 entries; rings at `ring`, `ring` + 0x1000, `ring` + 0x2000) and asks it to read
-- sector 0 into `target` (`length` bytes; the request's header at `header`, its status byte at
-- `status`), then notifies it. The used index is at `ring` + 0x2002.
function M.read_sector(o)
  local lines = {}
  local function store(width, address, value)
    lines[#lines + 1] = ("li t0, %d\nli t1, %d\n%s t1, 0(t0)"):format(address, value, width)
  end
  local function descriptor(at, address, length, flags, next)
    store("sd", at, address); store("sw", at + 8, length); store("sh", at + 12, flags); store("sh", at + 14, next)
  end
  local ring, header = o.ring, o.header
  descriptor(ring, header, 16, 1, 1)                 -- the request: read sector 0 (NEXT)
  descriptor(ring + 16, o.target, o.length, 3, 2)    -- its data (NEXT | WRITE)
  descriptor(ring + 32, o.status, 1, 2, 0)           -- the status byte (WRITE)
  store("sd", header, 0); store("sd", header + 8, 0)
  store("sw", ring + 0x1000, 0x10000)                -- avail: idx 1, ring[0] = descriptor 0
  for _, w in ipairs { { 0x70, 0 }, { 0x70, 1 }, { 0x70, 3 }, { 0x24, 1 }, { 0x20, 1 }, { 0x70, 11 }, { 0x30, 0 },
                       { 0x38, 8 }, { 0x80, ring }, { 0x90, ring + 0x1000 }, { 0xa0, ring + 0x2000 }, { 0x44, 1 },
                       { 0x70, 15 }, { 0x50, 0 } } do
    store("sw", o.slot + w[1], w[2])
  end
  return table.concat(lines, "\n")
end

-- The used ring's index after the request: 0 when the device gave up on it.
function M.used_index(vm, ring)
  return select(2, string.unpack("<I2I2", vm:read_memory(ring + 0x2000, 4)))
end

return M
