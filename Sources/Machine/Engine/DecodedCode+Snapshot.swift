import RISCV

// The decoded-code cache's contents, for a snapshot of a VM whose VMM translates code. A machine
// snapshot does not need them: decoding is the host's work, which no count sees, so a restore
// drops the cache (Machine+Snapshot.swift). Under a translator it is not the host's alone: what was
// decoded is what was translated, and translating is charged (`CodeTranslator.translate` sees
// each instruction the first time it is decoded). A VM restored with an empty cache would pay for
// its translations again. So a translating VMM saves the cache's contents with its own state and
// puts them back after the machine's restore: which instructions were decoded, and which of them
// its translator rewrote and how. The instructions themselves are decoded again from RAM, which a
// restore has put back as it was when they were first decoded (a write drops what it overlaps).
//
// What is saved is a list of runs, each a stretch of one page decoded instruction after
// instruction, and the rewrites, few (the sensitive instructions). A restore from a file trusts
// neither: the runs are checked to lie within RAM and a page, an instruction that does not end
// where its run says is left undecoded, and each rewrite goes through the translator, which keeps
// only one it would make itself (`restoreDecodedCode`'s `accept`).

/// Which instructions the decoded-code cache holds and what a translator made of them
/// (`Machine.decodedCodeState()`).
public struct DecodedCodeState: Codable, Equatable, Sendable {
    /// A stretch of decoded instructions, each starting where the one before ends, within one page.
    public struct Run: Codable, Equatable, Sendable {
        /// Physical address of the first instruction.
        public var start: UInt64
        /// Bytes of instructions (2 to 4096).
        public var bytes: UInt64
    }

    /// An instruction the translator rewrote, and how.
    public struct Rewrite: Codable, Equatable, Sendable {
        public var address: UInt64
        public var rewrite: CodeRewrite
    }

    /// Ascending by start. An instruction decoded at a 32-bit instruction's second halfword (a
    /// jump into its middle) starts a run of its own.
    public var runs: [Run] = []
    /// Ascending by address; every instruction of `runs` not listed here was kept as decoded.
    public var rewrites: [Rewrite] = []

    public init() {}

    /// What is wrong with it for a machine of `ramBase`/`ramSize` (nil when nothing).
    public func flaw(ramBase: UInt64, ramSize: UInt64) -> String? {
        let ramEnd = ramBase &+ ramSize
        for run in runs {
            let page = run.start & ~0xFFF
            guard run.start >= ramBase, run.start < ramEnd, run.start & 1 == 0, run.bytes >= 2,
                  run.bytes <= 4096, run.start - page + run.bytes <= 4096 else {
                return "decoded code \(hex(run.start))+\(run.bytes) is not a run of one page of RAM"
            }
        }
        for r in rewrites where r.address < ramBase || r.address >= ramEnd {
            return "rewritten instruction \(hex(r.address)) is outside RAM"
        }
        return nil
    }

    private func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}

extension CodeRewrite: Codable {
    private enum CodingKeys: String, CodingKey { case callout, onMiss }

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let id = try c.decodeIfPresent(UInt32.self, forKey: .callout) {
            self = .callout(id)
        } else if let id = try c.decodeIfPresent(UInt32.self, forKey: .onMiss) {
            self = .calloutOnMiss(id)
        } else {
            self = .keep
        }
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .keep: break
        case .callout(let id): try c.encode(id, forKey: .callout)
        case .calloutOnMiss(let id): try c.encode(id, forKey: .onMiss)
        }
    }
}

extension CodeRewrite {
    /// What slot `slot` of the decoded-code cache holds: the rewrite it was stored with.
    init(slot: DecodedOp) {
        if slot.opcode == .illegal && slot.rs3 == CalloutSlot.tag {
            self = .callout(UInt32(bitPattern: slot.imm))
        } else if GuardedStoreSlot.isGuarded(slot) {
            self = .calloutOnMiss(GuardedStoreSlot.id(slot))
        } else {
            self = .keep
        }
    }
}

