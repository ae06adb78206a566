// Trap counts by cause for a VMM that counts on every trap it takes: indexed by the cause number
// where they are counted, named only where they are read (statistics), so that counting hashes no
// string on the exit path.

/// How many traps of each cause, read by the snake_case names of the event vocabulary
/// (`VirtualTrap.name`).
public struct CauseCounts: Sendable, Equatable, Codable {
    /// Exceptions and interrupts with codes below 64 (every cause the privileged spec defines), by code.
    private var exceptions = [UInt64](repeating: 0, count: 64)
    private var interrupts = [UInt64](repeating: 0, count: 64)
    /// Larger codes (only a trap made up in software can have one), by name.
    private var others: [String: UInt64] = [:]

    public init() {}

    public mutating func count(_ t: VirtualTrap) {
        if t.cause < 64 {
            if t.isInterrupt { interrupts[Int(t.cause)] &+= 1 } else { exceptions[Int(t.cause)] &+= 1 }
        } else {
            others[t.name, default: 0] &+= 1
        }
    }

    /// The causes that happened, by name.
    public var byName: [String: UInt64] {
        var named = others
        for code in 0..<64 {
            if exceptions[code] != 0 { named[VirtualTrap(cause: UInt64(code), isInterrupt: false, tval: 0).name] = exceptions[code] }
            if interrupts[code] != 0 { named[VirtualTrap(cause: UInt64(code), isInterrupt: true, tval: 0).name] = interrupts[code] }
        }
        return named
    }
}

extension CauseCounts {
    private enum CodingKeys: String, CodingKey { case exceptions, interrupts, others }

    /// A snapshot file is not trusted: the two tables must have a count for every code below 64,
    /// or counting and reading them would index past their ends.
    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        exceptions = try c.decode([UInt64].self, forKey: .exceptions)
        interrupts = try c.decode([UInt64].self, forKey: .interrupts)
        others = try c.decode([String: UInt64].self, forKey: .others)
        guard exceptions.count == 64, interrupts.count == 64 else {
            throw DecodingError.dataCorruptedError(forKey: .exceptions, in: c,
                                                   debugDescription: "cause counts need 64 exceptions and 64 interrupts")
        }
    }
}
