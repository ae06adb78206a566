// The in-memory form of a devicetree (Devicetree Specification v0.4, chapter 2 "The Devicetree"):
// nodes with properties and children. Property values are stored as the bytes the blob carries —
// big-endian cells, NUL-terminated strings — so writing and parsing are exact inverses.

/// One property of a devicetree node.
public struct FDTProperty: Equatable, Sendable {
    public let name: String
    /// The raw value as it appears in the structure block.
    public let value: [UInt8]

    public init(_ name: String, bytes: [UInt8]) {
        self.name = name
        self.value = bytes
    }

    /// A property with no value (a boolean such as `interrupt-controller`).
    public static func empty(_ name: String) -> FDTProperty { FDTProperty(name, bytes: []) }

    /// One or more 32-bit cells (DTSpec 2.2.4 `<u32>` / `<prop-encoded-array>`).
    public static func cells(_ name: String, _ values: [UInt32]) -> FDTProperty {
        FDTProperty(name, bytes: values.flatMap(bigEndianBytes))
    }

    public static func u32(_ name: String, _ value: UInt32) -> FDTProperty { cells(name, [value]) }

    /// A 64-bit value as two cells, high then low (DTSpec `<u64>`).
    public static func u64(_ name: String, _ value: UInt64) -> FDTProperty {
        cells(name, [UInt32(truncatingIfNeeded: value >> 32), UInt32(truncatingIfNeeded: value)])
    }

    /// A `reg`-style list of (address, size) pairs with two cells each, as `#address-cells = 2` and
    /// `#size-cells = 2` buses (the root and `/soc` of virt) expect.
    public static func reg64(_ name: String, _ pairs: [(UInt64, UInt64)]) -> FDTProperty {
        var words: [UInt32] = []
        for (address, size) in pairs {
            words += [UInt32(truncatingIfNeeded: address >> 32), UInt32(truncatingIfNeeded: address),
                      UInt32(truncatingIfNeeded: size >> 32), UInt32(truncatingIfNeeded: size)]
        }
        return cells(name, words)
    }

    public static func string(_ name: String, _ value: String) -> FDTProperty { strings(name, [value]) }

    /// A `<stringlist>`: each string NUL-terminated, concatenated.
    public static func strings(_ name: String, _ values: [String]) -> FDTProperty {
        FDTProperty(name, bytes: values.flatMap { Array($0.utf8) + [0] })
    }

    /// The value read as 32-bit cells, or `nil` when its length is not a multiple of four.
    public var cellValues: [UInt32]? {
        guard value.count % 4 == 0 else { return nil }
        return stride(from: 0, to: value.count, by: 4).map { index in
            value[index..<(index + 4)].reduce(0) { ($0 << 8) | UInt32($1) }
        }
    }

    /// The value read as a string list, or `nil` when it is not NUL-terminated text.
    public var stringValues: [String]? {
        guard let last = value.last, last == 0 else { return nil }
        return value.dropLast().split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    private static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
         UInt8(truncatingIfNeeded: value)]
    }
}

/// A devicetree node: `name` is the node name with its unit address (`serial@10000000`); the root's
/// name is empty.
public struct FDTNode: Equatable, Sendable {
    public var name: String
    public var properties: [FDTProperty]
    public var children: [FDTNode]

    public init(_ name: String, _ properties: [FDTProperty] = [], children: [FDTNode] = []) {
        self.name = name
        self.properties = properties
        self.children = children
    }

    public func property(_ name: String) -> FDTProperty? { properties.first { $0.name == name } }

    public func child(_ name: String) -> FDTNode? { children.first { $0.name == name } }

    /// The node at a slash-separated path below this one (`"/soc/serial@10000000"`); `"/"` is self.
    public func node(at path: String) -> FDTNode? {
        var node = self
        for component in path.split(separator: "/") {
            guard let next = node.child(String(component)) else { return nil }
            node = next
        }
        return node
    }
}

/// An entry of the memory reservation block (DTSpec 5.3): memory the client program must not use.
public struct FDTReservation: Equatable, Sendable {
    public let address: UInt64
    public let size: UInt64

    public init(address: UInt64, size: UInt64) {
        self.address = address
        self.size = size
    }
}

/// A whole devicetree: the root node, the memory reservations and the boot CPU's id.
public struct DeviceTree: Equatable, Sendable {
    public var root: FDTNode
    public var reservations: [FDTReservation]
    /// `boot_cpuid_phys` of the header: the `reg` of the CPU node that boots.
    public var bootCPU: UInt32

    public init(root: FDTNode, reservations: [FDTReservation] = [], bootCPU: UInt32 = 0) {
        self.root = root
        self.reservations = reservations
        self.bootCPU = bootCPU
    }
}
