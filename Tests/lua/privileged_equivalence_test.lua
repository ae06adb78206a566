-- Equivalence, Popek and Goldberg's first property, tested on random kernels: a program runs
-- under a VMM as it would on the machine. Each program, made from a seed, is an S-mode kernel
-- that uses what a VMM must get right, in random order: reads and writes of the supervisor CSRs
-- (sstatus, sie, sip, satp with the modes that leave paging off, ...), of CSRs S-mode may not touch
-- (M-mode and hypervisor CSRs, numbers nobody implements), mret, sret back to itself (so to U-mode
-- when SPP says so, until the next trap), sfence.vma, ebreak, illegal words, floating-point moves that trap while
-- sstatus.FS is Off, loads and stores to RAM and to addresses where nothing answers, SBI calls, and
-- software interrupts it raises itself through sip. Its trap handler logs every trap (scause,
-- sepc, stval, sstatus) and goes on in S-mode after the instruction that trapped.
--
-- The machine's answer is the program run natively over the built-in SBI; under the interpreter
-- and under the VMMs trap, bt and hw (each its own SBI) the program must end in the same state:
-- every register, the supervisor CSRs, the privilege, the trap log, the test pages and their
-- page-table entries (A and D bits), the instructions retired, and no stale shadow entry.
-- (pv runs only kernels written for it.) VMLAB_EQUIVALENCE_SEEDS (a seed list, as in
-- seed_list.lua) runs other seeds than CI's 1-40.
local vmlab = require "vmlab"
local seed_list = require "seed_list"

local seeds = seed_list.from("VMLAB_EQUIVALENCE_SEEDS") or seed_list.parse("1-40", "the CI seeds")

-- The techniques, with the variants whose paging differs: shadow page tables in a pool of two
-- (every switch evicts), hw's G stage with 2 MiB leaves,
-- and hw with shadow paging instead of nested.
local TECHNIQUES = {
  { label = "interpret", mode = "interpret" },
  { label = "trap", mode = "trap" },
  { label = "trap, two shadows", mode = "trap", shadow = { capacity = 2 } },
  { label = "bt", mode = "bt" },
  { label = "hw", mode = "hw" },
  { label = "hw, 2 MiB G-stage pages", mode = "hw", hw = { gstage_page_size = 2097152 } },
  { label = "hw, shadow paging", mode = "hw", hw = { paging = "shadow" } },
}
local LOG_ENTRIES = 48

-- Registers the random instructions use; t5, t6 and s11 are the handler's.
local REGS = { "ra", "t0", "t1", "t2", "t3", "t4", "a0", "a1", "a2", "a3", "a4", "a5", "s2", "s3", "s4" }
local SUPERVISOR = { "sstatus", "sie", "sip", "sscratch", "sepc", "scause", "stval", "scounteren", "senvcfg" }
local FORBIDDEN = { "mstatus", "mie", "mtvec", "mscratch", "medeleg", "hstatus", "hgatp", "vsstatus", "vsatp",
  "0x5c0", "0x123", "0x7ff" }

local TEST_VA, TEST_PAGES = 0x40000000, 4

