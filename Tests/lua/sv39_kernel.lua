-- A bare kernel for the tests that need a guest with page tables of its own: built for the
-- built-in SBI, which starts it in S-mode at 0x80200000. It builds three levels of Sv39 tables
-- (root[1] -> l1, l1[0] -> l0, l0[i] -> `page` with the flags `leaves[i + 1]`: va 0x40000000 and
-- on; root[2] a gigapage over the kernel with the flags `kernel`), turns translation on with ASID
-- `asid`, runs `body` and ends with an SBI system reset; `prologue` runs first and `after` (a trap
-- handler) follows the reset. With `sv48 = true` the same tables hang below entry 0 of a fourth
-- level (`root48`) and translation is Sv48: the same addresses, walked through four levels.
-- A module, not a test file (the runner collects only *_test.lua).
local vmlab = require "vmlab"

-- Returns the machine code and its symbols (`root`, `l1`, `l0`, `page` and the caller's labels).
return function(o)
  local entries = {}
  for i, flags in ipairs(o.leaves) do
    entries[#entries + 1] = ("ori t2, t0, 0x%x\n      sd t2, %d(t1)"):format(flags, 8 * (i - 1))
  end
  local root, mode, fourth = "root", 8, ""
  if o.sv48 then
    root, mode = "root48", 9
    fourth = [[
      la t1, root48            # root48[0] -> root
      la t0, root
      srli t0, t0, 2
      ori t0, t0, 1
      sd t0, 0(t1)
      ]]
  end
  return vmlab.asm(([[
      %s
      la t1, root              # root[1] -> l1 (va 0x40000000...)
      la t0, l1
      srli t0, t0, 2
      ori t0, t0, 1
      sd t0, 8(t1)
      la t1, l1                # l1[0] -> l0
      la t0, l0
      srli t0, t0, 2
      ori t0, t0, 1
      sd t0, 0(t1)
      la t1, l0                # l0[i] -> page
      la t0, page
      srli t0, t0, 2
      %s
      li t0, (0x80000 << 10) | 0x%x   # root[2]: the kernel, a gigapage
      la t1, root
      sd t0, 16(t1)
      %s
      la t0, %s
      srli t0, t0, 12
      li t1, (%d << 60) | (%d << 44)    # the mode (Sv39 or Sv48), the ASID
      or t0, t0, t1
      csrw satp, t0
      sfence.vma
      %s
      li a7, 0x53525354        # SBI system reset
      li a6, 0
      li a0, 0
      li a1, 0
      ecall
      %s
      .balign 4096
    root: .zero 4096
    l1: .zero 4096
    l0: .zero 4096
    page: .zero 4096
    %s
  ]]):format(o.prologue or "", table.concat(entries, "\n      "), o.kernel, fourth, root, mode, o.asid or 0, o.body,
             o.after or "", o.sv48 and "root48: .zero 4096" or ""),
    { base = 0x80200000 })
end
