-- vmlab.popek_goldberg: the checker as plain data, its configurations and holes, and its errors.
local vmlab = require "vmlab"

local function names(rows)
  local out = {}
  for _, r in ipairs(rows) do out[#out + 1] = r.instruction end
  return out
end

describe("vmlab.popek_goldberg", function()
  it("finds RV64 classically virtualisable with the guest kernel in U-mode", function()
    local r = vmlab.popek_goldberg()
    expect(r.virtualisable).to_be(true)
    expect(#r.violations).to_equal(0)
    expect(r.summary).to_match("^classically virtualisable: yes")
    expect(r.configuration.guest).to_equal("user")
    expect(r.configuration.holes).to_equal({})
    expect(r.violations_table).to_equal("")
    expect(r.table).to_match("| instructions | forms |")
    expect(r.full_table).to_match("`sret`")
    -- Every sensitive row trapped with illegal-instruction.
    local sensitive = 0
    for _, row in ipairs(r.rows) do
      if row.sensitive then
        sensitive = sensitive + 1
        expect(row.traps).to_be(true)
        expect(row.verdict).to_equal("traps")
        expect(row.cause).to_equal("illegal_instruction")
      end
    end
    expect(sensitive > 100).to_be(true)
    expect(r.summary).to_match(("all %d sensitive"):format(sensitive))
  end)

  it("names the rows by instruction text, class and CSR", function()
    local r = vmlab.popek_goldberg { guest = "user" }
    local by = {}
    for _, row in ipairs(r.rows) do by[row.instruction] = row end
    expect(by["sret"].class).to_equal("control")
    expect(by["sret"].name).to_equal("sret")
    expect(by["csrr t0, sstatus"].class).to_equal("behaviour")
    expect(by["csrr t0, sstatus"].writes).to_be(false)
    expect(by["csrw sstatus, t1"].writes).to_be(true)
    expect(by["csrw sstatus, t1"].name).to_equal("sstatus")
  end)

  it("reports a guest kernel in S-mode without TVM/TSR/TW as not virtualisable by trapping", function()
    local open = vmlab.popek_goldberg { guest = "supervisor" }
    expect(open.virtualisable).to_be(false)
    local bad = table.concat(names(open.violations), "; ")
    expect(bad).to_match("sret")
    expect(bad).to_match("sfence.vma")
    expect(bad).to_match("wfi")
    local closed = vmlab.popek_goldberg { guest = "supervisor", tvm = true, tsr = true, tw = true }
    expect(closed.virtualisable).to_be(true)
    expect(closed.configuration.tvm).to_be(true)
    expect(closed.configuration.description).to_match("TVM on, TSR on, TW on")
  end)

  it("counts counters U-mode may read as violations", function()
    local r = vmlab.popek_goldberg { mcounteren = 2, scounteren = 2 }
    expect(r.virtualisable).to_be(false)
    expect(table.concat(names(r.violations), "; ")).to_match("time")
    expect(r.configuration.mcounteren).to_equal(2)
  end)

  it("turns holes into violations, groups included", function()
    local r = vmlab.popek_goldberg { holes = { "csr_write:sstatus" } }
    expect(r.virtualisable).to_be(false)
    expect(r.configuration.holes).to_equal({ "csr_write:sstatus" })
    expect(#r.violations).to_equal(3)
    for _, v in ipairs(r.violations) do
      expect(v.name).to_equal("sstatus")
      expect(v.effect).to_match("dropped")
      expect(v.verdict).to_equal("does not trap")
    end
    expect(r.violations_table).to_match("sstatus")
    local g = vmlab.popek_goldberg { holes = { "privileged_instructions" } }
    expect(#g.configuration.holes).to_equal(4)
    expect(vmlab.popek_goldberg { holes = { "csr:0x100" } }.configuration.holes).to_equal({ "csr_read:sstatus", "csr_write:sstatus" })
  end)

  it("reads a VM's configuration: its holes, and U-mode under trap", function()
    local vm <close> = assert(vmlab.vm { mode = "trap", kernel = vmlab.guest "tinyos", holes = { "wfi" } })
    local r = vmlab.popek_goldberg { vm = vm }
    expect(r.configuration.guest).to_equal("user")
    expect(r.configuration.holes).to_equal({ "wfi" })
    expect(names(r.violations)).to_equal({ "wfi" })
    -- Explicit options override the VM's.
    expect(vmlab.popek_goldberg { vm = vm, holes = {} }.virtualisable).to_be(true)
    local native <close> = assert(vmlab.vm { kernel = vmlab.guest "tinyos" })
    expect(vmlab.popek_goldberg { vm = native }.configuration.guest).to_equal("supervisor")
  end)

  it("raises on misuse", function()
    expect(function() vmlab.popek_goldberg { holes = { "sret", "popf" } } end)
      .to_raise("unknown hole 'popf' %(valid: sret, mret, wfi, sfence_vma, csr_read:NAME")
    expect(function() vmlab.popek_goldberg { holes = { "csr_read:nosuchcsr" } } end).to_raise("unknown hole 'csr_read:nosuchcsr'")
    expect(function() vmlab.popek_goldberg { holes = { 3 } } end).to_raise("hole names %(strings%) expected, got number")
    expect(function() vmlab.popek_goldberg { guest = "machine" } end).to_raise("unknown guest .machine. %(expected one of: user, supervisor%)")
    expect(function() vmlab.popek_goldberg { tvm = 1 } end).to_raise("boolean expected")
    expect(function() vmlab.popek_goldberg { mcounteren = -1 } end).to_raise("must be 0 to 0xffffffff")
    expect(function() vmlab.popek_goldberg { tw = true, hole = { "sret" } } end).to_raise("hole")
    local vm = assert(vmlab.vm { kernel = vmlab.guest "tinyos" })
    vm:close()
    expect(function() vmlab.popek_goldberg { vm = vm } end).to_raise("the VM is closed")
    expect(function() vmlab.popek_goldberg { vm = "vm" } end).to_raise("option .vm.: vmlab.VM expected, got string")
  end)
end)
