---@meta vmlab
-- Generated from the vmlab API description (Sources/VMLab/Bindings). Do not edit;
-- regenerate with `vmlab annotations` or VMLAB_UPDATE_GOLDEN=1 swift test --filter VMLabTests.

---vmlab: a virtualisation laboratory. A simulated RISC-V machine and VMM driven from Lua.
---Integers are Lua integers (signed 64-bit); `vmlab.hex` prints them unsigned.
---@class vmlab
---@field version string The vmlab release, e.g. "0.1.0".
local vmlab = {}

---Runs `fn` after each check of the enclosing `describe`, even when the check failed.
---@param fn function
function vmlab.after_each(fn) end

---Runs `fn` before each check of the enclosing `describe` (and those nested in it).
---@param fn function
function vmlab.before_each(fn) end

---Declares a check in a lab; the same as `it`.
---@param name string
---@param body function
function vmlab.check(name, body) end

---Groups checks under a name; `body` runs at once to declare them.
---@param name string
---@param body function
function vmlab.describe(name, body) end

---Starts an expectation about `value`: `expect(x).to_equal(3)`.
---@param value any
---@return vmlab.Expectation
function vmlab.expect(value) end

---Unsigned hexadecimal text of a 64-bit integer, "0x"-prefixed: `vmlab.hex(-1)` is "0xffffffffffffffff".
---@param x integer The integer; negative values print as their two's-complement bit pattern.
---@param digits? integer Minimum number of hex digits (zero-padded), 1 to 16.
---@return string text
function vmlab.hex(x, digits) end

---Declares a check. Without `body` the check is pending (reported as skipped).
---@param name string
---@param body? function
function vmlab.it(name, body) end

---Declares a check that is not written yet (reported as skipped).
---@param name string
function vmlab.pending(name) end

---Matchers about one value. They are called with a dot: `expect(x).to_equal(y)`; a failed matcher raises an error naming the line of the check.
---@class vmlab.Expectation
---@field never vmlab.Expectation The same matchers, negated: `expect(x).never.to_equal(y)`.
---@field to_equal fun(expected: any) Equal values; tables are compared deeply.
---@field to_be fun(expected: any) The very same value (`==`).
---@field to_be_truthy fun() Neither nil nor false.
---@field to_be_falsy fun() nil or false.
---@field to_be_nil fun() nil.
---@field to_be_a fun(type_name: string) `type(value)` (or `math.type` for "integer"/"float") is `type_name`.
---@field to_match fun(pattern: string) A string in which the Lua pattern is found.
---@field to_raise fun(pattern?: string) A function that raises an error (whose message contains the Lua pattern, if given).
---@field to_be_near fun(expected: number, tolerance: number) A number within `tolerance` of `expected`.
local vmlab_Expectation = {}

after_each = vmlab.after_each
before_each = vmlab.before_each
describe = vmlab.describe
expect = vmlab.expect
it = vmlab.it
pending = vmlab.pending

return vmlab
