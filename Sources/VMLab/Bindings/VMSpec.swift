import Boot
import Devices
import Foundation
import Hypervisor
import Machine

/// What a VM is built from: the plain data of `vmlab.vm{...}` and of `vmlab boot`'s options, so
/// both spell the same machine the same way.
///
/// Firmware and entry, one rule for both:
/// - `image` (raw code) is loaded at 0x80000000 and entered in M-mode, with no firmware; or, when
///   a firmware is chosen, it is the kernel (a raw image at 0x80200000, entered in S-mode). Under
///   a VMM (`trap`, `bt`, `pv`), whose guest kernel always runs under the built-in SBI, the
///   built-in SBI is chosen unless another is named;
/// - otherwise the kernel runs under the chosen firmware, and when none is chosen, under the
///   built-in SBI in S-mode — unless the kernel is an ELF loaded at the RAM base (0x80000000, its
///   lowest loadable segment): no firmware can sit below such a program, so it is a bare-metal
///   program and is entered in M-mode at its entry (what `qemu -bios none -kernel` expects of one).
public struct VMSpec: Sendable {
    public enum FirmwareChoice: Sendable, Equatable {
        /// Built-in SBI, or none for a kernel loaded at the RAM base (see above).
        case automatic
        case builtin
        case none
        /// An M-mode firmware ELF (OpenSBI's fw_jump.elf).
        case file(String)
    }

    public struct Disk: Sendable, Equatable {
        public var path: String
        public var writable: Bool
        /// The virtio-mmio slot (`DiskConfiguration.slot`); nil: QEMU's order.
        public var slot: Int?
        public init(path: String, writable: Bool = false, slot: Int? = nil) {
            self.path = path
            self.writable = writable
            self.slot = slot
        }
    }

    /// How the guest runs: on the machine itself (`native`) or under the VMM with a technique.
    public var mode: ExecutionMode = .native
    public var memory: UInt64 = 128 << 20
    public var harts: Int = 1
    public var firmware: FirmwareChoice = .automatic
    public var kernel: String?
    public var initrd: String?
    public var bootargs: String = ""
    public var disks: [Disk] = []
    /// virtio-net cards. Their cables are wiring, not data: the switch each plugs into is given
    /// when the VM is built (`VirtualMachine.connect(nics:)`).
    public var nics: [NICConfiguration] = []
    /// A virtio-console joining the board's console (`virtio_console`, `--virtio-console`).
    public var virtioConsole = false
    /// A virtio-rng with this seed (`rng`, `--rng`); nil: none.
    public var rngSeed: UInt64?
    /// Raw machine code (a `vmlab.asm` result): for address 0x80000000, entered in M-mode, or the
    /// kernel under a firmware (see the rule above).
    public var image: [UInt8]?
    /// Names of guest addresses beyond the ELF files' (`vmlab.vm`'s `symbols`).
    public var symbols: [String: UInt64] = [:]
    /// Copy console output to standard output as the guest writes it.
    public var echo: Bool = false
    /// The prices the machine charges as it runs (`CostProfile.machineCostTable`): modelled cycles
    /// and guest-visible time (`mtime`) follow them, and `vm:stats()` splits cycles by them.
    public var profile: CostProfile = .standard
    /// Sensitive instructions made not to trap (`Machine.holes`; PopekGoldbergBinding.swift).
    public var holes: Set<SensitiveHole> = []
    /// The para-virtual VMM's policy (`pv={...}`; mode "pv" only).
    public var paravirtualPolicy = ParavirtualPolicy()
    /// The binary translator's policy (`bt={...}`; mode "bt" only).
    public var binaryTranslationPolicy = BinaryTranslationPolicy()
    /// The shadow pager's policy (`shadow={...}`; modes "trap" and "bt").
    public var shadowPolicy = ShadowPolicy()
    /// The hardware-assisted VMM's policy (`hw={...}`; mode "hw" only).
    public var hardwarePolicy = HardwareAssistedPolicy()
    /// The hart's TLB (`tlb={...}`), and the A/D and misaligned-access behaviours: the machine's,
    /// so in every mode (VMBinding+Hardware.swift).
    public var tlb = TLBConfiguration()
    public var adBits: ADBitPolicy = .hardwareUpdate
    public var misaligned: MisalignedPolicy = .handleInHardware
    /// The H extension in the harts (`h_extension =`, `--h-extension`); mode "hw" turns it on itself.
    public var hypervisorExtension = false
    /// Sstc in the harts, named in the device tree (`sstc =`, `--sstc`).
    public var sstc = false
    /// How the PLIC's gateways turn device lines into requests (`plic =`, `--plic`).
    public var plicGateway: PLICGateway = .qemu

