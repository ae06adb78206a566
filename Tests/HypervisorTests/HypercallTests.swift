// The other hypercalls: event channels and the shared info page, multicall, domain info, console,
// and a fuzz of every hypercall with random arguments.
import GuestTestSupport
import Devices
import Machine
import Testing
@testable import Hypervisor

@Suite struct HypercallTests {
    @Test func eventChannelsBelongToTheirDomain() {
        let f = PVFixture()
        // Never allocated, out of range, another domain's numbering: refused.
        #expect(f.call(.eventChannelBind, 0, EventSource.timer.rawValue) == .failure(.denied))
        #expect(f.call(.eventChannelNotify, 3) == .failure(.denied))
        #expect(f.call(.eventChannelUnmask, 99) == .failure(.denied))
        #expect(f.call(.eventChannelClose, UInt64.max) == .failure(.denied))
        #expect(f.domain.errors["evtchn_bind.denied"] == 1)
        let port = f.call(.eventChannelAlloc)
        #expect(port == .success(0))
        #expect(f.call(.eventChannelBind, 0, 77) == .failure(.invalidParam))
        #expect(f.call(.eventChannelBind, 0, EventSource.timer.rawValue) == .success())
        #expect(f.call(.eventChannelBind, 0, EventSource.console.rawValue) == .failure(.alreadyAvailable))
        #expect(f.call(.eventChannelAlloc) == .success(1))
        #expect(f.call(.eventChannelBind, 1, EventSource.timer.rawValue) == .failure(.alreadyAvailable))
        #expect(f.call(.eventChannelClose, 0) == .success())
        #expect(f.call(.eventChannelBind, 0, EventSource.block.rawValue) == .failure(.denied))
        // All 64 ports, then no more.
        var allocated = 1
        while f.call(.eventChannelAlloc).error == nil { allocated += 1 }
        #expect(allocated == HypercallABI.eventChannels)
    }

    @Test func eventsReachTheSharedInfoPageAndUpcallUnlessMasked() {
        let f = PVFixture()
        let page = f.page(40), info = SharedInfo(page)
        #expect(f.call(.registerSharedInfo, page + 8) == .failure(.invalidParam))
        #expect(f.call(.registerSharedInfo, f.ramEnd) == .failure(.invalidAddress))
        #expect(f.call(.registerSharedInfo, page) == .success())
        #expect(f.call(.domainInfo, DomainInfo.sharedInfo.rawValue) == .success(page))
        #expect(f.call(.eventChannelAlloc) == .success(0))
        #expect(f.call(.eventChannelAlloc) == .success(1))
        // Virtual interrupts masked by a store: the event is pending, no upcall is injected.
        f.machine.loadPhysical([1], at: info.upcallMask)
        #expect(f.call(.eventChannelNotify, 1) == .success())
        #expect(f.read64(info.pending) == 2)
        #expect(f.machine.readPhysical(at: info.upcallPending, count: 1) == [1])
        #expect((f.machine.readCSR(0x344) ?? 0) & 2 == 0)
        #expect(f.call(.block) == .success(1))
        // Unmasked: the next VMM entry injects SSIP.
        f.machine.loadPhysical([0], at: info.upcallMask)
        #expect(f.call(.domainInfo, 0) == .success(7))
        #expect((f.machine.readCSR(0x344) ?? 0) & 2 != 0)
        #expect(f.domain.upcalls == 1)
        // A masked port sets its pending bit but raises no upcall until unmasked.
        f.machine.writeCSR(0x344, 0)
        f.write64(info.pending, 0)
        f.machine.loadPhysical([0], at: info.upcallPending)
        f.write64(info.mask, 1)
        #expect(f.call(.eventChannelNotify, 0) == .success())
        #expect(f.read64(info.pending) == 1)
        #expect(f.machine.readPhysical(at: info.upcallPending, count: 1) == [0])
        #expect(f.call(.eventChannelUnmask, 0) == .success())
        #expect(f.read64(info.mask) == 0)
        #expect((f.machine.readCSR(0x344) ?? 0) & 2 != 0)
        // A back-end's event: the port bound to the source is raised.
        #expect(f.call(.eventChannelAlloc) == .success(2))
        #expect(f.call(.eventChannelBind, 2, EventSource.console.rawValue) == .success())
        #expect(f.domain.raise(.console))
        #expect(f.read64(info.pending) & 4 != 0)
        #expect(!f.domain.raise(.block))
        // Notifying a bound port goes to its back-end.
        #expect(f.call(.eventChannelNotify, 2) == .success())
        #expect(f.domain.notifications["console"] == 1)
    }

