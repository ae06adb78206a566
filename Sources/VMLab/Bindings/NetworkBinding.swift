import Boot
import Devices
import LuaKit

/// `vmlab.switch()`, the `vmlab.Switch` handle, and the `nics` option of `vmlab.vm` and `host:vm`:
/// virtio-net cards whose cables plug into an in-process Ethernet switch shared by VMs (or by two
/// cards of one VM). Frames cross the switch synchronously as a card sends them, so two VMs that
/// run in turns (`host:run`, or `vm:run` budgets in a loop) exchange the same frames at the same
/// instructions in every run.
enum NetworkBinding {
    static func contribute(to module: inout LuaModule) {
        module.functions.append(newSwitch)
        module.classes.append(LuaDocClass(SwitchHandle.luaClass))
        module.classes.append(statsClass)
        module.classes.append(frameClass)
    }

    static let nicOptions: [LuaOption] = [
        LuaOption("mac", .string, "The card's address, \"52:54:00:00:00:0a\" (or with dashes), a unicast one. Default: QEMU's, 52:54:00:12:34:56 for the VM's first card without one, :57 for the next... so cards of two VMs on one switch need theirs given: the same address twice on a switch returns `nil, message`."),
        LuaOption("switch", .object("vmlab.Switch"), "The switch its cable plugs into (`vmlab.switch()`). Without it (and without `loopback`) the cable plugs into nothing: frames sent are dropped and counted."),
        LuaOption("loopback", .boolean, "Frames the card sends come straight back to it (default false); not with `switch`."),
        LuaOption("slot", .integer, "The virtio-mmio slot, 0 to 7, as a disk's. Default: the highest slot still free once the disks have theirs."),
    ]

    static let nicsOption = LuaOption(
        "nics", .list(.options(name: "vmlab.NICOptions", nicOptions)),
        "virtio-net cards (virtio 1.2 §5.1: a MAC, link up, no offloads), in the slots the disks leave, from the top. Cards on one `vmlab.switch()` exchange Ethernet frames; see `vm:stats().nics`.")

    /// The cards of `vmlab.vm{ nics = ... }`, and the switch of each (nil: none). Misuse raises.
    static func read(_ value: LuaValue, argument: Int32) throws -> (nics: [NICConfiguration], switches: [NetworkSwitch?]) {
        var nics: [NICConfiguration] = []
        var switches: [NetworkSwitch?] = []
        for (i, item) in value.arrayItems.enumerated() {
            let place = "option 'nics' [\(i + 1)]"
            var nic = NICConfiguration(slot: item["slot"].int64.map { Int(clamping: $0) }, loopback: item["loopback"].bool ?? false)
            if let text = item["mac"].string {
                guard let mac = VirtioNet.parseMAC(text) else {
                    throw LuaRaise.argument(argument, "\(place): bad MAC address '\(text)' (expected six two-digit hex bytes, e.g. \"52:54:00:00:00:0a\")")
                }
                guard mac[0] & 1 == 0 else {
                    throw LuaRaise.argument(argument, "\(place): \(text) is a multicast address (the low bit of its first byte is set); a card needs a unicast one")
                }
                nic.mac = mac
            }
            var networkSwitch: NetworkSwitch?
            if case .object(let box) = item["switch"] {
                // The option's type (`vmlab.Switch`) was checked with the options.
                networkSwitch = (box.object as? SwitchHandle)?.networkSwitch
                if nic.loopback {
                    throw LuaRaise.argument(argument, "\(place): 'loopback' and 'switch' cannot be combined: a looped-back card's frames never leave it")
                }
            }
            nics.append(nic)
            switches.append(networkSwitch)
        }
        return (nics, switches)
    }

    static let switchOptions: [LuaOption] = [
        LuaOption("capture", .integer, "Keep the most recent N frames that enter the switch (default 0: none), for `switch:frames()` and `switch:write_pcap(path)`: a port mirror, which records every frame whatever the switch then does with it."),
    ]

    /// The most frames a capture may keep: each may be a jumbo frame of up to 64 KiB.
    static let maximumCapture: Int64 = 1 << 16

    static let newSwitch = LuaFunction(
        "switch",
        summary: "An Ethernet switch for the `nics` of VMs: it learns the source address of each frame, sends a frame for a known address to that card only, and floods broadcasts, multicasts and unknown addresses to every other card, in the order they were plugged in. A card leaves it when its VM is closed.",
        parameters: [.optional("options", .options(name: "vmlab.SwitchOptions", switchOptions))],
        returns: [LuaReturn(.object("vmlab.Switch"), "switch")]
    ) { call in
        let o = try call.options(1)
        let handle = SwitchHandle()
        if let capture = o.integer("capture") {
            guard (0...maximumCapture).contains(capture) else {
                throw LuaRaise.argument(1, "option 'capture': must be 0 to \(maximumCapture) frames, got \(capture)")
            }
            handle.networkSwitch.captureLimit = Int(capture)
        }
        return [.object(handle)]
    }

