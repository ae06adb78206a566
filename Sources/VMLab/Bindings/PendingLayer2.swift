// Placeholder for layer 2 (branch `vmm`, module Hypervisor) until its API surface is merged:
// the contract's `ExecutionMode`. Deleted by the merge of `vmm`.
public enum ExecutionMode: String, CaseIterable, Sendable {
    case native, interpret, trap, bt, pv, hw
    public static var available: [ExecutionMode] { [.native] }
}
