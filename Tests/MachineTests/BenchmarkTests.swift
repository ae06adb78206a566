import Foundation
import Testing
import Machine

// The benchmark guests (labs/guests/bench) run on this hart, printing MIPS. Only when
// VMLAB_BENCH=1 (they take seconds and mean something only in a release build:
// `VMLAB_BENCH=1 swift test -c release --filter MachineTests.benchmarkGuest`).

enum BenchGuests {
    static let enabled = ProcessInfo.processInfo.environment["VMLAB_BENCH"] == "1"
    static let names = ProcessInfo.processInfo.environment["VMLAB_BENCH_ONLY"].map { [$0] } ?? ["cpu", "paging", "ecall"]
}

@Test(.enabled(if: BenchGuests.enabled), .serialized, arguments: BenchGuests.names)
func benchmarkGuest(_ name: String) throws {
    try Guest.sh([Guest.root.appendingPathComponent("scripts/build-guests").path, "bench"])
    let image = Array(try Data(contentsOf: Guest.root.appendingPathComponent(".build/guests/bench/\(name).bin")))
    let rig = Guest.Rig { $0.ramSize = 128 << 20 }
    rig.boot(image)
    // Thread CPU time as well as wall time: on a shared, loaded machine the former is steadier.
    func cpuTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    let c0 = cpuTime()
    let t0 = Date()
    // VMLAB_BENCH_MAX caps the instructions (for instruction-counting profilers such as callgrind).
    let cap = ProcessInfo.processInfo.environment["VMLAB_BENCH_MAX"].flatMap { UInt64($0) }
    let stop = rig.run(cap ?? 4_000_000_000)
    let dt = Date().timeIntervalSince(t0)
    let ct = cpuTime() - c0
    let c = rig.machine.counters()
    let mips = Double(c.instructions) / dt / 1e6
    print("bench \(name): \(c.instructions) instructions in \(String(format: "%.3f", dt)) s = \(String(format: "%.1f", mips)) MIPS (CPU time \(String(format: "%.3f", ct)) s = \(String(format: "%.1f", Double(c.instructions) / ct / 1e6)) MIPS); tlb hits \(c.tlb.hits) misses \(c.tlb.misses) walk refs \(c.tlb.walkReferences); exceptions \(c.exceptions.reduce(0, +))")
    #expect(stop == (cap == nil ? .poweredOff(code: 0) : .budgetExhausted))
}

/// The CPU-bound benchmark guests (cpu, mix, bytecode) and the dispatch microbenchmarks (same,
/// varied, chain) check their own results; here they run to completion in every test run, so that
/// a guest which no longer passes is found before someone times it. Under the native-code engine
/// they take about a second together; where it cannot run (a host without it falls back to the
/// block engine, slow in a debug build), they are skipped. Misaligned accesses trap here, as they
/// do on Spike, which scripts/bench also runs these guests on: a guest that relied on the hardware
/// handling them would fault there.
@Test(arguments: ["cpu", "mix", "bytecode", "same", "varied", "chain"])
func computeBoundBenchGuestPasses(_ name: String) throws {
    try Guest.sh([Guest.root.appendingPathComponent("scripts/build-guests").path, "bench"])
    let image = Array(try Data(contentsOf: Guest.root.appendingPathComponent(".build/guests/bench/\(name).bin")))
    let rig = Guest.Rig { $0.engine = .jit; $0.misaligned = .trap }
    guard rig.machine.effectiveEngine == .jit else { return }
    rig.boot(image)
    // None of them traps. The start-up (clearing .bss) is over well within the first 100 000
    // instructions; a fault there would loop on a trap vector of 0 until the budget, so stop early.
    #expect(rig.run(100_000) == .budgetExhausted)
    let faults = rig.machine.counters().exceptions.reduce(0, +)
    #expect(faults == 0, "\(name) trapped during start-up")
    guard faults == 0 else { return }
    #expect(rig.run(3_000_000_000) == .poweredOff(code: 0))
    #expect(rig.machine.counters().instructions > 100_000_000)
}
