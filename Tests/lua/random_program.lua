-- Random RV64GC programs for the differential test against QEMU (random_programs_test.lua): the
-- generator, the two ways to run a program (vmlab in-process, QEMU as a process) and the
-- comparison of what they print.
--
-- A program is made from a seed by a generator of its own (splitmix64 on Lua integers, never
-- math.random), so a seed gives the same bytes on every machine and every run. It runs bare-metal
-- in M-mode from 0x80000000, as QEMU's `-M virt -bios none -kernel FILE` runs a raw image, or as
-- an S-mode kernel from 0x80200000 under a firmware (QEMU's OpenSBI, vmlab's built-in SBI, or a
-- VMM's), and ends by printing its final state through the 16550 UART at 0x10000000 — x1..x31,
-- f0..f31 (raw bits), fcsr, the data area, a signature of every result, the trap log — one 64-bit
-- value per line in hex, then powers off through the sifive_test finisher at 0x100000. Both
-- boards print the same text when both implement the instructions alike.
--
-- Only what the specification defines is generated. Left out, each where it would be chosen:
--   * counters and time (cycle, time, instret, mip): they depend on how the host ran the guest;
--   * CSRs other than fflags, frm, fcsr and the scratch CSR; the status register is written (FS)
--     but never read (it has implementation-defined bits, and FS may stay Dirty);
--   * in an S-mode program, traps: which reach the kernel, and how, is the firmware's delegation
--     (and, under a VMM, the VMM's), not the ISA's;
--   * reserved rounding modes, static (5, 6) or dynamic (frm 5..7): "reserved" since F 2.2, not
--     required to trap, so frm is tracked while generating and every write leaves it valid;
--   * reserved and HINT encodings, custom opcodes, instructions longer than 32 bits;
--   * mtval on illegal instructions, EBREAK and ECALL (0 or the bits or the pc: the
--     implementation's choice), so the trap log keeps mtval only for address exceptions (where
--     the specification still lets it be 0, but vmlab, QEMU and every Linux-capable hart write
--     the address, as labs/guests/isa/README.md says);
--   * misaligned atomics (QEMU 7.2 reports a load-misaligned fault for a misaligned AMO and fails a
--     misaligned SC without a trap: labs/guests/isa/README.md, "QEMU 7.2 deviations"), so LR/SC
--     and AMOs are naturally aligned; AMOs and LR/SC to unmapped memory (QEMU 7.2: load access
--     fault for an AMO);
--   * CSRRS/CSRRC with a zero-valued rs1 on a read-only CSR (QEMU 7.2 decides by the value, the
--     specification by the register number), so a write to a read-only CSR always writes 1 bits;
--   * an SC that is not the same address and width as the LR just before it, or with anything but
--     register arithmetic between them: the reservation set's size and what breaks a reservation
--     beyond that are the implementation's (an SC with no reservation at all must fail, and is
--     generated).
-- NaN results are the canonical NaN on both: the specification requires it (F 2.2, "NaN
-- Generation and Propagation"), as it requires NaN-boxing (D, "NaN Boxing of Narrower Values").
-- Misaligned loads and stores are performed by both (vmlab's default `misaligned = "hardware"`,
-- QEMU's), though the specification lets an execution environment trap them instead.
local vmlab = require "vmlab"

local P = {}

-- The memory map of a program, from its base: 0x80000000 for an M-mode program (QEMU `-bios
-- none`), 0x80200000 for an S-mode one, the kernel above the firmware (QEMU's OpenSBI, vmlab's
-- built-in SBI). The data area straddles a page boundary, so that misaligned accesses cross it;
-- code never reaches it (`build` checks), and it is the only memory the random instructions read
-- or write.
local OFFSETS = {
  data = 0x10F00,
  save = 0x11400,          -- the epilogue's copy of x1..x31, f0..f31, fcsr (64 dwords)
  hsave = 0x11600,         -- the trap handler's own scratch (xscratch points here)
  sig = 0x12000,           -- the signature: results recorded as the program runs (gp = sig + 2048)
  log = 0x13000,           -- the trap log: the count, then cause, epc, tval per trap
  image_end = 0x15000,
}
P.DATA_SIZE = 512
P.SIG_SLOTS = 512
P.LOG_MAX = 256            -- a program that traps more often stops there and dumps

-- The trap CSRs and return of each privilege.
local PRIVILEGES = {
  M = { base = 0x80000000, tvec = "mtvec", scratch = "mscratch", cause = "mcause", epc = "mepc",
        tval = "mtval", status = "mstatus", ret = "mret" },
  S = { base = 0x80200000, tvec = "stvec", scratch = "sscratch", cause = "scause", epc = "sepc",
        tval = "stval", status = "sstatus", ret = "sret" },
}

-- The addresses and CSR names of a program run in `privilege` ("M" or "S").
function P.layout(privilege)
  local at = { privilege = privilege }
  for k, v in pairs(assert(PRIVILEGES[privilege], "privilege M or S")) do at[k] = v end
  for k, off in pairs(OFFSETS) do at[k] = at.base + off end
  return at
end

P.UNMAPPED = 0x2000000000  -- nothing there on either board (QEMU: above its high PCIe window): access faults
P.UART = 0x10000000
P.FINISHER = 0x100000

-- The dump, line by line: what each printed value is.
P.FIELDS = {}
do
  local abi = { [0] = "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1" }
  for i = 10, 17 do abi[i] = "a" .. (i - 10) end
  for i = 18, 27 do abi[i] = "s" .. (i - 16) end
  for i = 28, 31 do abi[i] = "t" .. (i - 25) end
  P.XNAMES = abi
  for i = 1, 31 do P.FIELDS[#P.FIELDS + 1] = ("x%d (%s)"):format(i, abi[i]) end
  for i = 0, 31 do P.FIELDS[#P.FIELDS + 1] = ("f%d"):format(i) end
  P.FIELDS[#P.FIELDS + 1] = "fcsr"
  for i = 0, P.DATA_SIZE // 8 - 1 do P.FIELDS[#P.FIELDS + 1] = ("data+0x%03x"):format(i * 8) end
  for i = 0, P.SIG_SLOTS - 1 do P.FIELDS[#P.FIELDS + 1] = ("signature %d"):format(i) end
  P.FIELDS[#P.FIELDS + 1] = "traps"
end

-- The name of the Nth line of a dump (traps are numbered from 1, three lines each).
function P.field_name(n)
  if n <= #P.FIELDS then return P.FIELDS[n] end
  local k = n - #P.FIELDS - 1
  return ("trap %d %s"):format(k // 3 + 1, ({ "cause", "epc", "tval" })[k % 3 + 1])
end

---------------------------------------------------------------------------------------------------
-- The generator's random numbers: splitmix64 (Steele, Lea, Flood 2014), whose output depends on
-- nothing but the seed. Lua integers wrap at 64 bits and `>>` is logical, as the algorithm needs.

local Random = {}
Random.__index = Random

function P.random(seed) return setmetatable({ state = seed }, Random) end

function Random:next()
  self.state = self.state + 0x9e3779b97f4a7c15
  local z = self.state
  z = (z ~ (z >> 30)) * 0xbf58476d1ce4e5b9
  z = (z ~ (z >> 27)) * 0x94d049bb133111eb
  return z ~ (z >> 31)
end

function Random:below(n) return (self:next() >> 1) % n end
function Random:range(lo, hi) return lo + self:below(hi - lo + 1) end
function Random:pick(list) return list[self:below(#list) + 1] end
function Random:chance(percent) return self:below(100) < percent end

-- One of `choices`, a list of { weight, value }.
function Random:weighted(choices)
  local total = 0
  for _, c in ipairs(choices) do total = total + c[1] end
  local r = self:below(total)
  for _, c in ipairs(choices) do
    if r < c[1] then return c[2] end
    r = r - c[1]
  end
end

---------------------------------------------------------------------------------------------------
-- Operand values.

local INT_EDGES = {
  0, 1, -1, 2, -2, 3, 5, 7, math.mininteger, math.maxinteger, math.mininteger + 1,
  0x7fffffff, -0x80000000, -0x7fffffff, 0xffffffff, 0x80000000, 0x80000001, 0x100000000,
  0xfffffffe, 0x7fffffff00000000, 0x00000000ffff0000, 0xffff, 0x8000, 0x7fff, 0xff, 0x80,
  31, 32, 33, 63, 64, 65, -31, -32, -33, -63, -64, 0x0123456789abcdef, -0x0123456789abcdf0,
}

local function int_value(r)
  local kind = r:below(100)
  if kind < 35 then return r:pick(INT_EDGES)
  elseif kind < 55 then return r:range(-64, 64)
  elseif kind < 75 then return r:next()
  elseif kind < 85 then return (r:next() << 32) >> 32 ~ (r:chance(50) and 0 or -0x100000000) -- a 32-bit value, either extension
  else                                                          -- a power of two, ± 1
    local v = 1 << r:below(64)
    return v + r:range(-1, 1)
  end
end

-- Floating-point bit patterns by class: a sign, an exponent from the interesting ones, a
-- significand from the interesting ones. This reaches ±0, ±inf, quiet and signalling NaNs,
-- subnormals, the numbers around 1 and every power of two boundary, and the integer conversion
-- limits (2^31, 2^32, 2^63, 2^64 for double; with an all-ones significand, the largest number
-- below each).
local D_EXPONENTS = { 0, 0, 1, 0x3fe, 0x3ff, 0x3ff, 0x400, 0x41d, 0x41e, 0x41f, 0x43d, 0x43e, 0x43f,
                      0x7fe, 0x7ff, 0x3fd, 0x3c9, 0x434 }
local S_EXPONENTS = { 0, 0, 1, 0x7e, 0x7f, 0x7f, 0x80, 0x9d, 0x9e, 0x9f, 0xbd, 0xbe, 0xbf,
                      0xfe, 0xff, 0x7d, 0x68, 0x96 }

local function significand(r, bits)
  local all = (1 << bits) - 1
  local kind = r:below(9)
  if kind == 0 then return 0
  elseif kind == 1 then return 1
  elseif kind == 2 then return all
  elseif kind == 3 then return 1 << (bits - 1)                        -- the quiet bit, for NaNs
  elseif kind == 4 then return (1 << (bits - 1)) | r:below(8)         -- quiet NaN with a payload
  elseif kind == 5 then return r:range(1, 7)                          -- signalling NaN, small subnormal
  elseif kind == 6 then return (r:next() & all) & ~((1 << r:below(bits)) - 1) -- few low bits set: exact
  else return r:next() & all end
end

-- The integer conversion limits: ±2^31, ±2^32, ±2^63, ±2^64 and their neighbours (the next
-- float either side, and for double ±0.5 and ±1 where those are representable).
-- LIMITS.d[32] are the doubles around ±2^31 and ±2^32, the limits of FCVT.W and FCVT.WU;
-- LIMITS.s[64] the singles around ±2^63 and ±2^64; LIMITS.d.all all of them.
local LIMITS = { d = { all = {} }, s = { all = {} } }
for _, width in ipairs { 32, 64 } do
  LIMITS.d[width], LIMITS.s[width] = {}, {}
  for _, k in ipairs { width - 1, width } do
    for _, sign in ipairs { 1, -1 } do
      local v = sign * 2.0 ^ k
      local d = string.unpack("<i8", string.pack("<d", v))
      local f = string.unpack("<I4", string.pack("<f", v))
      for delta = -1, 1 do
        table.insert(LIMITS.d[width], d + delta)
        table.insert(LIMITS.s[width], f + delta)
      end
      if k <= 32 then
        for _, off in ipairs { -1.0, -0.5, 0.5, 1.0 } do
          table.insert(LIMITS.d[width], (string.unpack("<i8", string.pack("<d", v + off))))
        end
      end
    end
  end
  for _, p in ipairs { "d", "s" } do table.move(LIMITS[p][width], 1, #LIMITS[p][width], #LIMITS[p].all + 1, LIMITS[p].all) end
end

-- The class boundaries, each with either sign: zero, the smallest and largest subnormal, the
-- smallest normal, one, the largest finite number, infinity, a quiet and a signalling NaN.
local SPECIALS = { d = {}, s = {} }
for _, sign in ipairs { 0, 1 } do
  for _, m in ipairs { 0, 1, 0xfffffffffffff, 0x10000000000000, 0x3ff0000000000000, 0x7fefffffffffffff,
                       0x7ff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001 } do
    table.insert(SPECIALS.d, m | (sign << 63))
  end
  for _, m in ipairs { 0, 1, 0x7fffff, 0x800000, 0x3f800000, 0x7f7fffff, 0x7f800000, 0x7fc00000, 0x7f800001 } do
    table.insert(SPECIALS.s, m | (sign << 31))
  end
end

-- The bits of a random value of one format: a special, a limit, a small integer or half
-- (conversions and rounding ties), or any sign, exponent and significand.
local FORMATS = {
  d = { specials = SPECIALS.d, limits = LIMITS.d, pack = "<d", unpack = "<i8", sign = math.mininteger,
        exponents = D_EXPONENTS, exponent_values = 0x800, significand_bits = 52 },
  s = { specials = SPECIALS.s, limits = LIMITS.s, pack = "<f", unpack = "<I4", sign = 0x80000000,
        exponents = S_EXPONENTS, exponent_values = 0x100, significand_bits = 23 },
}

local function float_bits(r, f)
  if r:chance(12) then return r:pick(f.specials) end
  if r:chance(5) then return r:pick(f.limits.all) end
  if r:chance(15) then
    local v = r:range(-40, 40) / 2
    return string.unpack(f.unpack, string.pack(f.pack, v))
  end
  local sign = r:chance(50) and f.sign or 0
  local e = r:chance(80) and r:pick(f.exponents) or r:below(f.exponent_values)
  return sign | (e << f.significand_bits) | significand(r, f.significand_bits)
end

local function double_bits(r) return float_bits(r, FORMATS.d) end
local function single_bits(r) return float_bits(r, FORMATS.s) end

-- A value for an f register: a double, a NaN-boxed single, or (rarely) a single whose box is
-- broken, which every single-precision operation must read as the canonical NaN.
local function freg_bits(r)
  local kind = r:below(100)
  if kind < 45 then return double_bits(r)
  elseif kind < 96 then return single_bits(r) | -0x100000000
  end
  local upper = r:chance(50) and 0 or (r:next() << 32)
  if upper == -0x100000000 then upper = 0 end
  return single_bits(r) | upper
end

---------------------------------------------------------------------------------------------------
-- The generator. A program is a prologue, a list of items (an item is one or a few instructions
-- that belong together: a load with the `li` of its address, a branch with the block it skips, a
-- loop with its body) and the epilogue. The first k items of a seed's program are the same
-- whatever its length, which is what `bisect` relies on.

local G = {}
G.__index = G

local RM = { "rne", "rtz", "rdn", "rup", "rmm", "dyn" }
local CREGS = { 8, 9, 10, 11, 12, 13, 14, 15 }   -- the registers compressed forms can name

function G:x(n) return P.XNAMES[n] end

-- A destination register: any but x0 (rarely x0, whose writes are discarded) and the reserved
-- ones (a loop's counter, an address an LR/SC pair still needs).
function G:xdest(allow_zero)
  if allow_zero ~= false and self.r:chance(3) then return 0 end
  while true do
    local n = self.r:range(1, 31)
    if not self.reserved[n] then return n end
  end
end

function G:xsrc() return self.r:below(32) end

function G:cdest()
  while true do
    local n = self.r:pick(CREGS)
    if not self.reserved[n] then return n end
  end
end

function G:label()
  self.labels = self.labels + 1
  return "L" .. self.labels
end

function G:rm() return self.r:pick(RM) end

-- The signature: after an instruction writes a register, the value is stored in a slot of its
-- own (gp, reserved, points into the signature area), so that every result is compared, not only
-- the registers' final values (a NaN or a zero soon hides what came before). A site in a loop
-- keeps its last iteration's value; slots wrap around when a program has more sites.
function G:record(out, reg)
  if self.quiet then return end
  local off = (self.slots % P.SIG_SLOTS) * 8 - 2048
  self.slots = self.slots + 1
  if type(reg) == "string" then
    out[#out + 1] = ("fsd %s, %d(gp)"):format(reg, off)
  elseif reg ~= 0 then
    out[#out + 1] = ("sd %s, %d(gp)"):format(self:x(reg), off)
  end
end

-- An instruction that writes integer register rd (recorded), or f register fd ("fN").
function G:wx(out, line, rd)
  out[#out + 1] = line
  self:record(out, rd)
end

-- Operands are often set just before use, so that an operation meets the interesting values
-- rather than what earlier results left (NaNs and zeros spread).
function G:fresh_f(out, freg, precision, limits)
  if self.quiet or self.compact or not self.r:chance(limits and 75 or 40) then return end
  local t = self:xdest(false)
  local bits
  if limits and self.r:chance(70) then bits = self.r:pick(limits) | (precision == "s" and -0x100000000 or 0)
  elseif self.r:chance(10) then bits = freg_bits(self.r)
  elseif precision == "s" then bits = single_bits(self.r) | -0x100000000
  else bits = double_bits(self.r) end
  out[#out + 1] = ("li %s, %d"):format(self:x(t), bits)
  out[#out + 1] = ("fmv.d.x %s, %s"):format(freg, self:x(t))
end

-- `pool`, when given, lists the values that matter most for the operation (divisors 0 and -1,
-- shift amounts at 31/32/63/64...), picked more often than the general ones.
function G:fresh_x(out, n, pool)
  if self.quiet or self.compact or n == 0 or self.reserved[n] or not self.r:chance(pool and 75 or 30) then return end
  local v = (pool and self.r:chance(75)) and self.r:pick(pool) or int_value(self.r)
  out[#out + 1] = ("li %s, %d"):format(self:x(n), v)
end

-- What a floating-point instruction raised, more often than not: fflags is read and cleared into
-- a register, recorded like a result.
function G:flags(out)
  if self.quiet or self.compact or not self.r:chance(60) then return end
  local t = self:xdest(false)
  self:wx(out, ("csrrw %s, fflags, zero"):format(self:x(t)), t)
end

-- An address in the data area for an access of `width` bytes.
function G:address(width, aligned)
  if aligned then return self.at.data + width * self.r:below(P.DATA_SIZE // width) end
  return self.at.data + self.r:below(P.DATA_SIZE - width + 1)
end

-- `li base, A - imm` then the access at imm(base): the offset is mostly small, sometimes wide.
function G:based(out, width, aligned)
  local a = self:address(width, aligned)
  local imm = self.r:chance(80) and self.r:range(-64, 64) or self.r:range(-2048, 2047)
  local base = self:xdest(false)
  out[#out + 1] = ("li %s, 0x%x"):format(self:x(base), a - imm)
  return base, imm
end

local ALU_RR = { "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
                 "addw", "subw", "sllw", "srlw", "sraw",
                 "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
                 "mulw", "divw", "divuw", "remw", "remuw" }
-- Operand values by operation: the overflow and division-by-zero cases (a W form divides by
-- the low word only: 0x100000000 is a zero divisor for it), the shift amounts each side of 32
-- and 64, the extremes for the high products.
local DIVIDENDS = { math.mininteger, -0x80000000, 0x80000000, math.maxinteger, 0x7fffffff, -1, 0, 7, -7 }
local DIVISORS = { 0, -1, 1, -0x80000000, 0xffffffff, 0x100000000, -0x100000000, 2, -2 }
local SHIFTEES = { math.mininteger, -1, 0x80000000, -0x80000000, 1, 0x7fffffff, 0xffffffff }
local AMOUNTS = { 0, 1, 31, 32, 33, 63, 64, -1, 0x7fffffe0 }
local FACTORS = { math.mininteger, math.maxinteger, -1, 1, 0xffffffff, -0x80000000, 0x100000000, 2 }
local POOLS = {}
for _, op in ipairs { "div", "divu", "rem", "remu", "divw", "divuw", "remw", "remuw" } do POOLS[op] = { DIVIDENDS, DIVISORS } end
for _, op in ipairs { "sll", "srl", "sra", "sllw", "srlw", "sraw" } do POOLS[op] = { SHIFTEES, AMOUNTS } end
for _, op in ipairs { "mul", "mulh", "mulhsu", "mulhu", "mulw" } do POOLS[op] = { FACTORS, FACTORS } end

local ALU_RI = { "addi", "slti", "sltiu", "xori", "ori", "andi", "addiw" }
local SHIFT_I = { slli = 63, srli = 63, srai = 63, slliw = 31, srliw = 31, sraiw = 31 }
local SHIFT_NAMES = { "slli", "srli", "srai", "slliw", "srliw", "sraiw" }
local LOADS = { { "lb", 1 }, { "lh", 2 }, { "lw", 4 }, { "ld", 8 }, { "lbu", 1 }, { "lhu", 2 }, { "lwu", 4 } }
local STORES = { { "sb", 1 }, { "sh", 2 }, { "sw", 4 }, { "sd", 8 } }
local AMOS = { "amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu" }
local ORDER = { "", ".aq", ".rl", ".aqrl" }
local BRANCHES = { "beq", "bne", "blt", "bge", "bltu", "bgeu" }

local function imm12(r)
  local kind = r:below(6)
  if kind == 0 then return r:pick { 0, -1, 1, 2047, -2048, 2046, -2047 } end
  if kind <= 2 then return r:range(-32, 32) end
  return r:range(-2048, 2047)
end

function G:item_li(out)
  local rd = self:xdest(false)
  out[#out + 1] = ("li %s, %d"):format(self:x(rd), int_value(self.r))
end

function G:item_alu_rr(out)
  local op = self.r:pick(ALU_RR)
  local rs1, rs2 = self:xsrc(), self:xsrc()
  if self.r:chance(10) then rs2 = rs1 end
  local pools = POOLS[op] or {}
  self:fresh_x(out, rs1, pools[1])
  if rs2 ~= rs1 then self:fresh_x(out, rs2, pools[2]) end
  local rd = self:xdest()
  self:wx(out, ("%s %s, %s, %s"):format(op, self:x(rd), self:x(rs1), self:x(rs2)), rd)
end

function G:item_alu_ri(out)
  local r = self.r
  if r:chance(35) then
    local op = r:pick(SHIFT_NAMES)
    local max = SHIFT_I[op]
    local sh = r:chance(40) and r:pick { 0, 1, max, max - 1, (max + 1) // 2 } or r:range(0, max)
    local rd = self:xdest()
    self:wx(out, ("%s %s, %s, %d"):format(op, self:x(rd), self:x(self:xsrc()), sh), rd)
  else
    local rd = self:xdest()
    self:wx(out, ("%s %s, %s, %d"):format(r:pick(ALU_RI), self:x(rd), self:x(self:xsrc()), imm12(r)), rd)
  end
end

function G:item_upper(out)
  local op = self.r:chance(60) and "lui" or "auipc"
  local imm = self.r:chance(30) and self.r:pick { 0, 1, 0x7ffff, 0x80000, 0xfffff } or self.r:below(0x100000)
  local rd = self:xdest()
  self:wx(out, ("%s %s, 0x%x"):format(op, self:x(rd), imm), rd)
end

function G:item_load(out)
  local op = self.r:pick(LOADS)
  local base, imm = self:based(out, op[2], self.r:chance(60))
  local rd = self:xdest()
  self:wx(out, ("%s %s, %d(%s)"):format(op[1], self:x(rd), imm, self:x(base)), rd)
end

function G:item_store(out)
  local op = self.r:pick(STORES)
  local base, imm = self:based(out, op[2], self.r:chance(60))
  out[#out + 1] = ("%s %s, %d(%s)"):format(op[1], self:x(self:xsrc()), imm, self:x(base))
end

function G:item_fmem(out)
  local op = self.r:pick { { "flw", 4 }, { "fld", 8 }, { "fsw", 4 }, { "fsd", 8 } }
  local base, imm = self:based(out, op[2], self.r:chance(70))
  local f = "f" .. self.r:below(32)
  out[#out + 1] = ("%s %s, %d(%s)"):format(op[1], f, imm, self:x(base))
  if op[1]:sub(2, 2) == "l" then self:record(out, f) end
end

-- An f register set from an integer register: fmv.d.x takes the 64 bits as they are, fmv.w.x
-- takes the low 32 and NaN-boxes them.
function G:item_fset(out)
  local t = self:xdest(false)
  local fd = "f" .. self.r:below(32)
  if self.r:chance(35) then
    out[#out + 1] = ("li %s, 0x%x"):format(self:x(t), single_bits(self.r) | (self.r:chance(20) and (self.r:next() << 32) or 0))
    out[#out + 1] = ("fmv.w.x %s, %s"):format(fd, self:x(t))
  else
    out[#out + 1] = ("li %s, %d"):format(self:x(t), freg_bits(self.r))
    out[#out + 1] = ("fmv.d.x %s, %s"):format(fd, self:x(t))
  end
end

local function f3(r) return "f" .. r:below(32), "f" .. r:below(32), "f" .. r:below(32) end

function G:item_farith(out)
  local r = self.r
  local p = r:chance(50) and ".s" or ".d"
  local fd, fa, fb = f3(r)
  if r:chance(8) then fb = fa end
  local fc = "f" .. r:below(32)
  self:fresh_f(out, fa, p:sub(2))
  self:fresh_f(out, fb, p:sub(2))
  self:fresh_f(out, fc, p:sub(2))
  local kind = r:below(10)
  local line
  if kind <= 3 then
    line = ("%s%s %s, %s, %s, %s"):format(r:pick { "fadd", "fsub", "fmul", "fdiv" }, p, fd, fa, fb, self:rm())
  elseif kind == 4 then
    line = ("fsqrt%s %s, %s, %s"):format(p, fd, fa, self:rm())
  elseif kind == 5 then
    line = ("%s%s %s, %s, %s"):format(r:pick { "fmin", "fmax" }, p, fd, fa, fb)
  elseif kind == 6 then
    line = ("%s%s %s, %s, %s"):format(r:pick { "fsgnj", "fsgnjn", "fsgnjx" }, p, fd, fa, fb)
  else
    line = ("%s%s %s, %s, %s, %s, %s"):format(r:pick { "fmadd", "fmsub", "fnmsub", "fnmadd" },
      p, fd, fa, fb, fc, self:rm())
  end
  self:wx(out, line, fd)
  self:flags(out)
end

function G:item_fconvert(out)
  local r = self.r
  local p = r:chance(50) and "s" or "d"
  local kind = r:below(8)
  local rd, fd = self:xdest(), "f" .. r:below(32)
  local fa, fb, rs = "f" .. r:below(32), "f" .. r:below(32), self:xsrc()
  if kind <= 1 then        -- to an integer: rounding, saturation, NV, often at the limits
    local to = r:pick { "w", "wu", "l", "lu" }
    self:fresh_f(out, fa, p, LIMITS[p][to:sub(1, 1) == "w" and 32 or 64])
    self:wx(out, ("fcvt.%s.%s %s, %s, %s"):format(to, p, self:x(rd), fa, self:rm()), rd)
  elseif kind == 2 then    -- from an integer
    self:fresh_x(out, rs)
    self:wx(out, ("fcvt.%s.%s %s, %s, %s"):format(p, r:pick { "w", "wu", "l", "lu" }, fd, self:x(rs), self:rm()), fd)
  elseif kind == 3 then    -- between the formats
    self:fresh_f(out, fa, p == "s" and "d" or "s")
    self:wx(out, ("fcvt.%s %s, %s, %s"):format(p == "s" and "s.d" or "d.s", fd, fa, self:rm()), fd)
  elseif kind == 4 then
    self:fresh_f(out, fa, p)
    self:fresh_f(out, fb, p)
    self:wx(out, ("%s%s %s, %s, %s"):format(r:pick { "feq.", "flt.", "fle." }, p, self:x(rd), fa, fb), rd)
  elseif kind == 5 then
    self:fresh_f(out, fa, p)
    self:wx(out, ("fclass.%s %s, %s"):format(p, self:x(rd), fa), rd)
  elseif kind == 6 then
    self:wx(out, ("fmv.x.%s %s, %s"):format(p == "s" and "w" or "d", self:x(rd), fa), rd)
  else
    self:wx(out, ("fmv.%s.x %s, %s"):format(p == "s" and "w" or "d", fd, self:x(rs)), fd)
  end
  self:flags(out)
end

function G:item_amo(out)
  local r = self.r
  local width = r:chance(50) and 4 or 8
  local base, rd = self:xdest(false), self:xdest()
  out[#out + 1] = ("li %s, 0x%x"):format(self:x(base), self:address(width, true))
  self:wx(out, ("%s.%s%s %s, %s, (%s)"):format(r:pick(AMOS), width == 4 and "w" or "d", r:pick(ORDER),
    self:x(rd), self:x(self:xsrc()), self:x(base)), rd)
end

-- LR then SC at the same address and width, with at most a little register arithmetic between
-- (the specification would let such an SC fail spuriously; neither board does, and a VMM that
-- lost the reservation would show here); or an SC alone, which finds no reservation and fails: every
-- LR here is followed by its SC, and an SC ends the reservation whatever its outcome. Nothing is
-- recorded between the two: a store there would be the implementation's business.
function G:item_lrsc(out)
  local r = self.r
  local w = r:chance(50) and "w" or "d"
  local base = self:xdest(false)
  out[#out + 1] = ("li %s, 0x%x"):format(self:x(base), self:address(w == "w" and 4 or 8, true))
  local written = {}
  if r:chance(80) then
    self.reserved[base] = true      -- the SC needs the address: nothing between may overwrite it
    self.quiet = true
    local rd = self:xdest()
    out[#out + 1] = ("lr.%s%s %s, (%s)"):format(w, r:pick(ORDER), self:x(rd), self:x(base))
    written[1] = rd
    for _ = 1, r:below(3) do self:item_alu_rr(out) end
    self.quiet = false
    self.reserved[base] = nil
  end
  local rd = self:xdest()
  -- rd: 0, or the failure code 1 (the only one the specification defines; the others are reserved)
  out[#out + 1] = ("sc.%s%s %s, %s, (%s)"):format(w, r:pick(ORDER), self:x(rd), self:x(self:xsrc()), self:x(base))
  if written[1] then self:record(out, written[1]) end
  self:record(out, rd)
end

-- The RV64C instructions under their own mnemonics (the assembler's default emits only 4-byte
-- forms), so that 4-byte instructions after them sit on 2-byte boundaries too.
function G:item_compressed(out)
  local r = self.r
  local kind = r:below(14)
  local function nonzero(lo, hi)
    local v
    repeat v = r:range(lo, hi) until v ~= 0
    return v
  end
  if kind == 0 then
    local op = r:pick { "c.addi", "c.addiw", "c.li" }
    local imm = op == "c.addi" and nonzero(-32, 31) or r:range(-32, 31)
    local rd = self:xdest(false)
    self:wx(out, ("%s %s, %d"):format(op, self:x(rd), imm), rd)
  elseif kind == 1 then
    local rd
    repeat rd = self:xdest(false) until rd ~= 2
    self:wx(out, ("c.lui %s, 0x%x"):format(self:x(rd), r:chance(50) and r:range(1, 31) or r:range(0xfffe0, 0xfffff)), rd)
  elseif kind == 2 then
    if r:chance(50) then
      self:wx(out, ("c.addi16sp sp, %d"):format(nonzero(-32, 31) * 16), 2)
    else
      local rd = self:cdest()
      self:wx(out, ("c.addi4spn %s, sp, %d"):format(self:x(rd), r:range(1, 255) * 4), rd)
    end
  elseif kind == 3 then
    local op = r:pick { "c.slli", "c.srli", "c.srai" }
    local rd = op == "c.slli" and self:xdest(false) or self:cdest()
    self:wx(out, ("%s %s, %d"):format(op, self:x(rd), r:chance(30) and r:pick { 1, 31, 32, 33, 63 } or r:range(1, 63)), rd)
  elseif kind == 4 then
    local rd = self:cdest()
    self:wx(out, ("c.andi %s, %d"):format(self:x(rd), r:range(-32, 31)), rd)
  elseif kind == 5 then
    local rd = self:xdest(false)
    self:wx(out, ("%s %s, %s"):format(r:pick { "c.mv", "c.add" }, self:x(rd), self:x(r:range(1, 31))), rd)
  elseif kind == 6 then
    local rd = self:cdest()
    self:wx(out, ("%s %s, %s"):format(r:pick { "c.and", "c.or", "c.xor", "c.sub", "c.addw", "c.subw" },
      self:x(rd), self:x(r:pick(CREGS))), rd)
  elseif kind <= 9 then    -- loads and stores through x8..x15
    local op = r:pick { { "c.lw", 4, "x" }, { "c.ld", 8, "x" }, { "c.sw", 4, "x" }, { "c.sd", 8, "x" },
                        { "c.fld", 8, "f" }, { "c.fsd", 8, "f" } }
    local a = self:address(op[2], r:chance(60))
    local off = op[2] * r:below(32)
    local base = self:cdest()
    out[#out + 1] = ("li %s, 0x%x"):format(self:x(base), a - off)
    local load = op[1]:find("^c%.f?l") ~= nil
    local reg
    if op[3] == "f" then reg = "f" .. r:range(8, 15)
    elseif load then reg = self:cdest()
    else reg = r:pick(CREGS) end
    local line = ("%s %s, %d(%s)"):format(op[1], type(reg) == "string" and reg or self:x(reg), off, self:x(base))
    if load then self:wx(out, line, reg) else out[#out + 1] = line end
  elseif kind <= 11 then   -- loads and stores through sp
    local op = r:pick { { "c.lwsp", 4, "x" }, { "c.ldsp", 8, "x" }, { "c.swsp", 4, "x" }, { "c.sdsp", 8, "x" },
                        { "c.fldsp", 8, "f" }, { "c.fsdsp", 8, "f" } }
    local a = self:address(op[2], r:chance(60))
    local off = op[2] * r:below(64)
    out[#out + 1] = ("li sp, 0x%x"):format(a - off)
    local load = op[1]:find("^c%.f?l") ~= nil
    local reg
    if op[3] == "f" then reg = "f" .. r:below(32)
    elseif load then reg = self:xdest(false)
    else reg = r:below(32) end
    local line = ("%s %s, %d(sp)"):format(op[1], type(reg) == "string" and reg or self:x(reg), off)
    if load then self:wx(out, line, reg) else out[#out + 1] = line end
  elseif kind == 12 then
    out[#out + 1] = "c.nop"
  else
    self:item_alu_rr(out)
  end
end

-- FP CSRs. frm must stay valid (a dynamic rounding mode of 5..7 is reserved), so each write is
-- checked against the frm this program has at that point, which the generator knows: sources are
-- immediates or a register set just before.
local FCSRS = { "fflags", "frm", "fcsr" }

local function frm_after(csr, op, frm, v)
  local bits
  if csr == "fflags" then return frm end
  if csr == "frm" then bits = v & 7 else bits = (v >> 5) & 7 end
  if op == "w" then return bits elseif op == "s" then return frm | bits else return frm & ~bits end
end

function G:item_csr(out)
  local r = self.r
  for _ = 1, 20 do
    local csr = r:pick(FCSRS)
    -- In a loop the body runs again with the frm its end left: only writes that do not depend
    -- on the old value (or leave frm alone) are safe there.
    local op = r:pick { "w", "s", "c" }
    if self.in_loop and csr ~= "fflags" then op = "w" end
    local imm = r:chance(40)
    local v = imm and r:below(32) or (r:chance(70) and r:below(0x1000) or r:next())
    if not imm and op ~= "w" and r:chance(20) then v = 0 end   -- rs1 = x0: a read alone
    local frm = frm_after(csr, op, self.frm, v)
    if frm <= 4 then
      self.frm = frm
      local rd = self:xdest()
      if imm then
        out[#out + 1] = ("csrr%si %s, %s, %d"):format(op, self:x(rd), csr, v)
      elseif op ~= "w" and v == 0 then
        out[#out + 1] = ("csrr%s %s, %s, zero"):format(op, self:x(rd), csr)
      else
        local t = self:xdest(false)
        out[#out + 1] = ("li %s, %d"):format(self:x(t), v)
        out[#out + 1] = ("csrr%s %s, %s, %s"):format(op, self:x(rd), csr, self:x(t))
      end
      self:record(out, rd)
      return
    end
  end
  local rd = self:xdest()
  self:wx(out, ("csrr %s, fcsr"):format(self:x(rd)), rd)
end

-- Items that are one straight-line instruction (or a few): what a branch may skip.
function G:simple(out)
  local r = self.r
  local kind = r:below(6)
  if kind <= 1 then self:item_alu_rr(out)
  elseif kind == 2 then self:item_alu_ri(out)
  elseif kind == 3 then self:item_farith(out)
  elseif kind == 4 then self:item_fconvert(out)
  else self:item_li(out) end
end

-- One instruction and its record, without fresh operands or a read of fflags: what a compressed
-- branch or jump may skip (it reaches ±256 bytes, and the assembler does not relax it).
function G:short(out)
  self.compact = true
  local kind = self.r:below(3)
  if kind == 0 then self:item_alu_rr(out)
  elseif kind == 1 then self:item_alu_ri(out)
  else self:item_farith(out) end
  self.compact = false
end

-- Forward control flow only, so that every program ends: a branch over a few items (taken or
-- not, as the data decides), a jump over dead code, an indirect jump to the next label (JALR
-- clears bit 0 of the target, so an odd offset reaches the same label).
function G:item_control(out)
  local r = self.r
  local l = self:label()
  local link = 0           -- the register a jump links in, recorded where it lands
  local kind = r:below(8)
  if kind <= 2 then
    local rs1, rs2 = self:xsrc(), self:xsrc()
    if r:chance(15) then rs2 = rs1 end
    out[#out + 1] = ("%s %s, %s, %s"):format(r:pick(BRANCHES), self:x(rs1), self:x(rs2), l)
    for _ = 1, r:range(1, 4) do self:simple(out) end
  elseif kind == 3 then
    out[#out + 1] = ("%s %s, %s"):format(r:pick { "c.beqz", "c.bnez" }, self:x(r:pick(CREGS)), l)
    for _ = 1, r:range(1, 4) do self:short(out) end
  elseif kind == 4 then
    if r:chance(50) then
      link = self:xdest()
      out[#out + 1] = ("jal %s, %s"):format(self:x(link), l)
    else
      out[#out + 1] = ("c.j %s"):format(l)
    end
    for _ = 1, r:range(1, 3) do self:short(out) end
  elseif kind <= 6 then
    local t = self:xdest(false)
    out[#out + 1] = ("la %s, %s"):format(self:x(t), l)
    if r:chance(60) then
      link = self:xdest()
      out[#out + 1] = ("jalr %s, %d(%s)"):format(self:x(link), r:pick { 0, 1 }, self:x(t))
    else
      local op = r:pick { "c.jr", "c.jalr" }
      if op == "c.jalr" then link = 1 end
      out[#out + 1] = ("%s %s"):format(op, self:x(t))
    end
    for _ = 1, r:range(0, 2) do self:short(out) end
  else
    out[#out + 1] = ("%s %s, %s, %s"):format(r:pick(BRANCHES), self:x(self:xsrc()), self:x(self:xsrc()), l)
    self:item_store(out)
    self:item_load(out)
  end
  out[#out + 1] = l .. ":"
  self:record(out, link)
end

-- Traps the specification requires, each stepped over by the handler and logged.
function G:item_trap(out)
  local r = self.r
  local kind = r:below(9)
  if kind == 0 then out[#out + 1] = "ecall"
  elseif kind == 1 then out[#out + 1] = r:chance(50) and "ebreak" or "c.ebreak"
  elseif kind == 2 then out[#out + 1] = "c.unimp"          -- the all-zero halfword is illegal
  elseif kind <= 4 then
    -- a write to a read-only CSR (number 0b11xx_xxxx_xxxx): illegal whatever the privilege
    local csr = r:pick { "cycle", "time", "instret", "mvendorid", "marchid", "mimpid", "mhartid" }
    local op = r:pick { "w", "s", "c" }
    if r:chance(50) then
      out[#out + 1] = ("csrr%si %s, %s, %d"):format(op, self:x(self:xdest()), csr, op == "w" and r:below(32) or r:range(1, 31))
    else
      local t = self:xdest(false)
      local v = int_value(r)
      if v == 0 then v = 1 end
      out[#out + 1] = ("li %s, %d"):format(self:x(t), v)
      out[#out + 1] = ("csrr%s %s, %s, %s"):format(op, self:x(self:xdest()), csr, self:x(t))
    end
  elseif kind <= 6 then
    -- FS = Off: every F and D instruction and fcsr access is illegal
    local t = self:xdest(false)
    out[#out + 1] = ("li %s, 0x6000"):format(self:x(t))
    out[#out + 1] = ("csrc %s, %s"):format(self.at.status, self:x(t))
    local which = r:below(5)
    self.quiet = true
    if which == 0 then self:item_farith(out)
    elseif which == 1 then self:item_fconvert(out)
    elseif which == 2 then out[#out + 1] = ("frcsr %s"):format(self:x(self:xdest()))
    elseif which == 3 then out[#out + 1] = ("fld f%d, 0(%s)"):format(r:below(32), self:x(t))
    else out[#out + 1] = ("c.fsdsp f%d, 8(sp)"):format(r:below(32)) end
    self.quiet = false
    out[#out + 1] = ("li %s, 0x2000"):format(self:x(t))
    out[#out + 1] = ("csrs %s, %s"):format(self.at.status, self:x(t))
  else
    -- an aligned access where nothing is: access fault, mtval the address
    local base = self:xdest(false)
    local op = r:pick { { "ld", 8 }, { "lw", 4 }, { "lbu", 1 }, { "sd", 8 }, { "sh", 2 }, { "flw", 4 }, { "fsd", 8 } }
    local a = P.UNMAPPED + op[2] * r:below(512)
    out[#out + 1] = ("li %s, 0x%x"):format(self:x(base), a)
    local reg = op[1]:sub(1, 1) == "f" and ("f" .. r:below(32))
      or self:x(op[1]:sub(1, 1) == "s" and self:xsrc() or self:xdest())
    out[#out + 1] = ("%s %s, 0(%s)"):format(op[1], reg, self:x(base))
  end
end

-- The privilege's scratch CSR (mscratch or sscratch: read/write, every bit), changed by one of
-- the six forms, read back, then given back the trap handler's pointer. In an S-mode program
-- under trap or bt each access is the VMM's to emulate.
function G:item_scratch(out)
  local r = self.r
  local csr = self.at.scratch
  local op = r:pick { "w", "s", "c" }
  local rd = self:xdest()
  if r:chance(40) then
    out[#out + 1] = ("csrr%si %s, %s, %d"):format(op, self:x(rd), csr, r:below(32))
  else
    local t = self:xdest(false)
    out[#out + 1] = ("li %s, %d"):format(self:x(t), int_value(r))
    out[#out + 1] = ("csrr%s %s, %s, %s"):format(op, self:x(rd), csr, self:x(t))
  end
  self:record(out, rd)
  local back = self:xdest(false)
  out[#out + 1] = ("li %s, 0x%x"):format(self:x(back), self.at.hsave)
  self:wx(out, ("csrrw %s, %s, %s"):format(self:x(back), csr, self:x(back)), back)
end

-- Privileged instructions without an observable effect here: FS moved between Initial, Clean
-- and Dirty (set the new bits first, so it is never Off; the status register is never read back,
-- as an implementation may keep FS Dirty), SFENCE.VMA (no translation is on), and the fences.
function G:item_quiet_privileged(out)
  local r = self.r
  local kind = r:below(3)
  if kind == 0 then
    local fs = r:range(1, 3)
    local t = self:xdest(false)
    out[#out + 1] = ("li %s, 0x%x"):format(self:x(t), fs << 13)
    out[#out + 1] = ("csrs %s, %s"):format(self.at.status, self:x(t))
    out[#out + 1] = ("li %s, 0x%x"):format(self:x(t), (~fs & 3) << 13)
    out[#out + 1] = ("csrc %s, %s"):format(self.at.status, self:x(t))
  elseif kind == 1 then
    out[#out + 1] = ("sfence.vma %s, %s"):format(self:x(self:xsrc()), self:x(self:xsrc()))
  else
    out[#out + 1] = r:pick { "fence", "fence rw, rw", "fence r, w", "fence.tso", "fence iorw, iorw", "fence.i" }
  end
end

-- Self-modifying code (Zifencei): an OP-IMM instruction is stored over a slot just ahead, FENCE.I
-- makes instruction fetch see the store, and the new instruction runs. In a loop its immediate
-- is the loop counter, so every iteration runs another instruction in the same place (and code
-- compiled from the previous one must not run).
local OP_IMM_FUNCT3 = { 0, 2, 3, 4, 6, 7 }   -- addi, slti, sltiu, xori, ori, andi

function G:item_smc(out)
  local r = self.r
  local l = self:label()
  local t, v = self:xdest(false), nil
  repeat v = self:xdest(false) until v ~= t
  local rd, rs1 = self:xdest(), self:xsrc()
  local enc = 0x13 | (rd << 7) | (r:pick(OP_IMM_FUNCT3) << 12) | (rs1 << 15)
  out[#out + 1] = ("la %s, %s"):format(self:x(t), l)
  if self.in_loop then
    local w
    repeat w = self:xdest(false) until w ~= t and w ~= v
    out[#out + 1] = ("li %s, 0x%x"):format(self:x(v), enc)
    out[#out + 1] = ("slli %s, %s, 20"):format(self:x(w), self:x(self.counter))
    out[#out + 1] = ("or %s, %s, %s"):format(self:x(v), self:x(v), self:x(w))
  else
    out[#out + 1] = ("li %s, 0x%x"):format(self:x(v), enc | ((imm12(r) & 0xfff) << 20))
  end
  out[#out + 1] = ("sw %s, 0(%s)"):format(self:x(v), self:x(t))
  out[#out + 1] = "fence.i"
  out[#out + 1] = l .. ":"
  out[#out + 1] = "nop                  # replaced before it runs"
  self:record(out, rd)
end

-- A counted loop around a few items, run 20..48 times: long enough for the native-code engine to
-- compile its blocks (after 16 runs), so compiled code and the other engines meet the same state.
-- Its body is mostly what that engine compiles (integer arithmetic, loads, stores, branches);
-- anything else ends a compiled stretch.
function G:item_loop(out)
  local r = self.r
  local counter
  repeat counter = r:range(3, 31) until counter ~= 2 and not self.reserved[counter]
  local l = self:label()
  out[#out + 1] = ("li %s, %d"):format(self:x(counter), r:range(20, 48))
  out[#out + 1] = l .. ":"
  self.reserved[counter] = true
  self.in_loop, self.counter, self.loop_traps = true, counter, 0
  for _ = 1, r:range(3, 12) do self:item(out, true) end
  self.in_loop, self.counter = false, nil
  self.reserved[counter] = nil
  out[#out + 1] = ("addi %s, %s, -1"):format(self:x(counter), self:x(counter))
  out[#out + 1] = ("bnez %s, %s"):format(self:x(counter), l)
end

local KINDS = {
  { 8, "li" }, { 14, "alu_rr" }, { 9, "alu_ri" }, { 2, "upper" }, { 5, "load" }, { 4, "store" },
  { 4, "fmem" }, { 7, "fset" }, { 14, "farith" }, { 9, "fconvert" }, { 3, "amo" }, { 2, "lrsc" },
  { 8, "compressed" }, { 3, "csr" }, { 4, "control" }, { 2, "loop" }, { 2, "trap" }, { 1, "smc" },
  { 2, "scratch" }, { 2, "quiet_privileged" },
}
local LOOP_KINDS = {
  { 6, "li" }, { 20, "alu_rr" }, { 14, "alu_ri" }, { 3, "upper" }, { 10, "load" }, { 8, "store" },
  { 2, "fmem" }, { 2, "fset" }, { 3, "farith" }, { 2, "fconvert" }, { 1, "amo" }, { 1, "lrsc" },
  { 8, "compressed" }, { 1, "csr" }, { 5, "control" }, { 2, "smc" }, { 1, "trap" }, { 1, "scratch" },
}

function G:item(out, in_loop)
  local kind
  repeat
    kind = self.r:weighted(in_loop and LOOP_KINDS or KINDS)
    -- a trap in a loop traps on every iteration: one a loop keeps the log short
  until kind ~= "trap" or (self.traps and not (in_loop and self.loop_traps > 0))
  if kind == "trap" and in_loop then self.loop_traps = self.loop_traps + 1 end
  self["item_" .. kind](self, out)
end

-- The source of seed `seed`'s program, its data area and its items (each a list of source lines).
-- options: privilege = "M" (default: a bare-metal program) or "S" (a kernel under the firmware),
-- items = how many items to keep (default all: a prefix of the same program), length = how many
-- items the program has (default: 150..350, from the seed), traps = false to leave the trap
-- category out. An S-mode program has no trap category: which traps reach an S-mode handler, and
-- how, is the firmware's delegation and, under a VMM, the VMM's (a trap still reaching the handler
-- is logged all the same).
function P.generate(seed, options)
  options = options or {}
  local privilege = options.privilege or "M"
  local r = P.random(seed)
  local at = P.layout(privilege)
  local g = setmetatable({ r = r, at = at, reserved = { [3] = true }, labels = 0, frm = 0,
                           in_loop = false, slots = 0,
                           traps = options.traps ~= false and privilege == "M" }, G)
  local length = r:range(150, 350)
  if options.length then length = options.length end
  local keep = math.min(options.items or length, length)

  local data = {}
  for i = 1, P.DATA_SIZE // 8 do
    local kind = r:below(3)
    data[i] = kind == 0 and int_value(r) or kind == 1 and double_bits(r)
      or (single_bits(r) | (single_bits(r) << 32))
  end

  local init = {}
  for i = 0, 31 do init[#init + 1] = ("li t0, %d\nfmv.d.x f%d, t0"):format(freg_bits(r), i) end
  for i = 1, 31 do init[#init + 1] = ("li %s, %d"):format(P.XNAMES[i], int_value(r)) end
  init[#init + 1] = ("li gp, 0x%x        # the signature's base, reserved"):format(at.sig + 2048)

  local items = {}
  for i = 1, length do
    local out = {}
    g:item(out)
    if i <= keep then items[i] = out end
  end
  return { seed = seed, at = at, options = options, data = data, init = init, items = items,
           length = length }
end

-- The prologue and epilogue, with {tvec}, {scratch}... standing for the privilege's CSRs.
local PROLOGUE = [[
_start:
  la t0, trap_handler
  csrw {tvec}, t0
  li t0, HSAVE
  csrw {scratch}, t0
  li t0, 0x2000        # FS = Initial: F and D on (QEMU resets mstatus.FS to Off)
  csrs {status}, t0
  csrwi fcsr, 0
]]

-- The epilogue saves every register (x31 through xscratch, as the base for the rest), then
-- prints a header line (a firmware may have printed before it), the saved registers, the data
-- area, the signature and the trap log, and powers off.
local EPILOGUE = [[
  li a0, SAVE
  li a1, 64
  jal ra, dump
  li a0, DATA
  li a1, DATA_DWORDS
  jal ra, dump
  li a0, SIG
  li a1, SIG_SLOTS
  jal ra, dump
  li a0, LOG           # the count, then three lines a trap
  ld a1, 0(a0)
  li t0, 3
  mul a1, a1, t0
  addi a1, a1, 1
  jal ra, dump
  li t0, FINISHER
  li t1, 0x5555        # pass: QEMU exits with status 0, vmlab stops with "poweroff"
  sw t1, 0(t0)
1: j 1b

header:
  .asciz "random program state\n"

# Prints a1 dwords from a0, one a line as 16 hex digits.
dump:
  li t0, UART
1: ld t1, 0(a0)
  li t2, 60
2: srl t3, t1, t2
  andi t3, t3, 15
  li t4, 10
  blt t3, t4, 3f
  addi t3, t3, 39      # 'a' - '0' - 10
3: addi t3, t3, 48     # '0'
  sb t3, 0(t0)
  addi t2, t2, -4
  bgez t2, 2b
  li t3, 10
  sb t3, 0(t0)
  addi a0, a0, 8
  addi a1, a1, -1
  bnez a1, 1b
  ret

# Logs xcause, xepc and xtval (for address exceptions only: elsewhere the specification lets it
# be 0 or other information) and resumes after the instruction, 2 or 4 bytes as its low bits say.
# A program that fills the log goes to the epilogue instead.
  .balign 4
trap_handler:
  csrrw t0, {scratch}, t0
  sd t1, 0(t0)
  sd t2, 8(t0)
  sd t3, 16(t0)
  li t1, LOG
  ld t2, 0(t1)
  li t3, LOG_MAX
  bgeu t2, t3, 5f
  addi t3, t2, 1
  sd t3, 0(t1)
  slli t3, t2, 1
  add t3, t3, t2
  slli t3, t3, 3
  add t1, t1, t3
  csrr t2, {cause}
  sd t2, 8(t1)
  csrr t3, {epc}
  sd t3, 16(t1)
  li t0, 0
  addi t2, t2, -4
  sltiu t2, t2, 4
  beqz t2, 4f
  csrr t0, {tval}
4: sd t0, 24(t1)
  lhu t2, 0(t3)
  andi t2, t2, 3
  addi t3, t3, 2
  li t1, 3
  bne t2, t1, 6f
  addi t3, t3, 2
6: csrw {epc}, t3
  li t0, HSAVE
  ld t1, 0(t0)
  ld t2, 8(t0)
  ld t3, 16(t0)
  csrrw t0, {scratch}, t0
  {ret}
5: la t3, epilogue
  j 6b
]]

local function epilogue()
  local s = { "epilogue:", "  csrw {scratch}, t6", "  li t6, SAVE" }
  for i = 1, 30 do s[#s + 1] = ("  sd x%d, %d(t6)"):format(i, (i - 1) * 8) end
  s[#s + 1] = "  csrr t5, {scratch}"
  s[#s + 1] = "  sd t5, 240(t6)"
  for i = 0, 31 do s[#s + 1] = ("  fsd f%d, %d(t6)"):format(i, 248 + i * 8) end
  s[#s + 1] = "  frcsr t5"
  s[#s + 1] = "  sd t5, 504(t6)"
  s[#s + 1] = "  li t0, UART"
  s[#s + 1] = "  la t1, header"
  s[#s + 1] = "1: lbu t2, 0(t1)"
  s[#s + 1] = "  beqz t2, 2f"
  s[#s + 1] = "  sb t2, 0(t0)"
  s[#s + 1] = "  addi t1, t1, 1"
  s[#s + 1] = "  j 1b"
  s[#s + 1] = "2:"
  s[#s + 1] = EPILOGUE
  return table.concat(s, "\n")
end

-- The whole assembly source of a generated program.
function P.source(program)
  local at = program.at
  local s = {
    ("# random program, seed %d, %s-mode (%d of %d items)"):format(program.seed, at.privilege,
      #program.items, program.length),
    ("  .equ DATA, 0x%x"):format(at.data), ("  .equ DATA_DWORDS, %d"):format(P.DATA_SIZE // 8),
    ("  .equ SAVE, 0x%x"):format(at.save), ("  .equ HSAVE, 0x%x"):format(at.hsave),
    ("  .equ LOG, 0x%x"):format(at.log), ("  .equ LOG_MAX, %d"):format(P.LOG_MAX),
    ("  .equ SIG, 0x%x"):format(at.sig), ("  .equ SIG_SLOTS, %d"):format(P.SIG_SLOTS),
    ("  .equ UART, 0x%x"):format(P.UART), ("  .equ FINISHER, 0x%x"):format(P.FINISHER),
    (PROLOGUE:gsub("{(%a+)}", at)),
  }
  for _, line in ipairs(program.init) do s[#s + 1] = line end
  for i, item in ipairs(program.items) do
    s[#s + 1] = ("item_%d:"):format(i)
    for _, line in ipairs(item) do s[#s + 1] = line end
  end
  s[#s + 1] = (epilogue():gsub("{(%a+)}", at))
  return table.concat(s, "\n") .. "\n"
end

-- The machine code of a program, and its symbols.
function P.assemble(program)
  return vmlab.asm(P.source(program), { base = program.at.base })
end

-- The raw image: code from the base, zeros, the data area, zeros to the end of the log.
function P.build(program)
  local at = program.at
  local code = P.assemble(program)
  local gap = at.data - at.base - #code
  assert(gap >= 0, ("seed %d: the code (%d bytes) runs into the data area"):format(program.seed, #code))
  local data = {}
  for i, v in ipairs(program.data) do data[i] = string.pack("<i8", v) end
  local image = code .. string.rep("\0", gap) .. table.concat(data)
  return image .. string.rep("\0", at.image_end - at.base - #image), code
end

-- FNV-1a, 64 bits: a fingerprint of a program's bytes.
function P.hash(bytes)
  local h = -0x340d631b7bdddcdb   -- 0xcbf29ce484222325
  for i = 1, #bytes do
    h = (h ~ bytes:byte(i)) * 0x100000001b3
  end
  return h
end

---------------------------------------------------------------------------------------------------
-- Running a program.

-- What a program printed after its header line (a firmware may print before it): the dump, or
-- nil and why not.
local HEADER = "random program state\n"

local function dump_in(text, who)
  local at = text:find(HEADER, 1, true)
  if not at then return nil, who .. " printed no dump: " .. ("%q"):format(text:sub(-300)) end
  return text:sub(at + #HEADER)
end

-- vmlab, in this process: the dump and the instructions retired, or nil and why not. An S-mode
-- program runs as the kernel under the built-in SBI (under trap, bt and pv the VMM's).
function P.run_vmlab(image, mode, privilege)
  local vm <close> = assert(vmlab.vm { image = image, mode = mode,
                                       firmware = privilege == "S" and "builtin" or nil })
  local stop, details = vm:run { max_instructions = 5000000 }
  if stop ~= "poweroff" or details.exit_code ~= 0 then
    return nil, ("vmlab (%s) stopped with %s%s after %s instructions%s"):format(mode, stop,
      details.exit_code and (" (exit code " .. details.exit_code .. ")") or "",
      tostring(details.instructions), details.message and (": " .. details.message) or ""), vm:console()
  end
  local dump, why = dump_in(vm:console(), "vmlab (" .. mode .. ")")
  if not dump then return nil, why end
  return dump, vm:stats().instructions
end

-- The QEMU that runs the programs (`name`: a command on PATH or a path): its path, or nil.
function P.find_qemu(name)
  local p = io.popen(("command -v '%s' 2>/dev/null"):format(name:gsub("'", "'\\''")))
  local path = p:read("l")
  p:close()
  if path and path ~= "" then return path end
  return nil
end

-- A word for sh, quoted.
local function shell_word(text)
  return "'" .. text:gsub("'", "'\\''") .. "'"
end

-- Starts QEMU on an image; `finish` waits for it and returns the dump (or nil and why not).
-- QEMU runs as its own process, so several can run while vmlab runs here. An M-mode program runs
-- without firmware; an S-mode one under QEMU's own OpenSBI, which loads it at 0x80200000.
-- The image and QEMU's stderr go in os.tmpname() files, which under `vmlab test` lie in the
-- worker's own directory, removed when the worker ends, even when the time-out kills it; and
-- `timeout --foreground` keeps QEMU in the worker's process group (plain `timeout` starts a group
-- of its own), so that the kill ends QEMU too instead of leaving it to run out its 60 s.
function P.start_qemu(qemu, image, privilege)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(image)
  f:close()
  local command = ("timeout --foreground 60 %s -M virt -m 128M -nographic -bios %s -kernel %s < /dev/null 2> %s")
    :format(shell_word(qemu), privilege == "S" and "default" or "none", shell_word(path), shell_word(path .. ".err"))
  return { path = path, pipe = assert(io.popen(command, "r")) }
end

function P.finish_qemu(run)
  local out = run.pipe:read("a")
  local ok, how, code = run.pipe:close()
  local ef = io.open(run.path .. ".err", "rb")
  local err = ef and ef:read("a") or ""
  if ef then ef:close() end
  os.remove(run.path)
  os.remove(run.path .. ".err")
  if not ok then
    return nil, ("QEMU ended with %s %s%s"):format(how, tostring(code),
      err ~= "" and (": " .. err:gsub("%s+$", "")) or ""), out
  end
  return dump_in(out, "QEMU")
end

-- Runners for `bisect`: functions from an image to its dump.
function P.vmlab_runner(mode, privilege)
  return function(image) return P.run_vmlab(image, mode, privilege) end
end

function P.qemu_runner(qemu, privilege)
  return function(image) return P.finish_qemu(P.start_qemu(qemu, image, privilege)) end
end

---------------------------------------------------------------------------------------------------
-- Comparing dumps.

local function lines(text)
  local t = {}
  for line in text:gmatch("([^\n]*)\n") do t[#t + 1] = line end
  return t
end

-- The fields in which two dumps differ, as { name =, a =, b = } (a value missing from one dump
-- is "(none)"); empty when they are the same text.
function P.differences(a, b)
  local diffs = {}
  if a == b then return diffs end
  local la, lb = lines(a), lines(b)
  for i = 1, math.max(#la, #lb) do
    if la[i] ~= lb[i] then
      diffs[#diffs + 1] = { name = P.field_name(i), a = la[i] or "(none)", b = lb[i] or "(none)" }
    end
  end
  if #diffs == 0 then diffs[1] = { name = "text", a = ("%q"):format(a), b = ("%q"):format(b) } end
  return diffs
end

-- One line per difference: "x5 (t0): vmlab 0x... QEMU 0x...".
function P.describe(diffs, name_a, name_b, limit)
  local s = {}
  for i, d in ipairs(diffs) do
    if limit and i > limit then
      s[#s + 1] = ("  ... and %d more"):format(#diffs - limit)
      break
    end
    s[#s + 1] = ("  %-14s %s %s, %s %s"):format(d.name .. ":", name_a, d.a, name_b, d.b)
  end
  return table.concat(s, "\n")
end

-- The dump's value of a field by name (the register names of `P.FIELDS`), or nil.
function P.value(dump, name)
  local ls = lines(dump)
  for i, field in ipairs(P.FIELDS) do
    if field == name or field:match("^x%d+ %((.-)%)$") == name or field:match("^(x%d+) ") == name then
      return ls[i]
    end
  end
end

-- Item k of a program: its source, then the disassembly of its bytes.
function P.item_listing(program, code, k)
  local _, symbols = P.assemble(program)
  local from = symbols["item_" .. k]
  local to = symbols["item_" .. (k + 1)] or symbols.epilogue
  local s = {}
  for _, line in ipairs(program.items[k]) do s[#s + 1] = "    " .. line end
  s[#s + 1] = "  assembled:"
  local base = program.at.base
  local text = vmlab.disasm(code:sub(from - base + 1, to - base), { base = from })
  for line in text:gmatch("[^\n]+") do s[#s + 1] = "    " .. line end
  return table.concat(s, "\n")
end

-- The registers an item names, with their values in `dump`: "a0=0x..., f3=0x...".
function P.operand_values(item, dump)
  if not dump then return "" end
  local names, seen = {}, {}
  for _, line in ipairs(item) do
    local code = line:gsub("#.*", "")
    for word in code:gmatch("[%a_][%w_]*") do
      local known = word:match("^f%d+$") or false
      for i = 0, 31 do if P.XNAMES[i] == word then known = true end end
      if known and not seen[word] and word ~= "zero" then
        seen[word] = true
        names[#names + 1] = word
      end
    end
  end
  local s = {}
  for _, name in ipairs(names) do
    local v = P.value(dump, name)
    if v then s[#s + 1] = name .. "=0x" .. v end
  end
  return table.concat(s, ", ")
end

-- The first item that makes two runners disagree: the smallest k such that the program cut
-- after k items gives different dumps, while the one cut after k - 1 gives the same. `run_a` and
-- `run_b` take an image and return a dump (or nil, message). Returns k (0 when the prologue and
-- epilogue alone differ) and the agreed dump before item k; nil when the whole program does not
-- differ (any more).
function P.bisect(seed, options, run_a, run_b)
  local function differs(k)
    local cut = { items = k }
    for key, v in pairs(options) do if key ~= "items" then cut[key] = v end end
    local image = P.build(P.generate(seed, cut))
    local a, b = run_a(image), run_b(image)
    return a ~= b, a
  end
  local full = P.generate(seed, options)
  local lo, hi = 0, #full.items
  if not differs(hi) then return nil end
  local differ0, dump0 = differs(0)
  if differ0 then return 0, nil end
  local before = dump0
  while hi - lo > 1 do
    local mid = (lo + hi) // 2
    local d, dump = differs(mid)
    if d then hi = mid else lo, before = mid, dump end
  end
  return hi, before
end

return P
