// FIRST VERSION: host-FPU bodies so the hart can compile against the API; flags approximate and
// rounding mode ignored. Replaced by exact integer soft-float.
public enum SoftFloat {
    public static func add32(_ a: UInt32, _ b: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        (Float(bitPattern: a) + Float(bitPattern: b)).bitPattern
    }
    public static func sub32(_ a: UInt32, _ b: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        (Float(bitPattern: a) - Float(bitPattern: b)).bitPattern
    }
    public static func mul32(_ a: UInt32, _ b: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        (Float(bitPattern: a) * Float(bitPattern: b)).bitPattern
    }
    public static func div32(_ a: UInt32, _ b: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        (Float(bitPattern: a) / Float(bitPattern: b)).bitPattern
    }
    public static func sqrt32(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        Float(bitPattern: a).squareRoot().bitPattern
    }
    public static func fma32(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        Float(bitPattern: c).addingProduct(Float(bitPattern: a), Float(bitPattern: b)).bitPattern
    }
    public static func min32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        Float.minimum(Float(bitPattern: a), Float(bitPattern: b)).bitPattern
    }
    public static func max32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        Float.maximum(Float(bitPattern: a), Float(bitPattern: b)).bitPattern
    }
    public static func eq32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool { Float(bitPattern: a) == Float(bitPattern: b) }
    public static func lt32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool { Float(bitPattern: a) < Float(bitPattern: b) }
    public static func le32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool { Float(bitPattern: a) <= Float(bitPattern: b) }
    public static func classify32(_ a: UInt32) -> UInt64 { 0 }
    public static func f32ToI32(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> Int32 {
        Int32(exactly: Float(bitPattern: a).rounded(.towardZero)) ?? 0
    }
    public static func i32ToF32(_ x: Int32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        Float(x).bitPattern
    }
    public static func f32ToU32(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        UInt32(exactly: Float(bitPattern: a).rounded(.towardZero)) ?? 0
    }
    public static func u32ToF32(_ x: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        Float(x).bitPattern
    }
    public static func f32ToI64(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> Int64 {
        Int64(exactly: Float(bitPattern: a).rounded(.towardZero)) ?? 0
    }
    public static func i64ToF32(_ x: Int64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        Float(x).bitPattern
    }
    public static func f32ToU64(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        UInt64(exactly: Float(bitPattern: a).rounded(.towardZero)) ?? 0
    }
    public static func u64ToF32(_ x: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        Float(x).bitPattern
    }
    public static func add64(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        (Double(bitPattern: a) + Double(bitPattern: b)).bitPattern
    }
    public static func sub64(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        (Double(bitPattern: a) - Double(bitPattern: b)).bitPattern
    }
    public static func mul64(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        (Double(bitPattern: a) * Double(bitPattern: b)).bitPattern
    }
    public static func div64(_ a: UInt64, _ b: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        (Double(bitPattern: a) / Double(bitPattern: b)).bitPattern
    }
    public static func sqrt64(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Double(bitPattern: a).squareRoot().bitPattern
    }
    public static func fma64(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Double(bitPattern: c).addingProduct(Double(bitPattern: a), Double(bitPattern: b)).bitPattern
    }
    public static func min64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        Double.minimum(Double(bitPattern: a), Double(bitPattern: b)).bitPattern
    }
    public static func max64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        Double.maximum(Double(bitPattern: a), Double(bitPattern: b)).bitPattern
    }
    public static func eq64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool { Double(bitPattern: a) == Double(bitPattern: b) }
    public static func lt64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool { Double(bitPattern: a) < Double(bitPattern: b) }
    public static func le64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool { Double(bitPattern: a) <= Double(bitPattern: b) }
    public static func classify64(_ a: UInt64) -> UInt64 { 0 }
    public static func f64ToI32(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> Int32 {
        Int32(exactly: Double(bitPattern: a).rounded(.towardZero)) ?? 0
    }
    public static func i32ToF64(_ x: Int32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Double(x).bitPattern
    }
    public static func f64ToU32(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        UInt32(exactly: Double(bitPattern: a).rounded(.towardZero)) ?? 0
    }
    public static func u32ToF64(_ x: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Double(x).bitPattern
    }
    public static func f64ToI64(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> Int64 {
        Int64(exactly: Double(bitPattern: a).rounded(.towardZero)) ?? 0
    }
    public static func i64ToF64(_ x: Int64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Double(x).bitPattern
    }
    public static func f64ToU64(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        UInt64(exactly: Double(bitPattern: a).rounded(.towardZero)) ?? 0
    }
    public static func u64ToF64(_ x: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Double(x).bitPattern
    }
    public static func f32ToF64(_ a: UInt32, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt64 {
        Double(Float(bitPattern: a)).bitPattern
    }
    public static func f64ToF32(_ a: UInt64, _ rm: RoundingMode, _ flags: inout UInt8) -> UInt32 {
        Float(Double(bitPattern: a)).bitPattern
    }
}
