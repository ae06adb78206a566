-- Fixture: one check finishes, the next never does; the runner must kill the worker.
it("finishes", function() expect(1).to_equal(1) end)
it("spins forever", function() while true do end end)
