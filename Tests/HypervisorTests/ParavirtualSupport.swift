// A para-virtual domain on a bare 1 MiB machine, with helpers to lay out page tables and make
// hypercalls: the validation rules are tested here without a guest kernel.
import Machine
@testable import Hypervisor

struct PVFixture {
    let machine: Machine
    let domain: ParavirtualDomain

    init(policy: ParavirtualPolicy = ParavirtualPolicy(), ramSize: UInt64 = 1 << 20) {
        var c = MachineConfiguration()
        c.ramSize = ramSize
        machine = Machine(c)
        domain = ParavirtualDomain(id: 7, machine: machine, policy: policy)
    }

    static let ramBase: UInt64 = 0x8000_0000
    func page(_ n: Int) -> UInt64 { Self.ramBase + UInt64(n) << 12 }
    var ramEnd: UInt64 { Self.ramBase + machine.configuration.ramSize }

    func write64(_ address: UInt64, _ value: UInt64) {
        machine.loadPhysical(withUnsafeBytes(of: value.littleEndian) { Array($0) }, at: address)
    }

    func read64(_ address: UInt64) -> UInt64 {
        let bytes = machine.readPhysical(at: address, count: 8)!
        return bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    @discardableResult
    func call(_ c: Hypercall, _ arguments: UInt64...) -> HypercallResult {
        domain.handle(HypercallRequest(number: c.rawValue, arguments: arguments))
    }

    /// One `mmu_update` carrying `requests`, laid out at page 200.
    @discardableResult
    func update(_ requests: [(pointer: UInt64, value: UInt64)]) -> HypercallResult {
        let list = page(200)
        for (i, r) in requests.enumerated() {
            write64(list + UInt64(i) * 16, r.pointer)
            write64(list + UInt64(i) * 16 + 8, r.value)
        }
        return call(.mmuUpdate, list, UInt64(requests.count))
    }

    func frame(_ address: UInt64) -> Int { domain.frames.frame(of: address)! }

    /// A root at page 1 whose slot 1 leads (through page 2, then page 3) to a 4 KiB user page at
    /// page 10, writable: VA 0x4000_0000.
    func buildUserMapping(pin: Bool = true) -> HypercallResult {
        if pin {
            let r = call(.pinTable, page(1))
            if r.error != nil { return r }
        }
        return update([(page(1) + 8, PTEBits.table(page(2))),
                       (page(2), PTEBits.table(page(3))),
                       (page(3), PTEBits.leaf(page(10), PTEBits.r | PTEBits.w | PTEBits.u))])
    }
}

/// Sv39 PTE encodings for the tests (Privileged spec 4.4.1).
enum PTEBits {
    static let v: UInt64 = 1, r: UInt64 = 2, w: UInt64 = 4, x: UInt64 = 8, u: UInt64 = 16, g: UInt64 = 32
    static let ad: UInt64 = 0xC0
    static func table(_ pa: UInt64) -> UInt64 { (pa >> 12) << 10 | v }
    static func leaf(_ pa: UInt64, _ perm: UInt64) -> UInt64 { (pa >> 12) << 10 | perm | v | ad }
}

