#if os(Linux)
import Foundation
import Testing
import Machine

// A million instructions allocate nothing per instruction.
//
// The witness is a malloc interposer: a tiny shared library, built at test time with the
// toolchain's clang, that counts malloc/calloc/realloc/aligned allocations made by the thread that
// armed it (every Swift heap object, array buffer and raw allocation ends in one of these). The
// outer test runs this test binary again with the library in LD_PRELOAD and only the inner probe
// selected; the probe measures two runs (1 M and 2 M instructions) of a warmed-up machine.

private let shimSource = """
#include <stddef.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static __thread int armed;
static __thread unsigned long calls;
static void note(void) { if (armed) calls++; }
void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void *aligned_alloc(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
int posix_memalign(void **p, size_t a, size_t n) { note(); *p = __libc_memalign(a, n); return *p ? 0 : 12; }
void vmlab_alloc_arm(int on) { armed = on; }
unsigned long vmlab_alloc_calls(void) { return calls; }
"""

private typealias Arm = @convention(c) (Int32) -> Void
private typealias Calls = @convention(c) () -> UInt

/// Allocation calls made by `body` on this thread, or nil when the interposer is not loaded.
private func allocationCalls(_ body: () -> Void) -> UInt? {
    guard let a = dlsym(nil, "vmlab_alloc_arm"), let c = dlsym(nil, "vmlab_alloc_calls") else { return nil }
    let arm = unsafeBitCast(a, to: Arm.self), calls = unsafeBitCast(c, to: Calls.self)
    let before = calls()
    arm(1)
    body()
    arm(0)
    return calls() - before
}

@Suite(.serialized) struct AllocationTests {
    static let underProbe = ProcessInfo.processInfo.environment["VMLAB_ALLOC_PROBE"] == "1"

    /// Runs in the child process only.
    @Test(.enabled(if: AllocationTests.underProbe)) func allocationProbe() throws {
        let witness = allocationCalls { _ = [UInt8](repeating: 1, count: 100) }
        #expect(witness != nil && witness! >= 1, "the interposer must see an array allocation")

        // Loads, stores, ALU, branches, a CSR access and a compressed instruction, in S-mode under
        // Sv39 so the TLB fast path is exercised; under each engine.
        for engine in [ExecutionEngine.interpreter, .blocks, .jit] {
            let rig = Guest.Rig { $0.engine = engine }
            rig.machine.grantFullPMPAccess(hart: 0)
            var pt = PageTables(rig.machine)
            pt.identityMapRAM()
            try rig.start("""
                li s0, 0x80200000
                li s1, 0
            1:  ld t0, 0(s0)
                addi t0, t0, 3
                sd t0, 8(s0)
                csrr t1, sscratch
                c.addi s1, 1
                xor t2, t0, s1
                sw t2, 16(s0)
                j 1b
            """, mode: .supervisor)
            rig.machine.writeCSR(0x180, pt.satp)
            _ = rig.run(10_000)   // warm up: decode the page, fill the TLBs, compile
            let n1 = allocationCalls { _ = rig.run(1_000_000) } ?? .max
            let n2 = allocationCalls { _ = rig.run(2_000_000) } ?? .max
            #expect(rig.machine.counters().instructions == 3_010_000)
            print("VMLAB_ALLOC_PROBE allocations (\(engine)): 1M run \(n1), 2M run \(n2)")
            #expect(n1 <= 16, "\(engine): a run may allocate a few times (debug builds box locals), never per instruction: \(n1)")
            #expect(n2 <= n1, "\(engine): twice the instructions must not allocate more: \(n1) vs \(n2)")
        }
    }

    @Test(.enabled(if: !AllocationTests.underProbe)) func aMillionInstructionsAllocateNothingPerInstruction() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-alloc-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = dir.appendingPathComponent("shim.c").path, so = dir.appendingPathComponent("shim.so").path
        try shimSource.write(toFile: c, atomically: true, encoding: .utf8)
        try Guest.sh(["\(Guest.toolDir)/clang", "-shared", "-fPIC", "-O2", "-o", so, c])

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = ["--testing-library", "swift-testing", "--filter", "allocationProbe"]
        var env = ProcessInfo.processInfo.environment
        env["LD_PRELOAD"] = so
        env["VMLAB_ALLOC_PROBE"] = "1"
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(out.suffix(2000))")
        #expect(out.contains("VMLAB_ALLOC_PROBE allocations"), "the probe ran: \(out.suffix(2000))")
    }
}
#endif
