import Foundation
import Testing

/// Writes a script into a fresh directory and returns the directory.
private func scriptDirectory(_ name: String, _ code: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try code.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    return dir
}

@Test func runSetsArgLikeTheLuaInterpreter() throws {
    let dir = try scriptDirectory("args.lua", """
        print(arg[0], arg[1], arg[2], #arg, select('#', ...), ...)
        print(arg[-1])
        """)
    defer { try? FileManager.default.removeItem(at: dir) }
    let t = try vmlab(["run", "args.lua", "--", "one", "two"], in: dir)
    #expect(t.status == 0)
    #expect(t.lines == ["args.lua\tone\ttwo\t2\t2\tone\ttwo", "run"])
    let plain = try vmlab(["run", "args.lua", "x"], in: dir)
    #expect(plain.lines.first == "args.lua\tx\tnil\t1\t1\tx")
}

@Test func runEvaluatesCodeWithTheModulePreloaded() throws {
    let t = try vmlab(["run", "-e", "print(vmlab.hex(-1))", "-e", "print(require('vmlab').version ~= nil)"])
    #expect(t.status == 0)
    #expect(t.lines == ["0xffffffffffffffff", "true"])
}

@Test func scriptErrorsPrintPositionAndTracebackAndExit1() throws {
    let dir = try scriptDirectory("broken.lua", """
        print("before the error")
        local function f() error("it went wrong") end
        f()
        """)
    defer { try? FileManager.default.removeItem(at: dir) }
    let t = try vmlab(["run", "broken.lua"], in: dir)
    #expect(t.status == 1)
    #expect(t.stdout == "before the error\n")
    #expect(t.stderr.hasPrefix("broken.lua:2: it went wrong\nstack traceback:\n"))
    #expect(t.stderr.contains("broken.lua:3: in main chunk"))
}

@Test func labChecksRunAfterTheScript() throws {
    let dir = try scriptDirectory("lab.lua", """
        print("lab body")
        vmlab.check("passes", function() expect(1).to_equal(1) end)
        vmlab.check("fails", function() expect("a").to_equal("b") end)
        """)
    defer { try? FileManager.default.removeItem(at: dir) }
    let t = try vmlab(["run", "lab.lua"], in: dir)
    #expect(t.status == 1)
    #expect(withoutTimes(t.lines) == [
        "lab body", "ok   lab.lua › passes", "FAIL lab.lua › fails",
        "     lab.lua:3: expected: \"a\" to equal \"b\"", "1 passed, 1 failed",
    ])
}

@Test func theFirstLabRunsAndPasses() throws {
    let t = try vmlab(["run", "labs/00-hello.lua"], in: packageRoot)
    #expect(t.status == 0)
    #expect(t.lines.first == "vmlab 0.1.0")
    #expect(t.lines.contains("the guest said: hello from RISC-V"))
    #expect(t.lines.last == "3 passed, 0 failed")
}

@Test func scriptsRequireModulesBesideThem() throws {
    let dir = try scriptDirectory("main.lua", "local helper = require 'helper' print(helper.greeting)")
    defer { try? FileManager.default.removeItem(at: dir) }
    try "return { greeting = 'hello from the helper' }".write(to: dir.appendingPathComponent("helper.lua"),
                                                          atomically: true, encoding: .utf8)
    let t = try vmlab(["run", dir.appendingPathComponent("main.lua").path], in: packageRoot)
    #expect(t.status == 0)
    #expect(t.lines == ["hello from the helper"])
}

/// `vmlab.guest` runs the checkout's build script once per folder and process: a lab asks for its
/// guests many times, and each check hashes the folder's sources. A failed build is tried again,
/// and so is a folder whose ELF has gone since.
@Test func aGuestFolderIsBuiltOncePerProcess() throws {
    try withTemporaryDirectory { root in
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("scripts"), withIntermediateDirectories: true)
        for folder in ["tiny", "broken"] {
            try fm.createDirectory(at: root.appendingPathComponent("labs/guests/\(folder)"), withIntermediateDirectories: true)
        }
        // A stand-in for scripts/build-guests: logs each call, makes the ELF of `tiny`, fails `broken`.
        let script = root.appendingPathComponent("scripts/build-guests")
        try """
            #!/bin/sh
            echo "$1" >> "$VMLAB_GUESTS_OUT/calls"
            [ "$1" = broken ] && { echo "no compiler here" >&2; exit 1; }
            mkdir -p "$VMLAB_GUESTS_OUT/$1" && : > "$VMLAB_GUESTS_OUT/$1/$1.elf"
            """.write(to: script, atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let output = root.appendingPathComponent("out")
        let t = try vmlab(["run", "-e", """
            local elf = os.getenv "VMLAB_GUESTS_OUT" .. "/tiny/tiny.elf"
            for _ = 1, 3 do assert(vmlab.guest "tiny" == elf) end
            for _ = 1, 2 do print((select(2, pcall(vmlab.guest, "broken")))) end
            os.remove(elf)   -- gone since: built again
            assert(vmlab.guest "tiny" == elf and io.open(elf))
            """], environment: ["VMLAB_ROOT": root.path, "VMLAB_GUESTS_OUT": output.path])
        #expect(t.status == 0, "\(t.stderr)")
        let failure = ["building guest 'broken' failed (scripts/build-guests broken, status 1):", "no compiler here"]
        #expect(t.lines == failure + failure)
        let calls = try String(contentsOf: output.appendingPathComponent("calls"), encoding: .utf8)
        #expect(calls == "tiny\nbroken\nbroken\ntiny\n")
    }
}

/// A snapshot file made in one process restores in another, and two processes write the same
/// snapshot to the same bytes (Swift seeds its hashing per process: saved sets and dictionaries
/// must not come out in hash order).
@Test func snapshotFilesCrossProcessesByteForByte() throws {
    let dir = try scriptDirectory("snap.lua", """
        local vm <close> = vmlab.vm { mode = "trap", kernel = vmlab.guest "tinyos", bootargs = "bench=fork n=2", memory = "16M" }
        local path = arg[2]
        if arg[1] == "save" then
          vm:run { max_instructions = 300000 }
          vm:snapshot():save(path)
        else
          vm:restore(vmlab.load_snapshot(path))
          print(vm:stats().instructions, (vm:run()), vm:console():match("bench=fork iterations=%d+ status=%w+"))
        end
        """)
    defer { try? FileManager.default.removeItem(at: dir) }
    let first = dir.appendingPathComponent("first.snap").path, second = dir.appendingPathComponent("second.snap").path
    #expect(try vmlab(["run", "snap.lua", "save", first], in: dir).status == 0)
    #expect(try vmlab(["run", "snap.lua", "save", second], in: dir).status == 0)
    let same = FileManager.default.contentsEqual(atPath: first, andPath: second)
    #expect(same)
    let restored = try vmlab(["run", "snap.lua", "restore", first], in: dir)
    #expect(restored.status == 0, "\(restored.stderr)")
    // The run goes on from where the first process stopped (the budget, near 300 000 instructions).
    let fields = restored.lines.first?.split(separator: "\t") ?? []
    #expect(fields.count == 3 && fields[1] == "poweroff" && fields[2] == "bench=fork iterations=2 status=ok", "\(restored.lines)")
    #expect((290_000...300_000).contains(Int(fields.first ?? "") ?? 0))
}
