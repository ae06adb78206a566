import CLua
import CLuaShim

/// Owns one Lua state. Everything Swift does with Lua goes through protected calls, so a Lua error
/// surfaces as a thrown `LuaError` and never longjmps across Swift frames.
///
/// Not thread-safe: a state belongs to one thread at a time, like the Lua state it wraps.
public final class LuaState {
    /// The raw state, for code that needs the C API directly (e.g. `LuaCall.L` inside a callback).
    public let L: OpaquePointer
    /// Functions and other objects whose lifetime must cover the Lua state's: the C trampoline
    /// holds unretained pointers to them.
    private var retained: [ObjectIdentifier: AnyObject] = [:]
    /// Object classes whose metatables exist in this state, by metatable name.
    var classes: [String: LuaClass] = [:]

    /// A new state; `libraries` opens Lua's standard libraries.
    public init(libraries: Bool = true) {
        // luaL_newstate uses the C allocator and installs a panic handler; running out of memory
        // inside a protected call is an ordinary LuaError. The one error LuaKit cannot route
        // through the trampoline is an allocation failure while Swift itself is pushing a value
        // (Lua raises LUA_ERRMEM from inside lua_push*); with Linux's overcommitting allocator
        // that does not happen in practice, so it is accepted rather than guarded.
        guard let L = luaL_newstate() else { fatalError("Lua: cannot create a state (out of memory)") }
        self.L = L
        _ = LuaState.installDispatch
        luashim_getextraspace(L).storeBytes(of: Unmanaged.passUnretained(self).toOpaque(),
                                            as: UnsafeMutableRawPointer.self)
        if libraries { luaL_openlibs(L) }
    }

    /// Installs the trampoline's dispatcher once per process (a static let initialises atomically).
    private static let installDispatch: Void = luashim_set_dispatch(luaKitDispatch)

    deinit {
        luashim_release_interrupt(L)
        lua_close(L)   // runs pending __gc and __close metamethods, which still need `retained`
    }

    /// The LuaState whose Lua state (or one of its coroutines) is `L`.
    static func owner(of L: OpaquePointer) -> LuaState {
        let raw = luashim_getextraspace(L).load(as: UnsafeMutableRawPointer.self)
        return Unmanaged<LuaState>.fromOpaque(raw).takeUnretainedValue()
    }

    func retain(_ object: AnyObject) { retained[ObjectIdentifier(object)] = object }

    // MARK: Running code