-- The program of `seed`. With `paging` (39 or 48), it starts with Sv39 or Sv48 on (RAM mapped one
-- to one by a 1 GiB page, and TEST_PAGES pages at TEST_VA whose entries it rewrites at random,
-- then fences; under Sv48 the same tables hang below entry 0 of `root48`) and goes on with loads
-- and stores there, sstatus.SUM and MXR, and satp switching paging off and on: page faults,
-- permissions, A and D bits, which a VMM's shadow or nested paging must get right.
local function program(seed, paging)
  local root, mode = paging == 48 and "root48" or "root", paging == 48 and 9 or 8
  math.randomseed(seed)
  local R = math.random
  local function reg() return REGS[R(#REGS)] end
  local function value()
    local c = R(6)
    if c == 1 then return 0 elseif c == 2 then return -1
    elseif c == 3 then return 1 << R(0, 63)
    elseif c == 4 then return R(0, 0x3ff)
    else return R(math.mininteger, math.maxinteger) end
  end
  local lines = {}
  local function emit(fmt, ...) lines[#lines + 1] = "  " .. fmt:format(...) end
  local label = 0
  for _ = 1, 60 do
    local c = R(paging and 26 or 20)
    if c == 21 or c == 22 then
      -- A leaf entry of a test page, any flags (V R W X U G A D), then the fence that makes it seen.
      local page = R(0, TEST_PAGES - 1)
      emit("la t4, test_pages")
      emit("li t6, %d", page * 4096)
      emit("add t4, t4, t6")
      emit("srli t4, t4, 12")
      emit("slli t4, t4, 10")
      emit("ori t4, t4, %d", R(0, 255))
      emit("la t6, l0_test")
      emit("sd t4, %d(t6)", page * 8)
      emit(R(2) == 1 and "sfence.vma" or "sfence.vma x0, x0")
    elseif c == 23 or c == 24 then
      local size = ({ "b", "h", "w", "d" })[R(4)]
      local bytes = ({ b = 1, h = 2, w = 4, d = 8 })[size]
      emit("li t4, %d", TEST_VA + R(0, TEST_PAGES - 1) * 4096 + R(0, 4096 // bytes - 1) * bytes)
      if R(2) == 1 then emit("s%s %s, 0(t4)", size, reg()) else emit("l%s %s, 0(t4)", size, reg()) end
    elseif c == 25 then
      emit("li t4, %d", ({ 1 << 18, 1 << 19, 3 << 18 })[R(3)])
      emit(R(2) == 1 and "csrs sstatus, t4" or "csrc sstatus, t4")
    elseif c == 26 then
      emit("la t4, %s", root)
      emit("srli t4, t4, 12")
      emit("li t6, %d", (mode << 60) | (R(0, 0xffff) << 44))
      emit("or t4, t4, t6")
      emit("csrw satp, t4")
      emit("sfence.vma")
    elseif c <= 3 then
      emit("li %s, %d", reg(), value())
    elseif c <= 8 then
      local csr = SUPERVISOR[R(#SUPERVISOR)]
      local op = ({ "csrrw", "csrrs", "csrrc" })[R(3)]
      if R(3) == 1 then emit("%si %s, %s, %d", op, reg(), csr, R(0, 31)) else emit("%s %s, %s, %s", op, reg(), csr, reg()) end
    elseif c == 9 then
      -- satp: Bare or a mode no RV64 machine has (the write is ignored), never paging on.
      local mode = ({ 0, 0, 1, 7, 15 })[R(5)]
      emit("li t4, %d", (value() & ~(0xF << 60)) | (mode << 60))
      emit("csrrw %s, satp, t4", reg())
    elseif c == 10 then
      local csr = FORBIDDEN[R(#FORBIDDEN)]
      if R(2) == 1 then emit("csrr %s, %s", reg(), csr) else emit("csrw %s, %s", csr, reg()) end
    elseif c == 11 then
      emit(({ "mret", "ebreak", ".word 0", ".word 0xffffffff", "sfence.vma", "sfence.vma %s, %s", "csrr %s, stvec" })[R(7)], reg(), reg())
    elseif c == 12 then
      label = label + 1
      emit("la t6, 9%03df", label % 1000)
      emit("csrw sepc, t6")
      emit("sret")
      lines[#lines + 1] = ("9%03d:"):format(label % 1000)
      -- In U-mode with paging on, this fetch faults (RAM's page is not a user page), and the
      -- handler goes on after it: a nop, so that no two-instruction sequence loses its first half.
      emit("nop")
    elseif c == 13 then
      emit("fmv.d.x ft1, %s", reg())
      emit("fmv.x.d %s, ft1", reg())
    elseif c == 14 then
      local size = ({ "b", "h", "w", "d" })[R(4)]
      emit("la t4, data")
      if R(2) == 1 then emit("s%s %s, %d(t4)", size, reg(), R(0, 60)) else emit("l%s %s, %d(t4)", size, reg(), R(0, 60)) end
    elseif c == 15 then
      -- Nothing answers there (below the boot ROM, between devices, past RAM).
      local at = ({ 0, 0x4000, 0x2000000 - 8, 0x90000000 + 0x1000000 })[R(4)]
      emit("li t4, %d", at)
      if R(2) == 1 then emit("sd %s, 0(t4)", reg()) else emit("ld %s, 0(t4)", reg()) end
    elseif c == 16 then
      -- SBI: the base extension's spec version and probes, and an extension nobody has.
      local call = ({ { 0x10, 0 }, { 0x10, 3 }, { 0x12345, 0 } })[R(3)]
      emit("li a7, %d", call[1])
      emit("li a6, %d", call[2])
      emit("li a0, %d", ({ 0x10, 0x54494D45, 0x735049, 0x4442434E, 0x999 })[R(5)])
      emit("ecall")
    elseif c == 17 then
      -- A supervisor software interrupt, taken where sstatus.SIE and sie.SSIE allow it.
      emit("csrsi sip, 2")
    elseif c == 18 then
      emit("csrsi sstatus, 2")
    else
      emit("add %s, %s, %s", reg(), reg(), reg())
    end
  end
  return ([[
  .option norvc
  la t0, handler
  csrw stvec, t0
  la s11, log
  li t0, 0x2222
  csrs sie, t0
%s
%s
done:
  j done

handler:
  la t6, log_end
  bgeu s11, t6, done
  csrr t6, scause
  sd t6, 0(s11)
  csrr t6, sepc
  sd t6, 8(s11)
  csrr t6, stval
  sd t6, 16(s11)
  csrr t6, sstatus
  sd t6, 24(s11)
  addi s11, s11, 32
  li t6, 0x100
  csrs sstatus, t6
  csrr t6, scause
  bltz t6, interrupt
  csrr t6, sepc
  addi t6, t6, 4
  csrw sepc, t6
  sret
interrupt:
  csrci sip, 2
  sret

  .align 3
data:
  .zero 72
log:
  .zero %d
log_end:
  .align 12
root:
  .zero 4096
l1_test:
  .zero 4096
l0_test:
  .zero 4096
test_pages:
  .zero %d
root48:
  .zero 4096
]]):format(paging and ([[
  la t0, l0_test
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, 1
  la t1, l1_test
  sd t0, 0(t1)
  la t0, l1_test
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, 1
  la t1, root
  sd t0, 8(t1)
  li t0, 0x200000cf
  sd t0, 16(t1)
  la t0, root
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, 1
  la t1, root48
  sd t0, 0(t1)
  la t0, %s
  srli t0, t0, 12
  li t1, %d << 60
  or t0, t0, t1
  csrw satp, t0
  sfence.vma]]):format(root, mode) or "", table.concat(lines, "\n"), LOG_ENTRIES * 32, TEST_PAGES * 4096)
end

local STATE = { "pc", "priv", "csr.sstatus", "csr.sie", "csr.sip", "csr.sscratch", "csr.sepc", "csr.scause",
  "csr.stval", "csr.satp", "csr.stvec", "csr.scounteren", "csr.senvcfg", "f1" }

-- Runs the program under `technique`; its end state as lines of text.
local function run(technique, code, symbols)
  local vm <close> = assert(vmlab.vm { mode = technique.mode, shadow = technique.shadow, hw = technique.hw,
                                       image = code, symbols = symbols, firmware = "builtin" })
  local stop = vm:run { to = "done", max_instructions = 20000 }
  -- Shadow page tables must not grant more than the guest's tables (none for native: 0 too).
  local stale = vm:check_shadows() or {}
  local out = { "stop " .. tostring(stop), "instructions " .. vm:stats("instructions"), "stale shadow entries " .. #stale }
  for i = 1, 31 do out[#out + 1] = ("x%d %x"):format(i, vm:read("x" .. i)) end
  for _, name in ipairs(STATE) do
    local value = vm:read(name)
    out[#out + 1] = name .. " " .. (type(value) == "string" and value or ("%x"):format(value))
  end
  local log = vm:read_memory(symbols.log, LOG_ENTRIES * 32)
  for i = 0, LOG_ENTRIES - 1 do
    local cause, epc, tval, status = string.unpack("<i8i8i8i8", log, i * 32 + 1)
    if cause == 0 and epc == 0 then break end
    out[#out + 1] = ("trap %d: scause %x sepc %x stval %x sstatus %x"):format(i, cause, epc, tval, status)
  end
  local entries = vm:read_memory(symbols.l0_test, TEST_PAGES * 8)
  for i = 0, TEST_PAGES - 1 do
    out[#out + 1] = ("pte %d: %x"):format(i, string.unpack("<i8", entries, i * 8 + 1))
    local bytes, words = vm:read_memory(symbols.test_pages + i * 4096, 4096), {}
    for at = 0, 4088, 8 do
      local word = string.unpack("<i8", bytes, at + 1)
      if word ~= 0 then words[#words + 1] = ("%x=%x"):format(at, word) end
    end
    out[#out + 1] = ("page %d: %s"):format(i, table.concat(words, " "))
  end
  return out
end

-- The first line where two end states differ, with both values.
local function difference(a, b)
  for i = 1, math.max(#a, #b) do
    if a[i] ~= b[i] then return ("%s  vs  %s"):format(a[i] or "(nothing)", b[i] or "(nothing)") end
  end
end

describe("a kernel runs under every technique as on the machine", function()
  for _, seed in ipairs(seeds) do
    -- Even seeds page: Sv39 for multiples of four, Sv48 for the others.
    local paging = seed % 2 == 0 and (seed % 4 == 0 and 39 or 48) or nil
    it(("random privileged program, seed %d%s"):format(seed, paging and (", Sv" .. paging) or ""), function()
      local code, symbols = vmlab.asm(program(seed, paging), { base = 0x80200000 })
      local machine = run({ mode = "native" }, code, symbols)
      expect(machine[1]).to_equal("stop reached")
      local differences = {}
      for _, technique in ipairs(TECHNIQUES) do
        local d = difference(machine, run(technique, code, symbols))
        if d then differences[#differences + 1] = technique.label .. ": " .. d end
      end
      expect(differences).to_equal({})
    end)
  end
end)
