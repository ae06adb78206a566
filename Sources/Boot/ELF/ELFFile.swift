// A parsed ELF64 image (System V gABI, "ELF Header", "Program Header", "Sections"; the RISC-V psABI
// fixes EM_RISCV = 243, little-endian). Parsing only reads: it checks every offset and size against
// the file and records what loading needs — the PT_LOAD segments, the entry point, the symbols.
// Whether the segments fit the machine's RAM is the loader's question (`ELFFile+Load.swift`).

/// One loadable segment (PT_LOAD) of an ELF image.
public struct ELFSegment: Equatable, Sendable {
    /// Index in the program header table (as `readelf -l` numbers segments).
    public let index: Int
    /// Where the bytes go in guest physical memory (`p_paddr`).
    public let physicalAddress: UInt64
    /// Where the program expects them virtually (`p_vaddr`); equal to the physical address in
    /// bare-metal images, different for a kernel linked to run with paging on.
    public let virtualAddress: UInt64
    public let fileOffset: UInt64
    public let fileSize: UInt64
    /// Bytes occupied in memory; the part past `fileSize` is zero-filled (`.bss`).
    public let memorySize: UInt64
    /// `p_flags`: bit 0 execute, bit 1 write, bit 2 read.
    public let flags: UInt32

    public var isExecutable: Bool { flags & 1 != 0 }
}

/// The binding and kind of an ELF symbol (`st_info`), as far as vmlab cares.
public struct ELFSymbol: Equatable, Sendable {
    public enum Kind: UInt8, Sendable { case none = 0, object = 1, function = 2, section = 3, file = 4, common = 5, tls = 6, other = 255 }
    public enum Binding: UInt8, Sendable { case local = 0, global = 1, weak = 2, other = 255 }

    public let name: String
    public let value: UInt64
    public let size: UInt64
    public let kind: Kind
    public let binding: Binding
    /// `st_shndx`: 0 is an undefined symbol, 0xfff1 an absolute one.
    public let sectionIndex: UInt16

    public var isDefined: Bool { sectionIndex != 0 }
}

/// A validated ELF64 RISC-V executable (ET_EXEC, or ET_DYN loaded at its link addresses).
public struct ELFFile: Sendable {
    public enum FileType: UInt16, Sendable { case executable = 2, sharedObject = 3 }

    public let type: FileType
    /// `e_entry` as linked (a virtual address).
    public let entry: UInt64
    /// `e_flags`: the RISC-V psABI's float ABI and RVC bits.
    public let flags: UInt32
    /// The PT_LOAD segments with a non-zero memory size, in program header order.
    public let segments: [ELFSegment]
    /// Defined, named symbols from `.symtab` (or `.dynsym` when the image is stripped).
    public let symbols: [ELFSymbol]
    let bytes: [UInt8]

    /// Parses `bytes`, throwing an `ELFError` that names the first problem found.
    public init(bytes: [UInt8]) throws(ELFError) {
        let reader = ByteReader(bytes, order: .little)
        guard bytes.count >= 4, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
            throw .notELF
        }
        guard bytes.count >= 16 else { throw .truncatedHeader(size: bytes.count) }
        // e_ident[EI_CLASS], [EI_DATA], [EI_VERSION]
        guard bytes[4] == 2 else { throw .unsupportedClass(bytes[4]) }
        guard bytes[5] == 1 else { throw .unsupportedByteOrder(bytes[5]) }
        guard bytes.count >= 64 else { throw .truncatedHeader(size: bytes.count) }
        let header = Header(reader)
        guard bytes[6] == 1 else { throw .unsupportedVersion(UInt32(bytes[6])) }
        guard header.version == 1 else { throw .unsupportedVersion(header.version) }
        guard header.machine == 243 else { throw .unsupportedMachine(header.machine) }
        guard let type = FileType(rawValue: header.type) else { throw .unsupportedType(header.type) }

        let sections = try Self.sectionHeaders(reader, header)
        let programHeaderCount = header.phnum == 0xffff ? Int(sections.first?.info ?? 0) : Int(header.phnum)
        let segments = try Self.loadSegments(reader, header, count: programHeaderCount)
        guard !segments.isEmpty else { throw .noLoadableSegments }
        try Self.checkOverlaps(segments)

