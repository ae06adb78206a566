// The values an SBI call returns (RISC-V SBI specification v2.0, chapter 3 "Binary Encoding"):
// `a0` carries an error code from the standard table, `a1` a value. Legacy extensions (chapter 5)
// return a single value in `a0` and leave `a1` alone, which `SBIOutcome.legacy` keeps distinct.

/// The standard SBI error codes (SBI v2.0, table "Standard SBI Errors").
public enum SBIError: Int64, Sendable, Equatable, CaseIterable {
    case success = 0
    case failed = -1
    case notSupported = -2
    case invalidParam = -3
    case denied = -4
    case invalidAddress = -5
    case alreadyAvailable = -6
    case alreadyStarted = -7
    case alreadyStopped = -8
    case noSharedMemory = -9
    case invalidState = -10
    case badRange = -11
}

/// `struct sbiret { long error; long value; }`.
public struct SBIResult: Sendable, Equatable, CustomStringConvertible {
    public var error: SBIError
    public var value: UInt64

    public init(error: SBIError, value: UInt64 = 0) {
        self.error = error
        self.value = value
    }

    public static func success(_ value: UInt64 = 0) -> SBIResult { SBIResult(error: .success, value: value) }
    public static func failure(_ error: SBIError) -> SBIResult { SBIResult(error: error) }

    public var description: String { "\(error) value \(hex(value))" }
}

/// What the calling hart does after an SBI call.
public enum SBIOutcome: Sendable, Equatable {
    /// Resume after the `ecall` with `a0 = error`, `a1 = value`.
    case returns(SBIResult)
    /// A legacy extension: resume with `a0 = value`, every other register preserved.
    case legacy(Int64)
    /// The caller does not resume after the `ecall`: it stopped (HSM `hart_stop`), was redirected
    /// (non-retentive suspend), or the whole machine is stopping (SRST, legacy shutdown).
    case noReturn
}

/// One SBI call as the calling convention delivers it: `a7` the extension, `a6` the function,
/// `a0`–`a5` the arguments.
public struct SBICall: Sendable, Equatable {
    public var extensionID: UInt64
    public var functionID: UInt64
    public var arguments: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    public init(extensionID: UInt64, functionID: UInt64 = 0, _ args: UInt64...) {
        self.extensionID = extensionID
        self.functionID = functionID
        var a = [UInt64](repeating: 0, count: 6)
        for (index, value) in args.prefix(6).enumerated() { a[index] = value }
        arguments = (a[0], a[1], a[2], a[3], a[4], a[5])
    }

    /// Argument register `a<index>` (0...5).
    public subscript(index: Int) -> UInt64 {
        switch index {
        case 0: arguments.0
        case 1: arguments.1
        case 2: arguments.2
        case 3: arguments.3
        case 4: arguments.4
        default: arguments.5
        }
    }

    public static func == (a: SBICall, b: SBICall) -> Bool {
        a.extensionID == b.extensionID && a.functionID == b.functionID && (0..<6).allSatisfy { a[$0] == b[$0] }
    }
}

/// The extension IDs this SBI implements (SBI v2.0, each extension's chapter title).
public enum SBIExtension: UInt64, Sendable, CaseIterable {
    case legacySetTimer = 0x00
    case legacyConsolePutchar = 0x01
    case legacyConsoleGetchar = 0x02
    case legacyShutdown = 0x08
    case base = 0x10
    case timer = 0x5449_4D45           // "TIME"
    case ipi = 0x73_5049                // "sPI"
    case remoteFence = 0x5246_4E43     // "RFNC"
    case hartStateManagement = 0x48_534D  // "HSM"
    case systemReset = 0x5352_5354     // "SRST"
    case debugConsole = 0x4442_434E    // "DBCN"

    /// The name statistics and messages use: the spec's four-letter tag, or the legacy call's name.
    public var name: String {
        switch self {
        case .legacySetTimer: "legacy_set_timer"
        case .legacyConsolePutchar: "legacy_console_putchar"
        case .legacyConsoleGetchar: "legacy_console_getchar"
        case .legacyShutdown: "legacy_shutdown"
        case .base: "BASE"
        case .timer: "TIME"
        case .ipi: "IPI"
        case .remoteFence: "RFNC"
        case .hartStateManagement: "HSM"
        case .systemReset: "SRST"
        case .debugConsole: "DBCN"
        }
    }
}
