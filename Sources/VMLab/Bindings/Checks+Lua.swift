/// The Lua half of the check API (see Checks.swift). It runs once per state with a table of host
/// functions, adds its functions to the (already loaded) vmlab module, and returns the session:
/// `count()` and `run(prefix, filter, report, starting, after)`.
extension Checks {
    static let luaSource = #"""
    local host = ...
    local vmlab = require "vmlab"
    local clock = host.clock

    -- Argument errors follow the same rule as the Swift bindings.
    local function check_arg(fname, i, value, expected, optional)
      if optional and value == nil then return end
      if type(value) ~= expected then
        error(("bad argument #%d to '%s' (%s expected, got %s)")
          :format(i, fname, expected, value == nil and "no value" or type(value)), 3)
      end
    end

    -- A block is a describe scope: a name, its parent and its hooks.
    local root = { names = {}, before = {}, after = {} }
    local current = root
    local checks = {}

    local running = false   -- true while checks run: declaring one then is a mistake

    -- `reason`, for a skipped check, is why (shown beneath its SKIP line); nil when none was given.
    local function declare(name, body, skipped, reason)
      if running then error("checks are declared while the file loads, not inside another check", 3) end
      local names = table.move(current.names, 1, #current.names, 1, {})
      names[#names + 1] = name
      checks[#checks + 1] = { names = names, body = body, skipped = skipped, reason = reason, block = current }
    end

    function vmlab.describe(name, body)
      check_arg("describe", 1, name, "string")
      check_arg("describe", 2, body, "function")
      local names = table.move(current.names, 1, #current.names, 1, {})
      names[#names + 1] = name
      local block = { names = names, parent = current, before = {}, after = {} }
      local outer = current
      current = block
      -- Not protected: an error here fails the whole file, and its traceback should show where.
      body()
      current = outer
    end

    function vmlab.it(name, body)
      check_arg("it", 1, name, "string")
      check_arg("it", 2, body, "function", true)
      declare(name, body, body == nil)
    end

    function vmlab.check(name, body)
      check_arg("check", 1, name, "string")
      check_arg("check", 2, body, "function")
      declare(name, body, false)
    end

    function vmlab.pending(name, reason)
      check_arg("pending", 1, name, "string")
      check_arg("pending", 2, reason, "string", true)
      declare(name, nil, true, reason)
    end

    function vmlab.before_each(fn)
      check_arg("before_each", 1, fn, "function")
      table.insert(current.before, fn)
    end

    function vmlab.after_each(fn)
      check_arg("after_each", 1, fn, "function")
      table.insert(current.after, fn)
    end

    -- Values in messages: strings quoted, tables shown (bounded), numbers as Lua prints them.
    local function show(v, depth, seen)
      depth, seen = depth or 0, seen or {}
      if type(v) == "string" then return (("%q"):format(v):gsub("\\\n", "\\n")) end
      if type(v) ~= "table" or getmetatable(v) ~= nil then return tostring(v) end
      if seen[v] then return "<cycle>" end
      if depth >= 3 then return "{...}" end
      seen[v] = true
      local keys, n = {}, #v
      for k in pairs(v) do
        if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
      end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      local parts = {}
      for i = 1, n do parts[#parts + 1] = show(v[i], depth + 1, seen) end
      for _, k in ipairs(keys) do
        local key = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or ("[" .. show(k, depth + 1, seen) .. "]")
        parts[#parts + 1] = key .. " = " .. show(v[k], depth + 1, seen)
      end
      seen[v] = nil
      return "{" .. table.concat(parts, ", ") .. "}"
    end

    -- Deep equality; returns false and the path of the first difference.
    local function equal(a, b, path, seen)
      if a == b then return true end
      if type(a) ~= "table" or type(b) ~= "table" then return false, path end
      seen = seen or {}
      if seen[a] == b then return true end
      seen[a] = b
      for k, v in pairs(a) do
        local ok, where = equal(v, b[k], path .. "[" .. show(k) .. "]", seen)
        if not ok then return false, where end
      end
      for k in pairs(b) do
        if a[k] == nil then return false, path .. "[" .. show(k) .. "]" end
      end
      return true
    end

    -- A failed expectation: an error at the line of the check that called the matcher.
    local Failure = {}
    Failure.__index = Failure
    Failure.__tostring = function(f) return f.message end

    -- `level` is the stack level of the check's own code, counted from `fail`.
    local function fail(message, level)
      local info = debug.getinfo(level, "Sl")
      local where = info and info.currentline > 0 and (info.short_src .. ":" .. info.currentline .. ": ") or ""
      error(setmetatable({ message = where .. message }, Failure), 0)
    end

    local function matchers(actual, negated)
      local m = {}
      local function verdict(ok, message)
        if negated then ok = not ok end
        if not ok then fail((negated and "expected not: " or "expected: ") .. message, 4) end
      end
      function m.to_equal(expected)
        local ok, where = equal(actual, expected, "")
        local detail = (where and where ~= "") and (" (first difference at " .. where .. ")") or ""
        verdict(ok, show(actual) .. " to equal " .. show(expected) .. (ok and "" or detail))
      end
      function m.to_be(expected) verdict(actual == expected, show(actual) .. " to be " .. show(expected)) end
      function m.to_be_truthy() verdict(actual ~= nil and actual ~= false, show(actual) .. " to be truthy") end
      function m.to_be_falsy() verdict(actual == nil or actual == false, show(actual) .. " to be falsy") end
      function m.to_be_nil() verdict(actual == nil, show(actual) .. " to be nil") end
      function m.to_be_a(type_name)
        check_arg("to_be_a", 1, type_name, "string")
        local t = type(actual)
        verdict(t == type_name or math.type(actual) == type_name, show(actual) .. " to be a " .. type_name)
      end
      function m.to_match(pattern)
        check_arg("to_match", 1, pattern, "string")
        verdict(type(actual) == "string" and actual:find(pattern) ~= nil,
          show(actual) .. " to match " .. show(pattern))
      end
      function m.to_raise(pattern)
        check_arg("to_raise", 1, pattern, "string", true)
        if type(actual) ~= "function" then fail("expected a function to call, got " .. type(actual), 3) end
        local ok, err = pcall(actual)
        local message = ok and "" or tostring(err)
        if ok then
          verdict(false, "function to raise an error" .. (pattern and (" matching " .. show(pattern)) or "") .. ", but it returned")
        elseif pattern then
          verdict(message:find(pattern) ~= nil, "error matching " .. show(pattern) .. ", got " .. show(message))
        else
          verdict(true, "function to raise an error, but it raised " .. show(message))
        end
      end
      function m.to_be_near(expected, tolerance)
        check_arg("to_be_near", 1, expected, "number")
        check_arg("to_be_near", 2, tolerance, "number")
        verdict(type(actual) == "number" and math.abs(actual - expected) <= tolerance,
          show(actual) .. " to be within " .. tostring(tolerance) .. " of " .. tostring(expected))
      end
      return m
    end

    function vmlab.expect(value)
      local m = matchers(value, false)
      m.never = matchers(value, true)
      return m
    end

    -- Errors other than failed expectations carry a traceback of the check.
    local function handler(err)
      if getmetatable(err) == Failure then return err.message end
      -- The frames below the check are the runner's own; they say nothing about the failure.
      local trace = debug.traceback(tostring(err), 2)
      local cut = trace:find("\n\t[^\n]*vmlab%.checks:")
      return cut and trace:sub(1, cut - 1) or trace
    end

    local function hooks(block, key)
      local chain = {}
      while block do table.insert(chain, 1, block) block = block.parent end
      local list = {}
      for _, b in ipairs(chain) do
        for _, fn in ipairs(b[key]) do list[#list + 1] = fn end
      end
      return list
    end

    local session = {}

    function session.count() return #checks end

    -- Runs the declared checks whose full name ("prefix › a › b") contains the Lua pattern
    -- `filter` (all when nil); report(names, status, seconds, message) is called for each (the
    -- message of a skipped check is its reason), and starting(names, position), when given,
    -- before each check runs. `position` counts every declared check from 1, filtered or not, and
    -- the first `after` (0 when nil) are passed over: a resumed worker picks up after the check
    -- that ended the last one.
    function session.run(prefix, filter, report, starting, after)
      running = true
      for position = (after or 0) + 1, #checks do
        local c = checks[position]
        local full = prefix .. " › " .. table.concat(c.names, " › ")
        if filter == nil or full:find(filter) then
          if c.skipped then
            report(c.names, "skip", 0, c.reason)
          else
            if starting then starting(c.names, position) end
            local started = clock()
            local ok, err = xpcall(function()
              for _, fn in ipairs(hooks(c.block, "before")) do fn() end
              c.body()
            end, handler)
            local afters = hooks(c.block, "after")
            for i = #afters, 1, -1 do
              local after_ok, after_err = xpcall(afters[i], handler)
              if ok and not after_ok then ok, err = false, after_err end
            end
            report(c.names, ok and "pass" or "fail", clock() - started, (not ok) and tostring(err) or nil)
          end
        end
      end
    end

    return session
    """#
}
