import Hypervisor
import LuaKit
import Testing
@testable import VMLab

/// The Lua face of the VMM core: hooks inside Swift runs, determinism, and the API description.

/// tinyos under `interpret` with a hook counting traps by cause, as a script would write it.
private let hookedRun = """
    local vm <close> = assert(vmlab.vm { kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=5", mode = "interpret" })
    local causes = {}
    vm:on("trap", function(ev) causes[#causes + 1] = ev.cause .. "@" .. ev.instructions end)
    vm:inject { fault = "bitflip_register", register = "t3", bit = 7, at = { instructions = 400000 } }
    local stop = vm:run { max_instructions = 50000000 }
    local s = vm:stats()
    return stop, table.concat(causes, " "), s.cycles.total, s.instructions, s.faults[1].effect, vm:console()
    """

/// The same script twice gives bit-identical statistics, hook observations and fault records.
@Test func theSameScriptGivesTheSameResults() throws {
    let first = try LabSession().lua.run(hookedRun)
    let second = try LabSession().lua.run(hookedRun)
    #expect(first.first == .string("poweroff"))
    #expect(first == second)
    #expect((first[1].string ?? "").contains("ecall_u@"))
}

/// A Lua error inside a hook never unwinds through the Swift run: the run stops, `vm:run` raises
/// the hook's error value (a table comes back as itself), and the VM, the state and the next run
/// are fine.
@Test func aHookErrorIsRaisedByRunAfterTheRunStopped() throws {
    let session = try LabSession()
    let results = try session.lua.run("""
        local vm <close> = assert(vmlab.vm { image = vmlab.asm("la t0, 1f\\n csrw mtvec, t0\\n 1: ecall\\n j 1b"), mode = "interpret" })
        local calls = 0
        local h = vm:on("trap", function() calls = calls + 1; error({ code = 7 }) end)
        local ok, err = pcall(vm.run, vm, { max_instructions = 100 })
        h:remove()
        local stop = vm:run { max_instructions = 10 }
        return ok, err, calls, stop
        """)
    #expect(results[0] == .boolean(false))
    #expect(results[1]["code"] == .integer(7))
    #expect(results[2] == .integer(1))
    #expect(results[3] == .string("budget"))
}

/// Every event kind, fault and stop reason the Hypervisor knows is one the API describes.
@Test func theDescriptionFollowsTheHypervisor() {
    #expect(EventsBinding.eventNames == GuestEventKind.allCases.map(\.rawValue))
    #expect(FaultsBinding.kindNames == FaultKind.allCases.map(\.rawValue))
    #expect(VMBinding.modes == ExecutionMode.allCases.map(\.rawValue))
    for cause in ["ecall_u", "store_page_fault", "supervisor_timer", "sbi_time", "sbi_srst", "sbi_legacy_set_timer", "fault"] {
        #expect(EventsBinding.causeNames.contains(cause))
    }
    #expect(EventsBinding.isNumberedCause("exception_24") && EventsBinding.isNumberedCause("sbi_0x4a"))
    #expect(!EventsBinding.isNumberedCause("exception_x") && !EventsBinding.isNumberedCause("interrupt_64"))
    let on = VMBinding.methods + EventsBinding.methods
    #expect(on.contains { $0.name == "on" } && on.contains { $0.name == "watch" } && on.contains { $0.name == "breakpoint" })
}
