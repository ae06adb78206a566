// Loading a parsed ELF image into guest RAM: each PT_LOAD segment's file bytes copied to its physical
// address and the rest of its memory size zero-filled (gABI "Program Loading"). ET_DYN images are
// loaded at their link addresses without relocation, as QEMU does; position-independent firmware
// (OpenSBI built as PIE) relocates itself.
import Machine

extension ELFFile {
    /// Checks that every segment lies inside `ram`, naming the first that does not.
    public func checkPlacement(in ram: RAMRegion) throws(ELFError) {
        for segment in segments where !ram.contains(segment.physicalAddress, length: segment.memorySize) {
            throw .segmentOutsideRAM(segment: segment.index, address: segment.physicalAddress,
                                     end: segment.physicalAddress &+ segment.memorySize, ram: ram)
        }
    }

    /// The physical ranges the segments occupy, in program header order.
    public var physicalRanges: [MemoryRange] {
        segments.map { MemoryRange(address: $0.physicalAddress, size: $0.memorySize) }
    }

    /// Copies the segments into guest memory. Nothing is written unless every segment fits in `ram`
    /// and the entry point lies in one of them.
    public func load(into memory: any DMAMemory, ram: RAMRegion) throws -> LoadedImage {
        try checkPlacement(in: ram)
        let entry = try physicalEntry()
        for segment in segments {
            let start = Int(segment.fileOffset)   // parsing checked it lies inside the file
            try GuestMemoryWriter.write(bytes[start..<(start + Int(segment.fileSize))],
                                        at: segment.physicalAddress, into: memory)
            try GuestMemoryWriter.zero(segment.memorySize - segment.fileSize,
                                       at: segment.physicalAddress + segment.fileSize, into: memory)
        }
        return LoadedImage(entry: entry, ranges: physicalRanges)
    }
}
