import Foundation
import GuestTestSupport
import Machine

/// Builds and runs small guest programs for the tests.
enum Guest {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The Swift toolchain's LLVM tools (scripts/lib/toolchain.sh). When none is found, the path
    /// names the problem, so that the first tool run fails with it.
    static let toolDir = ToolchainDirectory.path ?? "/no-swift-toolchain: \(ToolchainDirectory.problem)"

    enum Failure: Error, CustomStringConvertible {
        case tool(String)
        var description: String { if case .tool(let s) = self { return s }; return "" }
    }

    @discardableResult
    static func sh(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let out = String(decoding: data, as: UTF8.self)
        if p.terminationStatus != 0 { throw Failure.tool("\(args.joined(separator: " ")):\n\(out)") }
        return out
    }

    /// Assembles `source` (GNU assembler syntax, entry `_start`, linked at 0x8000_0000) to a flat image.
    static func assemble(_ source: String, name: String = "t") throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-hart-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = dir.appendingPathComponent("\(name).S").path
        let elf = dir.appendingPathComponent("\(name).elf").path
        let bin = dir.appendingPathComponent("\(name).bin").path
        try source.write(toFile: s, atomically: true, encoding: .utf8)
        try sh(["\(toolDir)/clang", "--target=riscv64-unknown-elf", "-march=rv64gc", "-mabi=lp64d",
                "-mcmodel=medany", "-ffreestanding", "-nostdlib", "-fuse-ld=lld", "-Wl,--no-relax",
                "-Wl,-Ttext=0x80000000", "-Wl,-e,_start", "-o", elf, s])
        try sh(["\(toolDir)/llvm-objcopy", "-O", "binary", elf, bin])
        return Array(try Data(contentsOf: URL(fileURLWithPath: bin)))
    }

    /// A machine with the test devices attached.
    final class Rig {
        let machine: Machine
        let finisher = TestFinisher()
        let uart = UARTSink()
        let clint: MiniCLINT

        init(_ configure: (inout MachineConfiguration) -> Void = { _ in }) {
            var c = MachineConfiguration()
            c.ramSize = 16 << 20
            configure(&c)
            machine = Machine(c)
            clint = MiniCLINT(machine: machine)
            finisher.machine = machine
            machine.attach(finisher, at: 0x100000)
            machine.attach(uart, at: 0x1000_0000)
            machine.attach(clint, at: 0x200_0000)
        }

        /// Loads `image` at RAM base and starts every hart there in M-mode (a0 = hartid).
        func boot(_ image: [UInt8]) {
            machine.loadPhysical(image, at: 0x8000_0000)
            for h in 0..<machine.hartCount {
                machine.startHart(h, privilege: .machine, pc: 0x8000_0000, a0: UInt64(h), a1: 0)
            }
        }

        func run(_ max: UInt64 = 50_000_000) -> StopReason { machine.run(maxInstructions: max) }
    }
}
