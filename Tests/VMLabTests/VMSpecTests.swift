import Foundation
import GuestTestSupport
import Hypervisor
import Testing
@testable import VMLab

@Test func memorySizesNeedABinaryUnit() {
    #expect(VMSpec.parseMemory("128M") == 128 << 20)
    #expect(VMSpec.parseMemory("128MiB") == 128 << 20)
    #expect(VMSpec.parseMemory("1G") == 1 << 30)
    #expect(VMSpec.parseMemory("64k") == 64 << 10)
    #expect(VMSpec.parseMemory("4096B") == 4096)
    #expect(VMSpec.parseMemory("128") == nil)
    #expect(VMSpec.parseMemory("M") == nil)
    #expect(VMSpec.parseMemory("-1M") == nil)
    #expect(VMSpec.parseMemory("99999999999999999999G") == nil)
    #expect(VMSpec.describeMemory(128 << 20) == "128 MiB")
    #expect(VMSpec.describeMemory(1000) == "1000 bytes")
}

/// One firmware rule for `vmlab.vm` and `vmlab boot`: a kernel ELF loaded at the RAM base runs
/// bare-metal in M-mode; any other kernel runs in S-mode under the built-in SBI.
@Test func kernelsAtTheRAMBaseRunBareMetal() throws {
    var bare = VMSpec()
    bare.kernel = try Guests.path(of: "examples/hello")
    #expect(bare.boardConfiguration().firmware == .none)
    let vm = try VirtualMachine(bare)
    #expect(try vm.read(.privilege, hart: 0) == .text("M"))
    var kernel = VMSpec()
    kernel.kernel = try Guests.path(of: "tinyos")
    #expect(kernel.boardConfiguration().firmware == .builtin)
    let tinyos = try VirtualMachine(kernel)
    #expect(try tinyos.read(.privilege, hart: 0) == .text("S"))
    #expect(try tinyos.read(.pc, hart: 0) == .integer(0x8020_0000))
    kernel.firmware = .none
    #expect(kernel.boardConfiguration().firmware == .none)
    var missing = VMSpec()
    missing.kernel = "/no/such/file"
    #expect(missing.boardConfiguration().firmware == .builtin)
    #expect(throws: VirtualMachine.BuildFailure.self) { try VirtualMachine(missing) }
}

/// The load address decides, not the entry: ld.lld may put read-only data at the RAM base ahead of
/// the reset code (riscv-tests' `v` environment, built by clang 21), and such a program is still
/// bare-metal, entered at its entry. Segments that load nothing do not count.
@Test func dataAtTheRAMBaseMakesAProgramBareMetal() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-spec-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let wfi: [UInt8] = [0x73, 0x00, 0x50, 0x10]
    func spec(_ name: String, _ bytes: [UInt8]) throws -> VMSpec {
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var spec = VMSpec()
        spec.kernel = path
        return spec
    }
    let dataFirst = try spec("data-first.elf", ELFBuilder(segments: [
        .init(physicalAddress: 0x8000_0000, data: Array("strings".utf8)),
        .init(physicalAddress: 0x8000_1000, data: wfi)], entry: 0x8000_1000).build())
    #expect(dataFirst.boardConfiguration().firmware == .none)
    let vm = try VirtualMachine(dataFirst)
    #expect(try vm.read(.privilege, hart: 0) == .text("M"))
    #expect(try vm.read(.pc, hart: 0) == .integer(0x8000_1000))

    // A note and an empty PT_LOAD at the RAM base load nothing: the kernel is at 0x80200000.
    let kernel = try spec("kernel.elf", ELFBuilder(segments: [
        .init(type: 4, physicalAddress: 0x8000_0000, data: [0, 0, 0, 0]),
        .init(physicalAddress: 0x8000_0000, data: []),
        .init(physicalAddress: 0x8020_0000, data: wfi)], entry: 0x8020_0000).build())
    #expect(kernel.boardConfiguration().firmware == .builtin)

    // Program headers cut off: not recognised here; the board says what is wrong.
    let cut = try spec("cut.elf", Array(ELFBuilder(segments: [.init(physicalAddress: 0x8000_0000, data: wfi)]).build().prefix(80)))
    #expect(cut.boardConfiguration().firmware == .builtin)
    #expect(throws: VirtualMachine.BuildFailure.self) { try VirtualMachine(cut) }
}

