// The validation rules of direct paging: page types, writable mappings, pins, roots.
import Machine
import Testing
@testable import Hypervisor

@Suite struct ParavirtualValidationTests {
    @Test func validatedUpdatesBuildAUserMapping() {
        let f = PVFixture()
        let r = f.buildUserMapping()
        #expect(r == .success(3))
        #expect(f.domain.frames.type(of: f.frame(f.page(1))) == .pageTable(level: 2))
        #expect(f.domain.frames.isPinned(f.frame(f.page(1))))
        #expect(f.domain.frames.type(of: f.frame(f.page(2))) == .pageTable(level: 1))
        #expect(f.domain.frames.type(of: f.frame(f.page(3))) == .pageTable(level: 0))
        #expect(f.domain.frames.writableMappings(of: f.frame(f.page(10))) == 1)
        #expect(f.read64(f.page(3)) == PTEBits.leaf(f.page(10), PTEBits.r | PTEBits.w | PTEBits.u))
        #expect(f.domain.updatesApplied == 3)
        #expect(f.domain.calls["mmu_update"] == 1)
    }

    @Test func mappingAFrameOutsideTheVMIsRefused() {
        let f = PVFixture()
        #expect(f.buildUserMapping() == .success(3))
        let before = f.read64(f.page(3) + 8)
        let r = f.update([(f.page(3) + 8, PTEBits.leaf(f.ramEnd, PTEBits.r | PTEBits.u))])
        #expect(r == .failure(.invalidAddress, value: 0))
        #expect(f.read64(f.page(3) + 8) == before)
        // Another VM's RAM, seen from this one, is above its RAM or nowhere at all.
        #expect(f.update([(f.page(3) + 8, PTEBits.leaf(0x1_0000_0000, PTEBits.r))]).error == .invalidAddress)
        #expect(f.domain.updatesRefused == 2)
        #expect(f.domain.errors["mmu_update.invalid_address"] == 2)
        // Device window: mapped read/write, never executable.
        #expect(f.update([(f.page(3) + 8, PTEBits.leaf(0x1000_0000, PTEBits.r | PTEBits.w))]) == .success(1))
        #expect(f.update([(f.page(3) + 16, PTEBits.leaf(0x1000_0000, PTEBits.r | PTEBits.x))]).error == .denied)
    }

    @Test func aPageTableIsNeverMappedWritable() {
        let f = PVFixture()
        #expect(f.buildUserMapping() == .success(3))
        for table in [1, 2, 3] {
            let r = f.update([(f.page(3) + 8, PTEBits.leaf(f.page(table), PTEBits.r | PTEBits.w | PTEBits.u))])
            #expect(r == .failure(.denied, value: 0))
        }
        #expect(f.domain.errors["mmu_update.denied"] == 3)
        // Read-only is fine (a kernel may read its tables).
        #expect(f.update([(f.page(3) + 8, PTEBits.leaf(f.page(2), PTEBits.r | PTEBits.u))]) == .success(1))
        // A writable superpage covering a table is refused too when the linear map is not trusted.
        var strict = ParavirtualPolicy()
        strict.trustKernelLinearMap = false
        let s = PVFixture(policy: strict)
        #expect(s.buildUserMapping() == .success(3))
        let giga = PTEBits.leaf(PVFixture.ramBase, PTEBits.r | PTEBits.w | PTEBits.x | PTEBits.g)
        #expect(s.update([(s.page(1) + 16, giga)]).error == .denied)
        // Trusted, the same kernel linear map is accepted and counts no writable mapping.
        #expect(f.update([(f.page(1) + 16, giga)]) == .success(1))
        #expect(f.domain.frames.writableMappings(of: f.frame(f.page(3))) == 0)
    }

    @Test func aFrameMappedWritableCannotBecomeAPageTable() {
        let f = PVFixture()
        #expect(f.buildUserMapping() == .success(3))
        // Page 10 is mapped writable: linking it as a table is refused, and so is pinning it.
        #expect(f.update([(f.page(2) + 8, PTEBits.table(f.page(10)))]) == .failure(.denied, value: 0))
        #expect(f.call(.pinTable, f.page(10)) == .failure(.denied))
        #expect(f.domain.frames.type(of: f.frame(f.page(10))) == .untyped)
    }

