import Foundation
import Testing

// Ctrl-C: the first SIGINT stops the running machine and ends the run with a message (and, under
// `vmlab run`, the Lua error "interrupted!" with a traceback at the script's line).

/// Starts vmlab with `arguments`, waits until its standard output contains `marker`, sends SIGINT
/// and returns what it printed and its status.
private func interrupt(_ arguments: [String], after marker: String) throws -> Transcript {
    try vmlab(arguments) { run in
        // The marker is printed before the long run starts; the signal may then arrive before or
        // during it, and either way must stop it.
        var seen = false
        for _ in 0..<1200 where !seen {
            seen = run.stdout.contains(marker)
            if !seen { usleep(100_000) }
        }
        #expect(seen, "vmlab never printed \(marker)")
        kill(run.process.processIdentifier, SIGINT)
    }
}

@Test func ctrlCInterruptsALabWhereItIs() throws {
    _ = try guest("tinyos", "tinyos")
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-int-\(UUID().uuidString).lua")
    try """
    local vmlab = require "vmlab"
    local vm <close> = vmlab.vm { kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=1000000000" }
    print("running")
    io.stdout:flush()
    local stop = vm:run {}
    print("after the run", stop)
    """.write(to: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: script) }
    let t = try interrupt(["run", script.path], after: "running")
    #expect(t.status == 1)
    #expect(t.stderr.contains("\(script.lastPathComponent):5: interrupted!") || t.stderr.contains(":5: interrupted!"),
            "stderr: \(t.stderr)")
    #expect(t.stderr.contains("in method 'run'"), "stderr: \(t.stderr)")
    #expect(!t.stdout.contains("after the run"))
}

@Test func ctrlCStopsABootAndItsStatsArePrinted() throws {
    let tinyos = try guest("tinyos", "tinyos")
    let t = try interrupt(["boot", tinyos, "--append", "bench=syscall n=1000000000", "--stats"], after: "bench=syscall begin")
    #expect(t.status == 1)
    #expect(t.stderr.contains("vmlab: interrupted"), "stderr: \(t.stderr)")
    #expect(t.stderr.contains("\ninstructions "), "the counters come first: \(t.stderr)")
}

/// Where Ctrl-C is caught (`vmlab run`), slices are cut at 2^24 instructions so that the signal is
/// seen soon; that must change nothing. The `same` benchmark guest runs 360 M instructions in
/// what is otherwise one slice; `vmlab test` runs the same script without the cut.
@Test func cuttingSlicesForCtrlCChangesNoCounter() throws {
    _ = try guest("bench", "same")
    try withTemporaryDirectory { dir in
        let script = dir.appendingPathComponent("cut_test.lua")
        try """
        local vmlab = require "vmlab"
        local vm <close> = vmlab.vm { kernel = "\(packageRoot.path)/.build/guests/bench/same.elf" }
        local stop = vm:run {}
        local s = vm:stats()
        local out = assert(io.open(os.getenv("CUT_OUT"), "w"))
        out:write(tostring(stop), " ", s.instructions, " ", s.cycles.total, " ", s.traps.total, "\\n")
        out:close()
        """.write(to: script, atomically: true, encoding: .utf8)
        let cut = dir.appendingPathComponent("cut.txt"), whole = dir.appendingPathComponent("whole.txt")
        let run = try vmlab(["run", script.path], environment: ["CUT_OUT": cut.path])
        let test = try vmlab(["test", script.path], environment: ["CUT_OUT": whole.path])
        #expect(run.status == 0 && test.status == 0, "\(run.stderr)\(test.stdout)")
        let a = try String(contentsOf: cut, encoding: .utf8), b = try String(contentsOf: whole, encoding: .utf8)
        #expect(a == b)
        #expect(a.hasPrefix("poweroff 360000028 "), "\(a)")
    }
}
