import Foundation
import LuaKit
import Testing
@testable import VMLab

/// The package root, found from this file's path (Tests/VMLabTests/…).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Compares a generated file with its committed copy; VMLAB_UPDATE_GOLDEN=1 rewrites the copy.
func expectGenerated(_ generated: String, matches relativePath: String,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = packageRoot.appendingPathComponent(relativePath)
    if ProcessInfo.processInfo.environment["VMLAB_UPDATE_GOLDEN"] == "1" {
        try generated.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let committed = try String(contentsOf: url, encoding: .utf8)
    #expect(committed == generated,
            "\(relativePath) is stale; regenerate with VMLAB_UPDATE_GOLDEN=1 swift test --filter VMLabTests",
            sourceLocation: sourceLocation)
}

@Test func annotationFileIsUpToDate() throws {
    try expectGenerated(VMLab.annotations(), matches: "Sources/VMLab/Resources/vmlab.lua")
}

@Test func referenceArticleIsUpToDate() throws {
    try expectGenerated(VMLab.referenceMarkdown(), matches: "Sources/VMLab/VMLab.docc/LuaReference.md")
}

/// Every function and field the live module exports is in the committed annotation file, and
/// everything the file declares is exported.
@Test func annotationFileListsEveryExport() throws {
    let session = try LabSession()
    let names = try session.lua.run("""
        local names = {}
        for name, value in pairs(require "vmlab") do names[#names + 1] = name .. ":" .. type(value) end
        table.sort(names)
        return table.concat(names, " ")
        """).first?.string ?? ""
    let exported = names.split(separator: " ").map { $0.split(separator: ":").map(String.init) }
    #expect(exported.count >= 9)
    let annotations = try String(contentsOf: packageRoot.appendingPathComponent("Sources/VMLab/Resources/vmlab.lua"),
                                 encoding: .utf8)
    for entry in exported {
        let (name, type) = (entry[0], entry[1])
        if type == "function" {
            #expect(annotations.contains("\nfunction vmlab.\(name)("), "vmlab.\(name) is not annotated")
        } else {
            #expect(annotations.contains("\n---@field \(name) "), "vmlab.\(name) is not annotated")
        }
    }
    let exportedNames = Set(exported.map { $0[0] })
    for line in annotations.split(separator: "\n") where line.hasPrefix("function vmlab.") {
        let name = line.dropFirst("function vmlab.".count).prefix { $0 != "(" }
        #expect(exportedNames.contains(String(name)), "vmlab.\(name) is annotated but not exported")
    }
}

/// Functions described without a Swift body must be defined by the module's Lua code.
@Test func describedFunctionsAreAllImplemented() throws {
    let session = try LabSession()
    for function in VMLab.module.functions {
        let type = try session.lua.run("return type(require('vmlab')[...])", args: [.string(function.name)])
        #expect(type == [.string("function")], "vmlab.\(function.name) is described but not defined")
    }
    for alias in VMLab.module.globalAliases {
        #expect(try session.lua.run("return \(alias) == vmlab.\(alias)") == [.boolean(true)])
    }
}
