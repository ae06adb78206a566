#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Guest RAM: one contiguous range of physical addresses backed by host memory.
///
/// The host memory is an anonymous private mapping with no swap reservation, so pages cost host
/// memory only once the guest (or a loader) touches them: a 4 GiB guest that uses 10 MiB costs
/// 10 MiB. Untouched pages read as zero, as RAM does after reset in this machine.
final class RAM {
    let base: UInt64
    let size: UInt64
    /// Host address of guest-physical `base`.
    let host: UnsafeMutableRawPointer

    init(base: UInt64, size: UInt64) {
        precondition(size > 0 && size % 4096 == 0 && base % 4096 == 0, "RAM must be whole pages")
        self.base = base
        self.size = size
        var flags = MAP_PRIVATE | MAP_ANONYMOUS
        #if os(Linux)
        flags |= MAP_NORESERVE
        #endif
        let p = mmap(nil, Int(size), PROT_READ | PROT_WRITE, flags, -1, 0)
        precondition(p != MAP_FAILED && p != nil, "cannot reserve \(size) bytes of host memory for guest RAM")
        host = p!
    }

    deinit { munmap(host, Int(size)) }

    /// True when `[address, address + count)` lies wholly in RAM.
    @inline(__always)
    func contains(_ address: UInt64, count: UInt64) -> Bool {
        let off = address &- base
        return address >= base && off < size && count <= size - off
    }

    /// Host pointer for a guest-physical address already known to be in RAM.
    @inline(__always)
    func pointer(_ address: UInt64) -> UnsafeMutableRawPointer {
        host + Int(address &- base)
    }

    /// Returns every page to the zero state (a machine reset).
    func zero() {
        #if os(Linux)
        // Dropping the pages gives back host memory and makes them read as zero again.
        madvise(host, Int(size), MADV_DONTNEED)
        #else
        memset(host, 0, Int(size))
        #endif
    }
}
