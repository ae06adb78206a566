// Reads a flattened devicetree blob back into a `DeviceTree` (DTSpec v0.4 chapter 5), checking the
// header, block bounds, token alignment and nesting. vmlab parses its own blobs in tests, and blobs
// that come from elsewhere (a firmware's, a file given on the command line) must fail cleanly.

/// Why a blob is not a valid flattened devicetree.
public struct FDTParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}

extension DeviceTree {
    /// Parses `blob`, which must hold a version 16 or later FDT whose `totalsize` fits.
    public init(flattened blob: [UInt8]) throws(FDTParseError) {
        let r = ByteReader(blob, order: .big)
        guard r.count >= Self.headerSize else { throw FDTParseError("blob is shorter than an FDT header") }
        guard r.u32(at: 0)! == Self.magic else { throw FDTParseError("bad FDT magic \(hex(UInt64(r.u32(at: 0)!)))") }
        let total = UInt64(r.u32(at: 4)!)
        let structOffset = UInt64(r.u32(at: 8)!), stringsOffset = UInt64(r.u32(at: 12)!)
        let reservationOffset = UInt64(r.u32(at: 16)!)
        let version = r.u32(at: 20)!, lastCompatible = r.u32(at: 24)!
        let stringsSize = UInt64(r.u32(at: 32)!), structSize = UInt64(r.u32(at: 36)!)
        guard total <= UInt64(r.count) else { throw FDTParseError("totalsize \(total) exceeds the blob's \(r.count) bytes") }
        guard lastCompatible <= 17, version >= 16 else {
            throw FDTParseError("FDT version \(version) (compatible with \(lastCompatible)) is not supported")
        }
        guard structOffset % 4 == 0, reservationOffset % 8 == 0 else { throw FDTParseError("misaligned FDT block") }
        let inBlob = ByteReader(Array(blob[0..<Int(total)]), order: .big)
        guard inBlob.contains(offset: structOffset, length: structSize),
              inBlob.contains(offset: stringsOffset, length: stringsSize) else {
            throw FDTParseError("FDT block extends past totalsize")
        }

        var reservations: [FDTReservation] = []
        var cursor = reservationOffset
        while true {
            guard let address = inBlob.u64(at: cursor), let size = inBlob.u64(at: cursor + 8) else {
                throw FDTParseError("memory reservation block is not terminated")
            }
            cursor += 16
            if address == 0 && size == 0 { break }
            reservations.append(FDTReservation(address: address, size: size))
        }

        var parser = StructureParser(reader: inBlob, cursor: structOffset, end: structOffset + structSize,
                                     stringsOffset: stringsOffset, stringsEnd: stringsOffset + stringsSize)
        guard try parser.token() == .beginNode else { throw FDTParseError("structure block does not begin with a node") }
        let root = try parser.node()
        var trailing = try parser.token()
        while trailing == .nop { trailing = try parser.token() }
        guard trailing == .end else { throw FDTParseError("structure block has content after the root node") }
        self.init(root: root, reservations: reservations, bootCPU: r.u32(at: 28)!)
    }
}

private struct StructureParser {
    let reader: ByteReader
    var cursor: UInt64
    let end: UInt64
    let stringsOffset: UInt64
    let stringsEnd: UInt64
    var depth = 0

    mutating func word() throws(FDTParseError) -> UInt32 {
        guard cursor + 4 <= end, let value = reader.u32(at: cursor) else {
            throw FDTParseError("structure block ends inside a token")
        }
        cursor += 4
        return value
    }

    mutating func token() throws(FDTParseError) -> FDTToken {
        let raw = try word()
        guard let token = FDTToken(rawValue: raw) else {
            throw FDTParseError("unknown structure token \(hex(UInt64(raw))) at offset \(hex(cursor - 4))")
        }
        return token
    }

    /// Parses a node whose FDT_BEGIN_NODE token has just been read, through its FDT_END_NODE.
    mutating func node() throws(FDTParseError) -> FDTNode {
        depth += 1
        guard depth <= 64 else { throw FDTParseError("nodes nest deeper than 64 levels") }
        guard let name = reader.cString(at: cursor, limit: end) else { throw FDTParseError("node name is not terminated") }
        cursor += UInt64(name.utf8.count + 1)
        align()
        var node = FDTNode(name)
        while true {
            switch try token() {
            case .prop:
                let length = UInt64(try word())
                let nameOffset = UInt64(try word())
                guard let value = reader.slice(at: cursor, length: length), cursor + length <= end else {
                    throw FDTParseError("property of node '\(name)' extends past the structure block")
                }
                guard stringsOffset + nameOffset < stringsEnd,
                      let propertyName = reader.cString(at: stringsOffset + nameOffset, limit: stringsEnd) else {
                    throw FDTParseError("property name offset \(nameOffset) lies outside the strings block")
                }
                node.properties.append(FDTProperty(propertyName, bytes: Array(value)))
                cursor += length
                align()
            case .beginNode:
                node.children.append(try self.node())
            case .endNode:
                depth -= 1
                return node
            case .nop:
                continue
            case .end:
                throw FDTParseError("FDT_END inside node '\(name)'")
            }
        }
    }

    mutating func align() { cursor = (cursor + 3) & ~3 }
}
