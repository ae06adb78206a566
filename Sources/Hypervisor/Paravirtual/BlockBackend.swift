// The back-end of the split block driver ([X03] §3.2, "Data Transfer: I/O Rings"): the guest's
// front-end puts requests in a ring in a page it granted, notifies the event channel bound to
// `block`, and the back-end — VMM code, no device emulation — serves every request queued since
// the last notification (a batch per notification), writes the responses into the same ring and
// raises the channel once. Data pages are named by grant references, checked on each use.
//
// Ring page layout (little-endian):
//
//   offset  size  field
//   0       4     req_prod   requests the front-end has queued (free-running)
//   4       4     req_cons   requests the back-end has taken (the back-end writes it)
//   8       4     rsp_prod   responses the back-end has written (free-running)
//   64      32×16 requests   { u64 id; u32 op (0 read, 1 write); u32 sectors (1–8); u64 sector;
//                              u32 grant (the data page); u32 pad }
//   576     16×16 responses  { u64 id; i64 status (0 ok, -4 grant refused, -5 out of range, -1 I/O) }
import Devices

/// The split block driver's back-end for one domain.
public final class BlockBackend {
    public static let slots: UInt32 = 16
    public static let requestsOffset: UInt64 = 64
    public static let responsesOffset: UInt64 = 576
    public let image: BlockImage
    /// The ring's grant reference, once the front-end connected.
    public internal(set) var ringGrant: UInt64?
    public internal(set) var requestsServed: UInt64 = 0
    public internal(set) var requestsFailed: UInt64 = 0
    public internal(set) var batches: UInt64 = 0

    public init(image: BlockImage) { self.image = image }
}

extension ParavirtualDomain {
    func blockConnect(ring ref: UInt64) -> HypercallResult {
        guard let backend = blockBackend else { return .failure(.notSupported) }
        guard useGrant(ref, write: true) != nil else { return .failure(.denied) }
        backend.ringGrant = ref
        // The disk's size, so the front-end needs no other channel to learn it.
        return .success(backend.image.sectorCount)
    }

    /// Serves the requests queued in the ring (the front-end notified the `block` channel).
    func serveBlockRing() {
        guard let backend = blockBackend, let ref = backend.ringGrant else { return }
        guard let ring = useGrant(ref, write: true) else { return }
        let words = load64(ring) ?? 0
        let produced = UInt32(truncatingIfNeeded: words), consumed = UInt32(truncatingIfNeeded: words >> 32)
        var cons = consumed
        var responses = UInt32(truncatingIfNeeded: load64(ring + 8) ?? 0)
        // A front-end claiming more than a ring's worth is served a ring's worth.
        let pending = min(produced &- consumed, BlockBackend.slots)
        guard pending > 0 else { return }
        for _ in 0..<pending {
            let slot = ring + BlockBackend.requestsOffset + UInt64(cons % BlockBackend.slots) * 32
            let id = load64(slot) ?? 0
            let opAndCount = load64(slot + 8) ?? 0
            let sector = load64(slot + 16) ?? 0
            let grant = (load64(slot + 24) ?? 0) & 0xFFFF_FFFF
            let status = serve(backend, op: UInt32(truncatingIfNeeded: opAndCount),
                               sectors: UInt32(truncatingIfNeeded: opAndCount >> 32), sector: sector, grant: grant)
            if status == 0 { backend.requestsServed &+= 1 } else { backend.requestsFailed &+= 1 }
            let response = ring + BlockBackend.responsesOffset + UInt64(responses % BlockBackend.slots) * 16
            store64(response, id)
            store64(response + 8, UInt64(bitPattern: status))
            cons &+= 1
            responses &+= 1
        }
        store64(ring, UInt64(produced) | UInt64(cons) << 32)
        store64(ring + 8, UInt64(responses))
        backend.batches &+= 1
        raise(.block)
    }

    private func serve(_ backend: BlockBackend, op: UInt32, sectors: UInt32, sector: UInt64, grant: UInt64) -> Int64 {
        let size = UInt64(BlockImage.sectorSize)
        guard op <= 1, sectors >= 1, sectors <= 8 else { return HypercallError.invalidParam.rawValue }
        // A read from the disk writes guest memory: it needs a writable grant.
        guard let frame = useGrant(grant, write: op == 0) else { return HypercallError.denied.rawValue }
        guard backend.image.contains(sector: sector, count: UInt64(sectors)) else { return HypercallError.invalidAddress.rawValue }
        let bytes = Int(UInt64(sectors) * size)
        if op == 0 {
            guard let data = backend.image.read(sector: sector, count: Int(sectors)) else { return -1 }
            guard machine.loadPhysical(data, at: frame) else { return -1 }
            machine.memoryChanged(physical: frame, count: UInt64(bytes))
        } else {
            guard let data = machine.readPhysical(at: frame, count: bytes),
                  backend.image.write(sector: sector, data: data) else { return -1 }
        }
        return 0
    }
}
