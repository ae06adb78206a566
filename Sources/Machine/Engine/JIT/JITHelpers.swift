// The Swift functions compiled code calls (C calling convention): the soft-TLB miss of a load or a
// store, and the lockstep tests' block-end hook. A miss helper does what `execute` does after a
// fast-path miss, with the counts compiled code handed over in the context: `commitInFlight`, the
// slow access, then either the trap or the instruction's end, and the slice's end when a slow
// path asked for it — settled as `runChain` settles `.trapped` and `.exit`.

enum JITHelpers {
    typealias Miss = @convention(c) (UnsafeMutableRawPointer, UInt64, UInt64, UInt64, UInt64) -> UInt64
    typealias Note = @convention(c) (UnsafeMutableRawPointer) -> Void

    static let addresses = JITCompiler.Helpers(
        load: unsafeBitCast(jitLoadMiss as Miss, to: UInt.self),
        store: unsafeBitCast(jitStoreMiss as Miss, to: UInt.self),
        blockEnd: unsafeBitCast(jitBlockEnd as Note, to: UInt.self))
}

/// Load miss: `info` = size | signed << 4 | rd << 8 | length << 16 (JITCompiler.info).
private func jitLoadMiss(_ raw: UnsafeMutableRawPointer, _ va: UInt64, _ pc: UInt64, _ info: UInt64, _: UInt64) -> UInt64 {
    let ctx = raw.assumingMemoryBound(to: JITContext.self)
    return Unmanaged<Hart>.fromOpaque(ctx.pointee.hart)._withUnsafeGuaranteedRef { $0.jitLoad(ctx, va, pc, info) }
}

private func jitStoreMiss(_ raw: UnsafeMutableRawPointer, _ va: UInt64, _ pc: UInt64, _ info: UInt64, _ value: UInt64) -> UInt64 {
    let ctx = raw.assumingMemoryBound(to: JITContext.self)
    return Unmanaged<Hart>.fromOpaque(ctx.pointee.hart)._withUnsafeGuaranteedRef { $0.jitStore(ctx, va, pc, info, value) }
}

private func jitBlockEnd(_ raw: UnsafeMutableRawPointer) {
    let ctx = raw.assumingMemoryBound(to: JITContext.self)
    Unmanaged<Hart>.fromOpaque(ctx.pointee.hart)._withUnsafeGuaranteedRef { $0.noteBlockEnd(ctx.pointee.pending) }
}

extension Hart {
    private func counts(_ ctx: UnsafeMutablePointer<JITContext>) -> SliceCounts {
        SliceCounts(pending: ctx.pointee.pending, loadHits: ctx.pointee.loadHits, storeHits: ctx.pointee.storeHits)
    }

    private func hand(_ c: SliceCounts, _ left: UInt64, to ctx: UnsafeMutablePointer<JITContext>) {
        ctx.pointee.pending = c.pending
        ctx.pointee.loadHits = c.loadHits
        ctx.pointee.storeHits = c.storeHits
        ctx.pointee.left = left
    }

    /// The rest of a load that missed the soft TLB. Returns 0 to go on in compiled code, or the
    /// settled `JITExit`.
    @inline(never)
    fileprivate func jitLoad(_ ctx: UnsafeMutablePointer<JITContext>, _ va: UInt64, _ pc: UInt64, _ info: UInt64) -> UInt64 {
        var c = counts(ctx)
        var left = ctx.pointee.left
        let x = state.pointee.regs
        commitInFlight(&c, &left)
        state.pointee.pc = pc   // a fault reports this instruction
        let size = info & 15
        guard let v = loadSlow(va, size: size) else {
            x[0] = 0
            state.pointee.prefetchedFetch = 0
            commit(&c, &left)
            hand(c, left, to: ctx)
            return JITExit.settledTrap.rawValue
        }
        var r = v
        if info & 16 != 0 {
            switch size {
            case 1: r = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: v)))
            case 2: r = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: v)))
            case 4: r = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: v)))
            default: break
            }
        }
        x[Int((info >> 8) & 0xFF)] = r
        x[0] = 0
        return finish(ctx, &c, &left, next: pc &+ (info >> 16))
    }

    /// The rest of a store that missed the soft TLB.
    @inline(never)
    fileprivate func jitStore(_ ctx: UnsafeMutablePointer<JITContext>, _ va: UInt64, _ pc: UInt64, _ info: UInt64,
                              _ value: UInt64) -> UInt64 {
        var c = counts(ctx)
        var left = ctx.pointee.left
        commitInFlight(&c, &left)
        state.pointee.pc = pc
        guard storeSlow(va, size: info & 15, value: value) else {
            state.pointee.regs[0] = 0
            state.pointee.prefetchedFetch = 0
            commit(&c, &left)
            hand(c, left, to: ctx)
            return JITExit.settledTrap.rawValue
        }
        return finish(ctx, &c, &left, next: pc &+ (info >> 16))
    }

    /// After a slow access completed: the slice ends here if a slow path asked for it (a store to
    /// code, an observer, MMIO...), as `execute` returns `.exit` then.
    private func finish(_ ctx: UnsafeMutablePointer<JITContext>, _ c: inout SliceCounts, _ left: inout UInt64,
                        next: UInt64) -> UInt64 {
        if state.pointee.exitSlice != .none {
            state.pointee.regs[0] = 0
            c.pending &+= 1
            state.pointee.pc = next
            commit(&c, &left)
            hand(c, left, to: ctx)
            return JITExit.settledExit.rawValue
        }
        hand(c, left, to: ctx)
        return 0
    }
}
