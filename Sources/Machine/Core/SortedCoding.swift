// Sets and dictionaries coded in order. Swift's own coding writes them in the order of their hash
// table, which differs from process to process (hashing is seeded per process), so two snapshot
// files of one snapshot would differ byte for byte. Wrapped in these, a saved state codes its
// sets and integer-keyed dictionaries sorted: the same state, the same file.

/// A set coded as the array of its elements in ascending order.
@propertyWrapper
public struct SortedSetCoding<Element: Hashable & Comparable & Codable & Sendable>: Codable, Equatable, Sendable {
    public var wrappedValue: Set<Element>

    public init(wrappedValue: Set<Element>) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Swift.Decoder) throws { wrappedValue = Set(try [Element](from: decoder)) }

    public func encode(to encoder: any Swift.Encoder) throws { try wrappedValue.sorted().encode(to: encoder) }
}

/// A dictionary coded as key, value, key, value... in ascending key order (the layout Swift
/// uses for dictionaries whose keys are not strings). A repeated key does not decode.
@propertyWrapper
public struct SortedKeysCoding<Key: Hashable & Comparable & Codable & Sendable, Value: Codable & Equatable & Sendable>:
    Codable, Equatable, Sendable
{
    public var wrappedValue: [Key: Value]

    public init(wrappedValue: [Key: Value]) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Swift.Decoder) throws {
        var c = try decoder.unkeyedContainer()
        var d: [Key: Value] = [:]
        while !c.isAtEnd {
            let key = try c.decode(Key.self)
            guard d.updateValue(try c.decode(Value.self), forKey: key) == nil else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "the key \(key) is repeated")
            }
        }
        wrappedValue = d
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.unkeyedContainer()
        for key in wrappedValue.keys.sorted() {
            try c.encode(key)
            try c.encode(wrappedValue[key]!)
        }
    }
}
