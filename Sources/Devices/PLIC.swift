// Platform-Level Interrupt Controller as on QEMU `virt` (compatible "sifive,plic-1.0.0",
// "riscv,plic0"; base 0x0C00_0000, 6 MiB window). Spec: RISC-V PLIC Specification v1.0.0
// (riscv/riscv-plic-spec), §3 memory map, §4 interrupt gateways, §5-§9 priority/pending/enable/
// threshold/claim-complete.
//
//   offset                         register                          notes
//   0x000000 + 4*s                 priority[s], s = 1...N            3 bits (0 = never, 7 = highest)
//   0x001000 + 4*w                 pending bits s = 32w...32w+31     read-only
//   0x002000 + 0x80*c + 4*w        enable bits of context c          bit 0 of word 0 (source 0) reads 0
//   0x200000 + 0x1000*c            threshold[c]                      3 bits
//   0x200004 + 0x1000*c            claim (read) / complete (write)
//
// Contexts follow QEMU virt's "MS" layout: context 2h is hart h's M-mode (drives mip.MEIP), 2h+1 its
// S-mode (drives mip.SEIP). N = 96 sources (the device tree's riscv,ndev). Only naturally aligned
// 32-bit accesses are accepted, as QEMU's PLIC; other widths are rejected (access fault).
//
// Gateways (§4), in one of two ways (`PLICGateway`):
// - `.qemu` (the default), as QEMU's PLIC: a source becomes pending when its device raises its line,
//   or raises it again while it is high (the device re-evaluated its interrupt after a change of its
//   state), even while the source is being serviced (claimed and not yet completed); a completion
//   does not look at the line. A device that stays asserted after its handler ran interrupts again
//   only at its next event. xv6 depends on this: its UART handler never reads IIR, so THR-empty stays
//   raised, and a level-triggered gateway would deliver it again after every completion for ever.
// - `.level`, the specification's level-triggered gateway: a request is forwarded when the line
//   rises and the source is not being serviced; a completion re-arms the gateway, so a source still
//   asserted is pending again at once.
// Either way the request is latched: dropping the line before the claim leaves it pending (the claim
// then returns it and the driver finds nothing to do), which is what a guest reading the pending bits
// sees on QEMU. Enable bit 0 (source 0, which never interrupts) is stored as QEMU does.

import Machine

/// How the PLIC's gateways turn device lines into requests (see PLIC.swift).
public enum PLICGateway: String, Sendable, CaseIterable, Codable {
    /// As QEMU's PLIC: a request each time the device raises its line; completions do not re-sample.
    case qemu
    /// The PLIC specification's level-triggered gateway: a completion re-arms it while the line is high.
    case level
}

public final class PLIC: MMIODevice, InterruptController, CountingDevice {
    public static let priorityBase: UInt64 = 0x0
    public static let pendingBase: UInt64 = 0x1000
    public static let enableBase: UInt64 = 0x2000
    public static let enableStride: UInt64 = 0x80
    public static let contextBase: UInt64 = 0x20_0000
    public static let contextStride: UInt64 = 0x1000
    public static let priorityMask: UInt32 = 0x7

    public let mmioSize: UInt64
    public let name: String
    /// Highest valid source number (sources are 1...sourceCount).
    public let sourceCount: Int
    public let contextCount: Int
    public let gateway: PLICGateway
    public private(set) var counters = DeviceCounters()

    private let pins: any InterruptPins
    private let errors: GuestErrorLog?
    fileprivate var priority: [UInt32]
    fileprivate var level: [Bool]          // the input line as the device drives it
    fileprivate var pending: [Bool]        // gateway has forwarded a request not yet claimed
    fileprivate var inService: [Bool]      // claimed, waiting for completion
    fileprivate var enable: [[UInt32]]     // [context][word]
    fileprivate var threshold: [UInt32]
    fileprivate var outputLevel: [Bool]    // what each context currently drives
    fileprivate let words: Int

