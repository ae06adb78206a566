// Grant tables and the split block driver's back-end: requests in a granted ring, data in granted
// pages, one batch per notification; revoked, read-only-for-a-read and never-made grants refused.
import Devices
import Machine
import Testing
@testable import Hypervisor

@Suite struct ParavirtualSplitDriverTests {
    /// A 64-sector disk whose byte i is i * 7.
    static func disk() -> BlockImage {
        BlockImage(bytes: (0..<(64 * 512)).map { UInt8(truncatingIfNeeded: $0 &* 7) }, mode: .copyOnWrite)
    }

    /// Queues request `index` in the ring at `ring`.
    static func request(_ f: PVFixture, ring: UInt64, index: UInt32, id: UInt64, write: Bool, sector: UInt64, grant: UInt64) {
        let slot = ring + 64 + UInt64(index % 16) * 32
        f.write64(slot, id)
        f.write64(slot + 8, (write ? 1 : 0) | 1 << 32)
        f.write64(slot + 16, sector)
        f.write64(slot + 24, grant)
    }

    static func produce(_ f: PVFixture, ring: UInt64, _ count: UInt32) {
        let cons = f.read64(ring) >> 32
        f.write64(ring, UInt64(count) | cons << 32)
    }

    @Test func requestsAreServedInBatchesThroughGrants() {
        let f = PVFixture()
        let image = Self.disk()
        f.domain.blockBackend = BlockBackend(image: image)
        let ring = f.page(60), data = f.page(61), out = f.page(62)
        #expect(f.call(.registerSharedInfo, f.page(63)) == .success())
        let ringRef = f.call(.grantAccess, ring, 0).value
        let dataRef = f.call(.grantAccess, data, 0).value
        let outRef = f.call(.grantAccess, out, 1).value
        #expect(f.domain.grants.active == 3)
        #expect(f.call(.eventChannelAlloc) == .success(0))
        #expect(f.call(.eventChannelBind, 0, EventSource.block.rawValue) == .success())
        #expect(f.call(.blockConnect, ringRef) == .success(64))   // the disk's sectors
        // Two requests, one notification: a read into the data page, a write from a read-only grant.
        for i in 0..<512 { f.machine.loadPhysical([0xA5], at: out + UInt64(i)) }
        Self.request(f, ring: ring, index: 0, id: 11, write: false, sector: 3, grant: dataRef)
        Self.request(f, ring: ring, index: 1, id: 12, write: true, sector: 5, grant: outRef)
        Self.produce(f, ring: ring, 2)
        #expect(f.call(.eventChannelNotify, 0) == .success())
        let backend = f.domain.blockBackend!
        #expect(backend.batches == 1 && backend.requestsServed == 2)
        #expect(f.read64(ring + 8) == 2)                              // rsp_prod
        #expect(f.read64(ring + 576) == 11 && f.read64(ring + 584) == 0)
        #expect(f.read64(ring + 592) == 12 && f.read64(ring + 600) == 0)
        #expect(f.machine.readPhysical(at: data, count: 512) == image.read(sector: 3, count: 1))
        #expect(image.read(sector: 5, count: 1) == [UInt8](repeating: 0xA5, count: 512))
        #expect(f.read64(f.page(63)) & 1 != 0)                        // the completion event
        // Revoked: the back-end may no longer use the grant; a read into a read-only grant neither.
        #expect(f.call(.grantRevoke, dataRef) == .success())
        #expect(f.call(.grantRevoke, dataRef) == .failure(.invalidParam))
        Self.request(f, ring: ring, index: 2, id: 13, write: false, sector: 1, grant: dataRef)
        Self.request(f, ring: ring, index: 3, id: 14, write: false, sector: 1, grant: outRef)
        Self.request(f, ring: ring, index: 4, id: 15, write: false, sector: 64, grant: outRef)
        Self.produce(f, ring: ring, 5)
        let before = f.domain.grantRefusals
        #expect(f.call(.eventChannelNotify, 0) == .success())
        #expect(f.domain.grantRefusals == before + 3)
        #expect(backend.requestsFailed == 3 && backend.batches == 2)
        for k in 0..<3 {
            #expect(Int64(bitPattern: f.read64(ring + 576 + UInt64(2 + k) * 16 + 8)) == HypercallError.denied.rawValue)
        }
        #expect(f.machine.readPhysical(at: data, count: 512) == image.read(sector: 3, count: 1))  // untouched
    }

    @Test func onlyOrdinaryFramesOfTheVMAreGranted() {
        let f = PVFixture()
        #expect(f.buildUserMapping() == .success(3))
        #expect(f.call(.grantAccess, f.page(2), 0) == .failure(.denied))          // a page table
        #expect(f.call(.grantAccess, f.ramEnd, 0) == .failure(.invalidAddress))
        #expect(f.call(.grantAccess, f.page(70) + 8, 0) == .failure(.invalidParam))
        #expect(f.call(.blockConnect, 0) == .failure(.notSupported))              // no back-end
        // A granted frame that later becomes a page table is no longer usable by back-ends.
        let ref = f.call(.grantAccess, f.page(71), 0).value
        #expect(f.domain.useGrant(ref, write: true) == f.page(71))
        #expect(f.update([(f.page(2) + 8, PTEBits.table(f.page(71)))]) == .success(1))
        #expect(f.domain.useGrant(ref, write: false) == nil)
        #expect(f.domain.useGrant(999, write: false) == nil)
        #expect(f.domain.grantRefusals == 2)
        // The table fills up.
        var made = 1
        while f.call(.grantAccess, f.page(80), 1).error == nil { made += 1 }
        #expect(made == HypercallABI.grants)
    }
}
