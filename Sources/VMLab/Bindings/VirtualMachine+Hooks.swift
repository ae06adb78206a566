import Hypervisor
import LuaKit
import Machine

/// Hooks, breakpoints and watchpoints of a VM, and how Lua hooks run inside a Swift run.
///
/// A Lua hook is called from the Hypervisor's `EventHub` in the middle of `Guest.run`, which was
/// itself called from a Lua function (`vm:run`). The hook therefore runs as a protected call
/// (`LuaCall.call`) on the thread of that outer call: a Lua error inside it comes back as a Swift
/// error, never as a longjmp through the Swift frames of the run. The error is kept, the run is
/// stopped, and `vm:run` raises it once `Guest.run` has returned (through LuaKit's trampoline): a
/// string as "error in a hook: " and its message and traceback, any other value unchanged.
extension VirtualMachine {
    /// Runs `body` with `call` as the Lua call hooks run on. A hook's error is raised afterwards.
    func withLua<T>(_ call: LuaCall, _ body: () throws -> T) throws -> T {
        guard hookDepth == 0 else {
            throw LuaRaise.message("a hook cannot run its own VM (vm:run, vm:step and host:run are not allowed inside a hook)")
        }
        guard lua == nil else { throw LuaRaise.message("the VM is already running") }
        lua = call
        hookFailure = nil
        defer {
            lua = nil
            if closePending { close() }
        }
        let result = try body()
        if let failure = hookFailure {
            hookFailure = nil
            // A value that is not a string (`error({ code = 7 })`) is the hook's own data: the
            // caller's pcall gets it back unchanged, as it would from a Lua function it called.
            switch failure.value {
            case .string, .bytes: break
            default: throw LuaRaise.value(failure.raisable)
            }
            var message = "error in a hook: \(failure.message)"
            if let traceback = failure.traceback, !traceback.isEmpty { message += "\n" + traceback }
            throw LuaRaise.message(message)
        }
        return result
    }

    /// Calls a Lua hook with the event as a table. Outside a Lua run (no call to run it on) hooks
    /// do not fire; after a hook failed, the run is stopping and no other hook runs.
    func runHook(_ function: LuaRef, _ event: GuestEvent) -> HookAction {
        guard let lua, hookFailure == nil else { return hookFailure == nil ? .proceed : .stop }
        hookDepth += 1
        defer { hookDepth -= 1 }
        do {
            let results = try lua.call(.reference(function), [EventsBinding.value(event)])
            if closePending {
                hookStopped = true
                return .stop
            }
            switch results.first {
            case .string("stop")?, .boolean(false)?:
                hookStopped = true
                return .stop
            case nil, .nil?, .boolean(true)?:
                return .proceed
            case let other?:
                // "Stop" or "halt" would otherwise let the run go on as if nothing were returned.
                let shown = if case .string(let text) = other { "\"\(text)\"" } else { "a \(other.typeName)" }
                let message = "the hook on '\(event.kind.rawValue)' returned \(shown) (a hook returns \"stop\" or false to stop the run, nothing or true to let it go on)"
                hookFailure = LuaError(status: .runtime, value: .string(message), message: message)
                hookStopped = true
                return .stop
            }
        } catch {
            hookFailure = error
            hookStopped = true
            return .stop
        }
    }

    func addHook(_ kind: GuestEventKind, filter: EventFilter, function: LuaRef) throws(Misuse) -> HookHandle {
        let guest = try live()
        let id = guest.events.add(kind, filter: filter) { [weak self] event in
            self?.runHook(function, event) ?? .proceed
        }
        return HookHandle("hook on '\(kind.rawValue)'") { [weak self] in self?.guest?.events.remove(id) }
    }

    func addBreakpoint(_ pc: UInt64) -> HookHandle {
        breakpointUses[pc, default: 0] += 1
        guest?.breakpoints.insert(pc)
        return HookHandle("breakpoint at \(Formatting.hexText(pc))") { [weak self] in
            guard let self, let uses = self.breakpointUses[pc] else { return }
            if uses > 1 {
                self.breakpointUses[pc] = uses - 1
            } else {
                self.breakpointUses[pc] = nil
                self.guest?.breakpoints.remove(pc)
            }
        }
    }

    /// A watchpoint on `size` bytes at `address` in `space`. A virtual range is translated now,
    /// page by page (the pages need not be contiguous in guest-physical memory), so the
    /// watchpoint stays on the physical bytes whatever the guest maps later.
    func addWatchpoint(_ address: UInt64, size: UInt64, access: WatchAccess, space: AddressSpace) throws(Misuse) -> HookHandle {
        let guest = try live()
        var points: [Watchpoint] = []
        var done: UInt64 = 0
        while done < size {
            let va = address &+ done
            let chunk = min(size - done, 4096 - (va & 4095))
            var pa = va
            if case .guestVirtual(let vcpu) = space {
                switch guest.translate(va, vcpu: vcpu, access: access == .read ? .load : .store) {
                case .success(let physical): pa = physical
                case .failure(let error): throw Misuse(message: "cannot watch \(Formatting.hexText(address)): \(error.description)")
                }
            }
            guard guest.machine.hostPointer(physical: pa, count: chunk) != nil else {
                throw Misuse(message: "cannot watch \(Formatting.hexText(pa)) (+\(chunk) bytes): only the VM's RAM can be watched")
            }
            // Adjacent physical pieces merge into one watchpoint.
            if let last = points.last, last.base &+ last.size == pa {
                points[points.count - 1].size += chunk
            } else {
                points.append(Watchpoint(base: pa, size: chunk, access: access))
            }
            done += chunk
        }
        for point in points {
            watchpointUses[point, default: 0] += 1
            guest.watchpoints.insert(point)
        }
        let what = "watchpoint on \(Formatting.hexText(address)) (+\(size) bytes, \(access == .read ? "read" : access == .write ? "write" : "rw"))"
        return HookHandle(what) { [weak self] in
            guard let self else { return }
            for point in points {
                guard let uses = self.watchpointUses[point] else { continue }
                if uses > 1 {
                    self.watchpointUses[point] = uses - 1
                } else {
                    self.watchpointUses[point] = nil
                    self.guest?.watchpoints.remove(point)
                }
            }
        }
    }
}
