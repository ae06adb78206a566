-- vmlab.hex: unsigned hexadecimal text of Lua's signed 64-bit integers.
local vmlab = require "vmlab"

describe("vmlab.hex", function()
  it("prints small values without padding", function()
    expect(vmlab.hex(0)).to_equal("0x0")
    expect(vmlab.hex(10)).to_equal("0xa")
    expect(vmlab.hex(0x1000)).to_equal("0x1000")
  end)

  it("prints negative integers as their two's-complement bit pattern", function()
    expect(vmlab.hex(-1)).to_equal("0xffffffffffffffff")
    expect(vmlab.hex(math.mininteger)).to_equal("0x8000000000000000")
    expect(vmlab.hex(math.maxinteger)).to_equal("0x7fffffffffffffff")
  end)

  it("pads to a minimum number of digits", function()
    expect(vmlab.hex(0xff, 4)).to_equal("0x00ff")
    expect(vmlab.hex(0x12345, 4)).to_equal("0x12345")
    expect(vmlab.hex(-1, 16)).to_equal("0xffffffffffffffff")
  end)

  it("accepts floats with an exact integer value", function()
    expect(vmlab.hex(2.0^40)).to_equal("0x10000000000")
  end)
end)

describe("vmlab.version", function()
  it("is a dotted version string", function()
    expect(vmlab.version).to_match("^%d+%.%d+%.%d+")
  end)

  it("is the module that require returns", function()
    expect(require("vmlab")).to_be(vmlab)
    expect(_G.vmlab).to_be(vmlab)
  end)
end)
