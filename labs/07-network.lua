-- Lab 07: two Linux VMs on a virtual switch, and what a network frame asks of a VMM.
--
-- Lab 06's kernel again (labs/guests/linux), now with a virtio-net card in each of two VMs, both
-- cards plugged into one `vmlab.switch()`. Linux's own virtio-net driver runs the card; /init
-- brings it up, opens a packet socket and broadcasts a frame every 10 ms until it has heard one
-- from the other VM (then ten more, so that a slower peer hears it too). The VMs run in turns of
-- 100 000 instructions, so they exchange the same frames at the same instructions in every run.
--
--   1. per mode (native, trap, bt): what each VM sent and received, and what the switch carried,
--      with the last frames on the wire from the switch's capture;
--   2. the card's registers as the driver used them once it was up, from `mmio` hooks: which
--      registers, how often, per frame sent; and the memory the card moved (`dma` hooks);
--   3. what those register accesses cost: natively each is an uncached device access; under trap
--      each traps into the VMM, which emulates it on its device model (the classic emulated
--      device: the guest is denied the device registers); bt learns which instructions touch
--      devices and emulates them in translated code; and what they would cost if each were a VM
--      exit, as with a hardware-assisted VMM whose device models live outside the VM;
--   4. a cable pulled out (the `link_down` fault, QEMU's `set_link`): natively, VM A's card loses
--      its link for 0.15 s of guest time while the VMs exchange frames; the driver is told by a
--      configuration-change interrupt and reads the card's status.
--
-- Questions: how many register accesses does one frame cost the driver, and which register is
-- written once per frame? virtio was designed so that a frame costs few of them: what would an
-- emulated NIC whose driver touches ten registers per frame cost under trap, and under the VM-exit
-- model of section 3? The driver sends each frame with its own system call and notifies the card each
-- time; what would a driver that queued several frames and notified once save? The card offers
-- VIRTIO_F_EVENT_IDX, with which a device tells the driver after which new buffer it wants the
-- next notification; vmlab's card takes each frame the moment it is notified, so it always asks
-- for the next one. What would a device still busy with earlier frames (in a thread of its own, as
-- QEMU's vhost is) ask for instead, and what would that save? Why do the two VMs not send the same
-- number of frames? In section 4, /init counts more frames sent than VM A's card carried, and the
-- card dropped only frames sent *to* it: where did the others go, and who decided?
local vmlab = require "vmlab"

local kernel = vmlab.guest "linux"
local profile = "classic-2006"
local prices = vmlab.costs(profile)
local modes = { "native", "trap", "bt" }
local macs = { "52:54:00:00:00:0a", "52:54:00:00:00:0b" }

-- The card sits in the first slot a device takes (QEMU's order: slot 7, 0x10008000). Register
-- offsets are virtio-mmio's (virtio 1.2 §4.2.2).
local CARD, CARD_SIZE = 0x10008000, 0x1000
local registers = {
  [0x00] = "MagicValue", [0x04] = "Version", [0x08] = "DeviceID", [0x0c] = "VendorID",
  [0x10] = "DeviceFeatures", [0x14] = "DeviceFeaturesSel", [0x20] = "DriverFeatures",
  [0x24] = "DriverFeaturesSel", [0x30] = "QueueSel", [0x34] = "QueueNumMax", [0x38] = "QueueNum",
  [0x44] = "QueueReady", [0x50] = "QueueNotify", [0x60] = "InterruptStatus", [0x64] = "InterruptACK",
  [0x70] = "Status", [0x80] = "QueueDescLow", [0x84] = "QueueDescHigh", [0x90] = "QueueDriverLow",
  [0x94] = "QueueDriverHigh", [0xa0] = "QueueDeviceLow", [0xa4] = "QueueDeviceHigh", [0xfc] = "ConfigGeneration",
}
local TRANSMIT_QUEUE = 1

-- Watches one VM's card: every register access, and the card's DMA, counted from the first
-- notification of its transmit queue on (the card is up and /init is sending; before that the
-- driver was setting it up).
local function watch(vm)
  local w = { setup = 0, running = false, by_register = {}, accesses = 0, all = 0, dma = { reads = 0, writes = 0, bytes = 0 } }
  vm:on("mmio", function(ev)
    w.all = w.all + 1                                  -- every device's, the whole run
    local offset = ev.address - CARD
    if offset < 0 or offset >= CARD_SIZE then return end
    if not w.running and ev.write and offset == 0x50 and ev.value == TRANSMIT_QUEUE then w.running = true end
    if not w.running then
      w.setup = w.setup + 1
      return
    end
    local name = (registers[offset] or (offset >= 0x100 and "config" or ("0x%x"):format(offset))) .. (ev.write and " (write)" or " (read)")
    w.by_register[name] = (w.by_register[name] or 0) + 1
    w.accesses = w.accesses + 1
  end)
  vm:on("dma", function(ev)
    if not w.running then return end
    if ev.write then w.dma.writes = w.dma.writes + 1 else w.dma.reads = w.dma.reads + 1 end
    w.dma.bytes = w.dma.bytes + ev.size
  end)
  return w
end

-- Runs two VMs in turns of 100 000 instructions until both have stopped (or a budget far beyond
-- a boot is spent); returns how each stopped.
local function run_in_turns(vms)
  local stops = { "budget", "budget" }
  for _ = 1, 3000 do
    if stops[1] ~= "budget" and stops[2] ~= "budget" then break end
    for i, vm in ipairs(vms) do
      if stops[i] == "budget" then stops[i] = vm:run { max_instructions = 100000 } end
    end
  end
  return stops
end

local runs = {}
for _, mode in ipairs(modes) do
  local switch = vmlab.switch { capture = 4 }
  local vms, watches = {}, {}
  for i, mac in ipairs(macs) do
    vms[i] = assert(vmlab.vm { kernel = kernel, mode = mode, profile = profile, nics = { { switch = switch, mac = mac } } })
    watches[i] = watch(vms[i])
  end
  local stops = run_in_turns(vms)
  local r = { switch = switch:stats(), frames = switch:frames(), vms = {} }
  for i, vm in ipairs(vms) do
    local s = vm:stats()
    r.vms[i] = { stop = stops[i], console = vm:console(), card = s.nics[1], watch = watches[i],
                 instructions = s.instructions, device_cycles = s.cycles.by_category.device,
                 mmio = s.mmio.accesses, accesses = watches[i].all, device_emulated = s.technique.trap and s.technique.trap.device_emulated or 0,
                 device_traps = s.technique.traps_by_cause and s.technique.traps_by_cause.load_access_fault + s.technique.traps_by_cause.store_access_fault or 0 }
    vm:close()
  end
  runs[mode] = r
end

-- 1. Two VMs, one switch -------------------------------------------------------------------------
print(("cost profile: %s\n\n1. two Linux VMs on one switch: frames"):format(profile))
print(("%-7s %-4s %-18s %6s %9s %8s %7s   %s"):format("mode", "vm", "card", "sent", "received", "dropped", "stop", "what /init said"))
for _, mode in ipairs(modes) do
  for i, v in ipairs(runs[mode].vms) do
    print(("%-7s %-4s %-18s %6d %9d %8d %7s   %s"):format(mode, string.char(64 + i), v.card.mac, v.card.frames_sent,
      v.card.frames_received, v.card.frames_dropped, v.stop, (v.console:match("init: eth0 [^\n]*") or "?"):sub(7)))
  end
  local s = runs[mode].switch
  print(("%-7s switch: %d frames in, %d flooded (broadcasts), %d copies delivered, %d dropped"):format("", s.frames_in,
    s.frames_flooded, s.frames_delivered, s.frames_dropped))
end
print("   the last frames on the wire under native (the switch's capture; time is the sender's guest time):")
for _, f in ipairs(runs.native.frames) do
  print(("   %10.6f s  %s > %s  type 0x%04x  %d bytes  \"%s\""):format(f.time / 1e7, f.card, f.destination, f.ethertype,
    f.length, f.bytes:sub(15):match("^[%g ]*")))
end

-- 2. The card's registers, per frame -------------------------------------------------------------
local w = runs.native.vms[1].watch
local sent = runs.native.vms[1].card.frames_sent
print(("\n2. VM A's card once it was up (native): %d register accesses for %d frames sent (%.1f per frame); %d during set-up")
  :format(w.accesses, sent, w.accesses / sent, w.setup))
local names = {}
for name in pairs(w.by_register) do names[#names + 1] = name end
table.sort(names, function(a, b) return w.by_register[a] > w.by_register[b] or (w.by_register[a] == w.by_register[b] and a < b) end)
for _, name in ipairs(names) do
  print(("   %-28s %5d  %5.2f per frame sent"):format(name, w.by_register[name], w.by_register[name] / sent))
end
print(("   the card's DMA meanwhile: %d reads and %d writes of guest memory, %d bytes (rings, descriptors, frames)")
  :format(w.dma.reads, w.dma.writes, w.dma.bytes))

-- 3. What the accesses cost ----------------------------------------------------------------------
print("\n3. device register accesses of VM A (every device: most are the console's), the whole run, and their price")
print(("%-7s %9s %16s   %s"):format("mode", "accesses", "device cycles", "how each is paid"))
for _, mode in ipairs(modes) do
  local v = runs[mode].vms[1]
  local how = ({
    native = ("an uncached device access each (mmio_access, %d cycles)"):format(prices.mmio_access),
    trap = ("each trapped into the monitor and was emulated (trap %d + device_emulated %d cycles)")
      :format(prices.trap, prices.device_emulated),
    bt = ("%d emulated after a trap into the monitor (device_emulated, %d cycles), the rest in translated code (bt_inline, %d)")
      :format(v.device_emulated, prices.device_emulated, prices.bt_inline),
  })[mode]
  print(("%-7s %9d %16d   %s"):format(mode, v.accesses, v.device_cycles, how))
end
local trap_price = prices.trap + prices.device_emulated
local exit_price = prices.vm_exit + prices.device_emulated + prices.vm_entry
print(("   per frame, for the card's %.1f accesses: %d cycles natively, %d under trap (%d each), and %d if each were a VM exit (vm_exit %d + device_emulated %d + vm_entry %d = %d)")
  :format(w.accesses / sent, math.floor(prices.mmio_access * w.accesses / sent + 0.5), math.floor(trap_price * w.accesses / sent + 0.5),
    trap_price, math.floor(exit_price * w.accesses / sent + 0.5), prices.vm_exit, prices.device_emulated, prices.vm_entry, exit_price))

-- 4. A cable pulled out --------------------------------------------------------------------------
local DOWN_AT, DOWN_FOR = 100000000, 150000000     -- cycles: 0.1 s and 0.15 s of guest time
local cable = vmlab.switch { capture = 64 }
local pair, status_reads = {}, 0
for i, mac in ipairs(macs) do pair[i] = assert(vmlab.vm { kernel = kernel, profile = profile, nics = { { switch = cable, mac = mac } } }) end
pair[1]:inject { fault = "link_down", device = "net0", cycles = DOWN_FOR, at = { cycles = DOWN_AT } }
pair[1]:on("mmio", { address = { CARD + 0x106, CARD + 0x107 } }, function() status_reads = status_reads + 1 end)
local pulled_stops = run_in_turns(pair)
local pulled = { stops = pulled_stops, status_reads = status_reads, fault = pair[1]:stats().faults[1], cards = {}, said = {} }
for i, vm in ipairs(pair) do
  pulled.cards[i] = vm:stats().nics[1]
  pulled.said[i] = tonumber(vm:console():match("init: eth0 %([%x:]+%) sent (%d+) frames"))
  vm:close()
end
print(("\n4. VM A's cable pulled out at %.2f s for %.2f s of guest time (natively): %s"):format(DOWN_AT / 1e9, DOWN_FOR / 1e9, pulled.fault.effect))
print(("%-4s %-18s %15s %11s %9s %8s"):format("vm", "card", "/init sent", "card sent", "received", "dropped"))
for i, c in ipairs(pulled.cards) do
  print(("%-4s %-18s %15d %11d %9d %8d"):format(string.char(64 + i), c.mac, pulled.said[i], c.frames_sent, c.frames_received, c.frames_dropped))
end
print(("   the driver read the card's status register %d times (at probe, and at each configuration-change interrupt)"):format(status_reads))
local timeline = {}
for _, f in ipairs(cable:frames()) do timeline[#timeline + 1] = ("%.3f %s"):format(f.time / 1e7, f.card == macs[1] and "A" or "B") end
print("   frames on the wire (sender's guest time, s): " .. table.concat(timeline, "  "))

-- What `vmlab test labs` verifies.
vmlab.check("both VMs pass in every mode: each heard the other through the switch", function()
  for _, mode in ipairs(modes) do
    for i, v in ipairs(runs[mode].vms) do
      expect(v.stop).to_equal("poweroff")
      expect(v.console).to_match("init: all checks passed")
      expect(v.console).to_match("init: ok   eth0: a frame from another card")
      expect(v.console).to_match("the first from " .. macs[3 - i])
      expect(v.card.frames_received > 0).to_be(true)
    end
  end
end)

vmlab.check("the switch carried every frame the cards sent, to the other card", function()
  for _, f in ipairs(runs.native.frames) do
    expect(f.destination).to_equal("ff:ff:ff:ff:ff:ff")
    expect(f.ethertype).to_equal(0x88b5)
    expect(f.bytes:sub(15)).to_match("^hello from Linux on vmlab")
  end
  for _, mode in ipairs(modes) do
    local a, b, s = runs[mode].vms[1].card, runs[mode].vms[2].card, runs[mode].switch
    expect(s.frames_in).to_equal(a.frames_sent + b.frames_sent)
    expect(s.frames_delivered).to_equal(s.frames_in)
    expect(b.frames_received + b.frames_dropped).to_equal(a.frames_sent)
  end
end)

vmlab.check("the driver notifies the transmit queue once per frame it sends", function()
  for _, mode in ipairs(modes) do
    for _, v in ipairs(runs[mode].vms) do
      -- The first notification started the count.
      expect(v.watch.by_register["QueueNotify (write)"] >= v.card.frames_sent - 1).to_be(true)
    end
  end
end)

vmlab.check("trap emulates every device access after a trap; bt emulates an instruction's first", function()
  local native, trap, bt = runs.native.vms[1], runs.trap.vms[1], runs.bt.vms[1]
  -- The hooks saw every access, and vm:stats() counted every one, whether the hardware or the
  -- VMM performed it.
  for _, v in ipairs { native, trap, bt } do expect(v.accesses).to_equal(v.mmio) end
  expect(native.device_cycles).to_equal(native.mmio * prices.mmio_access)
  -- Under trap each was an access fault into the monitor, which performed it.
  expect(trap.accesses).to_equal(trap.device_emulated)
  expect(trap.device_traps).to_equal(trap.device_emulated)
  expect(trap.device_cycles).to_equal(trap.device_emulated * prices.device_emulated)
  expect(bt.device_emulated > 0).to_be(true)
  expect(bt.device_emulated < bt.accesses).to_be(true)
  expect(bt.device_cycles).to_equal(bt.device_emulated * prices.device_emulated)
  expect(bt.device_cycles < native.device_cycles).to_be(true)
  expect(native.device_cycles < trap.device_cycles).to_be(true)
end)

vmlab.check("a pulled cable: Linux is told, holds its frames back, and recovers", function()
  expect(pulled.stops).to_equal({ "poweroff", "poweroff" })
  expect(pulled.fault.effect).to_match("; up again at cycle %d+$")
  local a, b = pulled.cards[1], pulled.cards[2]
  expect(a.link).to_equal("up")
  -- Probe, down, up: the driver reads status at each configuration change.
  expect(pulled.status_reads >= 3).to_be(true)
  -- With the carrier off, Linux dropped A's frames before they reached the card.
  expect(a.frames_sent < pulled.said[1]).to_be(true)
  -- What B sent while A's link was down was lost at A's card.
  expect(a.frames_dropped > 0).to_be(true)
  expect(a.frames_received + a.frames_dropped).to_equal(b.frames_sent)
  -- No frame of A's is on the wire while its link is down.
  for _, f in ipairs(cable:frames()) do
    if f.card == macs[1] then
      expect(f.time * 100 < DOWN_AT or f.time * 100 >= DOWN_AT + DOWN_FOR).to_be(true)
    end
  end
end)