    @Test func multicallRunsEachEntryAndRefusesNesting() {
        let f = PVFixture()
        let list = f.page(50)
        let entries: [[UInt64]] = [
            [Hypercall.domainInfo.rawValue, DomainInfo.ramSize.rawValue],
            [Hypercall.multicall.rawValue, list, 1],
            [Hypercall.pinTable.rawValue, f.page(1)],
            [999],
        ]
        for (i, e) in entries.enumerated() {
            for (k, w) in e.enumerated() { f.write64(list + UInt64(i) * 64 + UInt64(k) * 8, w) }
        }
        #expect(f.call(.multicall, list, 4) == .success(4))
        #expect(f.read64(list + 48) == 0)
        #expect(f.read64(list + 56) == 1 << 20)
        #expect(f.read64(list + 64 + 48) == UInt64(bitPattern: HypercallError.invalidParam.rawValue))
        #expect(f.read64(list + 128 + 48) == 0)
        #expect(f.domain.frames.isPinned(f.frame(f.page(1))))
        #expect(f.read64(list + 192 + 48) == UInt64(bitPattern: HypercallError.notSupported.rawValue))
        #expect(f.call(.multicall, list, 65) == .failure(.invalidParam))
        #expect(f.call(.multicall, f.ramEnd - 64, 2) == .failure(.invalidAddress))
        #expect(f.domain.calls["multicall"] == 4)   // the call itself, the nested one, and two refused
    }

    @Test func domainInfoAndConsole() {
        let f = PVFixture()
        #expect(f.call(.domainInfo, DomainInfo.ramBase.rawValue) == .success(0x8000_0000))
        #expect(f.call(.domainInfo, DomainInfo.batchLimit.rawValue) == .success(2048))
        #expect(f.call(.domainInfo, DomainInfo.abiVersion.rawValue) == .success(HypercallABI.version))
        #expect(f.call(.domainInfo, 1000) == .failure(.notSupported))
        #expect(f.domain.handle(HypercallRequest(number: 12345, arguments: [])) == .failure(.notSupported))
        #expect(f.domain.calls["unknown"] == 1)
        #expect(f.call(.consoleWrite, f.ramEnd - 2, 4) == .failure(.invalidAddress))
        #expect(f.call(.consoleWrite, f.page(0), 0) == .success(0))
    }

    /// Every hypercall with random arguments (a fixed seed): each answer is success or one of the
    /// documented errors, every error is counted, nothing traps or crashes, and afterwards no page
    /// table is mapped writable and every type reference is accounted for.
    @Test(arguments: Hypercall.allCases)
    func fuzz(_ call: Hypercall) {
        let f = PVFixture()
        var rng = SplitMix64(state: 0x5EED &+ call.rawValue)
        #expect(f.call(.registerSharedInfo, f.page(250)) == .success())
        // A split block back-end on a port, with its ring granted, so notifications reach it.
        f.domain.blockBackend = BlockBackend(image: BlockImage(bytes: [UInt8](repeating: 1, count: 8 * 512), mode: .copyOnWrite))
        #expect(f.call(.eventChannelAlloc) == .success(0))
        #expect(f.call(.eventChannelBind, 0, EventSource.block.rawValue) == .success())
        #expect(f.call(.blockConnect, f.call(.grantAccess, f.page(100), 0).value) == .success(8))
        for k in 0..<8 { _ = f.call(.grantAccess, f.page(101 + k), UInt64(k & 1)) }
        // Random words in RAM so lists, tables and PTEs contain garbage too.
        for _ in 0..<2000 { f.write64(f.page(Int(rng.below(240))) + 8 * rng.below(512), rng.next()) }
        func argument(_ rng: inout SplitMix64) -> UInt64 {
            switch rng.below(6) {
            case 0: return rng.next()
            case 1: return rng.below(70)
            case 2: return f.page(Int(rng.below(256)))
            case 3: return f.page(Int(rng.below(256))) + rng.below(4096)
            case 4: return PTEBits.leaf(f.page(Int(rng.below(300))), rng.below(32) << 1)
            default: return 8 << 60 | f.page(Int(rng.below(256))) >> 12
            }
        }
        var failures: UInt64 = 0
        for _ in 0..<400 {
            let args = (0..<6).map { _ in argument(&rng) }
            let before = f.domain.refusals
            let r = f.domain.handle(HypercallRequest(number: call.rawValue, arguments: args))
            let counted = f.domain.refusals - before
            if r.error != nil { failures += 1 }
            // Each refusal is counted once (a multicall also counts its entries' refusals).
            if call == .multicall { #expect(r.error == nil || counted >= 1) } else { #expect(counted == (r.error == nil ? 0 : 1)) }
            // Some valid work between, so the garbage meets real tables.
            if rng.below(4) == 0 { _ = f.buildUserMapping() }
        }
        #expect(f.domain.refusals >= failures)
        // Invariants: no typed frame is mapped writable by a counted mapping.
        for frame in 0..<f.domain.frames.frames {
            if case .pageTable = f.domain.frames.type(of: frame) {
                #expect(f.domain.frames.writableMappings(of: frame) == 0)
                #expect(f.domain.frames.references(of: frame) > 0)
            }
        }
    }
}
