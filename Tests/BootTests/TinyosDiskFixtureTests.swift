import Foundation
import GuestTestSupport
import Testing

// The tinyos disk fixture is shared by suites that run in parallel. A caller must never be handed
// a half-written image: one was, once, and made two boards of a lockstep test read different
// disks (the "syscall" case diverged at instruction 680455, which looked like an engine bug).

@Suite struct TinyosDiskFixtureTests {
    @Test func concurrentCallersAllGetTheWholeImage() throws {
        let tag = "fixture-race-\(UInt32.random(in: 0...UInt32.max))"
        let callers = 12
        let sizes = Sizes(count: callers)
        let done = DispatchGroup()
        // Threads of their own, started a few milliseconds apart, so that some ask while the
        // first caller's mkdisk.sh is still writing.
        for i in 0..<callers {
            done.enter()
            Thread.detachNewThread {
                usleep(UInt32(i) * 4_000)
                let path = try? TinyosGuest.disk(tag: tag)
                sizes.set(i, path.flatMap { try? Data(contentsOf: URL(fileURLWithPath: $0)).count } ?? -1)
                done.leave()
            }
        }
        done.wait()
        #expect(sizes.all == Array(repeating: 1 << 20, count: callers))
        if let path = try TinyosGuest.disk(tag: tag) { try? FileManager.default.removeItem(atPath: path) }
    }

    final class Sizes: @unchecked Sendable {
        private var values: [Int]
        private let lock = NSLock()
        init(count: Int) { values = Array(repeating: 0, count: count) }
        func set(_ i: Int, _ v: Int) { lock.lock(); values[i] = v; lock.unlock() }
        var all: [Int] { lock.lock(); defer { lock.unlock() }; return values }
    }
}
