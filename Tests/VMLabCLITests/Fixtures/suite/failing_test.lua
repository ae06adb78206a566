-- Fixture: a deliberate failure, a runtime error and a passing check.
print("output from failing_test.lua")
describe("deliberate", function()
  it("fails an expectation", function() expect(1).to_equal(2) end)
  it("raises an error", function() local t = nil; return t.field end)
  it("passes", function() expect(true).to_be_truthy() end)
end)
