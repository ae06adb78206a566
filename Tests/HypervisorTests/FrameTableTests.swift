import Testing
@testable import Hypervisor

/// The para-virtual VMM's frame table keeps a record per 4 KiB frame of the guest's RAM, created
/// as frames are first typed or mapped: a 1 TiB domain costs nothing up front. Counted in chunks
/// of records, not in the process's memory, which the tests running beside this one change too.
@Suite struct FrameTableTests {
    @Test func aTerabyteTableCostsOnlyTheFramesItRecords() throws {
        var table = FrameTable(ramBase: 0x8000_0000, ramSize: 1 << 40)
        let last = table.frames - 1
        #expect(table.type(of: last) == .untyped && table.references(of: last) == 0 && !table.isPinned(last))
        #expect(try table.takeType(0, level: 2))
        #expect(try table.takeType(last, level: 0))
        #expect(try !table.takeType(last, level: 0))          // a second reference, same type
        #expect(throws: HypercallError.invalidState) { try table.takeType(last, level: 1) }
        table.addWritableMapping(1)
        #expect(table.mayMapWritable(1) && !table.mayMapWritable(0))
        #expect(throws: HypercallError.denied) { try table.takeType(1, level: 0) }
        table.setPinned(0, true)
        #expect(table.type(of: 0) == .pageTable(level: 2) && table.type(of: last) == .pageTable(level: 0))
        #expect(table.pageTableFrames == 2 && table.pinnedFrames == 1)
        #expect(!table.dropType(last) && table.dropType(last))
        #expect(table.type(of: last) == .untyped && table.pageTableFrames == 1)
        // Frames 0 and 1 share the first chunk; the last frame has its own.
        #expect(table.chunksInUse == 2)
        #expect(table.frames / FrameTable.chunkFrames == 65536)
    }
}
