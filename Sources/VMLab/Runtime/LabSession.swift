import Foundation
import LuaKit

/// A Lua state with the vmlab module loaded, the check API installed and busted-style globals set:
/// the environment every lab and test file runs in (`vmlab run`, `vmlab test` workers).
public final class LabSession {
    public let lua: LuaState
    /// The check API's session table (Checks+Lua.swift): `count`, `run`.
    private let checks: LuaValue

    public init() throws(LuaError) {
        lua = LuaState()
        let module = VMLab.module
        lua.preload("vmlab", module.table)
        let host: LuaValue = ["clock": .function(LabSession.clock)]
        checks = try lua.run(Checks.luaSource, chunkName: "=vmlab.checks", args: [host]).first ?? .nil
        // The module is preloaded for `require "vmlab"` and also a global, like a library the
        // interpreter opened; busted-style names (`describe`, `it`, `expect`...) are globals too.
        let aliases = LuaValue.array(module.globalAliases.map { .string($0) })
        try lua.run("""
            local vmlab, aliases = require "vmlab", ...
            _G.vmlab = vmlab
            for _, name in ipairs(aliases) do _G[name] = vmlab[name] end
            """, chunkName: "=vmlab.globals", args: [aliases])
    }

    /// Sets the standard interpreter's `arg` table: `arg[0]` is the script, `arg[1...]` its
    /// arguments, negative indices the interpreter's own words before the script.
    public func setArguments(script: String, arguments: [String], interpreter: [String]) {
        var table: [LuaValue: LuaValue] = [.integer(0): .string(script)]
        for (i, word) in arguments.enumerated() { table[.integer(Int64(i + 1))] = .string(word) }
        for (i, word) in interpreter.reversed().enumerated() { table[.integer(-Int64(i + 1))] = .string(word) }
        lua.setGlobal("arg", .table(table))
    }

    /// Runs a script file; its chunk name is "@path" so messages read "path:line: ...". Modules
    /// next to the script can be required by name (`require "helpers"` finds helpers.lua beside
    /// it), wherever vmlab was started from.
    public func runFile(_ path: String, arguments: [String] = []) throws(LuaError) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        try lua.run("""
            local dir = ...
            if not package.path:find(dir .. "/?.lua;", 1, true) then
              package.path = dir .. "/?.lua;" .. dir .. "/?/init.lua;" .. package.path
            end
            """, chunkName: "=vmlab.path", args: [.string(directory.isEmpty ? "/" : directory)])
        try lua.runFile(path, args: arguments.map { .string($0) })
    }

    /// Makes `os.tmpname()` create its files in `directory` (a `vmlab test` worker's own, which
    /// the runner removes when the worker ends, however it ends) instead of /tmp, where the files
    /// of a worker killed by the time-out would stay. Like Lua's, it creates the file (mkstemp)
    /// and returns its name.
    public func keepTemporaryFiles(in directory: String) throws(LuaError) {
        let tmpname = LuaFunction("tmpname", body: { _ in
            guard let path = LabSession.makeTemporaryFile(in: directory) else {
                throw LuaRaise.message("unable to generate a unique filename in \(directory)")
            }
            return [.string(path)]
        })
        _ = try lua.run("os.tmpname = ...", chunkName: "=vmlab.tmpname", args: [.function(tmpname)])
    }

    /// A new empty file named like Lua's (`lua_XXXXXX`) in `directory`, or nil.
    static func makeTemporaryFile(in directory: String) -> String? {
        var template = Array((directory + "/lua_XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        close(fd)
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Runs a string of code (as `vmlab run -e`).
    public func run(_ code: String, chunkName: String = "=(command line)") throws(LuaError) {
        try lua.run(code, chunkName: chunkName)
    }

    /// The number of checks the scripts run so far have declared.
    public var checkCount: Int {
        let count = (try? lua.call(checks["count"]).first) ?? .nil
        return Int(count.int64 ?? 0)
    }

    /// Runs the declared checks whose full name ("file › describe › it") contains the Lua pattern
    /// `filter`, calling `starting` before and `report` after each one. `starting` is given the
    /// check's names and its position among all declared checks (from 1, whatever the filter);
    /// the first `after` declared checks are passed over, so a run can resume after a check that
    /// ended the process it ran in.
    public func runChecks(file: String, filter: String?, after: Int = 0,
                          starting: (([String], Int) -> Void)? = nil,
                          report: @escaping (TestResult) -> Void) throws(LuaError) {
        let sink = ResultSink(file: file, report: report, starting: starting)
        let reporter = LuaFunction("report", body: { call in
            let names = (try call.value(1)).arrayItems.compactMap(\.string)
            let status = TestResult.Status(rawValue: try call.string(2)) ?? .fail
            let seconds = try call.number(3)
            let message = try call.optionalString(4)
            sink.report(TestResult(file: sink.file, names: names, status: status, seconds: seconds, message: message))
            return []
        })
        let starter = LuaFunction("starting", body: { call in
            sink.starting?((try call.value(1)).arrayItems.compactMap(\.string), Int(try call.integer(2)))
            return []
        })
        try lua.call(checks["run"], [.string(file), filter.map { .string($0) } ?? .nil, .function(reporter),
                                     starting == nil ? .nil : .function(starter), .integer(Int64(max(0, after)))])
    }

    /// Monotonic seconds, for timing checks.
    static let clock = LuaFunction("clock", body: { _ in [.number(ProcessInfo.processInfo.systemUptime)] })
}

/// Carries the report callback into a LuaFunction body. A session is used on one thread only (the
/// Lua state's), so the unchecked Sendable is sound.
private final class ResultSink: @unchecked Sendable {
    let file: String
    let report: (TestResult) -> Void
    let starting: (([String], Int) -> Void)?
    init(file: String, report: @escaping (TestResult) -> Void, starting: (([String], Int) -> Void)?) {
        self.file = file
        self.report = report
        self.starting = starting
    }
}