    /// Compiles `code` and runs it with `args` (visible as `...`), returning all its results.
    /// `chunkName` follows Lua's conventions: "@file.lua" for files, "=name" for a literal name.
    @discardableResult
    public func run(_ code: String, chunkName: String = "=(string)", args: [LuaValue] = []) throws(LuaError) -> [LuaValue] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        try load(code, chunkName: chunkName)
        return try callLoaded(args: args, base: top)
    }

    /// Loads and runs a Lua file, like `dofile` but protected.
    @discardableResult
    public func runFile(_ path: String, args: [LuaValue] = []) throws(LuaError) -> [LuaValue] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        try loadFile(path)
        return try callLoaded(args: args, base: top)
    }

    /// Compiles `code` and pushes the chunk as a function.
    public func load(_ code: String, chunkName: String = "=(string)") throws(LuaError) {
        var text = code
        let status = text.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { luashim_loadbuffer(L, $0.baseAddress, $0.count, chunkName) }
        }
        if status != LUA_OK { throw popError(status) }
    }

    /// Compiles a file and pushes the chunk as a function. Its chunk name is "@path", so messages
    /// and tracebacks name it as `path:line:`.
    public func loadFile(_ path: String) throws(LuaError) {
        let status = luashim_loadfile(L, path)
        if status != LUA_OK { throw popError(status) }
    }

    /// Calls the function below `nargs` pushed arguments under a protected call with the traceback
    /// handler; on success leaves `nresults` results (or all with LUA_MULTRET) on the stack.
    public func pcall(nargs: Int32, nresults: Int32) throws(LuaError) { try pcall(nargs: nargs, nresults: nresults, on: L) }

    func pcall(nargs: Int32, nresults: Int32, on L: OpaquePointer) throws(LuaError) {
        let functionIndex = lua_gettop(L) - nargs
        luashim_push_traceback_handler(L)
        luashim_insert(L, functionIndex)
        let status = luashim_pcall(L, nargs, nresults, functionIndex)
        luashim_remove(L, functionIndex)
        if status != LUA_OK { throw popError(status, on: L) }
    }

    /// Calls a Lua value (function or callable) with arguments, protected, returning its results.
    @discardableResult
    public func call(_ function: LuaValue, _ args: [LuaValue] = []) throws(LuaError) -> [LuaValue] {
        try call(function, args, on: L)
    }

    func call(_ function: LuaValue, _ args: [LuaValue], on L: OpaquePointer) throws(LuaError) -> [LuaValue] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        push(function, on: L)
        return try callLoaded(args: args, base: top, on: L)
    }

    private func callLoaded(args: [LuaValue], base: Int32) throws(LuaError) -> [LuaValue] {
        try callLoaded(args: args, base: base, on: L)
    }

    private func callLoaded(args: [LuaValue], base: Int32, on L: OpaquePointer) throws(LuaError) -> [LuaValue] {
        guard lua_checkstack(L, Int32(args.count) + 8) != 0 else {
            throw LuaError(status: .memory, value: .string("stack overflow"), message: "stack overflow")
        }
        for arg in args { push(arg, on: L) }
        try pcall(nargs: Int32(args.count), nresults: LUA_MULTRET, on: L)
        var results: [LuaValue] = []
        let top = lua_gettop(L)
        if top > base {
            for i in (base + 1)...top { results.append((try? value(at: i, on: L)) ?? .nil) }
        }
        return results
    }

    /// Pops the error value of a failed call and describes it.
    private func popError(_ status: Int32) -> LuaError { popError(status, on: L) }

    private func popError(_ status: Int32, on L: OpaquePointer) -> LuaError {
        let value = (try? value(at: -1, on: L)) ?? .nil
        let table = lua_type(L, -1) == LUA_TTABLE ? reference(at: -1, on: L) : nil
        // As the standalone interpreter reports errors: strings and numbers as they are, objects
        // through __tostring, anything else by its type.
        let typeName = String(cString: luashim_typename(L, -1))
        var message = "(error object is a \(typeName) value)"
        let type = lua_type(L, -1)
        var describes = type == LUA_TSTRING || type == LUA_TNUMBER
        if !describes && luaL_getmetafield(L, -1, "__tostring") != LUA_TNIL {
            luashim_pop(L, 1)
            describes = true
        }
        if describes {
            if luashim_protected_tostring(L, -1) == LUA_OK {
                message = LuaState.bytes(L, -1).withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            }
            luashim_pop(L, 1)
        }
        luashim_pop(L, 1)
        var traceback: String?
        if lua_getfield(L, luashim_registryindex(), LuaState.tracebackKey) == LUA_TSTRING {
            traceback = String(cString: lua_tolstring(L, -1, nil))
        }
        luashim_pop(L, 1)
        lua_pushnil(L)
        lua_setfield(L, luashim_registryindex(), LuaState.tracebackKey)
        return LuaError(status: LuaError.Status(code: status), value: value, message: message, traceback: traceback, table: table)
    }

    /// Where the traceback handler (CLuaShim) leaves the traceback of the last error.
    static let tracebackKey = LUASHIM_TRACEBACK_KEY

    // MARK: Globals and modules

    public func setGlobal(_ name: String, _ value: LuaValue) {
        push(value)
        lua_setglobal(L, name)
    }

    public func global(_ name: String) -> LuaValue {
        luashim_pushglobaltable(L)
        lua_pushstring(L, name)
        lua_rawget(L, -2)
        defer { luashim_pop(L, 2) }
        return (try? value(at: -1)) ?? .nil
    }

    /// Makes `require(name)` return `module` (stored in package.loaded).
    public func preload(_ name: String, _ module: LuaValue) {
        lua_getfield(L, luashim_registryindex(), LUA_LOADED_TABLE)
        push(module)
        lua_setfield(L, -2, name)
        luashim_pop(L, 1)
    }

    // MARK: Memory

    /// Bytes of memory the Lua state uses.
    public var memoryInUse: Int { Int(luashim_memory_in_use(L)) }

    /// Runs a full garbage-collection cycle (pending `__gc` metamethods run).
    public func collectGarbage() { luashim_collect_garbage(L) }

    /// Tells the collector that an object just handed to Lua holds `bytes` of memory Lua does not
    /// see (a snapshot's copy of guest RAM): it takes a collection step as if Lua had allocated
    /// them. Lua paces its collector by its own allocations only, so a loop that drops such
    /// objects without closing them would otherwise pile up many before one is collected.
    public func noteExternalMemory(bytes: Int) {
        guard bytes > 0 else { return }
        luashim_collect_step(L, Int32(clamping: bytes / 1024))
    }

    // MARK: Helpers

    static func pushString(_ L: OpaquePointer, _ string: String) {
        var s = string
        s.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    /// The bytes of the string (or number, converted in place as lua_tolstring does) at `index`.
    static func bytes(_ L: OpaquePointer, _ index: Int32) -> [UInt8] {
        var length = 0
        guard let pointer = lua_tolstring(L, index, &length) else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}
