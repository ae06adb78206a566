/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014): a
/// small seeded generator for the randomised tests of every target, so that a seed always gives the
/// same cases and a failing one can be run again.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// next() modulo `n` (n > 0), in `n`'s type.
    public mutating func below<T: BinaryInteger>(_ n: T) -> T { T(next() % UInt64(n)) }

    /// An element of `xs` (not empty).
    public mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
}