    @Test func malformedEntriesAreRefused() {
        let f = PVFixture()
        #expect(f.buildUserMapping() == .success(3))
        let slot = f.page(3) + 8
        #expect(f.update([(slot, PTEBits.leaf(f.page(11), PTEBits.w))]).error == .invalidParam)          // W without R
        #expect(f.update([(slot, PTEBits.leaf(f.page(11), PTEBits.r) | 1 << 60)]).error == .invalidParam) // reserved bits
        #expect(f.update([(slot, PTEBits.table(f.page(11)))]).error == .invalidParam)                     // pointer at level 0
        #expect(f.update([(f.page(2) + 16, PTEBits.leaf(f.page(11), PTEBits.r))]).error == .invalidParam) // misaligned megapage
        #expect(f.update([(slot + 1, 0)]).error == .invalidParam)                                        // misaligned PTE
        #expect(f.update([(f.ramEnd, 0)]).error == .invalidAddress)                                      // PTE outside the VM
        #expect(f.call(.mmuUpdate, f.ramEnd - 8, 1).error == .invalidAddress)                            // list outside the VM
        #expect(f.domain.updatesApplied == 3)
    }

    @Test func theRootMustBeValidatedToSwitchToIt() {
        let f = PVFixture()
        let sv39: UInt64 = 8 << 60
        // An unvalidated root: refused, satp untouched.
        #expect(f.call(.setSATP, sv39 | f.page(5) >> 12, 0) == .failure(.denied))
        #expect(f.machine.readCSR(0x180) == 0)
        #expect(f.call(.setSATP, 9 << 60 | f.page(5) >> 12, 0) == .failure(.denied))  // nor as an Sv48 root
        #expect(f.call(.setSATP, 10 << 60 | f.page(5) >> 12, 0) == .failure(.invalidParam))  // Sv57: not offered
        #expect(f.call(.setSATP, sv39 | 0x1_0000_0000 >> 12, 0) == .failure(.invalidAddress))
        #expect(f.buildUserMapping() == .success(3))
        // A table of level 1 is no root.
        #expect(f.call(.setSATP, sv39 | f.page(2) >> 12, 0) == .failure(.denied))
        #expect(f.call(.setSATP, sv39 | 3 << 44 | f.page(1) >> 12, 1) == .success())
        #expect(f.machine.readCSR(0x180) == sv39 | 3 << 44 | f.page(1) >> 12)
        #expect(f.domain.flushes == 1)
        // The root in use cannot be unpinned.
        #expect(f.call(.unpinTable, f.page(1)) == .failure(.invalidState))
    }

    /// Sv48: a root pinned with four levels is a table of level 3, and the tables below it one
    /// level down each; set_satp takes it as Sv48 only, and an Sv39 root as Sv39 only.
    @Test func anSv48RootIsPinnedWithFourLevels() {
        let f = PVFixture()
        #expect(f.call(.pinTable, f.page(40), 5) == .failure(.invalidParam))
        #expect(f.call(.pinTable, f.page(40), 2) == .failure(.invalidParam))
        #expect(f.call(.pinTable, f.page(40), 4) == .success())
        #expect(f.domain.frames.type(of: f.frame(f.page(40))) == .pageTable(level: 3))
        // Entry 0 leads through three more tables to a user page at VA 0x4000_0000; a 1 GiB leaf
        // in the next table over RAM is a kernel gigapage, as under Sv39; a 512 GiB leaf in the
        // root must be aligned to 512 GiB.
        let r = f.update([(f.page(40), PTEBits.table(f.page(41))),
                          (f.page(41) + 8, PTEBits.table(f.page(42))),
                          (f.page(42), PTEBits.table(f.page(43))),
                          (f.page(43), PTEBits.leaf(f.page(10), PTEBits.r | PTEBits.w | PTEBits.u)),
                          (f.page(41) + 16, PTEBits.leaf(0x8000_0000, PTEBits.r | PTEBits.x | PTEBits.g))])
        #expect(r == .success(5))
        #expect(f.domain.frames.type(of: f.frame(f.page(41))) == .pageTable(level: 2))
        #expect(f.domain.frames.type(of: f.frame(f.page(43))) == .pageTable(level: 0))
        #expect(f.update([(f.page(40) + 8, PTEBits.leaf(0x8000_0000, PTEBits.r))]) == .failure(.invalidParam, value: 0),
                "a misaligned 512 GiB leaf")
        // An Sv39 root is no Sv48 root, nor the reverse. (A table of level 2 below an Sv48 root
        // is an Sv39 root as good as any: its entries were validated for that level.)
        #expect(f.buildUserMapping() == .success(3))
        #expect(f.call(.setSATP, 9 << 60 | f.page(1) >> 12, 0) == .failure(.denied))
        #expect(f.call(.setSATP, 8 << 60 | f.page(40) >> 12, 0) == .failure(.denied))
        #expect(f.call(.setSATP, 9 << 60 | f.page(42) >> 12, 0) == .failure(.denied))
        #expect(f.call(.setSATP, 9 << 60 | 5 << 44 | f.page(40) >> 12, 1) == .success())
        #expect(f.machine.readCSR(0x180) == 9 << 60 | 5 << 44 | f.page(40) >> 12)
        #expect(f.call(.unpinTable, f.page(40)) == .failure(.invalidState), "the root in use")
        #expect(f.call(.setSATP, 0, 1) == .success())
        #expect(f.call(.unpinTable, f.page(40)) == .success())
        for p in [40, 41, 42, 43] { #expect(f.domain.frames.type(of: f.frame(f.page(p))) == .untyped) }
        #expect(f.domain.inconsistencies == 0)
    }

