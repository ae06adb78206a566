import LuaKit
import Testing
@testable import VMLab

/// A snapshot holds a copy of guest RAM that Lua does not see; a loop that drops snapshots without
/// closing them must still find them collected as it goes, not hold every one until Lua's own
/// allocations trigger a cycle.
@Test func droppedSnapshotsAreCollectedAsALoopMakesMore() throws {
    let session = try LabSession()
    let before = SnapshotHandle.alive.withLock { $0 }
    let results = try session.lua.run("""
        local vm <close> = assert(vmlab.vm { image = vmlab.asm("1: j 1b"), memory = "8M" })
        vm:write_memory(0x80100000, ("\\1"):rep(6 << 20))      -- 6 MiB a snapshot must copy
        local bytes
        for i = 1, 40 do bytes = vm:snapshot():info().ram_bytes end
        return bytes
        """)
    let alive = SnapshotHandle.alive.withLock { $0 } - before
    #expect(results.first == .integer(6 << 20 + 4096))
    #expect(alive < 10, "\(alive) of 40 dropped snapshots still held")
}
