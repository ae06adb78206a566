import Hypervisor
import LuaKit

/// `vm:read_memory`, `vm:write_memory` and `vm:translate`: guest memory as tools see it, either
/// guest-physical (the VM's RAM) or guest-virtual (through the guest's own page tables as they are
/// in memory now, without touching the TLB, the A/D bits or the guest's traps: `Guest.readMemory`).
/// A physical range outside the VM's RAM is misuse and raises; an unmapped virtual address is an
/// expected failure and returns `nil, message`.
enum MemoryBinding {
    static let memoryOptions: [LuaOption] = [
        LuaOption("space", .choice(["guest-physical", "guest-virtual"]), "\"guest-physical\" (default: the VM's RAM, no translation) or \"guest-virtual\" (translated through the guest's page tables as they are in memory now, as vCPU `vcpu` would translate a load, or a store for a write, at its privilege now, under `trap` and `bt` the guest's own privilege and tables rather than the shadow the hart walks; no TLB fill, no A/D update, no trap). In a hook that is after the event: after a trap, the handler's privilege, which may not reach the user page the trap came from (an `exit` event carries its instruction as `insn`)."),
        LuaOption("vcpu", .integer, "The vCPU whose translation \"guest-virtual\" uses (default 0)."),
    ]

    static func space(_ o: LuaOptions) -> AddressSpace {
        o.string("space") == "guest-virtual" ? .guestVirtual(vcpu: Int(o.integer("vcpu") ?? 0)) : .guestPhysical
    }

    static let loadOptions: [LuaOption] = [
        LuaOption("address", .integer, "Guest-physical address of the code's first byte (default: where the VM's kernel or `image` was loaded)."),
        LuaOption("hart", .integer, "The hart (vCPU) whose pc is set to `address` (default 0)."),
    ]

    static let vcpuOptions: [LuaOption] = [LuaOption("vcpu", .integer, "The vCPU (default 0).")]

    static let methods: [LuaFunction] = [
        .method("read_memory", of: "vmlab.VM",
                summary: "`length` bytes of guest memory: guest-physical by default (the VM's RAM), or guest-virtual through the guest's page tables (`{ space = \"guest-virtual\" }`). A physical range outside the VM's RAM raises; an unmapped virtual address returns `nil, message`.",
                parameters: [.required("address", .integer), .required("length", .integer),
                             .optional("options", .options(name: "vmlab.MemoryOptions", memoryOptions))],
                returns: [LuaReturn(.string, "bytes"), LuaReturn(.string, "message", "Why a virtual address could not be read.")]) { call in
            let vm = try VMBinding.machine(call)
            let address = try call.uint64(2)
            let length = try call.integer(3)
            guard length >= 0 && length <= 1 << 30 else {
                throw LuaRaise.argument(3, "length must be 0 to 2^30, got \(length)")
            }
            let o = try call.options(4)
            switch try VMBinding.misuse({ () throws(VirtualMachine.Misuse) in try vm.readMemory(address, count: Int(length), space: space(o)) }) {
            case .done(let bytes): return [.bytes(bytes)]
            case .unmapped(let message): return LuaValue.failure(message)
            }
        },
        .method("write_memory", of: "vmlab.VM",
                summary: "Writes bytes into guest memory (spaces as `read_memory`); nothing is written unless every byte can be. The guest executes what was written (decoded instructions on those bytes are dropped). A physical range outside the VM's RAM raises; an unmapped virtual address returns `nil, message`.",
                parameters: [.required("address", .integer), .required("bytes", .string),
                             .optional("options", .options(name: "vmlab.MemoryOptions", memoryOptions))],
                returns: [LuaReturn(.boolean, "ok"), LuaReturn(.string, "message")]) { call in
            let vm = try VMBinding.machine(call)
            let address = try call.uint64(2)
            let bytes = try call.bytes(3)
            let o = try call.options(4)
            switch try VMBinding.misuse({ () throws(VirtualMachine.Misuse) in try vm.writeMemory(address, bytes, space: space(o)) }) {
            case .done: return [.boolean(true)]
            case .unmapped(let message): return LuaValue.failure(message)
            }
        },
        .method("load", of: "vmlab.VM",
                summary: "Loads machine code (`vmlab.asm`) into guest-physical memory at `address` and sets hart `hart`'s pc there, so that the next `vm:run` or `vm:step` runs it; every other register, the privilege and the rest of memory stay as they are. `address` defaults to where the VM's kernel (or `image`) was loaded. The guest executes what was written (decoded instructions on those bytes are dropped). A range outside the VM's RAM raises, and nothing is written.",
                parameters: [.required("code", .string), .optional("options", .options(name: "vmlab.LoadOptions", loadOptions))],
                returns: [LuaReturn(.integer, "address", "Where the code was loaded.")]) { call in
            let vm = try VMBinding.machine(call)
            let code = try call.bytes(2)
            guard !code.isEmpty else { throw LuaRaise.argument(2, "the code is empty") }
            let o = try call.options(3)
            let hart = Int(o.integer("hart") ?? 0)
            let address = try VMBinding.misuse({ () throws(VirtualMachine.Misuse) in try vm.load(code, at: o.uint64("address"), hart: hart) })
            return [.unsigned(address)]
        },
        .method("translate", of: "vmlab.VM",
                summary: "The guest-physical address a guest-virtual address maps to now, through vCPU `vcpu`'s page tables (`satp`) at its current privilege (the guest's own under `trap` and `bt`, not the shadow's), as a load would translate it; with paging off, the address itself. No TLB fill, no A/D update, no trap. An unmapped address returns `nil, message`.",
                parameters: [.required("va", .integer), .optional("options", .options(name: "vmlab.VCPUOptions", vcpuOptions))],
                returns: [LuaReturn(.integer, "pa"), LuaReturn(.string, "message")]) { call in
            let vm = try VMBinding.machine(call)
            let va = try call.uint64(2)
            let o = try call.options(3)
            switch try VMBinding.misuse({ () throws(VirtualMachine.Misuse) in try vm.translate(va, vcpu: Int(o.integer("vcpu") ?? 0)) }) {
            case .done(let pa): return [.unsigned(pa)]
            case .unmapped(let message): return LuaValue.failure(message)
            }
        },
    ]
}
