-- Fixture: not a test file nor a numbered lab, so discovery leaves it out.
error("helper.lua must not be run")
