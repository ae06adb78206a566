import Hypervisor
import LuaKit
import Testing
@testable import VMLab

/// `profile=` and `vm:stats().cycles`: the machine charges the chosen profile, and the split by
/// category and event is that profile's prices times the machine's own event counts.

private func tinyos(_ profile: CostProfile, bootargs: String = "bench=syscall n=10") throws -> VirtualMachine {
    var spec = VMSpec()
    spec.kernel = try Guests.path(of: "tinyos")
    spec.bootargs = bootargs
    spec.profile = profile
    return try VirtualMachine(spec)
}

/// The sum of `cycles.by_category` (waiting included).
private func categorySum(_ stats: VMStats) -> UInt64 {
    guard case .group(let entries) = stats.node("cycles.by_category") else { return 0 }
    return entries.reduce(0) { sum, entry in
        if case .count(let n) = entry.1 { return sum + n }
        return sum
    }
}

@Test(arguments: CostProfile.names)
func cyclesFollowTheProfileAndSumToTheMachineClock(name: String) throws {
    let profile = try CostProfile.named(name)
    let vm = try tinyos(profile)
    let board = try vm.live()
    #expect(board.machine.costs == profile.machineCostTable)
    #expect(vm.run(maxInstructions: 50_000_000).name == "poweroff")
    let stats = try #require(vm.stats)
    #expect(stats.text("profile") == name)
    // One hart: the categories (with waiting) are the machine's clock to the cycle.
    #expect(stats["cycles.total"] == board.machine.cycles)
    #expect(categorySum(stats) == board.machine.cycles)
    // Every event's cycles are its count times this profile's price.
    for event in CostEvent.allCases {
        let count = try #require(stats["cycles.by_event.\(event.name).count"])
        #expect(stats["cycles.by_event.\(event.name).cycles"] == count * profile.cycles(event))
    }
    #expect(stats["cycles.by_event.instruction.count"] == stats["instructions"])
    #expect(stats["cycles.by_event.firmware_call.count"]! > 0)
    // Guest-visible time follows the modelled cycles.
    #expect(board.machine.mtime == board.machine.cycles / 100)
}

/// The same guest under two profiles that differ only in the price of a firmware call: it
/// retires the same instructions and makes the same N SBI calls, and costs N × the difference more.
@Test func aDearerFirmwareCallCostsEveryCallMore() throws {
    let base = try CostProfile.named("classic-2006")
    let dearer = try base.with(["firmware_call": Int(base.cycles(.firmwareCall)) + 1000])
    // tinyos's shell idles on WFI between timer ticks; `bench=none`-style runs end at the budget,
    // so compare at a point both runs reach with the same work: the benchmark's power-off.
    let a = try tinyos(base), b = try tinyos(dearer)
    #expect(a.run(maxInstructions: 50_000_000).name == "poweroff")
    #expect(b.run(maxInstructions: 50_000_000).name == "poweroff")
    let sa = try #require(a.stats), sb = try #require(b.stats)
    #expect(sb.text("profile") == "classic-2006 (edited: firmware_call=\(base.cycles(.firmwareCall) + 1000))")
    let calls = try #require(sa["cycles.by_event.firmware_call.count"])
    #expect(calls > 0)
    #expect(sb["cycles.by_event.firmware_call.count"] == calls)
    #expect(sb["instructions"] == sa["instructions"])
    #expect(sb["cycles.by_category.trap"]! - sa["cycles.by_category.trap"]! == calls * 1000)
}

/// Issue 6 acceptance: the same run twice gives bit-identical statistics.
@Test func theSameRunTwiceGivesIdenticalStatistics() throws {
    func once() throws -> VMStats {
        let vm = try tinyos(CostProfile.named("core2-2006"))
        _ = vm.run(maxInstructions: 2_000_000)
        return try #require(vm.stats)
    }
    let first = try once(), second = try once()
    #expect(first == second)
    #expect(first.lines == second.lines)
    #expect(first["cycles.total"]! > 0)
}

/// From Lua: a profile table reads back as the profile it describes, and edits in place count.
@Test func profileTablesRoundTrip() throws {
    let lua = LuaState()
    lua.preload("vmlab", VMLab.module.table)
    let results = try lua.run("""
        local vmlab = require "vmlab"
        local p = vmlab.costs("modern", { vm_entry = 1000 })
        p.trap = 3
        local vm <close> = assert(vmlab.vm { image = vmlab.asm("wfi"), profile = p })
        return vm:stats().profile, tostring(vmlab.vm { image = vmlab.asm("wfi"), profile = "core2-2006" })
        """)
    #expect(results.first == .string("modern (edited: trap=3, vm_entry=1000)"))
    #expect(results.dropFirst().first == .string("vmlab.VM (native, 128 MiB, 1 hart, core2-2006)"))
}

/// Several harts: `total` is the machine's clock, and the categories split the harts' clocks
/// added together (each hart's work, priced, plus its waiting).
@Test func severalHartsSplitTheirClocksAddedTogether() throws {
    var spec = VMSpec()
    spec.harts = 2
    spec.image = [0x6F, 0x00, 0x00, 0x00]   // 1: j 1b
    spec.profile = try CostProfile.named("modern")
    let vm = try VirtualMachine(spec)
    #expect(vm.run(maxInstructions: 10_000).name == "budget")
    let machine = try vm.live().machine
    let stats = try #require(vm.stats)
    #expect(stats["cycles.total"] == machine.cycles)
    let hartClocks = (0..<machine.hartCount).reduce(UInt64(0)) { $0 + machine.counters(hart: $1).cycles }
    #expect(categorySum(stats) == hartClocks)
    #expect(stats["cycles.by_category.guest"] == stats["instructions"]! * spec.profile.cycles(.instruction))
}
