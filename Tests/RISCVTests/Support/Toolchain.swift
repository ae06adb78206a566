import Foundation
import GuestTestSupport

/// The LLVM tools of the Swift toolchain, used as an independent reference: clang assembles,
/// ld.lld links at fixed addresses, llvm-objcopy extracts raw bytes, llvm-objdump disassembles.
/// Tests that need them skip with a message when they are missing.
enum Toolchain {
    static func find(_ tool: String) -> String? {
        // The toolchain's own first (scripts/lib/toolchain.sh), then any new enough LLVM on PATH.
        var dirs = ToolchainDirectory.path.map { [$0] } ?? []
        if let path = ProcessInfo.processInfo.environment["PATH"] { dirs += path.split(separator: ":").map(String.init) }
        for dir in dirs {
            let candidate = dir + "/" + tool
            guard FileManager.default.isExecutableFile(atPath: candidate) else { continue }
            // Only LLVM new enough to know the H extension (ratified in 2021; LLVM 17+) will do.
            if tool == "clang" || tool == "llvm-objdump", (llvmMajorVersion(candidate) ?? 0) < 17 { continue }
            return candidate
        }
        return nil
    }

    /// The major version in `tool --version` ("clang version 21.0.0", "LLVM version 21.0.0").
    static func llvmMajorVersion(_ tool: String) -> Int? {
        guard let text = try? run(tool, ["--version"]), let range = text.range(of: "version ") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    static let clang = find("clang")
    static let lld = find("ld.lld")
    static let objcopy = find("llvm-objcopy")
    static let objdump = find("llvm-objdump")
    static var available: Bool { clang != nil && lld != nil && objcopy != nil && objdump != nil }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a tool; returns its standard output, throws with its standard error on failure.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) failed:\n" + String(decoding: errData, as: UTF8.self))
        }
        return String(decoding: outData, as: UTF8.self)
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-riscv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Assembles `source` with clang and links it with each section at the given address; returns
    /// the raw bytes of each section.
    static func clangSections(_ source: String, sections: [(name: String, address: UInt64)]) throws -> [String: [UInt8]] {
        guard let clang, let lld, let objcopy else { throw Failure(description: "toolchain missing") }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent("in.s").path
        let obj = dir.appendingPathComponent("in.o").path
        let elf = dir.appendingPathComponent("in.elf").path
        try source.write(toFile: src, atomically: true, encoding: .utf8)
        try run(clang, ["--target=riscv64-unknown-elf", "-march=rv64gc_h", "-mno-relax", "-c", src, "-o", obj])
        var linkArgs = ["--no-relax", "-e", "0", obj, "-o", elf]
        for s in sections { linkArgs += ["--section-start=\(s.name)=0x\(String(s.address, radix: 16))"] }
        try run(lld, linkArgs)
        var result: [String: [UInt8]] = [:]
        for s in sections {
            let bin = dir.appendingPathComponent("sec.bin").path
            try run(objcopy, ["-O", "binary", "--only-section=\(s.name)", elf, bin])
            result[s.name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bin)))
        }
        return result
    }

    /// Disassembles raw little-endian bytes with llvm-objdump; returns, per instruction offset, the
    /// text llvm prints ("<unknown>" for encodings it rejects).
    static func llvmDisassembly(_ bytes: [UInt8]) throws -> [(offset: Int, text: String)] {
        guard let objcopy, let objdump else { throw Failure(description: "toolchain missing") }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("w.bin").path
        let obj = dir.appendingPathComponent("w.o").path
        try Data(bytes).write(to: URL(fileURLWithPath: bin))
        try run(objcopy, ["-I", "binary", "-O", "elf64-littleriscv", bin, obj])
        let text = try run(objdump, ["-D", "--section=.data", "-M", "no-aliases", "--mattr=+m,+a,+f,+d,+c,+h,+zicsr,+zifencei", obj])
        var out: [(Int, String)] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count >= 2 else { continue }
            let head = parts[0].trimmingCharacters(in: .whitespaces)
            guard let colon = head.firstIndex(of: ":"), let offset = Int(head[..<colon], radix: 16) else { continue }
            out.append((offset, parts[1...].joined(separator: " ").trimmingCharacters(in: .whitespaces)))
        }
        return out
    }
}