    public init() {}

    /// Where RAM starts (QEMU virt), and so where `image` goes.
    public static let ramBase: UInt64 = VirtPlatform.ram.base

    /// The board configuration, with the firmware rule applied. Conflicting choices were rejected
    /// when the spec was read; a kernel that cannot be read is reported by the board itself.
    func boardConfiguration() -> VirtBoardConfiguration {
        var c = VirtBoardConfiguration()
        c.memory = memory
        c.harts = harts
        c.bootargs = bootargs
        c.consoleEcho = echo
        c.machine.tlb = tlb
        c.machine.adBits = adBits
        c.machine.misaligned = misaligned
        c.machine.hypervisorExtension = hypervisorExtension
        c.machine.sstc = sstc
        c.plicGateway = plicGateway
        c.initrd = initrd.map { .file($0) }
        // Without `writable` the file never changes, yet the guest still sees a writable disk:
        // its writes stay in memory (copy-on-write), so a run cannot spoil the next one's image.
        c.disks = disks.map { DiskConfiguration(path: $0.path, mode: $0.writable ? .writable : .copyOnWrite, slot: $0.slot) }
        c.nics = nics
        c.virtioConsole = virtioConsole
        c.rngSeed = rngSeed
        c.kernel = image.map { .bytes($0, name: "image") } ?? kernel.map { .file($0) }
        switch firmware {
        case .builtin: c.firmware = .builtin
        case .none: c.firmware = .none
        case .file(let path): c.firmware = .elf(.file(path))
        case .automatic where image != nil: c.firmware = mode.runsKernelUnderBuiltinSBI ? .builtin : .none
        case .automatic: c.firmware = kernel.map(Self.isBareMetal) == true ? .none : .builtin
        }
        // Alone, an image is a bare-metal program at the RAM base; under firmware it is a kernel,
        // placed where the firmware enters one.
        if image != nil && c.firmware == .none { c.kernelAddress = Self.ramBase }
        return c
    }

    /// The Hypervisor's description of the VM.
    func guestConfiguration() -> GuestConfiguration {
        GuestConfiguration(mode: mode, profile: profile, board: boardConfiguration(), paravirtualPolicy: paravirtualPolicy,
                           binaryTranslationPolicy: binaryTranslationPolicy, shadowPolicy: shadowPolicy,
                           hardwarePolicy: hardwarePolicy)
    }

    /// A hart policy's values by the names the Lua options and the command line give them, the
    /// default first.
    public struct PolicyNames<Policy: Sendable>: Sendable {
        let entries: [(name: String, policy: Policy)]
        /// The names, in order (for `.choice` and for error messages).
        public var names: [String] { entries.map(\.name) }
        /// The policy `name` stands for, or nil.
        public subscript(name: String) -> Policy? { entries.first { $0.name == name }?.policy }
    }

    /// `ad_bits =` and `--ad-bits`.
    public static let adBitPolicies = PolicyNames<ADBitPolicy>(entries: [("hardware", .hardwareUpdate), ("fault", .pageFault)])
    /// `misaligned =` and `--misaligned`.
    public static let misalignedPolicies = PolicyNames<MisalignedPolicy>(entries: [("hardware", .handleInHardware), ("trap", .trap)])
    /// `plic =` and `--plic`.
    public static let plicGateways = PolicyNames<PLICGateway>(entries: [("qemu", .qemu), ("level", .level)])

    /// More TLB entries than any lab could want to compare (a real L2 TLB has a few thousand).
    public static let maximumTLBEntries: Int64 = 1 << 16

    /// A TLB option that cannot be: which field (`entries`, `ways`) and why.
    public struct TLBOptionError: Error {
        public var field: String
        public var reason: String
    }

    /// The TLB geometry `vmlab.vm{ tlb = ... }` and `vmlab boot --tlb` describe, checked the same
    /// way for both; an omitted field takes the machine's default (`ways` at most `entries`).
    /// The most entries a nested TLB or a page-walk cache may have (each is searched whole on
    /// every lookup).
    public static let maximumNestedTLBEntries: Int64 = 256

