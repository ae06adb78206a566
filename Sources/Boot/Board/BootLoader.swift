// Fills guest RAM for a boot: firmware, kernel, initrd and the device tree, placed by `BootLayout`
// and checked against RAM and each other before anything is written, so a failed boot leaves no
// half-loaded machine and names what did not fit.
import Machine

public enum BootLoader {
    /// A kernel or firmware image, parsed when it is an ELF file.
    enum Image {
        case elf(ELFFile)
        case raw(RawImage)

        init(_ bytes: [UInt8], role: String, name: String) throws(BootError) {
            if bytes.starts(with: HostFile.elfMagic) {
                do { self = .elf(try ELFFile(bytes: bytes)) } catch { throw .badImage(role: role, path: name, error) }
            } else {
                self = .raw(RawImage(bytes: bytes))
            }
        }
    }

    /// Loads everything `configuration` names into `memory` (RAM described by
    /// `configuration.machine.ram`) and says how the harts start.
    public static func load(_ configuration: BootConfiguration, into memory: any DMAMemory) throws(BootError) -> BootPlan {
        let ram = configuration.machine.ram
        var placed: [PlacedImage] = []

        // Firmware: an M-mode ELF at its own addresses.
        var firmware: ELFFile?
        if case .elf(let source) = configuration.firmware {
            guard case .elf(let file) = try Image(try source.read(role: "firmware", ram: ram.size), role: "firmware", name: source.name) else {
                throw .invalidConfiguration("firmware '\(source.name)' is not an ELF file (a raw firmware image needs an address; load it as the kernel with firmware = none)")
            }
            try check(file, role: "firmware", name: source.name, ram: ram)
            firmware = file
            placed += file.physicalRanges.map { PlacedImage("firmware", $0) }
        }

        // Kernel: an ELF at its addresses, or a raw image after the firmware.
        guard let kernelSource = configuration.kernel else {
            switch configuration.firmware {
            case .builtin: throw .invalidConfiguration("the built-in firmware needs a kernel to run")
            case .none: throw .invalidConfiguration("a machine without firmware needs a kernel to run")
            case .elf: break
            }
            return try finish(configuration, memory: memory, placed: placed, firmware: firmware, kernel: nil,
                              kernelEntry: nil, kernelRaw: nil)
        }
        let kernel = try Image(try kernelSource.read(role: "kernel", ram: ram.size), role: "kernel", name: kernelSource.name)
        let kernelEntry: UInt64
        var kernelRaw: (RawImage, UInt64)?
        var kernelFile: ELFFile?
        switch kernel {
        case .elf(let file):
            try check(file, role: "kernel", name: kernelSource.name, ram: ram)
            do { kernelEntry = try file.physicalEntry() } catch { throw .badImage(role: "kernel", path: kernelSource.name, error) }
            kernelFile = file
            placed += file.physicalRanges.map { PlacedImage("kernel", $0) }
        case .raw(let image):
            let firmwareEnd = placed.map(\.range.end).max()
            let address = configuration.kernelAddress
                ?? (configuration.firmware == .none ? ram.base : BootLayout.kernelAddress(ram: ram, firmwareEnd: firmwareEnd))
            kernelEntry = address
            kernelRaw = (image, address)
            placed.append(PlacedImage("kernel", MemoryRange(address: address, size: UInt64(image.bytes.count))))
        }
        try BootLayout.check(placed, ram: ram)
        return try finish(configuration, memory: memory, placed: placed, firmware: firmware, kernel: kernelFile,
                          kernelEntry: kernelEntry, kernelRaw: kernelRaw)
    }

    private static func check(_ file: ELFFile, role: String, name: String, ram: RAMRegion) throws(BootError) {
        do { try file.checkPlacement(in: ram) } catch { throw .badImage(role: role, path: name, error) }
    }

