import LuaKit

/// `vm:gdb{...}`: hands a VM to GDB from a script, at any point of it — after `vm:run` reached a
/// breakpoint, after `vm:restore` put a checkpoint back — as `vmlab boot --gdb` does from reset.
/// The script waits while GDB holds the VM (Debugging/GDBServer.swift).
enum GDBBinding {
    static let options: [LuaOption] = [
        LuaOption("port", .integer, "The TCP port on 127.0.0.1 to wait on (default 0: any free port); the line `vmlab: waiting for gdb on 127.0.0.1:PORT` on standard error names it."),
    ]

    static let methods: [LuaFunction] = [
        .method("gdb", of: "vmlab.VM",
                summary: "Hands the VM, where it stands, to GDB: waits for gdb-multiarch's `target remote :PORT` and serves GDB's remote protocol (registers and memory as `vm:read` sees them, breakpoints, watchpoints, harts as threads, `monitor stats`, `monitor tlb` and `monitor walk VA`; as `vmlab boot --gdb`) until GDB detaches (\"detached\": the VM stays where GDB left it, and the script goes on), kills the guest (\"killed\") or the guest powers off (\"poweroff\"). The script waits meanwhile; hooks fire as in `run`. A port that cannot be listened on returns `nil, message`. Not inside a hook.",
                parameters: [.optional("options", .options(name: "vmlab.GDBOptions", options))],
                returns: [LuaReturn(.choice(["detached", "killed", "poweroff"]), "reason"),
                          LuaReturn(.documented("vmlab.Stop"), "details", "The guest's last stop (for \"poweroff\", its exit code); or, on failure, why GDB could not be waited for.")]) { call in
            let vm = try VMBinding.machine(call)
            let o = try call.options(2)
            let requested = o.integer("port") ?? 0
            guard (0...65535).contains(requested) else {
                throw LuaRaise.argument(2, "option 'port': must be 0 to 65535, got \(requested)")
            }
            _ = try VMBinding.misuse { () throws(VirtualMachine.Misuse) in try vm.live() }
            let (listener, port): (Int32, UInt16)
            switch Result(catching: { () throws(GDBServer.Failure) in try GDBServer.listening(port: UInt16(requested)) }) {
            case .success(let listening): (listener, port) = listening
            case .failure(let error): return LuaValue.failure(error.description)
            }
            StandardStreams.flushOutput()
            StandardStreams.writeError("vmlab: waiting for gdb on 127.0.0.1:\(port) (gdb-multiarch FILE -ex 'target remote :\(port)')\n")
            return try vm.withLua(call) {
                switch Result(catching: { () throws(GDBServer.Failure) in try GDBServer.serve(vm, listener: listener) }) {
                case .failure(let error):
                    return LuaValue.failure(error.description)
                case .success(.detached):
                    return VMBinding.stopValues(VirtualMachine.Stop(name: "detached", message: "GDB detached; the VM stays where it left it"))
                case .success(.ended(let stop)):
                    return VMBinding.stopValues(stop)
                }
            }
        },
    ]
}
