-- Fixture: two passing checks and one pending.
describe("arithmetic", function()
  it("adds", function() expect(1 + 1).to_equal(2) end)
  it("multiplies", function() expect(6 * 7).to_equal(42) end)
  it("divides by zero someday")
end)
