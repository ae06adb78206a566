-- A tinyos VM running one benchmark, and the line it prints at the end: what the trap tests
-- (trap_test.lua, trap_views_test.lua) build their VMs from. A module, not a test file (the
-- runner collects only *_test.lua).
local vmlab = require "vmlab"

local M = {}

-- The tinyos kernel (its path), for VMs the tests build themselves.
M.kernel = vmlab.guest "tinyos"
local kernel = M.kernel

-- A VM of tinyos under `mode` running `bench` five times; `extra` adds or overrides options.
function M.vm(mode, bench, extra)
  local o = { mode = mode, kernel = kernel, bootargs = ("bench=%s n=5"):format(bench) }
  for k, v in pairs(extra or {}) do o[k] = v end
  return assert(vmlab.vm(o))
end

-- The benchmark's result line ("bench=... iterations=..."), nil before tinyos printed it.
function M.result(vm) return vm:console():match("bench=%w+ iterations[^\r\n]*") end

-- A VM's technique counters (`vm:stats().technique`) without the engine's own: under bt the block
-- cache's counts and the blocks built from translated code, which the engine builds again after a
-- restore (the blocks are the host's; nothing is charged for them). What a restored VM must
-- match.
function M.modelled(technique)
  local t = {}
  for group, counters in pairs(technique) do
    if group ~= "block_cache" then
      t[group] = {}
      for k, v in pairs(counters) do if k ~= "blocks_translated" then t[group][k] = v end end
    end
  end
  return t
end

return M
