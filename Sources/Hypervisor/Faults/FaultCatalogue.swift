// What `vmlab.faults()` lists: every injector with its parameters, and the rules that check a
// `FaultSpec` before it is scheduled (so a bad parameter is an error at `vm:inject`, never later).

/// One parameter of an injector.
public struct FaultParameterDescription: Sendable, Equatable {
    public var name: String
    /// "integer" or "string" (or "integer|string" where either is accepted).
    public var type: String
    public var meaning: String
    public var required: Bool
}

/// One injector.
public struct FaultDescription: Sendable, Equatable {
    public var kind: FaultKind
    public var name: String { kind.rawValue }
    public var summary: String
    public var parameters: [FaultParameterDescription]
}

extension FaultInjector {
    private static func p(_ name: String, _ type: String, _ meaning: String, required: Bool = false) -> FaultParameterDescription {
        FaultParameterDescription(name: name, type: type, meaning: meaning, required: required)
    }

    static let sourceMeaning = "the interrupt: \"timer\" (the vCPU's supervisor timer, STIP), \"uart\", \"rtc\", "
        + "\"disk<n>\" (virtio-blk n), \"virtio<slot>\", or a PLIC source number"

    /// Every injector, in `FaultKind` order.
    public static let catalogue: [FaultDescription] = [
        FaultDescription(kind: .memoryBitflip, summary: "flip one bit of one byte of guest memory", parameters: [
            p("address", "integer", "the byte's address", required: true),
            p("bit", "integer", "bit 0-7 of the byte", required: true),
            p("space", "string", "\"guest-physical\" (default) or \"guest-virtual\" (through vCPU `vcpu`'s page tables)"),
            p("vcpu", "integer", "the vCPU whose page tables translate a guest-virtual address (default 0)"),
        ]),
        FaultDescription(kind: .registerBitflip, summary: "flip one bit of an integer register or the pc of a vCPU", parameters: [
            p("register", "integer|string", "x1-x31 (a number, \"x5\" or an ABI name such as \"a0\") or \"pc\"", required: true),
            p("bit", "integer", "bit 0-63", required: true),
            p("vcpu", "integer", "the vCPU (default 0)"),
        ]),
        FaultDescription(kind: .pteBitflip, summary: "flip one bit of a page-table entry the guest's tables use for an address", parameters: [
            p("address", "integer", "the guest-virtual address whose walk finds the entry", required: true),
            p("bit", "integer", "bit 0-63 of the entry (0 V, 1 R, 2 W, 3 X, 4 U, 5 G, 6 A, 7 D, 10+ the PPN)", required: true),
            p("level", "integer", "the table level of the entry (default: the last entry the walk reads, the leaf)"),
            p("vcpu", "integer", "the vCPU whose satp roots the walk (default 0)"),
        ]),
        FaultDescription(kind: .interruptDrop, summary: "the next assertions of an interrupt are never delivered", parameters: [
            p("source", "integer|string", sourceMeaning, required: true),
            p("count", "integer", "how many assertions to drop (default 1)"),
            p("vcpu", "integer", "the vCPU, for \"timer\" (default 0)"),
        ]),
        FaultDescription(kind: .interruptDelay, summary: "the next assertions of an interrupt reach the guest late", parameters: [
            p("source", "integer|string", sourceMeaning, required: true),
            p("cycles", "integer", "the delay in modelled cycles", required: true),
            p("count", "integer", "how many assertions to delay (default 1)"),
            p("vcpu", "integer", "the vCPU, for \"timer\" (default 0)"),
        ]),
        FaultDescription(kind: .interruptSpurious, summary: "raise an interrupt once with no cause behind it", parameters: [
            p("source", "integer|string", sourceMeaning + ", or \"software\" (SSIP)", required: true),
            p("vcpu", "integer", "the vCPU, for \"timer\" and \"software\" (default 0)"),
        ]),
        FaultDescription(kind: .deviceFailure, summary: "a device fails its next requests: virtio-blk completes them with IOERR, virtio-net drops received frames", parameters: [
            p("device", "string", "\"disk<n>\" (default \"disk0\") or \"net<n>\": n counts from 0 in the order the VM was given its `disks` or `nics`", required: false),
            p("count", "integer", "how many requests (frames) fail (default 1)"),
        ]),
        FaultDescription(kind: .linkDown, summary: "a network card loses its link, as a cable pulled out: the driver is told (a configuration-change interrupt; status without LINK_UP), and every frame it sends or is sent is lost until the link comes back", parameters: [
            p("device", "string", "\"net<n>\" (default \"net0\"): n counts from 0 in the order the VM was given its `nics`", required: false),
            p("cycles", "integer", "modelled cycles until the link comes back up (default: it stays down)"),
        ]),
        FaultDescription(kind: .linkUp, summary: "a network card's link comes back, as a cable plugged in again: the driver is told (a configuration-change interrupt; status with LINK_UP), and a return `link_down` had planned is cancelled", parameters: [
            p("device", "string", "\"net<n>\" (default \"net0\"): n counts from 0 in the order the VM was given its `nics`", required: false),
        ]),
    ]

    /// The description of `kind`.
    public static func description(of kind: FaultKind) -> FaultDescription {
        catalogue.first { $0.kind == kind }!
    }

    /// Checks names and types of `spec`'s parameters against the catalogue.
    static func validateShape(_ spec: FaultSpec) throws(FaultError) {
        let d = description(of: spec.kind)
        for name in spec.parameters.keys.sorted() where !d.parameters.contains(where: { $0.name == name }) {
            throw FaultError("unknown parameter '\(name)' for fault '\(spec.kind.rawValue)' (expected \(d.parameters.map(\.name).joined(separator: ", ")))")
        }
        for param in d.parameters {
            guard let value = spec.parameters[param.name] else {
                if param.required { throw FaultError("fault '\(spec.kind.rawValue)' needs '\(param.name)' (\(param.meaning))") }
                continue
            }
            switch (param.type, value) {
            case ("integer", .string(let s)): throw FaultError("bad '\(param.name)' for fault '\(spec.kind.rawValue)': integer expected, got string '\(s)'")
            case ("string", .integer): throw FaultError("bad '\(param.name)' for fault '\(spec.kind.rawValue)': string expected, got integer")
            default: break
            }
        }
        if case .event(_, let count) = spec.trigger, count < 1 {
            throw FaultError("bad trigger count \(count) (expected at least 1)")
        }
    }
}
