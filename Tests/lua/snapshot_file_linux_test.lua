-- Snapshot files of Linux mid-boot (snapshot_file_test.lua has the rest): a file carries its
-- shadow page tables (trap), the PLIC, the timers and several harts (native) to another VM, which
-- boots on to power off as the first did. In a file of their own: each boots Linux twice, and a
-- test file's worker has a minute.
local vmlab = require "vmlab"

describe("snapshot files", function()
  for _, case in ipairs { { mode = "trap", harts = 1 }, { mode = "native", harts = 2 } } do
    it(("carry Linux mid-boot through a file to power off as it would have (%s, %d hart%s)"):format(case.mode, case.harts, case.harts > 1 and "s" or ""), function()
      local function vm() return assert(vmlab.vm { kernel = vmlab.guest "linux", mode = case.mode, harts = case.harts }) end
      local a <close> = vm()
      expect((a:run { max_instructions = 40e6 })).to_equal("budget")
      local path = os.tmpname()
      a:snapshot():save(path)
      expect((a:run { max_instructions = 400e6 })).to_equal("poweroff")
      local b <close> = vm()
      b:restore(vmlab.load_snapshot(path))
      os.remove(path)
      expect((b:run { max_instructions = 400e6 })).to_equal("poweroff")
      expect(b:console()).to_match("init: all checks passed")
      expect(b:console()).to_equal(a:console())
      expect(b:stats().cycles).to_equal(a:stats().cycles)
      expect(b:stats().technique).to_equal(a:stats().technique)
    end)
  end
end)
