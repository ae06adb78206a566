-- Hostile kernels for the tests that run them under every mode (modes_agree_test.lua, host_test.lua):
-- an S-mode image at 0x80200000 of random instruction words behind a trap handler that steps over
-- whatever traps, so random CSR writes, bogus SBI calls, wild jumps and stores anywhere keep coming.
-- A module, not a test file (the runner collects only *_test.lua).
local vmlab = require "vmlab"
local P = require "random_program"

local M = {}

-- 4096 random words from `seed`, most with a plausible major opcode (SYSTEM, loads and stores,
-- AMOs, floating point, jumps; half of the SYSTEM ones a plain ecall: an SBI call with whatever is
-- in a7).
function M.random_words(seed)
  local opcodes = { 0x73, 0x03, 0x23, 0x2f, 0x07, 0x27, 0x53, 0x0f, 0x67, 0x6f, 0x63, 0x13, 0x33, 0x37, 0x17 }
  local r = P.random(seed)
  local words = {}
  for i = 1, 4096 do
    local w = r:next() & 0xffffffff
    if r:chance(60) then
      w = (w & ~0x7f) | r:pick(opcodes)
      if w & 0x7f == 0x73 and r:chance(50) then w = 0x73 end
    end
    words[i] = string.pack("<I4", w)
  end
  return table.concat(words)
end

-- The kernel of `seed`'s words. With `start_second_hart`, hart 0 first starts hart 1 at the same
-- entry (SBI HSM hart_start), and both run the words, each storing into the other's code.
function M.image(seed, start_second_hart)
  local start = start_second_hart and [[
      bnez a0, body          # a0: the hart's id
      li a7, 0x48534D        # HSM
      li a6, 0               # hart_start
      li a0, 1
      la a1, entry
      li a2, 0
      ecall
  ]] or ""
  local handler = vmlab.asm([[
    entry:
      la t0, handler
      csrw stvec, t0
  ]] .. start .. [[
      j body
    handler:
      csrr t0, sepc
      addi t0, t0, 4
      csrw sepc, t0
      sret
    .balign 8
    body:
  ]], { base = 0x80200000 })
  return handler .. M.random_words(seed)
end

return M
