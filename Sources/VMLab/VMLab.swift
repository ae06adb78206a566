import LuaKit

/// The `vmlab` Lua module: its description (one binding file per concept adds to it) and its
/// installation into a Lua state.
public enum VMLab {
    /// The vmlab release, as `vmlab --version` and `vmlab.version` report it.
    public static let version = "0.1.0"

    /// The module description. Each binding file contributes its functions, fields and classes;
    /// a new concept (e.g. `vmlab.vm`) adds a file in Bindings/ and one line here.
    public static var module: LuaModule {
        var module = LuaModule(
            name: "vmlab",
            summary: """
            vmlab: a virtualisation laboratory. A simulated RISC-V machine and VMM driven from Lua.
            Integers are Lua integers (signed 64-bit); `vmlab.hex` prints them unsigned.
            """)
        module.fields.append(LuaField("version", .string, "The vmlab release, e.g. \"\(version)\".",
                                      value: .string(version)))
        Formatting.contribute(to: &module)
        Checks.contribute(to: &module)
        Assembly.contribute(to: &module)
        Guests.contribute(to: &module)
        VMBinding.contribute(to: &module)
        HostBinding.contribute(to: &module)
        NetworkBinding.contribute(to: &module)
        FaultsBinding.contribute(to: &module)
        ComparisonBinding.contribute(to: &module)
        PopekGoldbergBinding.contribute(to: &module)
        return module
    }

    /// The header of generated files (annotations, reference docs).
    static let generatedHeader = "Generated from the vmlab API description (Sources/VMLab/Bindings). Do not edit;\nregenerate with `vmlab annotations` or VMLAB_UPDATE_GOLDEN=1 swift test --filter VMLabTests."

    /// The LuaLS annotation file for editors (`---@meta vmlab`).
    public static func annotations() -> String { module.annotations(header: generatedHeader) }

    /// The reference article of the DocC catalogue.
    public static func referenceMarkdown() -> String {
        module.referenceMarkdown(title: "Lua API Reference",
                                 header: "<!-- \(generatedHeader.split(separator: "\n").joined(separator: " ")) -->")
    }
}
