import Foundation
import Testing
@testable import LuaKit

@Test func tracebacksNameFileAndLine() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("luakit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("script.lua").path
    // Lua's messages name a file of more than 59 bytes by "..." and its last 56 (luaO_chunkid,
    // LUA_IDSIZE 60): with a temporary folder longer than /tmp, so is this one.
    let path = file.utf8.count <= 59 ? file : "..." + String(decoding: file.utf8.suffix(56), as: UTF8.self)
    try """
    local function inner()
      error("deep trouble")
    end
    local function outer() inner() end
    outer()
    """.write(toFile: file, atomically: true, encoding: .utf8)
    let lua = LuaState()
    do {
        try lua.runFile(file)
        Issue.record("the script should fail")
    } catch {
        #expect(error.message == "\(path):2: deep trouble")
        let traceback = try #require(error.traceback)
        #expect(traceback.hasPrefix("stack traceback:"))
        #expect(traceback.contains("\(path):2: in "))
        #expect(traceback.contains("\(path):4: in "))
        #expect(traceback.contains("\(path):5: in main chunk"))
        #expect(error.description.contains("deep trouble\nstack traceback:"))
    }
}

@Test func syntaxErrorsAreReported() throws {
    let lua = LuaState()
    #expect(throws: LuaError.self) { try lua.run("x = = 1", chunkName: "=bad") }
    do { try lua.run("x = = 1", chunkName: "=bad") } catch {
        #expect(error.status == .syntax)
        #expect(error.message.hasPrefix("bad:1:"))
    }
}

@Test func tracebacksOfErrorsRaisedBySwift() throws {
    let lua = LuaState()
    lua.register(LuaFunction("check", parameters: [.required("n", .integer)]) { _ in [] })
    do {
        try lua.run("local x = 1\ncheck('no')", chunkName: "@lab.lua")
        Issue.record("should fail")
    } catch {
        #expect(error.message == "lab.lua:2: bad argument #1 to 'check' (integer expected, got string)")
        #expect(error.traceback?.contains("lab.lua:2: in main chunk") == true)
    }
}

@Test func nonStringErrorValuesAreDescribed() throws {
    let lua = LuaState()
    do { try lua.run("error({ code = 1 })") } catch {
        #expect(error.message == "(error object is a table value)")
        #expect(error.value["code"] == .integer(1))
    }
    do { try lua.run("error(setmetatable({}, { __tostring = function() return 'custom' end }))") } catch {
        #expect(error.message == "custom")
    }
    do { try lua.run("error(42)") } catch { #expect(error.message == "42") }
    do { try lua.run("error()") } catch { #expect(error.message == "(error object is a nil value)") }
}
