import Boot
import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Hypervisor

/// Adapted stores as guarded stores (`BinaryTranslationPolicy.guardedStores`,
/// `CodeRewrite.calloutOnMiss`): the same run as with a callout at every execution — console,
/// instructions, cycles, the machine's, monitor's, shadows' and translator's counters — with far
/// fewer callouts; the fast path suspended while the monitor's view of the PLIC lags (a claim),
/// restored at the next callout; and the shadows' page-indexed protection agreeing with the
/// shadow pages that mirror each guest table.
@Suite struct BinaryTranslationGuardedStoreTests {
    /// Everything a run leaves that the model defines (not the host's block cache, nor the two
    /// counters of how the simulator ran adapted stores).
    struct Outcome: Equatable {
        var stop: StopReason
        var console: String
        var machine: HartCounters
        var monitor: TrapCounters
        var shadow: ShadowCounters
        var translator: BinaryTranslationCounters
        var account: CycleAccount
    }

    static func guest(_ bootargs: String, guarded: Bool, disk: Bool = true) throws -> Guest? {
        guard let board = try TinyosBoards.configuration(bootargs, disk: disk, tag: "bt-guarded") else { return nil }
        let policy = BinaryTranslationPolicy(guardedStores: guarded)
        // Never unshadowed: table pages tinyos frees and reuses stay traced, so the adapted
        // stores that zero them also write plain pages, the case guarded stores are for (with
        // unshadowing, the default, those stores stop being traced before they adapt).
        return try Guest(GuestConfiguration(mode: .bt, board: board, binaryTranslationPolicy: policy,
                                            shadowPolicy: ShadowPolicy(unshadowAfter: 0)))
    }

    /// The outcome of `guest` after `run`, and the translator's counters as they were.
    static func outcome(_ guest: Guest, stop: StopReason) throws -> (Outcome, BinaryTranslationCounters) {
        let technique = try #require(guest.technique as? BinaryTranslationTechnique)
        let translator = try #require(technique.translator)
        let monitor = try #require(technique.monitor)
        #expect(technique.checkCoherence() == [])
        var model = translator.counters
        model.tracedStoreNative = 0
        model.guardSuspensions = 0
        model.blocksTranslated = 0
        let outcome = Outcome(stop: stop, console: guest.consoleText, machine: guest.machine.counters(),
                              monitor: monitor.counters, shadow: monitor.shadow.counters, translator: model,
                              account: technique.account(guest))
        return (outcome, translator.counters)
    }

    static func run(_ bootargs: String, guarded: Bool) throws -> (Outcome, BinaryTranslationCounters)? {
        guard let guest = try guest(bootargs, guarded: guarded) else { return nil }
        defer { guest.close() }
        return try outcome(guest, stop: guest.run(maxInstructions: 2_000_000_000))
    }

    /// tinyos's benchmarks whose kernel stores hit page tables (pagefault zeroes fresh pages with
    /// the store that once zeroed a page table; fork frees and reuses table pages, so the same
    /// store alternates between traced and plain pages).
    @Test(arguments: ["bench=pagefault n=64", "bench=fork n=8", "bench=pte n=30", "bench=ctxsw n=20",
                      "init=forktest"])
    func guardedStoresChangeNothingButTheCallouts(_ bootargs: String) throws {
        guard let (guarded, g) = try Self.run(bootargs, guarded: true),
              let (plain, p) = try Self.run(bootargs, guarded: false) else { return }
        #expect(guarded.stop == .poweredOff(code: 0))
        #expect(guarded == plain)
        #expect(g.adaptations > 0 && g.adaptations == p.adaptations)
        #expect(g.tracedWriteInline == p.tracedWriteInline)
        // Each time a callout found no traced page, the store ran natively; guarded, a store
        // calls in only when it misses the hart's fast path.
        #expect(g.tracedStoreNative < p.tracedStoreNative)
        #expect(g.guardSuspensions == 0, "no device interrupt in these runs")
        if bootargs.hasPrefix("bench=pagefault") {
            // 512 stores zero each fresh page: the plain callout ran for every one, the guarded
            // store calls in about once a page.
            #expect(p.tracedStoreNative >= 60 * 512)
            #expect(g.tracedStoreNative * 100 < p.tracedStoreNative)
        }
    }

