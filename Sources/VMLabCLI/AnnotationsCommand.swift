import ArgumentParser
import VMLab

/// `vmlab annotations`: prints the LuaLS annotation file for the vmlab module, for editors.
struct AnnotationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotations",
        abstract: "Print editor annotations (LuaLS ---@meta) for the vmlab module.",
        discussion: "Save the output where your editor's Lua language server looks for libraries, e.g. `vmlab annotations > types/vmlab.lua`."
    )

    func run() throws {
        print(VMLab.annotations(), terminator: "")
    }
}
