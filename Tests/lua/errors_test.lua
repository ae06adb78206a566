-- Misuse raises at once, with Lua's standard messages naming the function as it was called.
local vmlab = require "vmlab"

describe("argument errors", function()
  it("name the argument, the function and the types", function()
    local ok, err = pcall(vmlab.hex)
    expect(ok).to_be(false)
    expect(err).to_match("bad argument #1 to '.*hex' %(integer expected, got no value%)")
    expect(function() vmlab.hex(nil) end).to_raise("%(integer expected, got nil%)")
    expect(function() vmlab.hex({}) end).to_raise("%(integer expected, got table%)")
    expect(function() vmlab.hex(1, "wide") end).to_raise("bad argument #2 to 'hex' %(integer expected, got string%)")
  end)

  it("say when a number has no integer representation", function()
    expect(function() vmlab.hex(1.5) end).to_raise("number has no integer representation")
  end)

  it("name the local a function was called through", function()
    local h = vmlab.hex
    expect(function() h(true) end).to_raise("bad argument #1 to 'h' %(integer expected, got boolean%)")
  end)

  it("name a method passed to pcall as it is declared, counting self as argument 1", function()
    local vm <close> = vmlab.vm { image = vmlab.asm "1: j 1b" }
    local ok, err = pcall(vm.read_memory, vm, "x")
    expect(ok).to_be(false)
    expect(err).to_be("bad argument #2 to 'read_memory' (integer expected, got string)")
    expect(select(2, pcall(vm.run, vm, 5))).to_be("bad argument #2 to 'run' (table expected, got number)")
    expect(select(2, pcall(vm.run, 5))).to_be("bad argument #1 to 'run' (vmlab.VM expected, got number)")
    -- Called as a method, self is not counted.
    expect(function() vm:read_memory("x") end).to_raise("bad argument #1 to 'read_memory' %(")
  end)

  it("carry the position of the calling line", function()
    local ok, err = pcall(function()
      vmlab.hex("x")   -- this line
    end)
    local line = debug.getinfo(1, "l").currentline - 2
    expect(err).to_match("errors_test.lua:" .. line .. ": ")
  end)

  it("check values as well as types", function()
    expect(function() vmlab.hex(1, 17) end).to_raise("digits must be between 1 and 16, got 17")
    expect(function() vmlab.hex(1, 0) end).to_raise("bad argument #2 to 'hex'")
  end)
end)

describe("the check API", function()
  it("compares tables deeply", function()
    expect({ 1, 2, { a = "x" } }).to_equal({ 1, 2, { a = "x" } })
    expect({ 1, 2 }).never.to_equal({ 1, 3 })
  end)

  it("reports the first difference", function()
    expect(function() expect({ a = { b = 1 } }).to_equal({ a = { b = 2 } }) end)
      .to_raise('first difference at %["a"%]%["b"%]')
  end)

  it("has near, truthy, falsy, nil and type matchers", function()
    expect(0.1 + 0.2).to_be_near(0.3, 1e-12)
    expect(0).to_be_truthy()
    expect(false).to_be_falsy()
    expect(nil).to_be_nil()
    expect(3).to_be_a("integer")
    expect(3.5).to_be_a("float")
    expect("s").to_be_a("string")
  end)

  it("rejects misuse of its own functions", function()
    expect(function() describe(42, function() end) end)
      .to_raise("bad argument #1 to 'describe' %(string expected, got number%)")
    expect(function() expect(1).to_match(nil) end)
      .to_raise("bad argument #1 to 'to_match' %(string expected, got no value%)")
  end)

  it("reports failures at the line of the check", function()
    local ok, err = pcall(function() expect(1).to_equal(2) end)
    expect(ok).to_be(false)
    expect(tostring(err)).to_match("errors_test.lua:%d+: expected: 1 to equal 2")
  end)
end)
