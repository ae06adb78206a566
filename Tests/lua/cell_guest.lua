-- An M-mode guest the fault and snapshot tests share: it spins `n` times, then loads `cell` into a0
-- and powers off with exit code a0 & 0xff (the test finisher's FAIL code carries it), so a flipped
-- bit of `cell` shows as the exit code. A module, not a test file (the runner collects only
-- *_test.lua). Returns the machine code and its symbols (`check`, `cell`).
local vmlab = require "vmlab"

return function(n)
  return vmlab.asm(([[
    li s0, %d
  1:addi s0, s0, -1
    bnez s0, 1b
  check:
    la t0, cell
    ld a0, 0(t0)
    li t0, 0x100000
    beqz a0, pass
    li t2, 0x3333
    andi t1, a0, 0xff
    slli t1, t1, 16
    or t1, t1, t2
    sw t1, 0(t0)
  2:j 2b
  pass:
    li t1, 0x5555
    sw t1, 0(t0)
  3:j 3b
  .align 3
  cell: .dword 0
  ]]):format(n))
end
