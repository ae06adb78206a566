-- vmlab.asm and vmlab.disasm: inline guests as Lua strings of machine code.
local vmlab = require "vmlab"

describe("vmlab.asm", function()
  it("returns little-endian machine code and the symbols", function()
    local code, symbols = vmlab.asm [[
    start:
      addi a0, zero, 1
    next:
      ecall
    ]]
    expect(code).to_equal(string.pack("<I4I4", 0x00100513, 0x00000073))
    expect(symbols.start).to_equal(0x80000000)
    expect(symbols.next).to_equal(0x80000004)
  end)

  it("takes a base address and compressed encodings", function()
    local _, symbols = vmlab.asm("a: nop\nb: nop", { base = 0x1000 })
    expect(symbols.b).to_equal(0x1004)
    local compressed = vmlab.asm("addi a0, a0, 1", { rvc = true })
    expect(#compressed).to_equal(2)
  end)

  it("round-trips through the disassembler", function()
    local source = "addi a0, zero, 42\nlui t0, 0x100\nsw t1, 0(t0)\ncsrrw zero, mscratch, a0\nmret"
    local code = vmlab.asm(source)
    local text = vmlab.disasm(code)
    local lines = {}
    for line in text:gmatch("[^\n]+") do
      lines[#lines + 1] = line:match("^0x%x+: %x+%s+(.*)$")
    end
    expect(#lines).to_equal(5)
    expect(vmlab.asm(table.concat(lines, "\n"))).to_equal(code)
  end)

  it("takes '.' in .equ, .set and = where the definition stands, and lists the symbol", function()
    local code, symbols = vmlab.asm([[
      nop
    .equ X, .
      nop
    .set Y, . + 8
    Z = .
      nop
      .dword X, Y, Z
    ]], { base = 0x80000000 })
    expect(symbols.X).to_equal(0x80000004)
    expect(symbols.Y).to_equal(0x80000010)
    expect(symbols.Z).to_equal(0x80000008)
    expect(code:sub(13)).to_equal(string.pack("<I8I8I8", 0x80000004, 0x80000010, 0x80000008))
  end)

  it("gives each use of a redefined .set symbol the definition in force where it stands", function()
    local code, symbols = vmlab.asm([[
      .word X
    .set X, 1
      .word X
    .set X, 2
      .word X
    .set I, 0
    .rept 3
      .byte I
    .set I, I + 1
    .endr
    ]], { base = 0x80000000 })
    expect(code).to_equal(string.pack("<I4I4I4BBB", 1, 1, 2, 0, 1, 2))
    expect(symbols.X).to_equal(2)
    expect(symbols.I).to_equal(3)
  end)

  it("raises assembly errors as asm:LINE:COL: message", function()
    expect(function() vmlab.asm("nop\n  frobnicate a0") end).to_raise("^asm:2:3: ")
    expect(function() vmlab.asm("addi a0, a0, 99999") end).to_raise("^asm:1:")
  end)

  it("refuses an expression nested too deeply, however deep, without crashing", function()
    local parens = string.rep("(", 30000) .. "1" .. string.rep(")", 30000)
    expect(function() vmlab.asm("li t0, " .. parens) end)
      .to_raise("^asm:1:263: expression nested too deeply %(more than 256 levels%)$")
    expect(function() vmlab.asm("li t0, " .. string.rep("-", 100000) .. "1") end)
      .to_raise("^asm:1:263: expression nested too deeply")
  end)

  it("refuses blocks nested too deeply, however deep, without crashing", function()
    local source = string.rep(".rept 1\n", 20000) .. "nop\n" .. string.rep(".endr\n", 20000)
    expect(function() vmlab.asm(source) end)
      .to_raise("^asm:257:1: blocks nested too deeply %(more than 256 of %.rept, %.if and macros%)$")
    source = string.rep(".if 1\n", 20000) .. "nop\n" .. string.rep(".endif\n", 20000)
    expect(function() vmlab.asm(source) end).to_raise("^asm:257:1: blocks nested too deeply")
  end)

  it("takes a long sum, which is not deep", function()
    expect(vmlab.asm("li t0, " .. string.rep("1+", 60000) .. "1")).to_equal(vmlab.asm("li t0, 60001"))
  end)

  it("refuses a number that does not fit in 64 bits", function()
    expect(function() vmlab.asm("li a0, -9223372036854775809") end)
      .to_raise("^asm:1:8: number '%-9223372036854775809' does not fit in 64 bits$")
    expect(function() vmlab.asm("li a0, 18446744073709551616") end)
      .to_raise("^asm:1:8: number '18446744073709551616' does not fit in 64 bits$")
    expect(vmlab.asm("li a0, -9223372036854775808")).to_equal(vmlab.asm("li a0, 1 << 63"))
  end)

  it("refuses a shift by a negative amount or by 64 or more", function()
    for _, shift in ipairs { "1 << 64", "1 << -1", "1 >> 64", "1 >> -1" } do
      expect(function() vmlab.asm(".dword " .. shift) end).to_raise("^asm:1:10: shift amount %-?%d+ out of range %[0, 63%]$")
    end
    expect(function() vmlab.asm(".equ unused, 1 << 64") end).to_raise("shift amount 64 out of range")
  end)

  it("rejects misspelt options, naming the valid ones", function()
    expect(function() vmlab.asm("nop", { bsae = 0 }) end)
      .to_raise("unknown option 'bsae' to 'asm' %(expected one of: base, rvc%)")
  end)
end)

describe("vmlab.disasm", function()
  it("disassembles one instruction given as an integer", function()
    expect(vmlab.disasm(0x00100513)).to_equal("0x80000000: 00100513  addi a0, zero, 1")
    expect(vmlab.disasm(0x0505, { base = 0 })).to_equal("0x00000000: 0505      c.addi a0, 1")
  end)

  it("reads a float with an integer value as the instruction, not as the text of the number", function()
    expect(vmlab.disasm(0x13 + 2^20)).to_equal("0x80000000: 00100013  addi zero, zero, 1")
    expect(function() vmlab.disasm(1.5) end)
      .to_raise("bad argument #1 to 'disasm' %(number has no integer representation%)")
  end)

  it("prints pseudo-instructions when asked", function()
    expect(vmlab.disasm(0x00100513, { aliases = true })).to_match("li a0, 1$")
  end)

  it("shows branch targets at their addresses", function()
    expect(vmlab.disasm(vmlab.asm("1: j 1b"))).to_match("# 0x80000000$")
  end)

  it("takes vmlab.asm's symbols as they come, and labels the listing with them", function()
    -- The natural call passes asm's second result where the options go: it is marked as symbols.
    local listing = vmlab.disasm(vmlab.asm "start:\n  addi a0, zero, 1\nloop:\n  j loop\nfinish:")
    expect(listing).to_equal(table.concat({
      "start:",
      "0x80000000: 00100513  addi a0, zero, 1",
      "loop:",
      "0x80000004: 0000006f  jal zero, 0 # 0x80000004 <loop>",
      "finish:",
    }, "\n"))
    -- The same as an option, with a base; names outside the listing are left out.
    local code, symbols = vmlab.asm("a: nop\nb: beq a0, a1, a", { base = 0x1000 })
    symbols.elsewhere = 0x9000
    expect(vmlab.disasm(code, { base = 0x1000, symbols = symbols })).to_equal(
      "a:\n0x00001000: 00000013  addi zero, zero, 0\nb:\n0x00001004: feb50ee3  beq a0, a1, -4 # 0x1000 <a>")
    -- Without names, or with a table of option names only, nothing changes.
    expect(vmlab.disasm(vmlab.asm "nop")).to_equal("0x80000000: 00000013  addi zero, zero, 0")
    expect(vmlab.disasm(0x13, { base = 0 })).to_equal("0x00000000: 00000013  addi zero, zero, 0")
    -- A label that is spelt like an option is still a label: the mark tells, not the keys.
    expect(vmlab.disasm(vmlab.asm "base:\n  nop")).to_equal("base:\n0x80000000: 00000013  addi zero, zero, 0")
    expect(getmetatable(select(2, vmlab.asm "nop")).__name).to_equal("vmlab.Symbols")
  end)

  it("takes vm:symbols() as they come", function()
    local code, symbols = vmlab.asm "entry:\n  nop"
    local vm <close> = vmlab.vm { image = code, symbols = symbols }
    expect(vmlab.disasm(code, vm:symbols())).to_equal("entry:\n0x80000000: 00000013  addi zero, zero, 0")
  end)

  it("reads any other table as the options: a misspelt integer option raises", function()
    -- It used to be read as a symbol named 'bas', and the listing started at 0x80000000.
    expect(function() vmlab.disasm(0x13, { bas = 0x1000 }) end)
      .to_raise("unknown option 'bas' to 'disasm' %(expected one of: aliases, base, symbols; a table of names made in Lua goes in { symbols = ... }%)")
    -- Names made in Lua, or a copy of asm's (the mark does not survive it), go in 'symbols'.
    local code, symbols = vmlab.asm "start:\n  nop"
    local copy = {}
    for name, address in pairs(symbols) do copy[name] = address end
    expect(function() vmlab.disasm(code, copy) end).to_raise("unknown option 'start' to 'disasm'")
    expect(vmlab.disasm(code, { symbols = copy })).to_equal("start:\n0x80000000: 00000013  addi zero, zero, 0")
    -- A look-alike mark is not the mark.
    expect(function() vmlab.disasm(code, setmetatable({ start = 0 }, { __name = "vmlab.Symbols" })) end)
      .to_raise("unknown option 'start'")
  end)

  it("still rejects misspelt options, and bad symbols", function()
    expect(function() vmlab.disasm(0x13, { alias = true }) end)
      .to_raise("unknown option 'alias' to 'disasm' %(expected one of: aliases, base, symbols%)")
    expect(function() vmlab.disasm(0x13, { symbols = { a = "x" } }) end)
      .to_raise("bad argument #2 to 'disasm' %(option 'symbols': 'a' must be an address %(integer%), got string%)")
    expect(function() vmlab.disasm(0x13, "base") end)
      .to_raise("bad argument #2 to 'disasm' %(table expected, got string%)")
    -- A marked table given in place of the options is named as what it is, not as an option.
    local _, symbols = vmlab.asm "start: nop"
    symbols.later = "x"
    expect(function() vmlab.disasm(0x13, symbols) end)
      .to_raise("bad argument #2 to 'disasm' %(symbols: 'later' must be an address %(integer%), got string%)")
  end)

  it("marks bytes that are not instructions", function()
    expect(vmlab.disasm("\0\0\0\0")).to_match("%.half 0x0")
    expect(vmlab.disasm("\x13")).to_match("%.byte 0x13$")
  end)
end)
