-- Lab 00: hello, vmlab.
--
-- The first lab runs no machine yet: it shows how a lab is written. A lab is a Lua 5.4 script;
-- `vmlab run labs/00-hello.lua` runs it, and `vmlab test labs` runs it as part of the suite,
-- where each check it declares becomes one test result.
local vmlab = require "vmlab"

print("vmlab " .. vmlab.version)

-- Lua integers are signed 64-bit. A RISC-V address or register value above 2^63 prints as a
-- negative number with tostring(); vmlab.hex shows the bit pattern.
local ram_base = 0x80000000
local top_of_address_space = -1        -- all 64 bits set
print("RAM starts at " .. vmlab.hex(ram_base))
print("the last byte address is " .. vmlab.hex(top_of_address_space) .. ", which tostring shows as " .. tostring(top_of_address_space))
print("a page-table entry, 16 digits wide: " .. vmlab.hex(0x20000401 | 0xcf, 16))

-- Checks run after the script, in order. Each is one line of `vmlab test` output.
vmlab.check("hex prints the unsigned bit pattern", function()
  expect(vmlab.hex(-1)).to_equal("0xffffffffffffffff")
  expect(vmlab.hex(ram_base)).to_equal("0x80000000")
end)

vmlab.check("misuse raises at once with a precise message", function()
  expect(function() vmlab.hex("ram") end)
    .to_raise("bad argument #1 to 'hex' %(integer expected, got string%)")
end)
