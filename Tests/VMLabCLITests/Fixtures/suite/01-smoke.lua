-- Fixture: a lab without checks; it passes by running without error.
local vmlab = require "vmlab"
print(vmlab.hex(4096))
