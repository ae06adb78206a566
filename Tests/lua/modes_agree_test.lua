-- Every technique runs the guest as the machine would: the same instructions retire. (Each
-- technique's own tests check its output; this file checks the counts that make modes
-- comparable.)
local vmlab = require "vmlab"

local MODES = { "native", "interpret", "trap", "bt", "pv" }

describe("instruction counts", function()
  it("count an SBI call that returns as an exception taken, never as retired", function()
    -- Natively an ecall to the firmware is an exception (minstret does not count ECALL), under
    -- every technique too: bt's ecall callout used to retire it, so the guest saw one more.
    local code, symbols = vmlab.asm([[
      csrr s0, instret
      li a7, 0x10            # SBI base extension
      li a6, 0               # sbi_get_spec_version: returns
      ecall
      csrr s1, instret
    done:
      j done
    ]], { base = 0x80200000 })
    local seen = {}
    for _, mode in ipairs(MODES) do
      for _, bt in ipairs(mode == "bt" and { {}, { afterburn = true } } or { false }) do
        local vm <close> = assert(vmlab.vm { mode = mode, image = code, symbols = symbols, firmware = "builtin",
                                             bt = bt or nil })
        expect(vm:run { to = "done" }).to_equal("reached")
        seen[#seen + 1] = { mode, vm:read("s1") - vm:read("s0"), vm:stats().instructions }
      end
    end
    expect(seen).to_equal({ { "native", 3, 4 }, { "interpret", 3, 4 }, { "trap", 3, 4 }, { "bt", 3, 4 },
                            { "bt", 3, 4 }, { "pv", 3, 4 } })
  end)
end)
