-- The `virtio_console` and `rng` options: the board's virtio-console and virtio-rng, proved by the
-- device guest labs/guests/devices/virtio_rng_console.c (two 64-byte draws that differ and are
-- not all zero, then a line written through the console's transmit queue).
local vmlab = require "vmlab"

local guest = vmlab.guest "devices/virtio_rng_console"

local function run(options)
  options.kernel = guest
  local vm = assert(vmlab.vm(options))
  local stop, details = vm:run { max_instructions = 5e7 }
  return vm, stop, details
end

describe("virtio-console and virtio-rng", function()
  it("are found and work when asked for; the console's line joins vm:console()", function()
    local vm <close>, stop, details = run { virtio_console = true, rng = true }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(0)
    expect(vm:console()).to_match("\nhello from virtio%-console\n")
    expect(vm:console()).to_match("virtio_rng_console: PASS")
  end)

  it("are absent otherwise, and the guest says so", function()
    local vm <close>, _, details = run {}
    expect(details.exit_code).never.to_equal(0)
    expect(vm:console()).to_match("FAIL virtio%-rng found")
    expect(vm:console()).to_match("FAIL virtio%-console found")
  end)

  it("draw the stream the seed names, the same in every run", function()
    local function draws(seed)
      local vm <close> = run { virtio_console = true, rng = seed }
      return vm:read_memory(vm:symbols().pool, 128)
    end
    local seven = draws(7)
    expect(draws(7)).to_equal(seven)
    expect(draws(8)).never.to_equal(seven)
    expect(draws(true)).never.to_equal(seven)
    expect(draws(-1)).never.to_equal(draws(true))
  end)

  it("raise on a value that is neither", function()
    expect(function() vmlab.vm { kernel = guest, rng = "yes" } end).to_raise("option 'rng'")
    expect(function() vmlab.vm { kernel = guest, virtio_console = 1 } end).to_raise("option 'virtio_console'")
  end)

  it("take the slots the disks and cards leave", function()
    local nics = {}
    for i = 1, 7 do nics[i] = {} end
    local vm, message = vmlab.vm { kernel = guest, nics = nics, virtio_console = true, rng = true }
    expect(vm).to_be_nil()
    expect(message).to_equal("at most 8 virtio devices fit the virtio-mmio slots (got 7 network cards, a console, an RNG)")
  end)
end)