    public static func tlbConfiguration(entries: Int64?, ways: Int64?, tagged: Bool?, keepGlobal: Bool? = nil,
                                        nested: Int64? = nil, pwc: Int64? = nil) throws(TLBOptionError) -> TLBConfiguration {
        let defaults = TLBConfiguration()
        let entryCount = entries ?? Int64(defaults.entries)
        guard (1...maximumTLBEntries).contains(entryCount) else {
            throw TLBOptionError(field: "entries", reason: "must be 1 to \(maximumTLBEntries), got \(entryCount)")
        }
        let wayCount = ways ?? min(Int64(defaults.ways), entryCount)
        guard wayCount >= 1 && wayCount <= entryCount && entryCount % wayCount == 0 else {
            throw TLBOptionError(field: "ways", reason: "must divide 'entries' (\(entryCount)), got \(wayCount)"
                                 + (ways == nil ? " (the default; give 'ways')" : ""))
        }
        let isTagged = tagged ?? defaults.asidTagged
        if keepGlobal != nil && isTagged {
            throw TLBOptionError(field: "keep_global", reason: "only with tagged = false (a tagged TLB keeps every entry across satp writes)")
        }
        // The hypervisor extension's caches: none by default.
        func cacheEntries(_ value: Int64?, field: String) throws(TLBOptionError) -> Int {
            let count = value ?? 0
            guard (0...maximumNestedTLBEntries).contains(count) else {
                throw TLBOptionError(field: field, reason: "must be 0 (none) to \(maximumNestedTLBEntries), got \(count)")
            }
            return Int(count)
        }
        return TLBConfiguration(entries: Int(entryCount), ways: Int(wayCount), asidTagged: isTagged,
                                keepsGlobalEntries: keepGlobal ?? defaults.keepsGlobalEntries,
                                nestedEntries: try cacheEntries(nested, field: "nested"),
                                walkCacheEntries: try cacheEntries(pwc, field: "pwc"))
    }

    /// The caches of `tlb` that only harts with the hypervisor extension have, by their option
    /// names (`nested`, `pwc`), where it asks for some.
    public static func hypervisorCaches(_ tlb: TLBConfiguration) -> [String] {
        [("nested", tlb.nestedEntries), ("pwc", tlb.walkCacheEntries)].filter { $0.1 > 0 }.map(\.0)
    }

    /// Whether `path` is an ELF loaded at the RAM base: its lowest loadable segment (by physical
    /// address, where the board loads it) starts there. No firmware can sit below such a program.
    /// The load address decides, not the entry: a linker may put data ahead of the reset code
    /// (ld.lld places an unnamed `.rodata` first), and such a program is bare-metal all the same.
    /// A file that cannot be read or parsed is not: the board then reports what is wrong with it.
    /// Only the ELF and program headers are read, and only from a regular file: a raw image of
    /// gigabytes is not read here (the board refuses it before reading it), nor is a pipe's input
    /// consumed.
    static func isBareMetal(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, HostFileKind.nonRegular(info.st_mode) == nil,
              let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        func little(_ bytes: Data, _ at: Int, _ count: Int) -> UInt64 {
            let from = bytes.startIndex + at
            return bytes[from..<from + count].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        // e_ident: the magic, ELFCLASS64, little-endian; e_phoff at 32, e_phentsize and e_phnum at 54.
        guard let header = try? handle.read(upToCount: 64), header.count == 64,
              header.starts(with: [0x7f, 0x45, 0x4c, 0x46, 2, 1]) else { return false }
        let tableOffset = little(header, 32, 8)
        let entrySize = Int(little(header, 54, 2)), count = Int(little(header, 56, 2))
        guard entrySize >= 56, count > 0, count < 0xFFFF,
              (try? handle.seek(toOffset: tableOffset)) != nil,
              let table = try? handle.read(upToCount: entrySize * count), table.count == entrySize * count
        else { return false }
        // Each program header: p_type at 0 (PT_LOAD = 1), p_paddr at 24, p_memsz at 40.
        let lowest = (0..<count).lazy.map { $0 * entrySize }
            .filter { little(table, $0, 4) == 1 && little(table, $0 + 40, 8) > 0 }
            .map { little(table, $0 + 24, 8) }.min()
        return lowest == ramBase
    }

    /// Bytes from "128M", "1G", "64K", "4096B" (binary units, as QEMU's `-m`). A bare number needs
    /// a unit in a string: "128" could mean bytes or MiB, and guessing wrong wastes a run.
    public static func parseMemory(_ text: String) -> UInt64? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        var shift: UInt64 = 0
        for suffix in ["iB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        switch digits.last?.uppercased() {
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        case "T": shift = 40
        default:
            guard text.hasSuffix("B") else { return nil }   // "4096B": bytes
        }
        if shift > 0 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = UInt64(digits),
              value <= UInt64.max >> shift else { return nil }
        return value << shift
    }

    /// Memory sizes as people write them: 128 MiB, 4 KiB, 1000 bytes.
    static func describeMemory(_ bytes: UInt64) -> String {
        for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] as [(UInt64, String)]
        where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) bytes"
    }
}
