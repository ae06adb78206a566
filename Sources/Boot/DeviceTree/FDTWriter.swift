// Serialises a `DeviceTree` as a flattened devicetree blob (Devicetree Specification v0.4, chapter 5
// "Flattened Devicetree (DTB) Format"). Layout, in file order as dtc emits it:
//
//   0x00  header: 10 big-endian u32 (magic 0xd00dfeed, totalsize, off_dt_struct, off_dt_strings,
//         off_mem_rsvmap, version 17, last_comp_version 16, boot_cpuid_phys, size_dt_strings,
//         size_dt_struct)                                                       (DTSpec 5.2)
//   0x28  memory reservation block: (u64 address, u64 size) pairs, ended by (0, 0), 8-aligned (5.3)
//         structure block: FDT_BEGIN_NODE name / FDT_PROP len nameoff value / FDT_END_NODE ...
//         FDT_END, every token 4-aligned                                        (DTSpec 5.4)
//         strings block: property names, NUL-terminated, each stored once      (DTSpec 5.5)

/// The structure block tokens (DTSpec 5.4.1).
enum FDTToken: UInt32 {
    case beginNode = 1, endNode = 2, prop = 3, nop = 4, end = 9
}

extension DeviceTree {
    static let magic: UInt32 = 0xd00d_feed
    static let version: UInt32 = 17
    static let lastCompatibleVersion: UInt32 = 16
    static let headerSize = 40

    /// The flattened blob (a `.dtb`), ready to be copied into guest memory.
    public func flattened() -> [UInt8] {
        var strings = StringTable()
        var structure: [UInt8] = []
        Self.emit(root, into: &structure, strings: &strings)
        structure.appendBE(FDTToken.end.rawValue)

        let reservationOffset = Self.headerSize   // 40 is already 8-aligned
        let reservationSize = (reservations.count + 1) * 16
        let structureOffset = reservationOffset + reservationSize
        let stringsOffset = structureOffset + structure.count
        let total = stringsOffset + strings.bytes.count

        var blob: [UInt8] = []
        blob.reserveCapacity(total)
        for word in [Self.magic, UInt32(total), UInt32(structureOffset), UInt32(stringsOffset),
                     UInt32(reservationOffset), Self.version, Self.lastCompatibleVersion, bootCPU,
                     UInt32(strings.bytes.count), UInt32(structure.count)] {
            blob.appendBE(word)
        }
        for entry in reservations {
            blob.appendBE(entry.address)
            blob.appendBE(entry.size)
        }
        blob.appendBE(UInt64(0))
        blob.appendBE(UInt64(0))
        blob += structure
        blob += strings.bytes
        return blob
    }

    /// Writes the blob to `path` (what `vmlab boot --dump-dtb` produces; `dtc -I dtb` reads it).
    public func write(toFile path: String) throws(BootError) {
        try HostFile.write(flattened(), to: path)
    }

    private static func emit(_ node: FDTNode, into out: inout [UInt8], strings: inout StringTable) {
        out.appendBE(FDTToken.beginNode.rawValue)
        out += Array(node.name.utf8)
        out.append(0)
        out.padTo4()
        for property in node.properties {
            out.appendBE(FDTToken.prop.rawValue)
            out.appendBE(UInt32(property.value.count))
            out.appendBE(strings.offset(of: property.name))
            out += property.value
            out.padTo4()
        }
        for child in node.children { emit(child, into: &out, strings: &strings) }
        out.appendBE(FDTToken.endNode.rawValue)
    }
}

/// The strings block being built: each property name stored once, found again by offset.
private struct StringTable {
    var bytes: [UInt8] = []
    var offsets: [String: UInt32] = [:]

    mutating func offset(of name: String) -> UInt32 {
        if let known = offsets[name] { return known }
        let offset = UInt32(bytes.count)
        bytes += Array(name.utf8)
        bytes.append(0)
        offsets[name] = offset
        return offset
    }
}

extension Array where Element == UInt8 {
    mutating func appendBE(_ value: UInt32) {
        append(UInt8(value >> 24)); append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8)); append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendBE(_ value: UInt64) {
        appendBE(UInt32(truncatingIfNeeded: value >> 32))
        appendBE(UInt32(truncatingIfNeeded: value))
    }

    mutating func padTo4() {
        while count % 4 != 0 { append(0) }
    }
}