    @Test func unpinningReleasesTheTreeSoItsFramesAreOrdinaryAgain() {
        let f = PVFixture()
        #expect(f.buildUserMapping() == .success(3))
        #expect(f.call(.pinTable, f.page(1)) == .failure(.alreadyAvailable))
        #expect(f.call(.unpinTable, f.page(1)) == .success())
        #expect(f.call(.unpinTable, f.page(1)) == .failure(.invalidState))
        for p in [1, 2, 3] { #expect(f.domain.frames.type(of: f.frame(f.page(p))) == .untyped) }
        #expect(f.domain.frames.writableMappings(of: f.frame(f.page(10))) == 0)
        // A new root may now map the old tables writable (they are ordinary memory).
        #expect(f.call(.pinTable, f.page(20)) == .success())
        let r = f.update([(f.page(20) + 8, PTEBits.table(f.page(21))), (f.page(21), PTEBits.table(f.page(22))),
                          (f.page(22), PTEBits.leaf(f.page(3), PTEBits.r | PTEBits.w | PTEBits.u))])
        #expect(r == .success(3))
    }

    @Test func aTableThatContainsItselfIsRefused() {
        let f = PVFixture()
        f.write64(f.page(30) + 8, PTEBits.table(f.page(30)))
        #expect(f.call(.pinTable, f.page(30)) == .failure(.invalidState))
        #expect(f.domain.frames.type(of: f.frame(f.page(30))) == .untyped)
        // Two tables pointing at each other across levels likewise.
        f.write64(f.page(31) + 8, PTEBits.table(f.page(32)))
        f.write64(f.page(32), PTEBits.table(f.page(31)))
        #expect(f.call(.pinTable, f.page(31)) == .failure(.invalidState))
        #expect(f.domain.frames.pageTableFrames == 0)
    }

    @Test func implicitPinAndItsAbsence() {
        let f = PVFixture()
        #expect(f.buildUserMapping(pin: false) == .success(3))
        #expect(f.domain.implicitPins == 1)
        var strict = ParavirtualPolicy()
        strict.implicitPin = false
        let s = PVFixture(policy: strict)
        #expect(s.buildUserMapping(pin: false) == .failure(.denied, value: 0))
        #expect(s.domain.frames.pageTableFrames == 0)
    }

    @Test func batchesUpToTheLimit() {
        var policy = ParavirtualPolicy()
        policy.batchLimit = 4
        let f = PVFixture(policy: policy)
        #expect(f.call(.pinTable, f.page(1)) == .success())
        #expect(f.call(.mmuUpdate, f.page(200), 5) == .failure(.invalidParam))
        let leaves = (0..<4).map { (f.page(1) + 8 * UInt64(256 + $0), PTEBits.leaf(0, PTEBits.r)) }
        // Gigapage leaves at 0 (device window) — four in one hypercall.
        #expect(f.update(leaves) == .success(4))
        #expect(f.domain.calls["mmu_update"] == 2)
        // A refused request stops the batch; those before it stay applied.
        let mixed = [(f.page(1) + 8 * 300, PTEBits.leaf(0, PTEBits.r)), (f.page(1) + 8 * 301, PTEBits.leaf(0, PTEBits.r | PTEBits.x)),
                     (f.page(1) + 8 * 302, PTEBits.leaf(0, PTEBits.r))]
        #expect(f.update(mixed) == .failure(.denied, value: 1))
        #expect(f.read64(f.page(1) + 8 * 300) != 0)
        #expect(f.read64(f.page(1) + 8 * 302) == 0)
        #expect(ParavirtualPolicy().batchLimit == 2048)
    }
}