    public init(hartCount: Int, pins: any InterruptPins, sourceCount: Int = VirtPlatform.plicSourceCount,
                mmioSize: UInt64 = VirtPlatform.plic.size, gateway: PLICGateway = .qemu,
                errors: GuestErrorLog? = nil, name: String = "plic") {
        precondition(sourceCount >= 1 && sourceCount <= 1023, "PLIC supports sources 1...1023")
        precondition(hartCount >= 1)
        self.sourceCount = sourceCount
        self.contextCount = 2 * hartCount
        precondition(Self.contextBase + UInt64(contextCount) * Self.contextStride <= mmioSize,
                     "PLIC window too small for \(hartCount) harts")
        self.mmioSize = mmioSize
        self.gateway = gateway
        self.pins = pins
        self.errors = errors
        self.name = name
        words = (sourceCount + 1 + 31) / 32
        priority = Array(repeating: 0, count: sourceCount + 1)
        level = Array(repeating: false, count: sourceCount + 1)
        pending = level
        inService = level
        enable = Array(repeating: Array(repeating: 0, count: words), count: contextCount)
        threshold = Array(repeating: 0, count: contextCount)
        outputLevel = Array(repeating: false, count: contextCount)
    }

    /// The pin and hart a context drives: even contexts M-mode external, odd ones S-mode.
    public static func target(context: Int) -> (hart: Int, pin: InterruptPin) {
        (context / 2, context % 2 == 0 ? .meip : .seip)
    }

    // MARK: InterruptController

    public func setIRQ(source: Int, level newLevel: Bool) {
        guard source >= 1 && source <= sourceCount else { return }  // wiring error: ignore, not a crash
        guard level[source] != newLevel else {
            // Raised again while high: a new request only for a gateway that follows QEMU.
            if newLevel && gateway == .qemu && !pending[source] {
                pending[source] = true
                updateOutputs()
            }
            return
        }
        level[source] = newLevel
        if newLevel {
            counters.interrupts &+= 1
            if gateway == .qemu || !inService[source] { pending[source] = true }
            updateOutputs()
        }
    }

    // MARK: Inspection (tests, stats, a hypervisor's virtual PLIC)

    public func isPending(_ source: Int) -> Bool { pending[source] }
    public func isInService(_ source: Int) -> Bool { inService[source] }
    public func output(context: Int) -> Bool { outputLevel[context] }

    /// Claims as a guest read of the claim register would (for an in-Swift firmware or a VMM).
    public func claim(context: Int) -> Int {
        guard let best = bestPending(context: context) else { return 0 }
        pending[best] = false
        inService[best] = true
        counters.requests &+= 1
        updateOutputs()
        return best
    }

    /// Completes as a guest write of the complete register would.
    public func complete(context: Int, source: Int) {
        // §9: a completion for a source not enabled for the context is silently ignored.
        guard source >= 1 && source <= sourceCount, isEnabled(context, source) else {
            errors?.log(name, "context \(context) completed source \(source) that is not enabled for it")
            counters.guestErrors &+= 1
            return
        }
        inService[source] = false
        if gateway == .level && level[source] { pending[source] = true }
        updateOutputs()
    }

    // MARK: MMIODevice

