-- Fixture: a check that makes temporary files, as random_programs_test does for QEMU, and spins
-- until the time-out kills its worker.
it("leaves temporary files behind", function()
  local path = os.tmpname()
  local f = assert(io.open(path .. ".err", "w"))
  f:close()
  print("temporary file: " .. path)
  io.stdout:flush()
  while true do end
end)