        self.type = type
        self.entry = header.entry
        self.flags = header.flags
        self.segments = segments
        self.symbols = try Self.symbols(reader, sections)
        self.bytes = bytes
    }

    /// The first defined symbol called `name`, preferring global and weak symbols over local ones
    /// (a local `tohost` in some other file must not shadow the program's global one).
    public func symbol(named name: String) -> ELFSymbol? {
        symbols.first { $0.name == name && $0.binding != .local } ?? symbols.first { $0.name == name }
    }

    /// The value of the symbol called `name`, the address a lab asks for by name.
    public func address(of name: String) -> UInt64? { symbol(named: name)?.value }

    /// The entry point as a physical address: `e_entry` moved by the offset between the virtual and
    /// physical addresses of the segment that contains it.
    public func physicalEntry() throws(ELFError) -> UInt64 {
        for segment in segments where segment.virtualAddress <= entry
            && entry - segment.virtualAddress < segment.memorySize {
            return segment.physicalAddress &+ (entry - segment.virtualAddress)
        }
        throw .entryOutsideSegments(entry: entry)
    }

    // MARK: - Header tables

    /// The fields of the ELF64 file header (gABI "ELF Header"), at their fixed offsets.
    private struct Header {
        let type, machine: UInt16
        let version: UInt32
        let entry, phoff, shoff: UInt64
        let flags: UInt32
        let phentsize, phnum, shentsize, shnum, shstrndx: UInt16

        init(_ r: ByteReader) {
            // The caller checked the file holds 64 bytes, so these reads cannot fail.
            type = r.u16(at: 16)!; machine = r.u16(at: 18)!; version = r.u32(at: 20)!
            entry = r.u64(at: 24)!; phoff = r.u64(at: 32)!; shoff = r.u64(at: 40)!
            flags = r.u32(at: 48)!
            phentsize = r.u16(at: 54)!; phnum = r.u16(at: 56)!
            shentsize = r.u16(at: 58)!; shnum = r.u16(at: 60)!; shstrndx = r.u16(at: 62)!
        }
    }

    /// The fields of one section header (gABI "Sections") that symbol lookup needs.
    struct SectionHeader {
        let type: UInt32
        let offset, size: UInt64
        let link, info: UInt32
        let entrySize: UInt64
    }

    private static func sectionHeaders(_ r: ByteReader, _ h: Header) throws(ELFError) -> [SectionHeader] {
        guard h.shoff != 0 else { return [] }
        guard h.shentsize >= 64 else { throw .badSectionHeaderSize(h.shentsize) }
        func header(at index: UInt64) throws(ELFError) -> SectionHeader {
            let base = h.shoff &+ index &* UInt64(h.shentsize)
            guard index < UInt64(UInt32.max), r.contains(offset: base, length: 64) else { throw .sectionHeadersPastEnd }
            return SectionHeader(type: r.u32(at: base + 4)!, offset: r.u64(at: base + 24)!,
                                 size: r.u64(at: base + 32)!, link: r.u32(at: base + 40)!,
                                 info: r.u32(at: base + 44)!, entrySize: r.u64(at: base + 56)!)
        }
        // With 0xff00 or more sections, e_shnum is 0 and the count lives in section 0's sh_size.
        var count = UInt64(h.shnum)
        if count == 0 { count = try header(at: 0).size }
        guard r.contains(offset: h.shoff, length: count &* UInt64(h.shentsize)),
              count <= UInt64(r.count) / 64 else { throw .sectionHeadersPastEnd }
        var result: [SectionHeader] = []
        result.reserveCapacity(Int(count))
        for index in 0..<count { result.append(try header(at: index)) }
        return result
    }

    private static func loadSegments(_ r: ByteReader, _ h: Header, count: Int) throws(ELFError) -> [ELFSegment] {
        guard count > 0 else { return [] }
        guard h.phentsize >= 56 else { throw .badProgramHeaderSize(h.phentsize) }
        let tableSize = UInt64(count) &* UInt64(h.phentsize)
        guard r.contains(offset: h.phoff, length: tableSize) else { throw .programHeadersPastEnd }
        var segments: [ELFSegment] = []
        for index in 0..<count {
            let base = h.phoff + UInt64(index) * UInt64(h.phentsize)
            guard r.u32(at: base)! == 1 else { continue }   // PT_LOAD
            let segment = ELFSegment(
                index: index, physicalAddress: r.u64(at: base + 24)!, virtualAddress: r.u64(at: base + 16)!,
                fileOffset: r.u64(at: base + 8)!, fileSize: r.u64(at: base + 32)!,
                memorySize: r.u64(at: base + 40)!, flags: r.u32(at: base + 4)!)
            guard segment.fileSize <= segment.memorySize else {
                throw .segmentFileSizeExceedsMemorySize(segment: index, fileSize: segment.fileSize,
                                                        memorySize: segment.memorySize)
            }
            guard r.contains(offset: segment.fileOffset, length: segment.fileSize) else {
                throw .segmentPastEnd(segment: index)
            }
            let (_, wraps) = segment.physicalAddress.addingReportingOverflow(segment.memorySize)
            let (_, vwraps) = segment.virtualAddress.addingReportingOverflow(segment.memorySize)
            guard !wraps, !vwraps else { throw .segmentAddressOverflow(segment: index) }
            if segment.memorySize > 0 { segments.append(segment) }
        }
        return segments
    }

    /// Two segments claiming the same physical bytes would make the image depend on load order.
    private static func checkOverlaps(_ segments: [ELFSegment]) throws(ELFError) {
        let sorted = segments.sorted { $0.physicalAddress < $1.physicalAddress }
        for (lower, upper) in zip(sorted, sorted.dropFirst())
        where upper.physicalAddress - lower.physicalAddress < lower.memorySize {
            throw .segmentsOverlap(min(lower.index, upper.index), max(lower.index, upper.index))
        }
    }

    // MARK: - Symbols

    private static func symbols(_ r: ByteReader, _ sections: [SectionHeader]) throws(ELFError) -> [ELFSymbol] {
        // SHT_SYMTAB (2) when present; a stripped image may still carry SHT_DYNSYM (11).
        let table = sections.firstIndex { $0.type == 2 } ?? sections.firstIndex { $0.type == 11 }
        guard let index = table else { return [] }
        let section = sections[index]
        guard r.contains(offset: section.offset, length: section.size) else { throw .sectionPastEnd(section: index) }
        guard section.entrySize == 24 else { throw .badSymbolEntrySize(section: index, size: section.entrySize) }
        guard Int(section.link) < sections.count, sections[Int(section.link)].type == 3 else {
            throw .badSectionLink(section: index, link: section.link)
        }
        let strings = sections[Int(section.link)]
        guard r.contains(offset: strings.offset, length: strings.size) else { throw .sectionPastEnd(section: Int(section.link)) }

        var result: [ELFSymbol] = []
        let count = Int(section.size / 24)
        for number in 1..<max(count, 1) {   // symbol 0 is the reserved undefined entry
            let base = section.offset + UInt64(number) * 24
            let nameOffset = UInt64(r.u32(at: base)!)
            let info = r.u8(at: base + 4)!
            let shndx = r.u16(at: base + 6)!
            guard nameOffset != 0, shndx != 0 else { continue }   // unnamed or undefined
            guard nameOffset < strings.size,
                  let name = r.cString(at: strings.offset + nameOffset, limit: strings.offset + strings.size) else {
                throw .symbolNamePastStringTable(section: index, symbol: number)
            }
            let kind = ELFSymbol.Kind(rawValue: info & 0xf) ?? .other
            guard kind != .section, kind != .file, !name.isEmpty else { continue }
            result.append(ELFSymbol(name: name, value: r.u64(at: base + 8)!, size: r.u64(at: base + 16)!,
                                    kind: kind, binding: ELFSymbol.Binding(rawValue: info >> 4) ?? .other,
                                    sectionIndex: shndx))
        }
        return result
    }
}
