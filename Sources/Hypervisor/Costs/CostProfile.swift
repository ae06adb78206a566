// A cost profile: the price in modelled cycles of every `CostEvent`, each price carrying where it
// comes from. Profiles are plain values: a lab picks one by name, edits a few prices, and every
// result it prints names the profile (with its edits) so numbers are never quoted without their
// assumptions. The built-in data lives in CostProfile+Builtin.swift; the published figures behind
// it are collected in the "Cost profiles" article of the Hypervisor documentation.

import Machine

/// How a price was obtained.
public enum CostBasis: String, Sendable, CaseIterable, CustomStringConvertible, Codable {
    /// A published measurement, used as is.
    case measured
    /// Computed from published measurements; the source shows the arithmetic.
    case derived
    /// No published figure applies; the source gives the reasoning.
    case estimate
    /// A modelling choice rather than a measurement.
    case convention
    /// Set by the user with `CostProfile.with`.
    case edited

    public var description: String { rawValue }
}

/// The price of one event in a profile.
public struct CostValue: Sendable, Equatable, Codable {
    public var cycles: UInt64
    public var basis: CostBasis
    /// Citation (`[AA06] ...`) or derivation, in words a reader can check.
    public var source: String

    public init(_ cycles: UInt64, _ basis: CostBasis, _ source: String) {
        self.cycles = cycles
        self.basis = basis
        self.source = source
    }
}

/// Why a profile could not be found or edited. The descriptions follow the Lua error style: they
/// name the bad input and list what would have been accepted.
public enum CostProfileError: Error, Equatable, CustomStringConvertible {
    case unknownProfile(String)
    case unknownEvent(String)
    /// A price that is negative, fractional, not finite or above `CostProfile.maximumCycles`.
    case badCycles(event: String, value: String)

    public var description: String {
        switch self {
        case .unknownProfile(let name):
            "unknown cost profile '\(name)' (expected one of \(CostProfile.names.joined(separator: ", ")))"
        case .unknownEvent(let name):
            "unknown cost event '\(name)' (expected one of \(CostEvent.names.joined(separator: ", ")))"
        case .badCycles(let event, let value):
            "bad cost for '\(event)': \(value) (expected a non-negative integer number of cycles, at most 2^32 = \(CostProfile.maximumCycles))"
        }
    }
}

/// A named set of prices, one per `CostEvent`, and the clock rate that converts cycles to time.
public struct CostProfile: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The built-in profile this one is (or was edited from): `classic-2006`, `core2-2006`, `modern`.
    public let name: String
    /// One line on what machine the profile describes.
    public let summary: String
    /// Core clock in Hz, for converting modelled cycles to time.
    public let clockHz: UInt64
    /// Where the clock rate comes from.
    public let clockSource: String
    /// Events whose price was set with `with`, in taxonomy order.
    public private(set) var edits: [CostEvent] = []
    /// Indexed by `CostEvent.rawValue`.
    private var values: [CostValue]

    /// A profile from a complete price list; a missing event is a bug in vmlab's own data.
    init(name: String, summary: String, clockHz: UInt64, clockSource: String, values: [CostEvent: CostValue]) {
        precondition(values.count == CostEvent.allCases.count, "profile \(name) prices \(values.count) of \(CostEvent.allCases.count) events")
        self.name = name
        self.summary = summary
        self.clockHz = clockHz
        self.clockSource = clockSource
        self.values = CostEvent.allCases.map { values[$0]! }
    }

    // MARK: lookup

    /// The built-in profiles, in documentation order.
    public static let all: [CostProfile] = [classic2006, core2_2006, modern]

    /// The built-in profile names, in documentation order.
    public static var names: [String] { all.map(\.name) }

    /// The profile used when a lab names none.
    public static var standard: CostProfile { classic2006 }

    /// The built-in profile called `name`.
    public static func named(_ name: String) throws(CostProfileError) -> CostProfile {
        guard let p = all.first(where: { $0.name == name }) else { throw .unknownProfile(name) }
        return p
    }

    // MARK: prices

    public subscript(event: CostEvent) -> CostValue { values[event.rawValue] }

    /// Cycles charged for one `event`.
    public func cycles(_ event: CostEvent) -> UInt64 { self[event].cycles }

    /// Every price as `name → cycles`, for plain-data consumers (the Lua layer).
    public var cyclesByName: [String: UInt64] {
        Dictionary(uniqueKeysWithValues: CostEvent.allCases.map { ($0.name, cycles($0)) })
    }

    /// Microseconds that `cycles` take at the profile's clock.
    public func microseconds(_ cycles: UInt64) -> Double {
        // Cycles per µs first: exact for every clock that is a whole number of MHz.
        Double(cycles) / (Double(clockHz) / 1e6)
    }

    // MARK: editing

    /// This profile with the given prices replaced.
    public func with(_ overrides: [CostEvent: UInt64]) -> CostProfile {
        var p = self
        for (event, cycles) in overrides.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            // Past the cap, counts times prices could wrap the clock (the named forms check it).
            precondition(cycles <= Self.maximumCycles, "cost of '\(event.name)' above \(Self.maximumCycles) cycles")
            let old = p.values[event.rawValue]
            let was = old.basis == .edited ? old.source : "\(name) value \(old.cycles): \(old.source)"
            p.values[event.rawValue] = CostValue(cycles, .edited, old.basis == .edited ? was : "set by the user (\(was))")
            if !p.edits.contains(event) { p.edits.append(event) }
        }
        p.edits.sort { $0.rawValue < $1.rawValue }
        return p
    }

    /// The most cycles one event may be priced at by name (`with(_: [String: Int])`, Lua's
    /// `vmlab.costs`): 2^32, over a second of the slowest profile's clock for one event. A larger
    /// price is a mistake, and the counts times such prices would wrap `cycles.total`.
    public static let maximumCycles: UInt64 = 1 << 32

    /// This profile with prices replaced by event name (`["vm_entry": 1000]`). Names are checked
    /// in sorted order, so the error reported for several bad entries is always the same one.
    public func with(_ overrides: [String: Int]) throws(CostProfileError) -> CostProfile {
        var typed: [CostEvent: UInt64] = [:]
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let event = CostEvent(name: name) else { throw .unknownEvent(name) }
            guard value >= 0, UInt64(value) <= Self.maximumCycles else { throw .badCycles(event: name, value: String(value)) }
            typed[event] = UInt64(value)
        }
        return with(typed)
    }

    /// As `with(_: [String: Int])` for numbers that arrive as floating point (Lua numbers): each
    /// must be a non-negative integer value.
    public func with(_ overrides: [String: Double]) throws(CostProfileError) -> CostProfile {
        var ints: [String: Int] = [:]
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            guard CostEvent(name: name) != nil else { throw .unknownEvent(name) }
            guard value.isFinite, value >= 0, value.rounded() == value, value < 0x1p63 else {
                throw .badCycles(event: name, value: String(describing: value))
            }
            ints[name] = Int(value)
        }
        return try with(ints)
    }

    // MARK: the machine's share

    /// The prices the native machine charges by itself as it runs (`Machine.costs`), so that a
    /// `native` run advances guest-visible time (`mtime`, `time`) with this profile's cycles.
    public var machineCostTable: CostTable { MachinePricing.native.costTable(self) }

    /// The name to print next to results: the profile's name and its edits
    /// (`classic-2006 (edited: vm_entry=1000)`).
    public var description: String {
        guard !edits.isEmpty else { return name }
        return "\(name) (edited: \(edits.map { "\($0.name)=\(cycles($0))" }.joined(separator: ", ")))"
    }
}
