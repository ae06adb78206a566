-- Every Lua example in README.md and labs/README.md runs, and prints what its `-->` comments say.
--
-- A block is run as a chunk of its own. A block that uses `vm` without making one (a fragment
-- that continues the example before it) gets a fresh tinyos machine, which is run after the
-- block so that its hooks and faults act. `print(...) --> text` lines are checked: the printed
-- line, with runs of blanks made one space, must equal the text, or start with it when the text
-- ends in "...". Other prints are captured, so the test's output stays the runner's.
local vmlab = require "vmlab"

local here = debug.getinfo(1, "S").source:match("^@(.*)$")
local root = here:match("^(.*)/Tests/lua/[^/]*$") or (here:match("^Tests/lua/") and ".") or error("cannot find the repository from " .. here)

local function read(path)
  local f <close> = assert(io.open(root .. "/" .. path, "rb"))
  return f:read("a")
end

-- The ```lua blocks of a Markdown file: { line = first code line, code = text }.
local function blocks(path)
  local found, current, n = {}, nil, 0
  for line in (read(path) .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if current then
      if line:match("^```") then
        found[#found + 1] = current
        current = nil
      else
        current.code[#current.code + 1] = line
      end
    elseif line:match("^```lua%s*$") then
      current = { line = n + 1, code = {} }
    end
  end
  assert(current == nil, path .. ": a ```lua block is not closed")
  return found
end

local function squeeze(text) return (text:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")) end

local function printed(...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  return table.concat(parts, "\t", 1, parts.n)
end

-- Rewrites `print(...) --> text` into a checked call; returns the chunk and the expectations.
local function instrument(code)
  local expected, out = {}, {}
  for i, line in ipairs(code) do
    local before, args, text = line:match("^(.-)print(%b())%s*%-%->%s*(.-)%s*$")
    if before then
      expected[#expected + 1] = { text = text, line = i }
      line = before .. "__doc_expect(" .. #expected .. ", " .. args:sub(2)
    end
    out[#out + 1] = line
  end
  return table.concat(out, "\n"), expected
end

local function run(path, block)
  local chunk, expected = instrument(block.code)
  local seen = {}
  local env = setmetatable({}, { __index = _G })
  env.print = function() end
  env.__doc_expect = function(index, ...)
    local want, got = expected[index], squeeze(printed(...))
    local prefix = want.text:match("^(.-)%s*%.%.%.$")
    local ok = prefix and got:sub(1, #squeeze(prefix)) == squeeze(prefix) or got == squeeze(want.text)
    if not ok then
      error(string.format("%s:%d: printed %q, the comment says %q", path, block.line + want.line - 1, got, want.text), 0)
    end
    seen[index] = true
  end
  -- A fragment's `vm`, made when the block first asks for it.
  local fragmentVM
  if not chunk:match("local%s+vm%s") then
    setmetatable(env, { __index = function(_, key)
      if key == "vm" then
        fragmentVM = fragmentVM or assert(vmlab.vm { kernel = vmlab.guest "tinyos", bootargs = "bench=syscall n=20" })
        return fragmentVM
      end
      return _G[key]
    end })
  end
  local f = assert(load(chunk, "@" .. path .. ":" .. block.line, "t", env))
  local ok, err = pcall(f)
  if fragmentVM then
    if ok then
      local stop = fragmentVM:run { max_instructions = 50e6 }
      expect(stop == "poweroff" or stop == "hook").to_be(true)
    end
    fragmentVM:close()
  end
  if not ok then error(err, 0) end
  for index, want in ipairs(expected) do
    if not seen[index] then
      error(string.format("%s:%d: this print never ran", path, block.line + want.line - 1), 0)
    end
  end
end

for _, path in ipairs { "README.md", "labs/README.md" } do
  describe(path .. "'s Lua examples", function()
    local found = blocks(path)
    it("are there", function() expect(#found > 0).to_be(true) end)
    for _, block in ipairs(found) do
      -- An example that declares checks runs while this file loads, where checks are declared.
      if table.concat(block.code, "\n"):match("vmlab%.check%(") then
        run(path, block)
        goto continue
      end
      it("run: the block at line " .. block.line, function()
        -- An example may write a file beside the script (`t:write_csv("results.csv")`).
        local leftovers = {}
        for name in table.concat(block.code, "\n"):gmatch("write_%a+%(\"([^\"]+)\"%)") do
          local existing = io.open(name)
          if existing then existing:close() else leftovers[#leftovers + 1] = name end
        end
        local ok, err = pcall(run, path, block)
        for _, name in ipairs(leftovers) do os.remove(name) end
        if not ok then error(err, 0) end
      end)
      ::continue::
    end
  end)
end