    static let frameClass = LuaDocClass(
        "vmlab.CapturedFrame", summary: "One frame of `switch:frames()`.",
        fields: [
            .required("card", .string, "The address of the card that sent it (the switch port's card, whatever the frame's own source field says)."),
            .required("time", .integer, "The sender's guest time when it sent the frame, in ticks of the 10 MHz timebase (`mtime`)."),
            .optional("destination", .string, "The frame's destination address (ff:ff:ff:ff:ff:ff for a broadcast)."),
            .optional("source", .string, "The frame's source address, as the guest wrote it."),
            .optional("ethertype", .integer, "The frame's EtherType (0x0800 IPv4, 0x0806 ARP, ...). The three header fields are absent for a frame shorter than a header."),
            .required("length", .integer, "Bytes in the frame (headers included, no frame check sequence)."),
            .required("bytes", .string, "The whole frame."),
        ])

    static let statsClass = LuaDocClass(
        "vmlab.SwitchStats", summary: "What `switch:stats()` returns: a plain table.",
        fields: [
            .required("frames_in", .integer, "Frames cards sent into the switch."),
            .required("frames_delivered", .integer, "Copies of frames handed to receiving cards (a flooded frame counts once per card)."),
            .required("frames_flooded", .integer, "Frames sent to every other card: broadcast, multicast, or for an address the switch has not learnt."),
            .required("frames_dropped", .integer, "Frames the switch dropped: shorter than an Ethernet header, or for the card that sent them or for one that has left."),
            .required("ports", .integer, "Cards plugged in now."),
            .required("captured", .integer, "Frames the capture holds now (0 without `capture`)."),
            .required("capture_discarded", .integer, "Frames the capture recorded and let go of to keep only the most recent `capture`."),
        ])

    static let methods: [LuaFunction] = [
        .method("stats", of: "vmlab.Switch", summary: "The switch's counters (see `vmlab.SwitchStats`).",
                returns: [LuaReturn(.documented("vmlab.SwitchStats"), "stats")]) { call in
            let networkSwitch = try call.object(1, as: SwitchHandle.self).networkSwitch
            let s = networkSwitch.statistics
            return [.record([
                "frames_in": .unsigned(s.framesIn), "frames_delivered": .unsigned(s.framesDelivered),
                "frames_flooded": .unsigned(s.framesFlooded), "frames_dropped": .unsigned(s.framesDropped),
                "ports": .integer(Int64(networkSwitch.portCount)),
                "captured": .integer(Int64(networkSwitch.captured.count)),
                "capture_discarded": .unsigned(networkSwitch.capturesDiscarded),
            ])]
        },
        .method("frames", of: "vmlab.Switch", summary: "The frames the capture holds, oldest first (empty without `capture`).",
                returns: [LuaReturn(.list(.documented("vmlab.CapturedFrame")), "frames")]) { call in
            let networkSwitch = try call.object(1, as: SwitchHandle.self).networkSwitch
            return [.array(networkSwitch.captured.map { frame in
                let b = frame.bytes
                var fields: [String: LuaValue] = [
                    "card": .string(VirtioNet.describeMAC(frame.sender)), "time": .unsigned(frame.mtime ?? 0),
                    "length": .integer(Int64(b.count)), "bytes": .bytes(b),
                ]
                if b.count >= 14 {
                    fields["destination"] = .string(VirtioNet.describeMAC(Array(b[0..<6])))
                    fields["source"] = .string(VirtioNet.describeMAC(Array(b[6..<12])))
                    fields["ethertype"] = .integer(Int64(b[12]) << 8 | Int64(b[13]))
                }
                return .record(fields)
            })]
        },
        .method("write_pcap", of: "vmlab.Switch", summary: "Writes the capture to `path` as a libpcap file (Ethernet; each frame stamped with its sender's guest time), for Wireshark or tcpdump. Returns true, or `nil, message` when the file cannot be written.",
                parameters: [.required("path", .string)],
                returns: [LuaReturn(.boolean, "ok"), LuaReturn(.string, "message")]) { call in
            let networkSwitch = try call.object(1, as: SwitchHandle.self).networkSwitch
            let path = try call.string(2)
            do throws(BootError) {
                try HostFile.write(networkSwitch.pcap(), to: path)
            } catch {
                return LuaValue.failure(error.description)   // "cannot write 'x.pcap': No such file or directory"
            }
            return [.boolean(true)]
        },
    ]
}

/// A `NetworkSwitch` as Lua holds it. The VMs whose cards are plugged in keep the switch too, so
/// dropping this handle cuts no cable.
final class SwitchHandle: LuaObject {
    let networkSwitch = NetworkSwitch()

    static let luaClass = LuaClass(
        "vmlab.Switch",
        summary: "An Ethernet switch made by `vmlab.switch()`; VMs plug cards into it with `nics = { { switch = sw } }`.",
        methods: NetworkBinding.methods,
        describe: { object in
            guard let handle = object as? SwitchHandle else { return "vmlab.Switch" }
            let n = handle.networkSwitch.portCount
            return "vmlab.Switch (\(n) card\(n == 1 ? "" : "s"))"
        })
}
