// The grant table: how a para-virtual guest lets the VMM's back-ends (the split block driver)
// touch specific frames of its memory, and takes that back (Xen's grant tables, the successor of
// [X03]'s I/O rings over page "flipping"). The guest grants a frame — read-only or writable — and
// passes the reference in a request; a back-end resolves the reference on every use, so once the
// guest revokes it the back-end is refused (counted), whatever requests still name it.
//
// Only the VM's own untyped RAM frames can be granted: a page table could otherwise be written by
// a back-end behind the validation of direct paging.

/// One grant: a frame and whether back-ends may write it.
public struct Grant: Sendable, Equatable, Codable {
    public var frame: UInt64
    public var readOnly: Bool
}

/// The grants of one domain, by reference.
public struct GrantTable: Sendable, Codable {
    public private(set) var entries: [Grant?] = Array(repeating: nil, count: HypercallABI.grants)
    public init() {}

    mutating func insert(_ grant: Grant) -> Int? {
        guard let ref = entries.firstIndex(where: { $0 == nil }) else { return nil }
        entries[ref] = grant
        return ref
    }

    mutating func revoke(_ ref: UInt64) -> Bool {
        guard ref < UInt64(entries.count), entries[Int(ref)] != nil else { return false }
        entries[Int(ref)] = nil
        return true
    }

    public func grant(_ ref: UInt64) -> Grant? { ref < UInt64(entries.count) ? entries[Int(ref)] : nil }
    public var active: Int { entries.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}

extension ParavirtualDomain {
    func grantAccess(frame: UInt64, readOnly: UInt64) -> HypercallResult {
        guard frame & 0xFFF == 0, readOnly <= 1 else { return .failure(.invalidParam) }
        guard let f = frames.frame(of: frame) else { return .failure(.invalidAddress) }
        guard frames.type(of: f) == .untyped else { return .failure(.denied) }
        guard let ref = grants.insert(Grant(frame: frame, readOnly: readOnly == 1)) else { return .failure(.denied) }
        return .success(UInt64(ref))
    }

    func grantRevoke(_ ref: UInt64) -> HypercallResult {
        grants.revoke(ref) ? .success() : .failure(.invalidParam)
    }

    /// A back-end's use of grant `ref`: the frame, if the grant exists, allows the access and the
    /// frame is still ordinary memory; otherwise nil, counted as a refused grant use.
    public func useGrant(_ ref: UInt64, write: Bool) -> UInt64? {
        guard let g = grants.grant(ref), !(write && g.readOnly),
              let f = frames.frame(of: g.frame), frames.type(of: f) == .untyped else {
            grantRefusals &+= 1
            return nil
        }
        grantUses &+= 1
        return g.frame
    }
}

extension GrantTable {
    /// Whether it has the ABI's number of grants (a snapshot file's may not).
    var isWellFormed: Bool { entries.count == HypercallABI.grants }
}
