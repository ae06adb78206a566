/// Generates a Markdown reference (a DocC article) from a module description.
extension LuaModule {
    public func referenceMarkdown(title: String, header: String = "") -> String {
        var out: [String] = ["# \(title)", ""]
        if !header.isEmpty { out += [header, ""] }
        out += [summary, ""]
        if !fields.isEmpty {
            out += ["## Fields", ""]
            for field in fields.sorted(by: { $0.name < $1.name }) {
                out.append("- `\(name).\(field.name)` (`\(field.type.annotation)`): \(field.summary)")
            }
            out.append("")
        }
        out += ["## Functions", ""]
        for function in functions.sorted(by: { $0.name < $1.name }) {
            out += entry(function, qualified: "\(name).\(function.name)", dropSelf: false)
        }
        for cls in classes.sorted(by: { $0.name < $1.name }) {
            out += ["## \(cls.name)", "", cls.summary, ""]
            for field in cls.fields {
                out.append("- `\(field.name)` (`\(field.type.annotation)`): \(field.summary)")
            }
            if !cls.fields.isEmpty { out.append("") }
            for method in cls.methods {
                out += entry(method, qualified: "\(cls.name):\(method.name)", dropSelf: true)
            }
        }
        for options in optionClasses() {
            out += ["## \(options.name)", ""]
            for option in options.options {
                let required = option.isRequired ? ", required" : ""
                out.append("- `\(option.name)` (`\(option.type.annotation)`\(required)): \(option.summary)")
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    private func entry(_ function: LuaFunction, qualified: String, dropSelf: Bool) -> [String] {
        let parameters = dropSelf ? Array(function.parameters.dropFirst()) : function.parameters
        let signature = parameters.map { $0.isOptional ? "[\($0.name)]" : $0.name }.joined(separator: ", ")
        var out = ["### `\(qualified)(\(signature))`", "", function.summary, ""]
        for p in parameters {
            let optional = p.isOptional ? ", optional" : ""
            out.append("- `\(p.name)` (`\(p.type.annotation)`\(optional))" + (p.summary.isEmpty ? "" : ": \(p.summary)"))
        }
        for r in function.returns {
            let label = r.name.isEmpty ? "" : " `\(r.name)`"
            out.append("- returns\(label) (`\(r.type.annotation)`)" + (r.summary.isEmpty ? "" : ": \(r.summary)"))
        }
        if !parameters.isEmpty || !function.returns.isEmpty { out.append("") }
        return out
    }
}
