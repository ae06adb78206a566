/// Generates LuaLS annotation files (`---@meta`) from a module description, so editors complete
/// and check scripts against exactly what the module exports.
extension LuaModule {
    public func annotations(header: String = "") -> String {
        var out: [String] = ["---@meta \(name)"]
        if !header.isEmpty { out += header.split(separator: "\n", omittingEmptySubsequences: false).map { "-- \($0)" } }
        out.append("")
        out += comment(summary)
        out.append("---@class \(name)")
        for field in fields.sorted(by: { $0.name < $1.name }) {
            out.append("---@field \(field.name) \(field.type.annotation) \(field.summary)")
        }
        out.append("local \(name) = {}")
        out.append("")
        for function in functions.sorted(by: { $0.name < $1.name }) {
            out += functionAnnotation(function, owner: name, separator: ".")
        }
        for cls in classes.sorted(by: { $0.name < $1.name }) {
            out += comment(cls.summary)
            out.append("---@class \(cls.name)")
            for field in cls.fields {
                out.append("---@field \(field.name)\(field.isOptional ? "?" : "") \(field.type.annotation) \(field.summary)")
            }
            let local = String(cls.name.map { $0 == "." ? "_" : $0 })
            out.append("local \(local) = {}")
            out.append("")
            for method in cls.methods {
                out += functionAnnotation(method, owner: local, separator: ":", dropSelf: true)
            }
        }
        for options in optionClasses() {
            out.append("---@class \(options.name)")
            for option in options.options {
                out.append("---@field \(option.name)\(option.isRequired ? "" : "?") \(option.type.annotation) \(option.summary)")
            }
            out.append("")
        }
        if !globalAliases.isEmpty {
            for alias in globalAliases { out.append("\(alias) = \(name).\(alias)") }
            out.append("")
        }
        out.append("return \(name)")
        return out.joined(separator: "\n") + "\n"
    }

    private func comment(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map { "---\($0)" }
    }

    private func functionAnnotation(_ function: LuaFunction, owner: String, separator: String,
                                    dropSelf: Bool = false) -> [String] {
        var out = comment(function.summary)
        let parameters = dropSelf ? Array(function.parameters.dropFirst()) : function.parameters
        for p in parameters {
            let summary = p.summary.isEmpty ? "" : " \(p.summary)"
            out.append("---@param \(p.name)\(p.isOptional ? "?" : "") \(p.type.annotation)\(summary)")
        }
        for r in function.returns {
            var line = "---@return \(r.type.annotation)"
            if !r.name.isEmpty { line += " \(r.name)" }
            if !r.summary.isEmpty { line += " # \(r.summary)" }
            out.append(line)
        }
        out.append("function \(owner)\(separator)\(function.name)(\(parameters.map(\.name).joined(separator: ", "))) end")
        out.append("")
        return out
    }

    /// Every options table type used by a parameter, once, sorted by name.
    func optionClasses() -> [(name: String, options: [LuaOption])] {
        var found: [String: [LuaOption]] = [:]
        func visit(_ type: LuaType) {
            switch type {
            case .options(let name, let options):
                found[name] = options
                options.forEach { visit($0.type) }
            case .oneOf(let types): types.forEach(visit)
            case .list(let item): visit(item)
            default: break
            }
        }
        let all = functions + classes.flatMap(\.methods)
        for function in all { function.parameters.forEach { visit($0.type) } }
        return found.keys.sorted().map { ($0, found[$0]!) }
    }
}
