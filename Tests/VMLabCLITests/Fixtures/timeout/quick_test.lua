-- Fixture: finishes at once, beside a file that times out.
it("is quick", function() expect(2).to_equal(2) end)
