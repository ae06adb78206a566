-- Seed lists, as the randomised tests take them from the environment to run other seeds than CI's:
-- "17", "1-2000", "3,17,40-50". A module, not a test file (the runner collects only *_test.lua).
local M = {}

-- The seeds `spec` lists; a malformed list raises, naming `variable`.
function M.parse(spec, variable)
  local seeds = {}
  for part in spec:gmatch("[^,%s]+") do
    local a, b = part:match("^(%d+)%-(%d+)$")
    if a then
      for s = tonumber(a), tonumber(b) do seeds[#seeds + 1] = s end
    elseif part:match("^%d+$") then
      seeds[#seeds + 1] = tonumber(part)
    else
      error(("%s: bad seed list %q (expected e.g. 17, 1-2000 or 3,17,40-50)"):format(variable, spec), 0)
    end
  end
  return seeds
end

-- The seeds environment variable `variable` lists, or nil when it is unset or empty.
function M.from(variable)
  local spec = os.getenv(variable)
  if spec and spec ~= "" then return M.parse(spec, variable) end
end

return M
