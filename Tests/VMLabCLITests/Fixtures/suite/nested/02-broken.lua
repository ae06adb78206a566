-- Fixture: a lab that fails while loading.
local vmlab = require "vmlab"
vmlab.hex("not a number")
