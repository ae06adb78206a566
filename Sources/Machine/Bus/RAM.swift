#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Host memory lent to a machine as its RAM (`MachineConfiguration.ramBacking`), so a VMM can give
/// a guest a window of its host's RAM: the guest's physical `ramBase` is `pointer`, and both
/// machines see the same bytes.
///
/// `pointer` must be page aligned and point to at least `ramSize` bytes that stay valid while
/// `owner` is alive; the machine keeps `owner`. Get both from the host side with
/// `Machine.hostPointer(physical:count:)` and `Machine.ramOwner`.
public struct ExternalRAM: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let owner: AnyObject?

    public init(pointer: UnsafeMutableRawPointer, owner: AnyObject?) {
        self.pointer = pointer
        self.owner = owner
    }
}

/// Guest RAM: one contiguous range of physical addresses backed by host memory.
///
/// The host memory is an anonymous private mapping with no swap reservation, so pages cost host
/// memory only once the guest (or a loader) touches them: a 4 GiB guest that uses 10 MiB costs
/// 10 MiB. Untouched pages read as zero, as RAM does after reset in this machine. Alternatively it
/// is a window of memory owned by someone else (`ExternalRAM`), which the RAM never unmaps.
final class RAM {
    let base: UInt64
    let size: UInt64
    /// Host address of guest-physical `base`.
    let host: UnsafeMutableRawPointer
    /// What keeps external memory alive; nil when this RAM owns its mapping.
    private let external: AnyObject?
    /// The memory is (part of) an anonymous private mapping, so discarding pages zeroes them.
    private let discardable: Bool
    private let ownsMapping: Bool

    init(base: UInt64, size: UInt64, backing: ExternalRAM? = nil) {
        precondition(size > 0 && size % 4096 == 0 && base % 4096 == 0, "RAM must be whole pages")
        self.base = base
        self.size = size
        if let b = backing {
            precondition(UInt(bitPattern: b.pointer) % 4096 == 0, "external RAM must be page aligned")
            host = b.pointer
            external = b.owner
            // A window of another machine's RAM is part of its anonymous mapping.
            discardable = b.owner is RAM
            ownsMapping = false
            return
        }
        host = UnsafeMutableRawPointer(ZeroedMapping.allocate(UInt8.self, count: Int(size), purpose: "guest RAM"))
        #if os(Linux)
        // Transparent huge pages where the host offers them (QEMU asks the same for guest RAM):
        // a kernel that builds its free list through every page, as tinyos and xv6 do, otherwise
        // takes one host page fault per 4 KiB, 32 768 for 128 MiB, most of a short VM's time.
        // Advice only: without THP, or where the kernel declines, the mapping stays as it was.
        _ = madvise(host, Int(size), MADV_HUGEPAGE)
        #endif
        external = nil
        discardable = true
        ownsMapping = true
    }

    deinit { if ownsMapping { ZeroedMapping.deallocate(host.assumingMemoryBound(to: UInt8.self), count: Int(size)) } }

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

    /// Returns every page of this RAM (only its own range, for a window) to the zero state.
    func zero() {
        #if os(Linux)
        if discardable {
            // Dropping the pages gives back host memory and makes them read as zero again.
            madvise(host, Int(size), MADV_DONTNEED)
            return
        }
        #endif
        memset(host, 0, Int(size))
    }
}
