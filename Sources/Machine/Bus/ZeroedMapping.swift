#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zero-filled memory mapped anonymously: the host commits only the pages that are written. Guest
/// RAM lives in one, and so do the tables with an entry per RAM page (decoded code, watchpoint and
/// MMIO flags), so that a large RAM costs memory only where it is used (1 TiB has 2^28 pages).
/// `T`'s all-zero bit pattern is the entries' initial value (0, false, or a nil pointer).
enum ZeroedMapping {
    static func allocate<T>(_: T.Type, count: Int, purpose: String) -> UnsafeMutablePointer<T> {
        var flags = MAP_PRIVATE | MAP_ANONYMOUS
        #if os(Linux)
        flags |= MAP_NORESERVE
        #endif
        let bytes = max(1, count * MemoryLayout<T>.stride)
        let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, flags, -1, 0)
        precondition(p != MAP_FAILED && p != nil, "cannot reserve \(bytes) bytes of host memory for \(purpose)")
        return p!.bindMemory(to: T.self, capacity: count)
    }

    static func deallocate<T>(_ mapping: UnsafeMutablePointer<T>, count: Int) {
        munmap(UnsafeMutableRawPointer(mapping), max(1, count * MemoryLayout<T>.stride))
    }
}
