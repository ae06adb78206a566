-- vmlab.switch and the `nics` option: virtio-net cards of several VMs on an in-process switch.
-- The guest (labs/guests/devices/virtio_net.c) broadcasts a frame every millisecond from each of
-- its cards and passes once every card has heard one from another address; it fails after two
-- seconds of guest time without.
local vmlab = require "vmlab"

local guest = vmlab.guest "devices/virtio_net"
local A, B = "52:54:00:00:00:0a", "52:54:00:00:00:0b"

-- Runs the VMs in turns of `slice` instructions until none asks for more; returns their stops.
local function run_in_turns(vms, slice)
  local stops = {}
  for i = 1, #vms do stops[i] = "budget" end
  for _ = 1, 5000 do
    local more = false
    for i, vm in ipairs(vms) do
      if stops[i] == "budget" then
        stops[i] = vm:run { max_instructions = slice }
        more = more or stops[i] == "budget"
      end
    end
    if not more then break end
  end
  return stops
end

describe("vmlab.switch", function()
  it("carries frames between two VMs, which both pass", function()
    local sw = vmlab.switch()
    local a <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = A } } })
    local b <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = B } } })
    expect(tostring(sw)).to_equal("vmlab.Switch (2 cards)")
    expect(run_in_turns({ a, b }, 100000)).to_equal({ "poweroff", "poweroff" })
    expect(a:console()).to_match("nic 0a heard " .. B)
    expect(b:console()).to_match("nic 0b heard " .. A)
    expect(a:console()).to_match("virtio_net: PASS")
    local na, nb, s = a:stats().nics[1], b:stats().nics[1], sw:stats()
    expect(na.mac).to_equal(A)
    expect(na.frames_sent + nb.frames_sent).to_equal(s.frames_in)
    -- Every frame is a broadcast: flooded, each to the one other card.
    expect(s.frames_flooded).to_equal(s.frames_in)
    expect(s.frames_delivered).to_equal(s.frames_in)
    expect(na.frames_received + na.frames_dropped + na.backlog).to_equal(nb.frames_sent)
    expect(s.ports).to_equal(2)
  end)

  it("gives the same frames at the same instructions in every run", function()
    local function once()
      local sw = vmlab.switch()
      local host <close> = vmlab.host { slice = 30000 }
      local a = assert(host:vm { kernel = guest, nics = { { switch = sw, mac = A } } })
      local b = assert(host:vm { kernel = guest, nics = { { switch = sw, mac = B } } })
      local stop = host:run { max_instructions = 1e8 }
      return { stop, a:stats().instructions, b:stats().instructions, a:stats().nics, b:stats().nics, sw:stats() }
    end
    local first = once()
    expect(first[1]).to_equal("poweroff")
    expect(once()).to_equal(first)
  end)

  it("connects two cards of one VM, and loops a card back to itself", function()
    local sw = vmlab.switch()
    local vm <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw }, { switch = sw, mac = A } } })
    expect(vm:run { max_instructions = 1e8 }).to_equal("poweroff")
    expect(vm:console()).to_match("nic 56 heard " .. A)
    -- Looped back, a card hears only its own address: the guest wants another's, so it fails,
    -- with every frame it sent received.
    local alone <close> = assert(vmlab.vm { kernel = guest, nics = { { loopback = true } } })
    local stop, details = alone:run { max_instructions = 1e8 }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(1)
    local n = alone:stats().nics[1]
    expect(n.frames_sent > 0).to_be(true)
    expect(n.frames_received + n.frames_dropped + n.backlog).to_equal(n.frames_sent)
  end)

  it("drops the frames of a card whose cable plugs into nothing", function()
    local vm <close> = assert(vmlab.vm { kernel = guest, nics = { {} } })
    local _, details = vm:run { max_instructions = 1e8 }
    expect(details.exit_code).to_equal(1)
    local n = vm:stats().nics[1]
    expect(n.mac).to_equal("52:54:00:12:34:56")
    expect(n.frames_dropped).to_equal(n.frames_sent)
    expect(n.frames_received).to_equal(0)
  end)

  it("lets go of a closed VM's card", function()
    local sw = vmlab.switch()
    local a = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = A } } })
    local b <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = B } } })
    a:close()
    expect(sw:stats().ports).to_equal(1)
    -- Its address is free again.
    local c <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = A } } })
    expect(tostring(sw)).to_equal("vmlab.Switch (2 cards)")
  end)

  it("feeds device_failure on a card: the frames it would receive are lost", function()
    local sw = vmlab.switch()
    local a <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = A } } })
    local b <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = B } } })
    a:inject { fault = "device_failure", device = "net0", count = 1000 }
    local stops = run_in_turns({ a, b }, 100000)
    expect(stops[1]).to_equal("poweroff")
    expect(a:console()).to_match("virtio_net: FAILED")
    expect(a:stats().nics[1].frames_received).to_equal(0)
    expect(a:stats().faults[1].fault).to_equal("device_failure")
  end)

  it("takes a card's link down with link_down: nothing crosses until it comes back", function()
    -- For good: A's card neither sends nor hears, so both guests fail.
    local sw = vmlab.switch()
    local a <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = A } } })
    local b <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = B } } })
    a:inject { fault = "link_down" }
    expect(a:stats().nics[1].link).to_equal("down")
    run_in_turns({ a, b }, 100000)
    expect(a:console()).to_match("virtio_net: FAILED")
    expect(b:console()).to_match("virtio_net: FAILED")
    local na = a:stats().nics[1]
    expect(na.frames_sent + na.frames_received).to_equal(0)
    expect(na.frames_dropped > 0).to_be(true)
    expect(sw:stats().frames_in).to_equal(b:stats().nics[1].frames_sent)
    expect(a:stats().faults[1].effect).to_equal("took the link of net0 (virtio-net) down, for good")

    -- For a while (5 ms of guest time, five broadcasts): frames are lost, then the guests pass.
    local sw2 = vmlab.switch()
    local c <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw2, mac = A } } })
    local d <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw2, mac = B } } })
    c:inject { fault = "link_down", device = "net0", cycles = 5000000 }
    expect(run_in_turns({ c, d }, 100000)).to_equal({ "poweroff", "poweroff" })
    expect(c:console()).to_match("virtio_net: PASS")
    expect(d:console()).to_match("virtio_net: PASS")
    local nc = c:stats().nics[1]
    expect(nc.link).to_equal("up")
    expect(nc.frames_dropped > 0).to_be(true)
    expect(c:stats().faults[1].effect).to_match("^took the link of net0 %(virtio%-net%) down for 5000000 cycles; up again at cycle %d+$")
  end)

  it("brings a link back at its cycle even to a guest asleep meanwhile", function()
    -- A kernel that sleeps for good: the link's return is a deadline of the machine, so the
    -- machine sleeps until then rather than going idle at once.
    local vm <close> = assert(vmlab.vm { image = vmlab.asm "1: wfi\n j 1b", firmware = "builtin", nics = { { loopback = true } } })
    vm:inject { fault = "link_down", cycles = 1000000000 }
    expect(vm:run { max_instructions = 1e6 }).to_equal("idle")
    local s = vm:stats()
    expect(s.nics[1].link).to_equal("up")
    expect(s.faults[1].effect).to_equal("took the link of net0 (virtio-net) down for 1000000000 cycles; up again at cycle 1000000000")
    expect(s.cycles.total >= 1000000000).to_be(true)
  end)

  it("plugs a card's cable back in with link_up", function()
    -- Down for good, up again after 5 ms of guest time by a second fault: both guests pass.
    local sw = vmlab.switch()
    local a <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = A } } })
    local b <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = B } } })
    a:inject { fault = "link_down" }
    a:inject { fault = "link_up", device = "net0", at = { cycles = 5000000 } }
    expect(run_in_turns({ a, b }, 100000)).to_equal({ "poweroff", "poweroff" })
    expect(a:console()).to_match("virtio_net: PASS")
    expect(b:console()).to_match("virtio_net: PASS")
    local s = a:stats()
    expect(s.nics[1].link).to_equal("up")
    expect(s.nics[1].frames_dropped > 0).to_be(true)
    expect(s.faults[1].effect).to_equal("took the link of net0 (virtio-net) down, for good")
    expect(s.faults[2].effect).to_equal("brought the link of net0 (virtio-net) back up")
    expect(s.faults[2].cycles >= 5000000).to_be(true)

    -- An early return cancels the one link_down planned, and that fault's effect says when.
    local vm <close> = assert(vmlab.vm { image = vmlab.asm "1: wfi\n j 1b", firmware = "builtin", nics = { { loopback = true } } })
    vm:inject { fault = "link_down", cycles = 1000000000 }
    vm:inject { fault = "link_up", at = { cycles = 2000000 } }
    expect(vm:run { max_instructions = 1e6 }).to_equal("idle")
    local t = vm:stats()
    expect(t.nics[1].link).to_equal("up")
    expect(t.faults[1].effect).to_match("^took the link of net0 %(virtio%-net%) down for 1000000000 cycles; up again at cycle %d+, by link_up$")
    expect(t.cycles.total < 1000000000).to_be(true)
  end)

  it("refuses link_up on what is not a card, and a link already up", function()
    local vm <close> = assert(vmlab.vm { kernel = guest, nics = { { loopback = true } } })
    expect(function() vm:inject { fault = "link_up", device = "disk0" } end)
      .to_raise("bad 'device' 'disk0' for fault 'link_up' %(expected net<n>%)")
    expect(function() vm:inject { fault = "link_up", device = "net2" } end)
      .to_raise("bad 'device' 'net2' for fault 'link_up': the VM has 1 network card")
    expect(function() vm:inject { fault = "link_up", cycles = 5 } end)
      .to_raise("unknown parameter 'cycles' for fault 'link_up' %(expected device%)")
    vm:inject { fault = "link_up" }
    expect(vm:stats().faults[1].effect).to_equal("not applied: the link of net0 (virtio-net) is already up")
    local none <close> = assert(vmlab.vm { kernel = guest })
    expect(function() none:inject { fault = "link_up" } end)
      .to_raise("bad 'device' 'net0' for fault 'link_up': the VM has 0 network cards")
  end)

  it("refuses link_down on what is not a card", function()
    local vm <close> = assert(vmlab.vm { kernel = guest, nics = { { loopback = true } } })
    expect(function() vm:inject { fault = "link_down", device = "disk0" } end)
      .to_raise("bad 'device' 'disk0' for fault 'link_down' %(expected net<n>%)")
    expect(function() vm:inject { fault = "link_down", device = "net1" } end)
      .to_raise("bad 'device' 'net1' for fault 'link_down': the VM has 1 network card")
    expect(function() vm:inject { fault = "link_down", cycles = 0 } end)
      .to_raise("bad 'cycles' 0 for fault 'link_down' %(expected at least 1%)")
    vm:inject { fault = "link_down" }
    vm:inject { fault = "link_down" }
    expect(vm:stats().faults[2].effect).to_equal("not applied: the link of net0 (virtio-net) is already down")
  end)

  it("names cards net0, net1... in the order the VM was given them", function()
    local sw = vmlab.switch()
    local vm <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw }, { switch = sw, mac = A } } })
    -- More drops than the guest sends in the two seconds it waits: the second card hears nothing.
    vm:inject { fault = "device_failure", device = "net1", count = 5000 }
    local _, details = vm:run { max_instructions = 1e8 }
    expect(details.exit_code).to_equal(1)
    local first, second = vm:stats().nics[1], vm:stats().nics[2]
    expect(second.mac).to_equal(A)
    expect(second.frames_received).to_equal(0)
    expect(second.frames_dropped).to_equal(first.frames_sent)
    expect(first.frames_received > 0).to_be(true)
    expect(vm:console()).to_match("nic 56 heard " .. A)
  end)
