// Shadows for a guest that keeps its own privileges: the guest kernel of a `hw` VM with shadow
// paging runs in VS-mode and its programs in VU-mode (the H extension, with the G stage off), as
// first-generation VT-x ran a guest kernel in ring 0 of VMX non-root operation on the VMM's shadow
// page tables. No ring compression, so no views: a shadow leaf keeps the guest leaf's U bit, each
// address space has one tree, and the hardware applies U/S protection, vsstatus.SUM and MXR to it
// exactly as to the guest's own tables. The exception is the bare address space, where the guest
// has no U bits to keep and both its modes reach every page: it has a kernel tree (no U) and a
// user tree (all U), and the VMM loads the one for the privilege whose access faulted (VS-mode
// fetches nothing from the user tree, VU-mode nothing from the kernel's, so after an sret or a
// trap the guest's next access on the other tree faults into the VMM, which switches). What stays
// is the shadow's work: machine addresses for guest-physical ones, write protection of the guest's
// page-table pages (a store to them faults into the VMM, which performs it), and A/D bits kept in
// the guest's tables by the VMM (a leaf is writable only once the guest's D bit is set).

import Machine

extension ShadowPageTables {
    /// The shadow leaf flags for guest leaf `pte` mapping guest page `frame`, for a guest that
    /// keeps its privileges: R, W, X and U as the guest's (bare: everything, with U in the user
    /// tree only), W only once the guest's D bit is set and never over a page the shadows mirror
    /// or the dirty log has clean. A and D are set: the hardware never writes a shadow.
    func privilegedLeafFlags(guestLeaf pte: UInt64, frame: UInt64) -> UInt64 {
        let bare = current?.key.bare == true
        let r = bare || pte & Sv39.r != 0
        let x = bare || pte & Sv39.x != 0
        var w = bare || pte & Sv39.w != 0
        if !bare && pte & Sv39.d == 0 { w = false }
        if isWriteProtected(guestPhysical: frame) || writeLog.isClean(frame) { w = false }
        // A leaf that is only X stays only X: the hardware's MXR reads it, as the guest's would be.
        guard r || x else { return 0 }
        var flags = Sv39.v | Sv39.a | Sv39.d
        if bare ? view == .user : pte & Sv39.u != 0 { flags |= Sv39.u }
        if r { flags |= Sv39.r }
        if w && r { flags |= Sv39.w }
        if x { flags |= Sv39.x }
        return flags
    }

    /// The hart, privilege and vsstatus SUM and MXR of the access the VMM is about to resolve or
    /// emulate (a page fault, a traced store, a fetch of the trapped instruction): the guest's
    /// tables (that hart's satp) are walked with them. Only for a guest that keeps its privileges, whose shadows do
    /// not depend on them (the hardware applies them to the shadow), so nothing is rebuilt.
    /// A bare guest's hart is switched to the tree of that privilege here.
    public func setGuestAccess(privilege: PrivilegeMode, sum newSUM: Bool, mxr newMXR: Bool, hart h: Int) {
        precondition(keepsGuestPrivilege, "a deprivileged guest's views change through activate and setTranslationControls")
        hart = h
        let before = tree
        view = privilege == .user ? .user : .kernel
        sum = newSUM
        mxr = newMXR
        if tree != before { load() }
    }
}
