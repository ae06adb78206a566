// Everything that can be wrong with an ELF image handed to vmlab, each with the message a user sees.
// Segment numbers are indices into the program header table, as `readelf -l` counts them (from 0).

/// Why an ELF image was rejected. `description` is the message shown to the user.
public enum ELFError: Error, Equatable, Sendable, CustomStringConvertible {
    case notELF
    case unsupportedClass(UInt8)
    case unsupportedByteOrder(UInt8)
    case unsupportedVersion(UInt32)
    case unsupportedMachine(UInt16)
    case unsupportedType(UInt16)
    case truncatedHeader(size: Int)
    case badProgramHeaderSize(UInt16)
    case programHeadersPastEnd
    case badSectionHeaderSize(UInt16)
    case sectionHeadersPastEnd
    case segmentPastEnd(segment: Int)
    case segmentFileSizeExceedsMemorySize(segment: Int, fileSize: UInt64, memorySize: UInt64)
    case segmentAddressOverflow(segment: Int)
    case segmentsOverlap(Int, Int)
    case segmentOutsideRAM(segment: Int, address: UInt64, end: UInt64, ram: RAMRegion)
    case noLoadableSegments
    case entryOutsideSegments(entry: UInt64)
    case sectionPastEnd(section: Int)
    case badSectionLink(section: Int, link: UInt32)
    case badSymbolEntrySize(section: Int, size: UInt64)
    case symbolNamePastStringTable(section: Int, symbol: Int)

    public var description: String {
        switch self {
        case .notELF:
            return "not an ELF file"
        case .unsupportedClass(let cls):
            let name = cls == 1 ? "32" : String(cls)
            return "ELF class \(name) is not supported (vmlab runs RV64)"
        case .unsupportedByteOrder(let data):
            let name = data == 2 ? "big-endian" : "byte order \(data)"
            return "\(name) ELF is not supported (RISC-V is little-endian)"
        case .unsupportedVersion(let version):
            return "ELF version \(version) is not supported (expected 1)"
        case .unsupportedMachine(let machine):
            return "ELF machine \(machine) is not RISC-V (243)"
        case .unsupportedType(let type):
            let names: [UInt16: String] = [0: "ET_NONE", 1: "ET_REL (an object file, not linked)", 4: "ET_CORE"]
            return "ELF type \(names[type] ?? String(type)) cannot be loaded (expected an executable)"
        case .truncatedHeader(let size):
            return "ELF header is truncated (file has \(size) bytes, the header needs 64)"
        case .badProgramHeaderSize(let size):
            return "ELF program header entry size \(size) is too small (expected 56)"
        case .programHeadersPastEnd:
            return "ELF program header table extends past end of file"
        case .badSectionHeaderSize(let size):
            return "ELF section header entry size \(size) is too small (expected 64)"
        case .sectionHeadersPastEnd:
            return "ELF section header table extends past end of file"
        case .segmentPastEnd(let segment):
            return "segment \(segment) extends past end of file"
        case .segmentFileSizeExceedsMemorySize(let segment, let fileSize, let memorySize):
            return "segment \(segment) has file size \(hex(fileSize)) larger than its memory size \(hex(memorySize))"
        case .segmentAddressOverflow(let segment):
            return "segment \(segment) wraps around the end of the address space"
        case .segmentsOverlap(let first, let second):
            return "segments \(first) and \(second) overlap"
        case .segmentOutsideRAM(let segment, let address, let end, let ram):
            return "segment \(segment) at \(hex(address))-\(hex(end &- 1)) lies outside RAM (\(ram))"
        case .noLoadableSegments:
            return "ELF file has no loadable segments"
        case .entryOutsideSegments(let entry):
            return "entry point \(hex(entry)) is not inside any loadable segment"
        case .sectionPastEnd(let section):
            return "section \(section) extends past end of file"
        case .badSectionLink(let section, let link):
            return "section \(section) links to section \(link), which is not a string table"
        case .badSymbolEntrySize(let section, let size):
            return "symbol table section \(section) has entry size \(size) (expected 24)"
        case .symbolNamePastStringTable(let section, let symbol):
            return "symbol \(symbol) of section \(section) names a string past its string table"
        }
    }
}