    /// Console input raises the UART's interrupt through the PLIC; the kernel claims it with a
    /// device access (a callout), which leaves the monitor's view behind the pin until its next
    /// step. The guards are suspended over that window, and the run is the same as unguarded.
    @Test func deviceInterruptsSuspendTheGuards() throws {
        func run(guarded: Bool) throws -> (Outcome, BinaryTranslationCounters)? {
            guard let guest = try Self.guest("", guarded: guarded, disk: false) else { return nil }
            defer { guest.close() }
            _ = guest.run(maxInstructions: 3_000_000)
            for line in ["echo hello there", "bench pagefault n=16", "echo again"] {
                guest.input(Array((line + "\n").utf8))
                _ = guest.run(maxInstructions: 5_000_000)
            }
            guest.input(Array("halt\n".utf8))
            return try Self.outcome(guest, stop: guest.run(maxInstructions: 5_000_000))
        }
        guard let (guarded, g) = try run(guarded: true), let (plain, p) = try run(guarded: false) else { return }
        #expect(guarded.stop == .poweredOff(code: 0))
        #expect(guarded.console.contains("hello there") && guarded.console.contains("again"))
        #expect(guarded.monitor.hardwareInterrupts > 0)
        #expect(guarded == plain)
        #expect(g.guardSuspensions > 0)
        #expect(g.tracedStoreNative < p.tracedStoreNative)
    }

    /// The window itself: the vCPU's SEIP up while the PLIC's pin is low (the guest has claimed,
    /// and the monitor has not looked since) suspends the fast path; once the monitor has followed
    /// the pin, the next check restores it.
    @Test func aStaleExternalInterruptSuspendsTheGuardsUntilTheMonitorFollows() throws {
        guard let guest = try Self.guest("bench=pte n=4", guarded: true) else { return }
        defer { guest.close() }
        #expect(guest.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0))
        let technique = try #require(guest.technique as? BinaryTranslationTechnique)
        let translator = try #require(technique.translator)
        let monitor = try #require(technique.monitor)
        #expect(!translator.adaptedStores.isEmpty)
        #expect(monitor.externalInterruptSettled)
        #expect(!guest.machine.guardedStoresAlwaysCallOut)

        monitor.vcpuForTesting { $0.setInterrupt(.supervisorExternal, pending: true) }
        #expect(!monitor.externalInterruptSettled)
        translator.settleGuards()
        #expect(guest.machine.guardedStoresAlwaysCallOut)
        #expect(translator.counters.guardSuspensions == 1)
        translator.settleGuards()
        #expect(translator.counters.guardSuspensions == 1, "counted once per suspension")

        monitor.syncExternalInterrupt()
        #expect(monitor.externalInterruptSettled)
        translator.settleGuards()
        #expect(!guest.machine.guardedStoresAlwaysCallOut)

        // Unguarded, there is nothing to suspend.
        guard let plain = try Self.guest("bench=pte n=4", guarded: false) else { return }
        defer { plain.close() }
        #expect(plain.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0))
        let pt = try #require((plain.technique as? BinaryTranslationTechnique)?.translator)
        pt.monitor.vcpuForTesting { $0.setInterrupt(.supervisorExternal, pending: true) }
        pt.settleGuards()
        #expect(!plain.machine.guardedStoresAlwaysCallOut)
    }

    /// The page-indexed protection (`ProtectedPages`) says exactly what `derived` says, page by
    /// page over the guest's RAM, after runs that build, drop and rebuild shadows.
    @Test(arguments: ["bench=fork n=8", "init=forktest"])
    func protectionBitmapAgreesWithTheShadows(_ bootargs: String) throws {
        guard let guest = try Self.guest(bootargs, guarded: true) else { return }
        defer { guest.close() }
        #expect(guest.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0))
        let shadow = try #require((guest.technique as? BinaryTranslationTechnique)?.monitor?.shadow)
        #expect(shadow.protected.pageCount == guest.board.configuration.memory >> 12)
        var protected = 0
        for i in 0..<shadow.protected.pageCount {
            let page = shadow.protected.firstPage + i
            let mirrored = !shadow.derived.isEmpty(page: page)
            #expect(shadow.protected.contains(page: page) == mirrored, "page 0x\(String(page << 12, radix: 16))")
            #expect(shadow.isWriteProtected(guestPhysical: page << 12 | 0x123) == mirrored)
            if mirrored { protected += 1 }
        }
        #expect(protected > 0)
        // Outside RAM: no bit, so `derived` answers.
        #expect(shadow.protected.contains(page: 0x1000_0000 >> 12) == nil)
        #expect(!shadow.isWriteProtected(guestPhysical: 0x1000_0000))
    }
}