    public func mmioRead(offset: UInt64, size: Int) -> UInt64? {
        counters.reads &+= 1
        guard checkAccess(offset, size) else { return nil }
        switch offset {
        case Self.priorityBase..<Self.pendingBase:
            let s = Int(offset / 4)
            return s >= 1 && s <= sourceCount ? UInt64(priority[s]) : 0
        case Self.pendingBase..<Self.enableBase:
            let w = Int((offset - Self.pendingBase) / 4)
            guard w < words else { return 0 }
            var bits: UInt32 = 0
            for b in 0..<32 {
                let s = w * 32 + b
                if s >= 1 && s <= sourceCount && pending[s] { bits |= 1 << UInt32(b) }
            }
            return UInt64(bits)
        case Self.enableBase..<(Self.enableBase + Self.enableStride * UInt64(contextCount)):
            let c = Int((offset - Self.enableBase) / Self.enableStride)
            let w = Int((offset - Self.enableBase) % Self.enableStride / 4)
            return w < words ? UInt64(enable[c][w]) : 0
        case Self.contextBase..<(Self.contextBase + Self.contextStride * UInt64(contextCount)):
            let c = Int((offset - Self.contextBase) / Self.contextStride)
            switch (offset - Self.contextBase) % Self.contextStride {
            case 0: return UInt64(threshold[c])
            case 4: return UInt64(claim(context: c))
            default: return 0
            }
        default:
            return 0
        }
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        counters.writes &+= 1
        guard checkAccess(offset, size) else { return false }
        let v = UInt32(truncatingIfNeeded: value)
        switch offset {
        case Self.priorityBase..<Self.pendingBase:
            let s = Int(offset / 4)
            if s >= 1 && s <= sourceCount { priority[s] = v & Self.priorityMask }
        case Self.pendingBase..<Self.enableBase:
            // Pending bits are read-only (§6): they change only through gateways and claims.
            errors?.log(name, "write to read-only pending word at 0x\(String(offset, radix: 16))")
            counters.guestErrors &+= 1
        case Self.enableBase..<(Self.enableBase + Self.enableStride * UInt64(contextCount)):
            let c = Int((offset - Self.enableBase) / Self.enableStride)
            let w = Int((offset - Self.enableBase) % Self.enableStride / 4)
            guard w < words else { break }
            var bits = v
            if w == words - 1 {                           // nor do sources beyond sourceCount
                let valid = sourceCount + 1 - w * 32
                if valid < 32 { bits &= (UInt32(1) << UInt32(valid)) &- 1 }
            }
            enable[c][w] = bits
        case Self.contextBase..<(Self.contextBase + Self.contextStride * UInt64(contextCount)):
            let c = Int((offset - Self.contextBase) / Self.contextStride)
            switch (offset - Self.contextBase) % Self.contextStride {
            case 0: threshold[c] = v & Self.priorityMask
            case 4: complete(context: c, source: Int(v))
            default: break
            }
        default:
            break
        }
        updateOutputs()
        return true
    }

    // MARK: Internals

    private func checkAccess(_ offset: UInt64, _ size: Int) -> Bool {
        guard size == 4, offset % 4 == 0 else {
            errors?.log(name, "rejected \(size)-byte access at offset 0x\(String(offset, radix: 16))")
            counters.guestErrors &+= 1
            return false
        }
        return true
    }

    private func isEnabled(_ context: Int, _ source: Int) -> Bool {
        enable[context][source / 32] & (1 << UInt32(source % 32)) != 0
    }

    /// The highest-priority pending source enabled for `context` above its threshold; ties go to the
    /// lowest source number (§8).
    private func bestPending(context c: Int) -> Int? {
        var best: Int?
        var bestPriority: UInt32 = 0
        for s in 1...sourceCount where pending[s] && !inService[s] && isEnabled(c, s) {
            let p = priority[s]
            if p > threshold[c] && p > bestPriority {
                best = s
                bestPriority = p
            }
        }
        return best
    }

    private func updateOutputs() {
        for c in 0..<contextCount {
            let out = bestPending(context: c) != nil
            if out != outputLevel[c] {
                outputLevel[c] = out
                let t = Self.target(context: c)
                pins.setPin(t.pin, hart: t.hart, level: out)
            }
        }
    }
}

// MARK: Snapshots

public struct PLICState: DeviceState, Equatable {
    public let priority: [UInt32]
    public let level: [Bool]
    public let pending: [Bool]
    public let inService: [Bool]
    public let enable: [[UInt32]]
    public let threshold: [UInt32]
}

extension PLIC: SnapshottableDevice {
    public func saveState() -> any DeviceState {
        PLICState(priority: priority, level: level, pending: pending, inService: inService, enable: enable,
                  threshold: threshold)
    }

    public func accepts(_ state: any DeviceState) -> Bool {
        guard let s = state as? PLICState, s.priority.count == priority.count, s.level.count == level.count,
              s.pending.count == pending.count, s.inService.count == inService.count,
              s.threshold.count == threshold.count, s.enable.count == enable.count,
              s.enable.allSatisfy({ $0.count == words }) else { return false }
        return true
    }

    @discardableResult
    public func restoreState(_ state: any DeviceState) -> Bool {
        guard accepts(state), let s = state as? PLICState else { return false }
        priority = s.priority
        level = s.level
        pending = s.pending
        inService = s.inService
        enable = s.enable
        threshold = s.threshold
        for c in 0..<contextCount {
            outputLevel[c] = bestPending(context: c) != nil
            let t = Self.target(context: c)
            pins.setPin(t.pin, hart: t.hart, level: outputLevel[c])
        }
        return true
    }
}
