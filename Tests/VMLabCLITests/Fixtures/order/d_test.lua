-- Fixture: a quick file.
it("is quick", function() end)
