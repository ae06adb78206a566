#if os(Linux)
import Foundation

/// Bytes of `[start, start + count)` that are in RAM now (mincore), whatever else the process
/// holds: tests run in parallel in one process, so a before/after difference of the whole
/// process's resident memory would also count what the others touched meanwhile (a guest
/// kernel's boot touches 128 MiB in milliseconds on huge pages). `start` is page aligned.
public func residentBytes(in start: UnsafeRawPointer, count: Int) -> Int {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let chunkPages = 1 << 18   // 1 GiB of 4 KiB pages per call: a 256 KiB vector
    var vector = [UInt8](repeating: 0, count: chunkPages)
    var resident = 0
    var offset = 0
    while offset < count {
        let length = min(count - offset, chunkPages * page)
        let pages = (length + page - 1) / page
        let status = vector.withUnsafeMutableBufferPointer {
            mincore(UnsafeMutableRawPointer(mutating: start + offset), length, $0.baseAddress)
        }
        precondition(status == 0, "mincore failed: errno \(errno)")
        // Linux writes 1 for a resident page and 0 otherwise; memchr finds the few ones fast,
        // where a byte loop over 2^28 entries takes seconds in a debug build.
        vector.withUnsafeBufferPointer { v in
            var at = UnsafeRawPointer(v.baseAddress!)
            let end = at + pages
            while at < end, let hit = memchr(at, 1, end - at) {
                resident += page
                at = UnsafeRawPointer(hit) + 1
            }
        }
        offset += length
    }
    return resident
}
#endif
