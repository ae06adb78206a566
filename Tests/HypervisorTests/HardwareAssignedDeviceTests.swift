import Boot
import Devices
import Foundation
import GuestTestSupport
import Machine
import Testing
@testable import Hypervisor

/// Direct assignment under `hw` (`HardwareAssistedPolicy.io = .assigned`): the guest drives its
/// virtio devices without exits, and their DMA goes through an IOMMU that translates the
/// guest-physical addresses its driver programs by the guest's G-stage table and refuses the rest.
@Suite struct HardwareAssignedDeviceTests {
    /// A one-sector disk image: byte i of sector 0 is i & 0xFF.
    static func disk() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-assigned-\(UUID().uuidString).img").path
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0) }).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A kernel that sets up virtio-blk in slot 0 (virtio-mmio version 2, one queue of 8) and asks
    /// it to read sector 0 into guest-physical `target`, then waits for the request to be used
    /// or for the device to need a reset, and powers off. The request (16 bytes) is at DATA +
    /// 0x1000, the status byte at DATA + 0x1100, the queue's rings at DATA, + 0x2000, + 0x3000.
    static func reader(into target: UInt64, then: String = TestKernels.shutdown(0)) -> String {
        """
            li s1, 0x10001000
            li s2, DATA
            li t0, 1
            sw t0, 0x70(s1)          # ACKNOWLEDGE
            li t0, 3
            sw t0, 0x70(s1)          # DRIVER
            li t0, 1
            sw t0, 0x24(s1)          # DriverFeaturesSel 1
            sw t0, 0x20(s1)          # VIRTIO_F_VERSION_1 (bit 32)
            li t0, 11
            sw t0, 0x70(s1)          # FEATURES_OK
            sw zero, 0x30(s1)        # QueueSel 0
            li t0, 8
            sw t0, 0x38(s1)          # QueueNum
            sw s2, 0x80(s1)          # QueueDesc
            sw zero, 0x84(s1)
            li t1, 0x2000
            add t1, s2, t1
            sw t1, 0x90(s1)          # QueueDriver (available ring)
            sw zero, 0x94(s1)
            li t1, 0x3000
            add t1, s2, t1
            sw t1, 0xA0(s1)          # QueueDevice (used ring)
            sw zero, 0xA4(s1)
            li t0, 1
            sw t0, 0x44(s1)          # QueueReady
            li t0, 15
            sw t0, 0x70(s1)          # DRIVER_OK
            # The request: VIRTIO_BLK_T_IN, sector 0.
            li t1, 0x1000
            add t1, s2, t1
            sw zero, 0(t1)
            sw zero, 4(t1)
            sd zero, 8(t1)
            # Descriptor 0: the request (NEXT), 1: the data (NEXT | WRITE), 2: the status (WRITE).
            sd t1, 0(s2)
            li t0, 16
            sw t0, 8(s2)
            li t0, 1
            sh t0, 12(s2)
            sh t0, 14(s2)
            li t0, \(target)
            sd t0, 16(s2)
            li t0, 512
            sw t0, 24(s2)
            li t0, 3
            sh t0, 28(s2)
            li t0, 2
            sh t0, 30(s2)
            li t1, 0x1100
            add t1, s2, t1
            li t0, 0xFF
            sb t0, 0(t1)
            sd t1, 32(s2)
            li t0, 1
            sw t0, 40(s2)
            li t0, 2
            sh t0, 44(s2)
            sh zero, 46(s2)
            # The available ring: descriptor 0, index 1; then the notification.
            li t1, 0x2000
            add t1, s2, t1
            sh zero, 0(t1)
            sh zero, 4(t1)
            fence w, w
            li t0, 1
            sh t0, 2(t1)
            fence w, o
            sw zero, 0x50(s1)        # QueueNotify 0
            li t1, 0x3000
            add t1, s2, t1
        1:  lhu t0, 2(t1)            # the used index
            bnez t0, 2f
            lw t0, 0x70(s1)
            andi t0, t0, 0x40        # DEVICE_NEEDS_RESET
            beqz t0, 1b
        2:
        \(then)
        """
    }

    static func guest(_ source: String, io: HardwareIO, disk: String) throws -> Guest {
        var board = try TestKernels.board(source)
        board.disks = [DiskConfiguration(path: disk, mode: .copyOnWrite, slot: 0)]
        return try Guest(GuestConfiguration(mode: .hw, board: board, hardwarePolicy: HardwareAssistedPolicy(io: io)))
    }

    static let data: UInt64 = 0x8030_0000
    /// Where the 4 MiB test board's hidden memory starts: the G-stage root.
    static let hidden: UInt64 = 0x8040_0000

    @Test func theGuestDrivesItsDeviceWithoutExitsAndTheIOMMUTranslatesItsDMA() throws {
        let disk = try Self.disk()
        defer { try? FileManager.default.removeItem(atPath: disk) }
        let target = Self.data + 0x4000
        let emulated = try Self.guest(Self.reader(into: target), io: .emulated, disk: disk)
        defer { emulated.close() }
        let assigned = try Self.guest(Self.reader(into: target), io: .assigned, disk: disk)
        defer { assigned.close() }
        for g in [emulated, assigned] {
            #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
            let landed = g.machine.readPhysical(at: target, count: 512) == (0..<512).map { UInt8(truncatingIfNeeded: $0) }
            #expect(landed, "sector 0 read into the target")
            #expect(g.machine.readPhysical(at: Self.data + 0x1100, count: 1) == [0], "VIRTIO_BLK_S_OK")
        }
        #expect(assigned.instructions == emulated.instructions)
        let technique = try #require(assigned.technique as? HardwareAssistedTechnique)
        let vmm = try #require(technique.vmm)
        let iommu = try #require(technique.iommu)
        // Every register access the emulated VM exits for, the assigned one makes itself.
        let accesses = try #require((emulated.technique as? HardwareAssistedTechnique)?.vmm?.counters.deviceEmulated)
        #expect(accesses == 16, "the set-up's fifteen stores and the notification")
        #expect(vmm.counters.deviceEmulated == 0 && vmm.counters.byCause["store_guest_page_fault"] == nil)
        #expect(assigned.machine.counters().mmioAccesses == accesses)
        #expect(assigned.statistics().mmio == emulated.statistics().mmio)
        // The rings, the request, the sector and the status byte: pages DATA, +1 (request and
        // status), +2, +3 and +4, each walked once (three references) and then hit.
        #expect(iommu.counters.faults == 0 && iommu.counters.iotlbMisses == 5 && iommu.counters.walkReferences == 15)
        #expect(iommu.counters.translations > 5 && iommu.counters.iotlbHits == iommu.counters.translations &- 5)
        #expect(technique.counters(assigned)["iommu"]?["translations"] == iommu.counters.translations)
        #expect(emulated.technique.counters(emulated)["iommu"] == nil)
        #expect(technique.account(assigned).total == assigned.machine.cycles)
        #expect(assigned.machine.cycles < emulated.machine.cycles)
    }

    /// A hostile guest points its device's DMA at the VMM's hidden memory (the G-stage tables
    /// behind its RAM) or at the device's own registers: the IOMMU refuses, the tables are
    /// untouched, the device needs a reset, and the guest goes on.
    @Test(arguments: [(hidden, IOMMUFault.Cause.writeGuestPageFault, hidden), (0x1000_1000, .writeAccessFault, 0x1000_1000),
                      (1 << 45, .writeGuestPageFault, 1 << 45)])
    func aDMAOutsideTheGuestsMemoryIsRefused(_ target: UInt64, _ cause: IOMMUFault.Cause, _ address: UInt64) throws {
        let disk = try Self.disk()
        defer { try? FileManager.default.removeItem(atPath: disk) }
        let g = try Self.guest(Self.reader(into: target), io: .assigned, disk: disk)
        defer { g.close() }
        let tables = try #require(g.machine.readPhysical(at: Self.hidden, count: 16 << 10))
        var events: [GuestEvent] = []
        _ = g.events.add(.iommuFault) { events.append($0); return .proceed }
        #expect(g.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        let untouched = g.machine.readPhysical(at: Self.hidden, count: 16 << 10) == tables
        #expect(untouched, "the G-stage tables are untouched")
        let iommu = try #require((g.technique as? HardwareAssistedTechnique)?.iommu)
        #expect(iommu.faultLog == [IOMMUFault(cause: cause, device: 0, address: address, isWrite: true)])
        #expect(g.board.virtio[0].status & 0x40 != 0, "DEVICE_NEEDS_RESET")
        #expect(events.count == 1 && events.first?.cause == cause.name && events.first?.address == address
                && events.first?.isWrite == true && events.first?.value == 0 && events.first?.causeCode == UInt64(cause.rawValue))
    }

    /// tinyos's disk benchmark, pinned under QEMU, gives the same output with its disk assigned,
    /// and the exits it saves are its virtio register accesses: each one it made through an exit
    /// under emulation it makes itself; the PLIC's stay emulated, and the disk's interrupts exit.
    @Test func tinyosReadsItsAssignedDiskAsUnderQEMU() throws {
        guard let c = TinyosGuest.cases.first(where: { $0.name == "disk" }),
              let board = try TinyosBoards.configuration(c.bootargs, disk: true, tag: "hw-assigned") else { return }
        var runs: [Guest] = []
        defer { runs.forEach { $0.close() } }
        for io in HardwareIO.allCases {
            let guest = try Guest(GuestConfiguration(mode: .hw, board: board, hardwarePolicy: HardwareAssistedPolicy(io: io)))
            runs.append(guest)
            #expect(guest.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0))
            #expect(TinyosGuest.comparable(guest.consoleText).trimmingCharacters(in: .newlines)
                        == TinyosGuest.expected("disk").trimmingCharacters(in: .newlines), "console:\n\(guest.consoleText)")
            #expect(guest.technique.account(guest).total == guest.machine.cycles)
        }
        let (emulated, assigned) = (runs[0], runs[1])
        let vmm = { (g: Guest) in (g.technique as! HardwareAssistedTechnique).vmm!.counters }
        let direct = assigned.machine.counters().mmioAccesses
        #expect(emulated.machine.counters().mmioAccesses == 0 && direct > 0)
        #expect(vmm(assigned).deviceEmulated < vmm(emulated).deviceEmulated)
        #expect(vmm(assigned).interruptExits > 0, "the disk's interrupts still exit")
        let iommu = try #require((assigned.technique as? HardwareAssistedTechnique)?.iommu)
        #expect(iommu.counters.translations > 0 && iommu.counters.faults == 0)
        #expect(assigned.machine.cycles < emulated.machine.cycles)
    }

    /// Why assignment needs an IOMMU: without one, a guest has its disk read a sector it wrote
    /// over the VMM's G-stage root (a 1 GiB leaf mapping the guest-physical range of its RAM, and
    /// with it the VMM's memory behind it), and then reads the VMM's tables itself. With the
    /// IOMMU the DMA is refused and the same read is the access fault it always was.
    @Test func withoutAnIOMMUTheGuestRewritesItsOwnGStage() throws {
        // Sector 0: root entries 0 and 2 as 1 GiB leaves (V R W X U A D) onto the same machine
        // addresses: the devices, and RAM with the VMM's memory behind the guest's.
        var sector = [UInt8](repeating: 0, count: 4096)
        for (index, base) in [(0, UInt64(0)), (2, 0x8000_0000)] as [(Int, UInt64)] {
            let pte = (base >> 12) << 10 | 0xDF
            for b in 0..<8 { sector[index * 8 + b] = UInt8(truncatingIfNeeded: pte >> (8 * UInt64(b))) }
        }
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-escape-\(UUID().uuidString).img").path
        try Data(sector).write(to: URL(fileURLWithPath: disk))
        defer { try? FileManager.default.removeItem(atPath: disk) }
        let attack = """
                la t0, 9f
                csrw stvec, t0
            \(Self.reader(into: Self.hidden, then: """
                li t0, \(Self.hidden)
                ld s3, 0(t0)             # the VMM's G-stage root, entry 0
            \(TestKernels.shutdown(0))
            """))
            .align 2
            9:
            \(TestKernels.shutdown(1))
            """
        for iommu in [false, true] {
            var board = try TestKernels.board(attack)
            board.disks = [DiskConfiguration(path: disk, mode: .copyOnWrite, slot: 0)]
            let g = try Guest(GuestConfiguration(mode: .hw, board: board,
                                                 hardwarePolicy: HardwareAssistedPolicy(io: .assigned, iommu: iommu)))
            defer { g.close() }
            let before = g.machine.readPhysical(at: Self.hidden, count: 4096)
            let stop = g.run(maxInstructions: 1_000_000)
            let root = g.machine.readPhysicalWord(at: Self.hidden)
            if iommu {
                #expect(stop == .poweredOff(code: 1), "the read past its RAM faulted, as before")
                let untouched = g.machine.readPhysical(at: Self.hidden, count: 4096) == before
                #expect(untouched && root != 0xDF)
                #expect((g.technique as? HardwareAssistedTechnique)?.iommu?.counters.faults == 1)
            } else {
                #expect(stop == .poweredOff(code: 0), "the guest read the VMM's memory")
                #expect(root == 0xDF, "the disk's sector is the VMM's G-stage root now")
                #expect(g.machine.register(19) == 0xDF, "s3: what the guest read of the VMM's tables")
                #expect((g.technique as? HardwareAssistedTechnique)?.iommu == nil)
            }
        }
    }

    @Test func assignmentNeedsNestedPaging() throws {
        var board = try TestKernels.board(TestKernels.hello())
        board.memory = 4 << 20
        #expect(throws: GuestBuildError.self) {
            try Guest(GuestConfiguration(mode: .hw, board: board, hardwarePolicy: HardwareAssistedPolicy(paging: .shadow, io: .assigned)))
        }
    }
}
