-- Lab 00: hello, vmlab.
--
-- The first lab shows how a lab is written, and runs a first tiny machine. A lab is a Lua 5.4 script;
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

-- And a first machine. vmlab.asm turns assembly into machine code (a Lua string of bytes); `image`
-- loads it at the RAM base, 0x80000000, where the hart starts in M-mode with no firmware. The
-- program writes to the UART's transmit register and powers off through the test finisher, the
-- two devices of QEMU's virt board that every guest can reach. `<close>` closes the machine when
-- the script ends; the checks below run after that, so they use what the script kept.
local code = vmlab.asm [[
    li   t0, 0x10000000        # UART 16550: transmit holding register
    la   t1, message
  1:lbu  t2, 0(t1)
    beqz t2, 2f
    sb   t2, 0(t0)
    addi t1, t1, 1
    j    1b
  2:li   t0, 0x100000          # sifive,test1 finisher: 0x5555 powers off with success
    li   t1, 0x5555
    sw   t1, 0(t0)
  3:j    3b
  message:
    .asciz "hello from RISC-V\n"
]]
local vm <close> = vmlab.vm { image = code }
local stop, details = vm:run { max_instructions = 10000 }
local output = vm:console()
io.write("the guest said: ", output)
print("it stopped with " .. stop .. " after " .. vm:stats().instructions .. " instructions")

vmlab.check("the guest prints through the UART and powers off", function()
  expect(stop).to_equal("poweroff")
  expect(details.exit_code).to_equal(0)
  expect(output).to_equal("hello from RISC-V\n")
end)
