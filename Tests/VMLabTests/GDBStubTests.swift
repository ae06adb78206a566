import Foundation
import Hypervisor
import RISCV
import Testing
@testable import VMLab

#if canImport(Glibc)
import Glibc
#endif

/// `vmlab boot --gdb`: GDB's remote serial protocol, its framing, the stub's answers on a small
/// bare-metal program, and sessions over TCP (one at a time: a port the system gave back to one
/// test must not be given to another meanwhile).
@Suite(.serialized) struct GDBStubTests {
    /// At 0x80000000, in M-mode: a counter in a0 stored to 0x80001000 for ever.
    static let source = """
        _start:
            li a0, 5
            li t0, 0x80001000
        loop:
            addi a0, a0, 1
            sd a0, 0(t0)
            j loop
        """

    /// A VM of `harts` harts running `program` (default: `source`).
    static func machine(_ program: String = source, harts: Int = 1) throws -> (VirtualMachine, AssembledProgram) {
        let program = try Assembler.assemble(program, options: AssemblerOptions(base: 0x8000_0000, compressed: false))
        var spec = VMSpec()
        spec.harts = harts
        spec.image = program.bytes
        return (try VirtualMachine(spec), program)
    }

    static func checksum(_ s: String) -> String {
        let sum = s.utf8.reduce(UInt8(0), &+)
        return String(format: "%02x", sum)
    }

    @Test func framingSplitsPacketsChecksAndUnescapes() {
        var framer = GDBFramer()
        let good = "qSupported:swbreak+"
        let bytes = Array("+$\(good)#\(Self.checksum(good))".utf8) + [0x03] + Array("$m0,4#00".utf8)
        // Fed in two pieces, split inside the first packet's checksum.
        var inputs = framer.feed(bytes[0..<22])
        inputs += framer.feed(bytes[22...])
        #expect(inputs == [.packet(good), .interrupt, .corrupt])
        // A payload with every byte that needs escaping survives framing.
        let payload = "a#b$c}d*e"
        let framed = GDBFramer.frame(payload)
        var again = GDBFramer()
        #expect(again.feed(framed) == [.packet(payload)])
        #expect(framed.filter { $0 == UInt8(ascii: "$") }.count == 1, "only the packet's start is a bare '$'")
        #expect(GDBHex.littleValue("0000008000000000") == 0x8000_0000)
        #expect(GDBHex.littleValue("00000080") == 0x8000_0000)
        #expect(GDBHex.little(0x8000_0000) == "0000008000000000")
    }

