// The shadow pager's rules, which `trap` and `bt` (the two modes that shadow the guest's page
// tables) take from the VM's configuration (`shadow={...}` in Lua).

/// How the shadow page tables of a `trap` or `bt` VM behave.
public struct ShadowPolicy: Sendable, Equatable {
    /// Traced writes to a guest page-table page, with no shadow fault using a shadow table that
    /// mirrors it in between, after which that shadow table is dropped and the page, once no
    /// shadow mirrors it, is no longer write-protected (0: never; default 3, KVM's). See
    /// ShadowPageTables+Unshadowing.swift.
    public var unshadowAfter: Int
    /// Guest address spaces (satp values: root and ASID) whose shadows are kept at once, the least
    /// recently used evicted; 1 rebuilds the shadow at every switch of address space.
    public var capacity: Int

    /// KVM's threshold.
    public static let defaultUnshadowAfter = 3
    /// The most `unshadowAfter` may be: more would never unshadow in any lab run, and 0 says "never".
    public static let maximumUnshadowAfter = 1 << 20
    public static let defaultCapacity = 16
    /// The most address spaces kept: each takes two roots of the shadow pool (1024 pages) and
    /// two hardware ASIDs, and a pool that runs dry evicts address spaces anyway.
    public static let maximumCapacity = 256

    public init(unshadowAfter: Int = ShadowPolicy.defaultUnshadowAfter, capacity: Int = ShadowPolicy.defaultCapacity) {
        self.unshadowAfter = unshadowAfter
        self.capacity = capacity
    }
}
