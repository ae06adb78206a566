-- vm:gdb: handing a VM to GDB from a script (a whole session is GDBStubTests' and
-- scripts/check-gdb's: a test cannot be its own debugger here).
local vmlab = require "vmlab"

describe("vm:gdb", function()
  it("refuses a port that is not one, and options it does not know", function()
    local vm <close> = assert(vmlab.vm { image = vmlab.asm "j ." })
    expect(function() vm:gdb { port = 70000 } end).to_raise("option 'port': must be 0 to 65535, got 70000")
    expect(function() vm:gdb { port = -1 } end).to_raise("option 'port': must be 0 to 65535, got %-1")
    expect(function() vm:gdb { host = "0.0.0.0" } end).to_raise("unknown option 'host'")
    vm:close()
    expect(function() vm:gdb {} end).to_raise("closed")
  end)
end)