end)

describe("nics misuse", function()
  it("refuses one address twice on a switch, naming the card", function()
    local sw = vmlab.switch()
    local a <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = A } } })
    local vm, message = vmlab.vm { kernel = guest, nics = { { switch = sw, mac = A } } }
    expect(vm).to_be_nil()
    expect(message).to_equal("nic 1: another card on its switch already has the address " .. A .. "; give each card on a switch its own 'mac'")
    -- Two cards of one VM with the default addresses are told apart (:56, :57).
    local two <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw }, { switch = sw } } })
    expect(two:stats().nics[2].mac).to_equal("52:54:00:12:34:57")
    expect(sw:stats().ports).to_equal(3)
    -- A refused VM plugged nothing in.
    local again, why = vmlab.vm { kernel = guest, nics = { { switch = sw, mac = B }, { switch = sw } } }
    expect(again).to_be_nil()
    expect(why).to_match("nic 2: another card")
    expect(sw:stats().ports).to_equal(3)
  end)

  it("raises on a malformed card", function()
    local function build(nic) return function() vmlab.vm { kernel = guest, nics = { nic } } end end
    expect(build { mac = "52:54:00" }).to_raise("option 'nics' %[1%]: bad MAC address '52:54:00'")
    expect(build { mac = "01:00:5e:00:00:01" }).to_raise("is a multicast address")
    expect(build { switch = vmlab.switch(), loopback = true }).to_raise("'loopback' and 'switch' cannot be combined")
    expect(build { switch = "sw" }).to_raise("vmlab.Switch expected, got string")
    expect(build { port = 1 }).to_raise("port")
  end)

  it("places cards in the slots the disks leave", function()
    local vm, message = vmlab.vm { kernel = guest, nics = { { slot = 7 } }, disks = { { file = guest, slot = 7 } } }
    expect(vm).to_be_nil()
    expect(message).to_equal("disk 1 and nic 1 both ask for virtio-mmio slot 7")
  end)
