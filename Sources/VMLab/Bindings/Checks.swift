import LuaKit

/// The check API: busted-style `describe`/`it`/`expect` that turns a lab or a `*_test.lua` file into
/// a test. Declaring a check (`it`, `vmlab.check`, `pending`) at load time is what marks a file as a
/// test file; the checks run after the file's main chunk has finished, in declaration order.
///
/// The functions are written in Lua (`Checks.luaSource`), because they are mostly about calling Lua
/// functions and comparing Lua values; this file describes them for annotations and docs.
enum Checks {
    static func contribute(to module: inout LuaModule) {
        module.functions += functions
        module.classes.append(expectation)
        module.globalAliases += ["after_each", "before_each", "describe", "expect", "it", "pending"]
    }

    static let functions: [LuaFunction] = [
        .described("describe", summary: "Groups checks under a name; `body` runs at once to declare them.",
                   parameters: [.required("name", .string), .required("body", .function)]),
        .described("it", summary: "Declares a check. Without `body` the check is pending (reported as skipped).",
                   parameters: [.required("name", .string), .optional("body", .function)]),
        .described("check", summary: "Declares a check in a lab; the same as `it`.",
                   parameters: [.required("name", .string), .required("body", .function)]),
        .described("pending", summary: "Declares a check that is not written yet, or that cannot run here (reported as skipped, with `reason` beneath its SKIP line): `if not found then pending(\"against QEMU\", \"qemu-system-riscv64 not found\") else it(...) end`.",
                   parameters: [.required("name", .string), .optional("reason", .string, "Why it is skipped, shown beneath the SKIP line (and as JUnit's `<skipped message>`).")]),
        .described("before_each", summary: "Runs `fn` before each check of the enclosing `describe` (and those nested in it).",
                   parameters: [.required("fn", .function)]),
        .described("after_each", summary: "Runs `fn` after each check of the enclosing `describe`, even when the check failed.",
                   parameters: [.required("fn", .function)]),
        .described("expect", summary: "Starts an expectation about `value`: `expect(x).to_equal(3)`.",
                   parameters: [.required("value", .any)],
                   returns: [LuaReturn(.documented("vmlab.Expectation"))]),
    ]

    static let expectation = LuaDocClass(
        "vmlab.Expectation",
        summary: "Matchers about one value. They are called with a dot: `expect(x).to_equal(y)`; a failed matcher raises an error naming the line of the check.",
        fields: [
            .required("never", .documented("vmlab.Expectation"), "The same matchers, negated: `expect(x).never.to_equal(y)`."),
            .required("to_equal", .documented("fun(expected: any)"), "Equal values; tables are compared deeply."),
            .required("to_be", .documented("fun(expected: any)"), "The very same value (`==`)."),
            .required("to_be_truthy", .documented("fun()"), "Neither nil nor false."),
            .required("to_be_falsy", .documented("fun()"), "nil or false."),
            .required("to_be_nil", .documented("fun()"), "nil."),
            .required("to_be_a", .documented("fun(type_name: string)"), "`type(value)` (or `math.type` for \"integer\"/\"float\") is `type_name`."),
            .required("to_match", .documented("fun(pattern: string)"), "A string in which the Lua pattern is found."),
            .required("to_raise", .documented("fun(pattern?: string)"), "A function that raises an error (whose message contains the Lua pattern, if given)."),
            .required("to_be_near", .documented("fun(expected: number, tolerance: number)"), "A number within `tolerance` of `expected`."),
        ])
}
