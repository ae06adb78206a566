// Rounding modes and accrued-exception flag bits of the RISC-V F/D extensions
// (unprivileged spec, "F" extension: "Floating-Point Control and Status Register", tables for
// `frm` and `fflags`). The raw values are the architectural encodings so the hart can move them
// to and from `fcsr` without a table.

/// The five static rounding modes encodable in an instruction's `rm` field or in `frm`.
/// `rm` = 7 (dynamic) is resolved by the hart to `frm` before calling `SoftFloat`; 5 and 6 are
/// reserved and the hart raises an illegal-instruction exception for them.
public enum RoundingMode: UInt8, Sendable {
    /// Round to nearest, ties to even.
    case rne = 0
    /// Round towards zero.
    case rtz = 1
    /// Round down (towards −∞).
    case rdn = 2
    /// Round up (towards +∞).
    case rup = 3
    /// Round to nearest, ties to max magnitude.
    case rmm = 4
}

/// The accrued exception flags (`fflags`, bits 4..0 of `fcsr`). Soft-float operations OR them into
/// an `inout UInt8`; RISC-V never traps on floating-point exceptions.
public enum FFlags {
    /// Inexact.
    public static let nx: UInt8 = 1
    /// Underflow (tiny after rounding, and inexact).
    public static let uf: UInt8 = 2
    /// Overflow.
    public static let of: UInt8 = 4
    /// Divide by zero.
    public static let dz: UInt8 = 8
    /// Invalid operation.
    public static let nv: UInt8 = 16
}
