// Writes small ELF64 images byte by byte for the tests (the loader's, the firmware rule's, the
// afterburner's), including deliberately broken ones. Shared by the test targets, so that there is
// one ELF writer. Layout: header, program headers, segment bytes, then .symtab/.strtab/.shstrtab
// and section headers.

public struct ELFBuilder {
    public struct Segment {
        public var type: UInt32   // 1 = PT_LOAD
        public var physicalAddress: UInt64
        public var virtualAddress: UInt64?
        public var data: [UInt8]
        public var memorySize: UInt64?
        public var flags: UInt32
        /// Overrides the computed file offset / size to make malformed images.
        public var fileOffset: UInt64?
        public var fileSize: UInt64?

        public init(type: UInt32 = 1, physicalAddress: UInt64, virtualAddress: UInt64? = nil, data: [UInt8],
                    memorySize: UInt64? = nil, flags: UInt32 = 7, fileOffset: UInt64? = nil, fileSize: UInt64? = nil) {
            self.type = type
            self.physicalAddress = physicalAddress
            self.virtualAddress = virtualAddress
            self.data = data
            self.memorySize = memorySize
            self.flags = flags
            self.fileOffset = fileOffset
            self.fileSize = fileSize
        }
    }

    public var segments: [Segment] = []
    public var entry: UInt64 = 0x8000_0000
    public var type: UInt16 = 2
    public var machine: UInt16 = 243
    public var elfClass: UInt8 = 2
    public var byteOrder: UInt8 = 1
    public var phentsize: UInt16 = 56
    public var symbols: [(name: String, value: UInt64, global: Bool)] = []

    public init(segments: [Segment] = [], entry: UInt64 = 0x8000_0000) {
        self.segments = segments
        self.entry = entry
    }

    public func build() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let phoff = 64
        var dataOffset = phoff + 56 * segments.count
        var offsets: [Int] = []
        for segment in segments {
            offsets.append(dataOffset)
            dataOffset += segment.data.count
        }
        // Program headers.
        for (segment, offset) in zip(segments, offsets) {
            var ph: [UInt8] = []
            ph.le32(segment.type); ph.le32(segment.flags)
            ph.le64(segment.fileOffset ?? UInt64(offset))
            ph.le64(segment.virtualAddress ?? segment.physicalAddress)
            ph.le64(segment.physicalAddress)
            ph.le64(segment.fileSize ?? UInt64(segment.data.count))
            ph.le64(segment.memorySize ?? UInt64(segment.data.count))
            ph.le64(8)
            out += ph
        }
        for segment in segments { out += segment.data }

        // Sections: null, .symtab, .strtab, .shstrtab (only when there are symbols).
        var shoff = 0, shnum = 0
        if !symbols.isEmpty {
            var strtab: [UInt8] = [0]
            var symtab = [UInt8](repeating: 0, count: 24)
            for symbol in symbols {
                let nameOffset = UInt32(strtab.count)
                strtab += Array(symbol.name.utf8) + [0]
                symtab.le32(nameOffset)
                symtab.append((symbol.global ? 1 : 0) << 4 | 1)   // STT_OBJECT
                symtab.append(0)
                symtab.le16(1)                                    // defined in section 1
                symtab.le64(symbol.value)
                symtab.le64(8)
            }
            let shstrtab: [UInt8] = Array("\0.symtab\0.strtab\0.shstrtab\0".utf8)
            while out.count % 8 != 0 { out.append(0) }
            let symOffset = out.count; out += symtab
            let strOffset = out.count; out += strtab
            let shstrOffset = out.count; out += shstrtab
            while out.count % 8 != 0 { out.append(0) }
            shoff = out.count
            shnum = 4
            out += [UInt8](repeating: 0, count: 64)   // SHN_UNDEF
            out += Self.section(name: 1, type: 2, offset: symOffset, size: symtab.count, link: 2, entsize: 24)
            out += Self.section(name: 9, type: 3, offset: strOffset, size: strtab.count, link: 0, entsize: 0)
            out += Self.section(name: 17, type: 3, offset: shstrOffset, size: shstrtab.count, link: 0, entsize: 0)
        }

        var header: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, elfClass, byteOrder, 1, 0] + [UInt8](repeating: 0, count: 8)
        header.le16(type); header.le16(machine); header.le32(1)
        header.le64(entry); header.le64(UInt64(segments.isEmpty ? 0 : phoff)); header.le64(UInt64(shoff))
        header.le32(5)   // EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE
        header.le16(64); header.le16(phentsize); header.le16(UInt16(segments.count))
        header.le16(64); header.le16(UInt16(shnum)); header.le16(UInt16(shnum == 0 ? 0 : 3))
        out.replaceSubrange(0..<64, with: header)
        return out
    }

    static func section(name: UInt32, type: UInt32, offset: Int, size: Int, link: UInt32, entsize: UInt64) -> [UInt8] {
        var sh: [UInt8] = []
        sh.le32(name); sh.le32(type); sh.le64(0); sh.le64(0)
        sh.le64(UInt64(offset)); sh.le64(UInt64(size)); sh.le32(link); sh.le32(0); sh.le64(8); sh.le64(entsize)
        return sh
    }
}

extension Array where Element == UInt8 {
    mutating func le16(_ v: UInt16) { append(UInt8(v & 0xff)); append(UInt8(v >> 8)) }
    mutating func le32(_ v: UInt32) { for i in 0..<4 { append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func le64(_ v: UInt64) { for i in 0..<8 { append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
}