/// An image alone is a bare-metal program at the RAM base; under a firmware, named or the one a
/// VMM mode implies, it is the kernel, entered in S-mode where the firmware enters one.
@Test func anImageIsTheKernelUnderAFirmware() throws {
    var spec = VMSpec()
    spec.image = [0x73, 0x00, 0x50, 0x10]   // wfi
    for (mode, firmware, expected, pc) in [
        (ExecutionMode.native, VMSpec.FirmwareChoice.automatic, "M", UInt64(0x8000_0000)),
        (.interpret, .automatic, "M", 0x8000_0000),
        (.native, .builtin, "S", 0x8020_0000),
        (.interpret, .builtin, "S", 0x8020_0000),
        (.trap, .automatic, "S", 0x8020_0000),
        (.bt, .automatic, "S", 0x8020_0000),
        (.pv, .builtin, "S", 0x8020_0000),
    ] {
        spec.mode = mode
        spec.firmware = firmware
        let board = spec.boardConfiguration()
        #expect(board.firmware == (pc == 0x8000_0000 ? .none : .builtin), "\(mode) \(firmware)")
        #expect(board.kernelAddress == (pc == 0x8000_0000 ? pc : nil), "\(mode) \(firmware)")
        let vm = try VirtualMachine(spec)
        #expect(try vm.read(.pc, hart: 0) == .integer(pc), "\(mode) \(firmware)")
        if mode == .native || mode == .interpret {
            #expect(try vm.read(.privilege, hart: 0) == .text(expected), "\(mode) \(firmware)")
        }
    }
}

@Test func registerNames() {
    typealias R = VirtualMachine.Register
    #expect(R("pc") == .pc)
    #expect(R("priv") == .privilege)
    #expect(R("a0") == .integer(10))
    #expect(R("x31") == .integer(31))
    #expect(R("fp") == .integer(8))
    #expect(R("fa1") == .float(11))
    #expect(R("csr.satp") == .csr(0x180, name: "satp"))
    #expect(R("csr.0x180") == .csr(0x180, name: "satp"))
    #expect(R("csr.0x1000") == nil)
    #expect(R("x32") == nil)
    #expect(R("csr.") == nil)
}

@Test func statsLinesFollowTheTree() throws {
    var spec = VMSpec()
    spec.image = [0x73, 0x00, 0x50, 0x10]   // wfi
    let vm = try VirtualMachine(spec)
    #expect(vm.run(maxInstructions: 10).name == "idle")
    let stats = try #require(vm.stats)
    let lines = stats.lines
    #expect(lines.first == "profile classic-2006")
    #expect(lines.contains("instructions 1"))
    #expect(lines.contains("traps.by_cause.ecall_u 0"))
    #expect(lines.contains("wfi 1"))
    // One instruction at the standard profile's price; the hart then sleeps and nothing wakes it.
    #expect(stats["cycles.total"] == CostProfile.standard.cycles(.instruction))
    #expect(stats["cycles.by_category.guest"] == CostProfile.standard.cycles(.instruction))
    #expect(stats["traps"] == nil)          // a group, not a count
    vm.close()
    #expect(vm.stats == nil)
    #expect(vm.run().name == "closed")
}

/// The documented `vmlab.Stats` fields are exactly the top-level keys `vm:stats()` returns.
@Test func statsDocumentationNamesEveryTopLevelCounter() throws {
    var spec = VMSpec()
    spec.image = [0x73, 0x00, 0x50, 0x10]   // wfi
    let vm = try VirtualMachine(spec)
    guard case .group(let entries) = try #require(vm.stats) else {
        Issue.record("stats is not a group")
        return
    }
    // A native VM has no host: the one optional field.
    #expect(entries.map(\.0) == VMBinding.statsClass.fields.filter { !$0.isOptional }.map(\.name))
    #expect(VMBinding.statsClass.fields.filter(\.isOptional).map(\.name) == ["host"])
}