    /// Places the initrd and device tree, then writes everything.
    private static func finish(_ configuration: BootConfiguration, memory: any DMAMemory, placed initial: [PlacedImage],
                               firmware: ELFFile?, kernel: ELFFile?, kernelEntry: UInt64?,
                               kernelRaw: (RawImage, UInt64)?) throws(BootError) -> BootPlan {
        var placed = initial
        let ram = configuration.machine.ram
        var machine = configuration.machine
        machine.bootargs = configuration.bootargs
        let initrdBytes = try configuration.initrd?.read(role: "initrd", ram: ram.size)

        // The blob's size does not depend on the initrd's addresses, only on its presence.
        if let bytes = initrdBytes { machine.initrd = MemoryRange(address: 0, size: UInt64(bytes.count)) }
        let blobSize = UInt64(VirtDeviceTree.build(machine).flattened().count)
        // M-mode firmware also gets OpenSBI's fw_dynamic_info, right after the blob (below).
        let infoOffset = BootLayout.alignUp(blobSize, 8)
        let reserved = firmware == nil ? blobSize : infoOffset + FirmwareDynamicInfo.size
        let dtbAddress = try BootLayout.deviceTreeAddress(ram: ram, size: reserved, avoiding: placed)
        if let bytes = initrdBytes {
            let base = kernelEntry ?? BootLayout.kernelAddress(ram: ram, firmwareEnd: placed.map(\.range.end).max())
            let address = try BootLayout.initrdAddress(ram: ram, kernelEntry: base, size: UInt64(bytes.count),
                                                       limit: dtbAddress, avoiding: placed)
            machine.initrd = MemoryRange(address: address, size: UInt64(bytes.count))
            placed.append(PlacedImage("initrd", MemoryRange(address: address, size: UInt64(bytes.count))))
        }
        let tree = VirtDeviceTree.build(machine)
        let blob = tree.flattened()
        precondition(UInt64(blob.count) == blobSize, "device tree size changed with the initrd address")
        placed.append(PlacedImage("device tree", MemoryRange(address: dtbAddress, size: blobSize)))
        // QEMU writes fw_dynamic_info into its boot ROM beside the reset vector, which passes its
        // address in a2 to whatever -bios is: OpenSBI's fw_dynamic reads the next stage's address
        // and mode there (fw_jump and fw_payload ignore a2). vmlab has no reset-vector ROM, so the
        // record goes into RAM after the device tree, in the slot reserved for both.
        var firmwareInfo: (address: UInt64, bytes: [UInt8])?
        if firmware != nil {
            let address = dtbAddress + infoOffset
            let info = FirmwareDynamicInfo(nextAddress: kernelEntry ?? 0)
            firmwareInfo = (address, info.bytes)
            placed.append(PlacedImage("firmware info", MemoryRange(address: address, size: FirmwareDynamicInfo.size)))
        }
        try BootLayout.check(placed, ram: ram)

        // Everything fits: write it.
        var entry = kernelEntry ?? ram.base
        if let file = firmware { entry = try write(file, into: memory, ram: ram) }
        if let file = kernel { _ = try write(file, into: memory, ram: ram) }
        if let (image, address) = kernelRaw { _ = try image.load(at: address, into: memory, ram: ram, role: "kernel") }
        if let bytes = initrdBytes, let range = machine.initrd {
            try GuestMemoryWriter.write(bytes[...], at: range.address, into: memory)
        }
        try GuestMemoryWriter.write(blob[...], at: dtbAddress, into: memory)
        if let (address, bytes) = firmwareInfo { try GuestMemoryWriter.write(bytes[...], at: address, into: memory) }

        let mode: BootPlan.EntryMode
        switch configuration.firmware {
        case .builtin: mode = .supervisor
        case .elf, .none: mode = .machine
        }
        return BootPlan(entry: entry, mode: mode, secondaryHartsStart: mode == .machine,
                        deviceTreeAddress: dtbAddress, firmwareInfoAddress: firmwareInfo?.address,
                        deviceTree: tree, images: placed,
                        kernelSymbols: kernel?.symbols ?? [], kernelIsRawImage: kernelRaw != nil,
                        firmwareSymbols: firmware?.symbols ?? [])
    }

    /// Writes an ELF whose placement and entry were already checked; only a refused write can fail.
    private static func write(_ file: ELFFile, into memory: any DMAMemory, ram: RAMRegion) throws(BootError) -> UInt64 {
        do {
            return try file.load(into: memory, ram: ram).entry
        } catch let error as BootError {
            throw error
        } catch {
            throw .invalidConfiguration("\(error)")
        }
    }
}
