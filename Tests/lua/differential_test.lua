-- The differential programs of labs/guests/differential print a hash per operation (and rounding
-- mode) of thousands of random cases; expected/*.out is what QEMU prints for the same ELF
-- (labs/guests/differential/check-qemu.sh keeps it so). vmlab must print the same, line for line,
-- on the bare machine and under the VMM's software CPU.
local vmlab = require "vmlab"

local here = debug.getinfo(1, "S").source:match("^@(.*)$")
local root = here:match("^(.*)/Tests/lua/[^/]*$") or (here:match("^Tests/lua/") and ".") or error("cannot find the repository from " .. here)

local function expected(program)
  local f <close> = assert(io.open(root .. "/labs/guests/differential/expected/" .. program .. ".out", "rb"))
  return f:read("a")
end

-- The first line that differs, for a message that names the operation.
local function first_difference(got, want)
  local g, w = {}, {}
  for line in got:gmatch("[^\n]+") do g[#g + 1] = line end
  for line in want:gmatch("[^\n]+") do w[#w + 1] = line end
  for i = 1, math.max(#g, #w) do
    if g[i] ~= w[i] then return ('line %d: got "%s", QEMU printed "%s"'):format(i, g[i] or "", w[i] or "") end
  end
end

describe("random operations agree with QEMU", function()
  for _, program in ipairs { "fp_random", "int_random" } do
    for _, mode in ipairs { "native", "interpret" } do
      it(program .. " under " .. mode, function()
        local vm <close> = assert(vmlab.vm { mode = mode, kernel = vmlab.guest("differential/" .. program) })
        local stop, details = vm:run { max_instructions = 100000000 }
        expect(stop).to_equal("poweroff")
        expect(details.exit_code).to_equal(0)
        local got, want = vm:console(), expected(program)
        expect(first_difference(got, want)).to_equal(nil)
        expect(got).to_equal(want)
      end)
    end
  end
end)