extension Machine {
    /// What the decoded-code cache holds now: for a translating VMM's snapshot. Between runs.
    public func decodedCodeState() -> DecodedCodeState {
        var state = DecodedCodeState()
        var visited = [Bool](repeating: false, count: DecodedCode.slotsPerPage)
        for index in code.decodedPages.sorted() {
            guard let slots = code.pages[index] else { continue }
            let page = code.ramBase &+ UInt64(index) << 12
            for i in visited.indices { visited[i] = false }
            for first in 0..<DecodedCode.slotsPerPage where DecodedCode.isInstruction(slots[first]) && !visited[first] {
                var k = first
                while k < DecodedCode.slotsPerPage, DecodedCode.isInstruction(slots[k]), !visited[k] {
                    visited[k] = true
                    let rewrite = CodeRewrite(slot: slots[k])
                    if rewrite != .keep { state.rewrites.append(.init(address: page | UInt64(k << 1), rewrite: rewrite)) }
                    k += Int(slots[k].length) >> 1
                }
                state.runs.append(.init(start: page | UInt64(first << 1), bytes: UInt64((k - first) << 1)))
            }
        }
        state.rewrites.sort { $0.address < $1.address }
        return state
    }

    /// Decodes again, from RAM as it is now, the instructions `state` lists, each stored with the
    /// rewrite `accept` returns for it (given the instruction, its address and the rewrite saved:
    /// a translator keeps only a rewrite it would make itself). Between runs, after the RAM the
    /// instructions were decoded from has been restored; `state` must be free of `flaw`s. An
    /// instruction that does not fit its run (RAM other than the snapshot's) ends the run there,
    /// undecoded. Returns the instructions decoded.
    @discardableResult
    public func restoreDecodedCode(_ state: DecodedCodeState,
                                   accept: (Instruction, UInt64, CodeRewrite) -> CodeRewrite) -> Int {
        var saved: [UInt64: CodeRewrite] = [:]
        for r in state.rewrites { saved[r.address] = r.rewrite }
        var decoded = 0
        for run in state.runs {
            let page = run.start & ~0xFFF
            guard let host = hostPointer(physical: page, count: 4096) else { continue }
            let (slots, isNew) = code.page(page)
            if isNew { pageBecameCode(page) }
            var offset = Int(run.start - page)
            let end = offset + Int(run.bytes)
            while offset < end {
                guard let op = DecodedCode.decode(host + offset, pageOffset: offset),
                      offset + Int(op.length) <= end else { break }
                let address = page | UInt64(offset)
                let rewrite = accept(op, address, saved[address] ?? .keep)
                slots[offset >> 1] = Hart.cacheable(DecodedCode.slot(op, rewrite: rewrite))
                decoded += 1
                offset += Int(op.length)
            }
        }
        return decoded
    }
}

extension DecodedCode {
    /// The instruction whose first byte is at `host`, page offset `pageOffset` of a RAM page; nil
    /// for a 32-bit one whose upper half is on the next page.
    @inline(__always)
    static func decode(_ host: UnsafeMutableRawPointer, pageOffset: Int) -> DecodedOp? {
        let low = host.load(as: UInt16.self)
        if low & 3 != 3 { return Decoder.decode(UInt32(low)) }
        guard pageOffset != 0xFFE else { return nil }
        return Decoder.decode(host.loadUnaligned(as: UInt32.self))
    }

    /// Whether a slot holds an instruction (a callout included) rather than a marker.
    static func isInstruction(_ slot: DecodedOp) -> Bool {
        !(slot.opcode == .illegal && slot.length == 0)
    }

    /// The slot holding `op` rewritten as `rewrite`: itself, a guarded store, or a callout.
    static func slot(_ op: DecodedOp, rewrite: CodeRewrite) -> DecodedOp {
        switch rewrite {
        case .keep: op
        case .callout(let n): CalloutSlot.make(n, replacing: op)
        case .calloutOnMiss(let n):
            GuardedStoreSlot.applies(to: op, id: n) ? GuardedStoreSlot.make(n, replacing: op) : CalloutSlot.make(n, replacing: op)
        }
    }
}
