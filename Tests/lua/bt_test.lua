-- Mode "bt": the policy table bt={...} of vmlab.vm and vmlab.compare, and what labs/04 relies on.
local vmlab = require "vmlab"

local image = vmlab.asm("wfi")

describe("bt={...}", function()
  it("names the valid options when one is misspelt", function()
    expect(function() vmlab.vm { image = image, bt = { inlne = true } } end)
      .to_raise("unknown option 'inlne' in option 'bt' to 'vm' %(expected one of: adapt_threshold, afterburn, inline%)")
    expect(function() vmlab.vm { image = image, bt = { inline = 1 } } end)
      .to_raise("option 'bt': option 'inline': boolean expected, got number")
    expect(function() vmlab.vm { image = image, bt = { adapt_threshold = 1.5 } } end)
      .to_raise("option 'adapt_threshold': number has no integer representation")
    expect(function() vmlab.vm { image = image, bt = "fast" } end)
      .to_raise("option 'bt': table expected, got string")
  end)

  it("checks the adaptation threshold's range", function()
    expect(function() vmlab.vm { image = image, bt = { adapt_threshold = -1 } } end)
      .to_raise("bad argument #1 to 'vm' %(option 'bt.adapt_threshold': must be 0 %(never adapt%) to 1048576, got %-1%)")
    expect(function() vmlab.vm { image = image, bt = { adapt_threshold = 1 << 21 } } end)
      .to_raise("option 'bt.adapt_threshold': must be 0")
  end)

  it("needs mode bt", function()
    expect(function() vmlab.vm { image = image, bt = { inline = false } } end)
      .to_raise("option 'bt' needs mode \"bt\" %(got mode \"native\"%)")
    expect(function() vmlab.vm { image = image, mode = "trap", bt = {} } end)
      .to_raise("option 'bt' needs mode \"bt\" %(got mode \"trap\"%)")
    local host <close> = vmlab.host { memory = "256M" }
    expect(function() host:vm { image = image, mode = "interpret", bt = { afterburn = true } } end)
      .to_raise("option 'bt' needs mode \"bt\" %(got mode \"interpret\"%)")
  end)
end)
