// Register names: architectural (x0–x31, f0–f31) and the standard calling-convention (ABI) names of
// the RISC-V psABI ("Integer Register Convention", "Floating-point Register Convention").

public enum RegisterNames {
    /// ABI names of x0–x31, as objdump prints them.
    public static let integer: [String] = [
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
        "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
        "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
        "t3", "t4", "t5", "t6",
    ]
    /// ABI names of f0–f31.
    public static let floatingPoint: [String] = [
        "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1",
        "fa0", "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7",
        "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11",
        "ft8", "ft9", "ft10", "ft11",
    ]

    private static let integerByName: [String: UInt8] = {
        var map: [String: UInt8] = ["fp": 8]
        for (n, name) in integer.enumerated() {
            map[name] = UInt8(n)
            map["x\(n)"] = UInt8(n)
        }
        return map
    }()
    private static let floatingPointByName: [String: UInt8] = {
        var map: [String: UInt8] = [:]
        for (n, name) in floatingPoint.enumerated() {
            map[name] = UInt8(n)
            map["f\(n)"] = UInt8(n)
        }
        return map
    }()

    /// The number of an integer register written as `x5`, `t0` or `fp`.
    public static func integerNumber(_ name: String) -> UInt8? { integerByName[name] }
    /// The number of a floating-point register written as `f10` or `fa0`.
    public static func floatingPointNumber(_ name: String) -> UInt8? { floatingPointByName[name] }
}