end)

describe("a switch's capture", function()
  it("keeps the latest frames with their sender and time, and writes them as pcap", function()
    local sw = vmlab.switch { capture = 5 }
    local a <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = A } } })
    local b <close> = assert(vmlab.vm { kernel = guest, nics = { { switch = sw, mac = B } } })
    expect(run_in_turns({ a, b }, 100000)).to_equal({ "poweroff", "poweroff" })
    local s, frames = sw:stats(), sw:frames()
    expect(#frames).to_equal(5)
    expect(s.captured).to_equal(5)
    expect(s.capture_discarded).to_equal(s.frames_in - 5)
    local last = frames[5]
    expect(last.destination).to_equal("ff:ff:ff:ff:ff:ff")
    expect(last.ethertype).to_equal(0x88b5)
    expect(last.source).to_equal(last.card)
    expect(#last.bytes).to_equal(last.length)
    for i = 2, 5 do
      -- Each VM's clock runs on; a later frame of the same card is later.
      for j = 1, i - 1 do
        if frames[j].card == frames[i].card then expect(frames[i].time > frames[j].time).to_be(true) end
      end
    end
    local path = os.tmpname()
    expect(sw:write_pcap(path)).to_be(true)
    local f <close> = assert(io.open(path, "rb"))
    local pcap = f:read("a")
    os.remove(path)
    local magic, major, minor, _, _, _, link, at = string.unpack("<I4I2I2i4I4I4I4", pcap)
    expect({ magic, major, minor, link }).to_equal({ 0xa1b2c3d4, 2, 4, 1 })
    for i = 1, 5 do
      local seconds, micros, included, original
      seconds, micros, included, original, at = string.unpack("<I4I4I4I4", pcap, at)
      expect(seconds * 1000000 + micros).to_equal(frames[i].time // 10)
      expect({ included, original }).to_equal({ frames[i].length, frames[i].length })
      expect(pcap:sub(at, at + included - 1)).to_equal(frames[i].bytes)
      at = at + included
    end
    expect(at).to_equal(#pcap + 1)
  end)

  it("is off unless asked for; a bad size raises; an unwritable path is an expected failure", function()
    local sw = vmlab.switch()
    expect(sw:frames()).to_equal({})
    expect(sw:stats().captured).to_equal(0)
    expect(function() vmlab.switch { capture = -1 } end).to_raise("option 'capture': must be 0 to")
    local ok, message = sw:write_pcap("/nonexistent/dir/x.pcap")
    expect(ok).to_be_nil()
    expect(message).to_match("cannot write '/nonexistent/dir/x.pcap'")
  end)
end)