    /// Garbage from the connection: unterminated packets, bad hex, absurd lengths and numbers,
    /// every command letter with random arguments. Each gets an answer or is refused; nothing
    /// traps, and the guest's state is unharmed where no write succeeded.
    @Test func hostileInputIsRefused() throws {
        var framer = GDBFramer()
        #expect(framer.feed(Array("$".utf8) + [UInt8](repeating: 0x41, count: GDBFramer.longestPacket + 1)) == [.corrupt])
        #expect(framer.feed(Array("$?#3f".utf8)) == [.packet("?")], "the framer recovers")
        let (vm, _) = try Self.machine()
        defer { vm.close() }
        let stub = GDBStub(vm: vm)
        for packet in ["m", "mzz,4", "mffffffffffffffff,10", "m80000000,ffffffffffffffff", "M80000000,4:zz",
                       "M80000000,2:0011aa", "p", "pzz", "p99999", "P20=", "P20=00112233445566778899", "G00",
                       "Z0", "Z2,80001000,0", "Z2,80000ff8,10", "Z9,0,0", "H", "Hgzz", "qXfer:features:read:target.xml:ffffff,10",
                       "qXfer:features:read:other.xml:0,10", "qRcmd,zz", "T99", "vKil"] {
            guard case .reply(let r) = stub.handle(packet) else { Issue.record("\(packet): not a reply"); continue }
            #expect(r.last.map { $0.isEmpty || $0.hasPrefix("E") || $0 == "OK" } == true, "\(packet) → \(r)")
        }
        #expect(vm.guest?.machine.pc() == 0x8000_0000)
        #expect(vm.guest?.breakpoints.isEmpty == true && vm.guest?.watchpoints.isEmpty == true)
        // Fixed pseudo-random packets (a linear congruential generator: the same every run).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % n
        }
        let letters = Array("?gGpPmMHTZzqvXx"), alphabet = Array("0123456789abcdefz,:=;-")
        for _ in 0..<2000 {
            let tail = String((0..<next(25)).map { _ in alphabet[next(alphabet.count)] })
            _ = stub.handle(String(letters[next(letters.count)]) + tail)
        }
    }

    @Test func registersMemoryBreakpointsAndWatchpoints() throws {
        let (vm, program) = try Self.machine()
        defer { vm.close() }
        let stub = GDBStub(vm: vm)
        func reply(_ packet: String) -> String {
            guard case .reply(let packets) = stub.handle(packet) else { return "(no reply)" }
            return packets.last ?? ""
        }
        #expect(reply("?") == "T05thread:1;")
        let g = reply("g")
        #expect(g.count == 33 * 16)
        #expect(g.suffix(16) == "0000008000000000", "pc is 0x80000000")
        #expect(reply("p20") == "0000008000000000")
        #expect(reply("P0a=2a00000000000000") == "OK")
        #expect(reply("pa") == "2a00000000000000", "a0 = 42")
        #expect(reply("m80000000,8") == GDBHex.encode(Array(program.bytes.prefix(8))))
        #expect(reply("m40000000,4") == "E14", "no memory there")
        #expect(reply(String(format: "p%x", GDBRegister.privilegeNumber)) == "0300000000000000", "M-mode")
        #expect(reply(String(format: "p%x", 65 + 0x301)).count == 16, "misa reads")
        #expect(reply(String(format: "p%x", 65 + 0x003)).count == 8, "fcsr is 32-bit")

        // A breakpoint at `loop`, reached after the two instructions before it.
        let loop = try #require(program.symbols["loop"])
        #expect(reply("Z0,\(String(loop, radix: 16)),4") == "OK")
        #expect(stub.handle("c") == .resume(step: nil))
        let atBreakpoint = vm.run(maxInstructions: 1000)
        #expect(stub.stopReply(atBreakpoint, stepping: false) == "T05thread:1;swbreak:;")
        #expect(vm.guest?.machine.pc() == loop)
        #expect(reply("z0,\(String(loop, radix: 16)),4") == "OK")
        // One step: the addi.
        #expect(stub.handle("s") == .resume(step: 0))
        let (stepReply, stepped) = stub.resume(step: 0, slice: 1000) { "interrupted" }
        #expect(stepReply == "T05thread:1;" && stepped?.name == "budget")
        #expect(vm.guest?.machine.pc() == loop + 4)
        // A write watchpoint on the counter's word stops after the store.
        #expect(reply("Z2,80001000,8") == "OK")
        let watched = vm.run(maxInstructions: 1000)
        #expect(stub.stopReply(watched, stepping: false) == "T05thread:1;watch:80001000;")
        #expect(reply("m80001000,8") == "0600000000000000", "li a0, 5 ran after the P above, then the addi")
        #expect(reply("z2,80001000,8") == "OK")
        #expect(vm.guest?.watchpoints.isEmpty == true && vm.guest?.breakpoints.isEmpty == true)
        // A continue that only used up its slice is not a stop.
        #expect(stub.stopReply(vm.run(maxInstructions: 10), stepping: false) == nil)
    }

    @Test func queriesDescribeTheTargetAndTheHarts() throws {
        let (vm, _) = try Self.machine()
        defer { vm.close() }
        let stub = GDBStub(vm: vm)
        guard case .reply(let supported) = stub.handle("qSupported:multiprocess+;swbreak+") else { return }
        #expect(supported == ["PacketSize=1000;qXfer:features:read+;swbreak+;hwbreak+"])
        // The target description, read in pieces as GDB reads it.
        var xml = ""
        while true {
            guard case .reply(let r) = stub.handle("qXfer:features:read:target.xml:\(String(xml.utf8.count, radix: 16)),200"),
                  let piece = r.first, let kind = piece.first else { Issue.record("no piece"); return }
            xml += piece.dropFirst()
            if kind == "l" { break }
            #expect(kind == "m")
        }
        #expect(xml == GDBTargetDescription.xml)
        #expect(xml.contains(#"<feature name="org.gnu.gdb.riscv.cpu">"#) && xml.contains(#"name="pc""#))
        #expect(xml.contains(#"<reg name="fcsr" bitsize="32" type="int" regnum="68"/>"#))
        #expect(stub.handle("qfThreadInfo") == .reply(["m1"]))
        #expect(stub.handle("qsThreadInfo") == .reply(["l"]))
        #expect(stub.handle("Hg2") == .reply(["E01"]), "one hart")
        #expect(stub.handle("vCont?") == .reply(["vCont;c;C;s;S"]))
        #expect(stub.handle("qUnknownThing") == .reply([""]))
        guard case .reply(let monitor) = stub.handle("qRcmd," + GDBHex.encode(Array("stats".utf8))),
              let output = monitor.first, let text = GDBHex.decode(output.dropFirst()) else { Issue.record("no monitor output"); return }
        #expect(monitor.last == "OK")
        #expect(String(decoding: text, as: UTF8.self).contains("instructions "))
        #expect(stub.handle("D") == .detach && stub.handle("k") == .kill)
    }

    /// Two harts, each counting in a loop of its own: at 0x80000000, hart 0 runs `first` and
    /// hart 1 `second`.
    static let twoHartSource = """
        _start:
            csrr t1, mhartid
            bnez t1, second
        first:
            addi a0, a0, 1
            j first
        second:
            addi a1, a1, 1
            j second
        """

    /// A step steps the hart GDB names (`Hc`, `vCont;s:N`), not whichever hart's turn it is: the
    /// other harts take their turns meanwhile (the schedule a run without GDB would follow), and
    /// a hart that cannot move yet keeps the step waiting until Ctrl-C.
    @Test func aStepStepsTheHartGDBNames() throws {
        let (vm, program) = try Self.machine(Self.twoHartSource, harts: 2)
        defer { vm.close() }
        let machine = try vm.live().machine
        let quantum = machine.configuration.quantum
        let stub = GDBStub(vm: vm)
        func executed() -> [UInt64] { (0..<2).map { machine.instructionsExecuted(hart: $0) } }

        // Hc2, then s: hart 0 finishes its turn (it has the first), then hart 1 moves once.
        #expect(stub.handle("Hc2") == .reply(["OK"]))
        #expect(stub.handle("s") == .resume(step: 1))
        var (reply, stop) = stub.resume(step: 1, slice: 1000) { "interrupted" }
        #expect(reply == "T05thread:2;" && stop?.name == "budget")
        #expect(executed() == [quantum, 1])
        #expect(stub.handle("qC") == .reply(["QC2"]), "the stepped hart is the current thread")
        // Its turn now: a second step moves hart 1 alone.
        (reply, _) = stub.resume(step: 1, slice: 1000) { "interrupted" }
        #expect(reply == "T05thread:2;")
        #expect(executed() == [quantum, 2])
        #expect(machine.pc(hart: 1) == program.symbols["second"]!, "csrr, then bnez")

        // vCont names the hart itself; without a thread, a step is the current thread's.
        #expect(stub.handle("vCont;s:1;c") == .resume(step: 0))
        #expect(stub.handle("vCont;S05:2;c") == .resume(step: 1))
        #expect(stub.handle("vCont;c:1") == .resume(step: nil))
        #expect(stub.handle("vCont;c;s") == .resume(step: 1), "the current thread is hart 1's")
        #expect(stub.handle("Hc0") == .reply(["OK"]))
        #expect(stub.handle("s") == .resume(step: 1), "Hc0: the current thread")
        for bad in ["vCont;s:3", "vCont;t", "vCont;s:zz", "vCont;C5", "vCont;", "vCont;s;q"] {
            #expect(stub.handle(bad) == .reply(["E01"]), "\(bad)")
        }
        (reply, _) = stub.resume(step: 0, slice: 1000) { "interrupted" }
        #expect(reply == "T05thread:1;")
        #expect(executed() == [quantum + 1, quantum], "hart 1 finished its turn first")

        // A breakpoint another hart meets during the step is the stop GDB hears of.
        let first = try #require(program.symbols["first"])
        #expect(stub.handle("Z0,\(String(first, radix: 16)),4") == .reply(["OK"]))
        (reply, stop) = stub.resume(step: 1, slice: 1000) { "interrupted" }
        #expect(reply == "T05thread:1;swbreak:;" && stop?.name == "breakpoint")
        #expect(stub.handle("z0,\(String(first, radix: 16)),4") == .reply(["OK"]))
    }

    /// A step of a hart that sleeps in `wfi` with nothing to wake it waits for it, looking for
    /// GDB's Ctrl-C every `stepPiece` instructions of the other hart.
    @Test func aStepOfASleepingHartEndsOnCtrlC() throws {
        let source = """
            _start:
                csrr t1, mhartid
                bnez t1, sleep
            spin:
                j spin
            sleep:
                wfi
                j sleep
            """
        let (vm, _) = try Self.machine(source, harts: 2)
        defer { vm.close() }
        let machine = try vm.live().machine
        #expect(vm.run(maxInstructions: 5000).name == "budget")
        #expect(machine.runState(hart: 1) == .waitingForInterrupt)
        let stub = GDBStub(vm: vm)
        var looks = 0
        let (reply, stop) = stub.resume(step: 1, slice: 1000) {
            looks += 1
            return looks == 3 ? "T02thread:1;" : nil
        }
        #expect(reply == "T02thread:1;" && stop == nil)
        #expect(vm.guest?.executedInstructions == 5000 + 3 * GDBStub.stepPiece, "hart 0 ran on meanwhile")
    }

    /// `monitor tlb` and `monitor walk VA`: the selected vCPU's TLB, and a walk through the guest's
    /// tables (under trap, as the VMM reads them) ending where `vm:read`'s translation does.
    @Test(arguments: [ExecutionMode.native, .trap, .hw])
    func monitorShowsTheTLBAndAWalk(_ mode: ExecutionMode) throws {
        var spec = VMSpec()
        spec.kernel = try Guests.path(of: "tinyos")
        spec.bootargs = "bench=syscall n=3"
        spec.memory = 16 << 20
        spec.mode = mode
        let vm = try VirtualMachine(spec)
        defer { vm.close() }
        let stub = GDBStub(vm: vm)
        func monitor(_ command: String) -> String {
            guard case .reply(let r) = stub.handle("qRcmd," + GDBHex.encode(Array(command.utf8))), r.count == 2,
                  let text = GDBHex.decode(r[0].dropFirst()) else { return "(no output)" }
            return String(decoding: text, as: UTF8.self)
        }
        // Bare at first: a walk is then the address itself.
        #expect(monitor("walk 80200000") == "0x80200000 through \(mode == .trap ? "the guest's" : "vCPU 0's") tables (bare, root 0x0\(mode == .native ? "" : "; guest-physical addresses"))\n  -> 0x80200000\n")
        // On until the kernel has turned paging on.
        for _ in 0..<100 where !monitor("walk 0").contains("(sv39") {
            #expect(vm.run(maxInstructions: 20_000).name == "budget")
        }
        let tlb = monitor("tlb").split(separator: "\n")
        let entries = try #require(vm.guest?.machine.tlbEntries(hart: 0))
        #expect(!entries.isEmpty)
        #expect(tlb.first == "vCPU 0's TLB: \(entries.count) valid entries")
        #expect(tlb.count == entries.count + 1)
        #expect(tlb.dropFirst().allSatisfy { $0.hasPrefix("  set ") && $0.contains(" -> 0x") && $0.contains(" asid ") })

        let pc = try #require(vm.guest?.machine.pc())
        guard case .done(let physical)? = try? vm.translate(pc, vcpu: 0) else { Issue.record("the pc does not translate"); return }
        let walk = monitor("walk \(String(pc, radix: 16))").split(separator: "\n")
        #expect(walk.first?.hasPrefix("0x\(String(pc, radix: 16)) through ") == true)
        #expect(walk.first?.contains("(sv39, root 0x") == true)
        #expect((3...5).contains(walk.count), "three levels or fewer, a superpage ending early: \(walk)")
        #expect(walk.contains { $0.hasPrefix("  level 2: pte at 0x") })
        #expect(walk.last?.hasPrefix("  -> 0x\(String(physical, radix: 16)) (") == true, "\(walk.last ?? "")")
        // Not canonical in Sv39: a fault, as a fetch there would take.
        #expect(monitor("walk 4000000000").hasSuffix("page_fault\n"))
        let usage = "usage: monitor walk VA [guest|shadow|nested] (VA: a hexadecimal virtual address)\n"
        for bad in ["walk", "walk zz", "walk 1000 sideways", "walk 1000 guest more"] { #expect(monitor(bad) == usage) }
        #expect(monitor("help").contains("walk VA [guest|shadow|nested]"))
        // The shadow tables (trap) and both stages (hw), where the mode has them.
        let shadow = monitor("walk \(String(pc, radix: 16)) shadow"), nested = monitor("walk \(String(pc, radix: 16)) nested")
        switch mode {
        case .trap:
            #expect(shadow.contains("through the shadow tables (sv39, root 0x") && shadow.hasSuffix("(4 KiB page)\n"), "shadow leaves are 4 KiB: \(shadow)")
            #expect(nested == "no two-dimensional walk under 'trap': only 'hw' translates in two stages\n")
        case .hw:
            #expect(shadow.hasPrefix("no shadow page tables under 'hw'"))
            let lines = nested.split(separator: "\n")
            let references = lines.filter { $0.hasPrefix("  G-stage level ") || $0.hasPrefix("  guest (at 0x") }
            #expect(lines.first?.contains("two stages (\(references.count) references; host-physical addresses)") == true, "\(nested)")
            // Each guest entry is reached through a G-stage walk of its own, and so is the page.
            #expect(references.count > 3 && references.last?.hasPrefix("  G-stage level 0") == true)
            #expect(lines.last?.hasPrefix("  -> 0x") == true)
        default:
            #expect(shadow.hasPrefix("no shadow page tables under 'native'"))
            #expect(nested == "no two-dimensional walk under 'native': only 'hw' translates in two stages\n")
        }
    }

    /// One session over TCP, as gdb-multiarch holds it: a breakpoint, a continue to it, a
    /// continue interrupted by Ctrl-C, a kill.
    @Test(.timeLimit(.minutes(3))) func aSessionOverTCP() throws {
        let (listener, port) = try GDBServer.listening(port: 0)
        let finished = Finished()
        let server = Thread {
            do {
                let (vm, _) = try Self.machine()
                defer { vm.close() }
                if case .ended(let stop) = try GDBServer.serve(vm, listener: listener) { finished.set(stop.name) }
            } catch {
                finished.set("error: \(error)")
            }
        }
        server.start()
        let client = try Client(port: port)
        defer { client.close() }
        #expect(try client.exchange("?") == "T05thread:1;")
        #expect(try client.exchange("Z0,80000008,4") == "OK")
        #expect(try client.exchange("c") == "T05thread:1;swbreak:;")
        #expect(try client.exchange("p20") == "0800008000000000")
        #expect(try client.exchange("z0,80000008,4") == "OK")
        // No breakpoint left: the loop runs until GDB's Ctrl-C.
        try client.send(packet: "c")
        try client.sendRaw([0x03])
        #expect(try client.receivePacket() == "T02thread:1;")
        try client.send(packet: "k")
        for _ in 0..<3000 where finished.get() == nil { usleep(10_000) }
        #expect(finished.get() == "killed")
    }

    /// `vm:gdb` from a script: the VM where `vm:run` left it (at a breakpoint), handed to GDB,
    /// which reads its pc, steps once and detaches; the script goes on from there.
    @Test(.timeLimit(.minutes(3))) func aScriptHandsItsVMToGDB() throws {
        // A free port: one the system gave and took back.
        let (probe, port) = try GDBServer.listening(port: 0)
        close(probe)
        let replies = Finished()
        let client = Thread {
            // The script listens soon (a loaded machine may take a while): try until it does.
            for _ in 0..<12_000 {
                guard let c = try? Client(port: port) else { usleep(10_000); continue }
                defer { c.close() }
                let pc = (try? c.exchange("p20")) ?? "?"
                // A breakpoint where the script has one: removing it leaves the script's.
                let at = String(GDBHex.littleValue(Substring(pc)) ?? 0, radix: 16)
                let inserted = (try? c.exchange("Z0,\(at),4")) ?? "?"
                let removed = (try? c.exchange("z0,\(at),4")) ?? "?"
                guard inserted == "OK" && removed == "OK" else { replies.set("Z0/z0: \(inserted) \(removed)"); return }
                let step = (try? c.exchange("s")) ?? "?"
                let after = (try? c.exchange("p20")) ?? "?"
                let detach = (try? c.exchange("D")) ?? "?"
                replies.set([pc, step, after, detach].joined(separator: " "))
                return
            }
            replies.set("could not connect")
        }
        client.start()
        let session = try LabSession()
        let results = try session.lua.run(#"""
            local code, symbols = vmlab.asm(...)
            local vm <close> = assert(vmlab.vm { image = code })
            vm:breakpoint(symbols.loop)
            assert(vm:run { max_instructions = 1000 } == "breakpoint")
            local reason = vm:gdb { port = PORT }
            local pc = vm:read("pc")
            return reason, pc, symbols.loop, (vm:run { max_instructions = 1000 })
            """#.replacingOccurrences(of: "PORT", with: "\(port)"), args: [.string(Self.source)])
        #expect(results.first == .string("detached"))
        #expect(results.last == .string("breakpoint"), "the script's breakpoint outlived GDB's insert and remove")
        guard results.count == 4, case .integer(let pc) = results[1], case .integer(let loop) = results[2] else {
            Issue.record("results: \(results)")
            return
        }
        // One step (the addi, compressed or not) past the breakpoint, kept after the detach.
        #expect(pc > loop && pc <= loop + 4)
        let hex = { (v: Int64) in GDBHex.little(UInt64(v)) }
        // The client records its replies after the detach's OK, which the script may outrun.
        for _ in 0..<3000 where replies.get() == nil { usleep(10_000) }
        #expect(replies.get() == "\(hex(loop)) T05thread:1; \(hex(pc)) OK")
    }

    final class Finished: @unchecked Sendable {
        private let lock = NSLock()
        private var value: String?
        func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
        func get() -> String? { lock.lock(); defer { lock.unlock() }; return value }
    }

    struct ClientError: Error, CustomStringConvertible { var description: String }

    /// A minimal GDB: sends packets, acknowledges replies (the server's own acknowledgements are
    /// dropped by the framer, as bytes between packets).
    final class Client {
        let fd: Int32
        var framer = GDBFramer()
        var inputs: [GDBInput] = []

        init(port: UInt16) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var timeout = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let ok = GDBServer.withSocketAddress(GDBServer.loopback(port: port)) { connect(fd, $0, $1) }
            guard ok == 0 else { throw ClientError(description: "connect failed") }
        }

        func close() { Glibc.close(fd) }

        func sendRaw(_ bytes: [UInt8]) throws {
            guard Glibc.send(fd, bytes, bytes.count, 0) == bytes.count else { throw ClientError(description: "send failed") }
        }

        func send(packet: String) throws { try sendRaw(GDBFramer.frame(packet)) }

        private func fill() throws {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { throw ClientError(description: "the server went away or timed out") }
            inputs += framer.feed(buffer[0..<n])
        }

        func receivePacket() throws -> String {
            while true {
                if let first = inputs.first {
                    inputs.removeFirst()
                    try sendRaw([UInt8(ascii: "+")])
                    if case .packet(let p) = first { return p }
                    throw ClientError(description: "a corrupt packet")
                }
                try fill()
            }
        }

        func exchange(_ packet: String) throws -> String {
            try send(packet: packet)
            return try receivePacket()
        }
    }
}
