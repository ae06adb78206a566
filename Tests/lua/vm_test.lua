-- vmlab.vm: building a machine, running it, and reading what it did.
local vmlab = require "vmlab"
local sv39_kernel = require "sv39_kernel"

-- Powers off through the test finisher (0x100000) with exit code `code` (0 = pass).
local function finisher_program(code)
  local value = code == 0 and 0x5555 or ((code << 16) | 0x3333)
  return vmlab.asm(([[
    li a0, 7
    li t0, 0x100000
    li t1, %d
    sw t1, 0(t0)
  1: j 1b
  ]]):format(value))
end

-- A kernel that turns paging on without mapping itself (the classic bug) and has no stvec.
local function unmapping_kernel()
  return vmlab.asm [[
    la t0, table
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw stvec, zero
    csrw satp, t0      # Sv39 on an empty table: the next fetch faults, and so does stvec's
    nop
    .balign 4096
  table:
    .zero 4096
  ]]
end

describe("a vmlab.asm guest", function()
  it("runs in M-mode from 0x80000000 and powers off with its exit code", function()
    local vm <close> = assert(vmlab.vm { image = finisher_program(0) })
    expect(vm:read("pc")).to_equal(0x80000000)
    expect(vm:read("priv")).to_equal("M")
    local stop, details = vm:run { max_instructions = 1000 }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(0)
    expect(vm:read("a0")).to_equal(7)
    -- A powered-off machine stays off.
    expect((vm:run())).to_equal("poweroff")
  end)

  it("takes vmlab.asm's symbols, for breakpoints and run-to by label", function()
    local code, symbols = vmlab.asm [[
        li a0, 0
    loop:
        addi a0, a0, 1
    check:
        li t0, 5
        bne a0, t0, loop
    done:
        j done
    ]]
    local vm <close> = assert(vmlab.vm { image = code, symbols = symbols })
    expect(vm:symbols().check).to_equal(symbols.check)
    vm:breakpoint("check")
    local stop, details = vm:run { max_instructions = 1000 }
    expect(stop).to_equal("breakpoint")
    expect(details.pc).to_equal(symbols.check)
    expect(vm:read("a0")).to_equal(1)
    expect((vm:run { to = "done", max_instructions = 1000 })).to_equal("breakpoint")   -- check again, a0 = 2
    expect(vm:read("a0")).to_equal(2)
    -- Without them an image has no names.
    local bare <close> = assert(vmlab.vm { image = code })
    expect(function() bare:breakpoint("check") end).to_raise("unknown symbol 'check' %(the VM has 0 symbols")
  end)

  it("checks the symbols it is given", function()
    local code = vmlab.asm "nop"
    expect(function() vmlab.vm { image = code, symbols = { [1] = 0x80000000 } } end)
      .to_raise("option 'symbols': names must be non%-empty strings, got number")
    expect(function() vmlab.vm { image = code, symbols = { start = "here" } } end)
      .to_raise("option 'symbols': 'start' must be an address %(integer%), got string")
    expect(function() vmlab.vm { image = code, symbols = "start" } end).to_raise("option 'symbols'")
  end)

  it("reports a failing exit code", function()
    local vm <close> = assert(vmlab.vm { image = finisher_program(3) })
    local stop, details = vm:run { max_instructions = 1000 }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(3)
  end)

  it("stops at the budget and can run on, one step at a time", function()
    local vm <close> = assert(vmlab.vm { image = vmlab.asm("1: addi a0, a0, 1\n j 1b") })
    local stop, details = vm:run { max_instructions = 10 }
    expect(stop).to_equal("budget")
    expect(details.instructions).to_equal(10)
    expect(vm:read("a0")).to_equal(5)
    expect((vm:step())).to_equal("budget")
    expect(vm:read("a0")).to_equal(6)
    expect(vm:stats().instructions).to_equal(11)
  end)

  it("steps the vCPU it names, the others taking their turns, and says when it waits in wfi", function()
    -- Hart 0 counts in a0; hart 1 counts in a1, or sleeps in wfi with no interrupt enabled.
    local function program(second)
      return vmlab.asm("csrr t0, mhartid\n bnez t0, 2f\n 1: addi a0, a0, 1\n j 1b\n 2: " .. second)
    end
    local vm <close> = assert(vmlab.vm { image = program("addi a1, a1, 1\n j 2b"), harts = 2 })
    for _, vcpu in ipairs { 1, 0, 1, 1 } do
      local before = vm:stats "instructions"
      local pc = vm:read("pc", { hart = vcpu })
      local other = vm:read("pc", { hart = 1 - vcpu })
      local stop, details = vm:step { vcpu = vcpu }
      expect(stop).to_equal("budget")
      expect(details.stepped).to_be(true)
      expect(details.hart).to_equal(vcpu)
      expect(vm:read("pc", { hart = vcpu })).never.to_equal(pc)
      -- The whole step counted; the other vCPU moved only if its turn came first.
      expect(details.instructions).to_equal(vm:stats "instructions" - before)
      if details.instructions == 1 then expect(vm:read("pc", { hart = 1 - vcpu })).to_equal(other) end
    end
    expect(vm:step()).to_equal("budget")   -- a plain step: no 'stepped'
    expect(select(2, vm:step()).stepped).to_be_nil()

    local sleeper <close> = assert(vmlab.vm { image = program("wfi\n j 2b"), harts = 2 })
    sleeper:run { max_instructions = 100 }
    local stop, details = sleeper:step { vcpu = 1, max_instructions = 500 }
    expect(stop).to_equal("budget")
    expect(details.stepped).to_be(false)
    expect(details.instructions).to_equal(500)
    expect(details.message).to_match("vCPU 1 executed no instruction while the others ran 500")
    -- Alone, its wfi executed, nothing can wake it: the machine is idle, and the next step ends
    -- at once without the vCPU moving.
    local alone <close> = assert(vmlab.vm { image = vmlab.asm("wfi\n j 0") })
    stop, details = alone:step { vcpu = 0 }
    expect(stop).to_equal("idle")
    expect(details.stepped).to_be(true)
    stop, details = alone:step { vcpu = 0 }
    expect(stop).to_equal("idle")
    expect(details.stepped).to_be(false)
    expect(details.instructions).to_equal(0)

    expect(function() vm:step { vcpu = 2 } end).to_raise("no vCPU 2 %(the VM has 2%)")
    expect(function() vm:step { max_instructions = 5 } end).to_raise("option 'max_instructions' needs 'vcpu'")
    expect(function() vm:step { vcpu = 0, max_instructions = 0 } end).to_raise("must be positive")
  end)

  it("halts when its trap vector cannot be fetched, naming the trap that led there", function()
    local vm <close> = assert(vmlab.vm { image = vmlab.asm(".word 0") })   -- mtvec is 0 at reset
    local stop, details = vm:run { max_instructions = 1000000 }
    expect(stop).to_equal("halted")
    expect(details.hart).to_equal(0)
    expect(details.pc).to_equal(0)
    expect(details.message).to_match("hart 0 is stuck: its trap vector 0x0 %(mtvec%) cannot be fetched")
    expect(details.message).to_match("illegal_instruction at pc 0x80000000")
    expect(vm:stats().traps.by_cause.instruction_access_fault).to_equal(1)
  end)

  it("halts the same way under every mode when a kernel's stvec cannot be fetched", function()
    local kernel = vmlab.asm(".word 0")   -- illegal, and stvec is 0, where the board has nothing
    for _, mode in ipairs { "native", "interpret", "trap", "bt", "pv", "hw" } do
      local vm <close> = assert(vmlab.vm { mode = mode, image = kernel, firmware = "builtin" })
      local stop, details = vm:run { max_instructions = 1000000 }
      expect(stop).to_equal("halted")
      expect(details.pc).to_equal(0)
      -- Under hw the guest's stvec is the hart's vstvec.
      local register = mode == "hw" and "vstvec" or "stvec"
      expect(details.message).to_equal("hart 0 is stuck: its trap vector 0x0 (" .. register .. ") cannot be fetched (instruction access fault), "
        .. "so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80200000 (tval 0x0)")
      expect(vm:stats().instructions).to_equal(0)
    end
  end)

  it("halts, without a budget, a kernel that turns paging on without mapping itself", function()
    local kernel = unmapping_kernel()
    for _, mode in ipairs { "native", "interpret", "trap", "bt", "hw" } do
      local vm <close> = assert(vmlab.vm { mode = mode, image = kernel, firmware = "builtin" })
      local stop, details = vm:run()
      expect(stop).to_equal("halted")
      expect(details.pc).to_equal(0)
      local register = mode == "hw" and "vstvec" or "stvec"
      expect(details.message).to_equal("hart 0 is stuck: its trap vector 0x0 (" .. register .. ") cannot be fetched (instruction page fault), "
        .. "so every trap returns to it (with translation on: it came back 100000 times in a row, no instruction retired); "
        .. "the trap that led there: instruction_page_fault at pc 0x80200020 (tval 0x80200020)")
      expect(vm:stats().instructions).to_equal(8)   -- la and li are two each
    end
  end)

  it("halts a machine with several harts once none can run on, naming them", function()
    -- Both harts run the image: both stuck on mtvec. The run ends at the first trap that finds
    -- every hart stuck (each reports at every trap of its loop) with nothing retired since: here
    -- hart 1's first, as neither retired anything.
    local vm <close> = assert(vmlab.vm { image = vmlab.asm(".word 0"), harts = 2 })
    local stop, details = vm:run { max_instructions = 1000000 }
    expect(stop).to_equal("halted")
    expect(details.hart).to_equal(1)
    expect(details.message).to_equal("hart 1 is stuck: its trap vector 0x0 (mtvec) cannot be fetched (instruction access fault), "
      .. "so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80000000 (tval 0x0); "
      .. "and no other hart can run on: hart 0 is stuck on its own trap vector")
    -- A kernel that crashes before starting its other harts (SBI leaves them stopped), without a
    -- budget; with translation on, once its loop has come back 100000 times.
    local kernel = unmapping_kernel()
    for _, mode in ipairs { "native", "interpret", "hw" } do
      local vm <close> = assert(vmlab.vm { mode = mode, image = kernel, firmware = "builtin", harts = 4 })
      local stop, details = vm:run()
      expect(stop).to_equal("halted")
      expect(details.hart).to_equal(0)
      expect(details.message).to_match("^hart 0 is stuck: its trap vector 0x0 %(v?stvec%) cannot be fetched %(instruction page fault%)")
      expect(details.message).to_match("; and no other hart can run on: harts 1, 2, 3 are stopped$")
    end
    -- One hart stuck while another still runs: the run goes on (the other may finish the program).
    local split <close> = assert(vmlab.vm { harts = 2, image = vmlab.asm [[
      csrr t0, mhartid
      bnez t0, 1f
      .word 0
    1:
      addi a0, a0, 1
      j 1b
    ]] })
    expect((split:run { max_instructions = 100000 })).to_equal("budget")
    expect(split:read("a0", { hart = 1 }) > 0).to_equal(true)
  end)

  it("uses its budget under every mode when its trap handler traps again and again", function()
    -- stvec is a privileged instruction S-mode may not execute: each trap comes back to it. Under
    -- bt the VMM delivers it from a callout, in software; those count against the budget too.
    for _, handler in ipairs { "mret", "csrr t1, mepc" } do
      local kernel = vmlab.asm("la t0, 1f\ncsrw stvec, t0\n1: " .. handler)
      for _, mode in ipairs { "native", "interpret", "trap", "bt", "pv", "hw" } do
        local vm <close> = assert(vmlab.vm { mode = mode, image = kernel, firmware = "builtin" })
        expect((vm:run { max_instructions = 1000 })).to_equal("budget")
        expect(vm:read("pc")).to_equal(0x8020000c)   -- the handler, trapping
      end
    end
  end)

  it("goes idle when it waits for an interrupt that cannot come", function()
    local vm <close> = assert(vmlab.vm { image = vmlab.asm("wfi\n1: j 1b") })
    expect((vm:run { max_instructions = 1000 })).to_equal("idle")
  end)

  it("prints on the UART", function()
    local vm <close> = assert(vmlab.vm { image = vmlab.asm [[
        li t0, 0x10000000
        la t1, text
      1:lbu t2, 0(t1)
        beqz t2, 2f
        sb t2, 0(t0)
        addi t1, t1, 1
        j 1b
      2:wfi
        j 2b
      text: .asciz "hi\n"
    ]] })
    vm:run { max_instructions = 1000 }
    expect(vm:console()).to_equal("hi\n")
  end)
end)

describe("registers and memory", function()
  it("reads and writes registers by every name", function()
    local vm <close> = assert(vmlab.vm { image = finisher_program(0) })
    vm:write("a0", -1)
    expect(vm:read("x10")).to_equal(-1)
    expect(vmlab.hex(vm:read("a0"))).to_equal("0xffffffffffffffff")
    vm:write("x0", 5)
    expect(vm:read("zero")).to_equal(0)
    vm:write("csr.mscratch", 0x1234)
    expect(vm:read("csr.0x340")).to_equal(0x1234)
    vm:write("fa0", 0x3ff0000000000000)
    expect(vm:read("f10")).to_equal(0x3ff0000000000000)
    vm:write("priv", "S")
    expect(vm:read("priv")).to_equal("S")
    expect(function() vm:write("priv", 1) end).to_raise('priv is "M", "S" or "U", got 1$')
    expect(function() vm:write("priv", "H") end).to_raise('priv is "M", "S" or "U", got "H"$')
    vm:write("pc", 0x80000010)
    expect(vm:read("pc")).to_equal(0x80000010)
  end)

  it("raises on unknown registers and read-only CSRs", function()
    local vm <close> = assert(vmlab.vm { image = finisher_program(0) })
    expect(function() vm:read("x32") end).to_raise("unknown register 'x32'")
    expect(function() vm:read("csr.nosuch") end).to_raise("unknown register 'csr.nosuch'")
    expect(function() vm:write("csr.mvendorid", 1) end).to_raise("read%-only")
    expect(function() vm:read("a0", { hart = 1 }) end).to_raise("no hart 1")
  end)

  it("reads and writes physical memory", function()
    local code = finisher_program(0)
    local vm <close> = assert(vmlab.vm { image = code })
    expect(vm:read_memory(0x80000000, #code)).to_equal(code)
    vm:write_memory(0x80001000, "\1\2\3")
    expect(vm:read_memory(0x80001000, 3)).to_equal("\1\2\3")
    expect(function() vm:read_memory(0x1000, 4) end).to_raise("not all RAM")
    expect(function() vm:read_memory(0x80000000, -1) end).to_raise("bad argument #2 to 'read_memory'")
    -- A range across the end of RAM is named as asked for, not by the page of it that failed.
    expect(function() vm:read_memory(0x80000000, 1 << 30) end)
      .to_raise("1073741824 bytes at 0x80000000 are not all RAM %(physical RAM is 0x80000000%-0x87ffffff%)")
    expect(function() vm:write_memory(0x87fff000, ("x"):rep(8192)) end)
      .to_raise("8192 bytes at 0x87fff000 are not all RAM %(physical RAM is 0x80000000%-0x87ffffff%)")
    expect(function() vm:read_memory(0x90000000, 8, { space = "guest-virtual" }) end)
      .to_raise("8 bytes at guest%-virtual 0x90000000 are not all RAM: part maps to guest%-physical 0x90000000 %(")
    expect(function() vm:read_memory(0x1000, 1) end).to_raise("1 byte at 0x1000 is not RAM %(physical RAM is")
    expect(function() vm:read_memory(0x90000000, 1, { space = "guest-virtual" }) end)
      .to_raise("1 byte at guest%-virtual 0x90000000 is not RAM: it maps to guest%-physical 0x90000000 %(")
  end)

  it("loads code and points a hart at it, under every mode", function()
    local spin = vmlab.asm "1: j 1b"
    local answer = vmlab.asm [[
      li a0, 42
    1: j 1b
    ]]
    for _, mode in ipairs { "native", "interpret", "trap", "bt", "pv" } do
      local vm <close> = assert(vmlab.vm { mode = mode, image = spin })
      local start = vm:read("pc")                     -- 0x80000000 bare, 0x80200000 as a kernel
      expect((vm:run { max_instructions = 100 })).to_equal("budget")
      expect(vm:read("a0")).never.to_equal(42)
      -- By default the code replaces the image, decoded (and translated) code included.
      expect(vm:load(answer)).to_equal(start)
      expect(vm:read("pc")).to_equal(start)
      expect(vm:read_memory(start, #answer)).to_equal(answer)
      vm:run { max_instructions = 100 }
      expect(vm:read("a0")).to_equal(42)
      -- Elsewhere, with the address given.
      local other = vmlab.asm "li a0, 7\n1: j 1b"
      expect(vm:load(other, { address = start + 0x1000 })).to_equal(start + 0x1000)
      vm:run { max_instructions = 100 }
      expect(vm:read("a0")).to_equal(7)
    end
  end)

  it("refuses to load what cannot be, and changes nothing", function()
    local code = finisher_program(0)
    local vm <close> = assert(vmlab.vm { image = code })
    expect(function() vm:load("") end).to_raise("the code is empty")
    expect(function() vm:load("\1\2\3\4", { address = 0x1000 }) end).to_raise("not all RAM")
    expect(function() vm:load("\1\2\3\4", { address = 0x87fffffe }) end).to_raise("not all RAM")
    expect(function() vm:load("\1\2\3\4", { hart = 1 }) end).to_raise("no hart 1")
    expect(function() vm:load("\1\2\3\4", { adress = 0 }) end).to_raise("unknown option 'adress'")
    expect(vm:read_memory(0x80000000, #code)).to_equal(code)
    expect(vm:read("pc")).to_equal(0x80000000)
    -- A guest that powered off stays off.
    expect((vm:run { max_instructions = 1000 })).to_equal("poweroff")
    expect(function() vm:load(code) end).to_raise("stopped for good")
  end)
end)

describe("vm:stats", function()
  -- An ecall to a handler that waits: with mtvec left at 0 the hart would fault forever.
  local ecall_then_wait = vmlab.asm [[
      la t0, handler
      csrw mtvec, t0
      ecall
    handler:
      wfi
      j handler
  ]]

  it("is a plain nested table with every trap cause", function()
    local vm <close> = assert(vmlab.vm { image = ecall_then_wait })
    expect((vm:run { max_instructions = 100 })).to_equal("idle")
    local s = vm:stats()
    expect(s.instructions).to_equal(4)       -- auipc, addi, csrw, wfi: the ecall traps instead of retiring
    expect(s.traps.by_cause.ecall_m).to_equal(1)
    expect(s.traps.by_cause.load_page_fault).to_equal(0)
    expect(s.traps.by_cause.supervisor_timer).to_equal(0)
    expect(s.traps.exceptions).to_equal(1)
    expect(s.cycles.total).to_be_a("integer")
    for _, key in ipairs { "hits", "misses", "flushes" } do expect(s.tlb[key]).to_be_a("integer") end
    expect(s.walk.references).to_equal(0)    -- M-mode runs untranslated
    expect(getmetatable(s)).to_be_nil()
  end)

  -- Every leaf of the whole table, by its dotted path: `vm:stats(path)` computes only the
  -- top-level entry the path starts with, so each entry's own code is checked against the whole.
  local function expect_every_path_agrees(vm)
    local function walk(node, path)
      if type(node) ~= "table" then
        expect(vm:stats(path)).to_equal(node)
        return
      end
      for key, child in pairs(node) do walk(child, path == "" and tostring(key) or path .. "." .. key) end
    end
    local whole = vm:stats()
    walk(whole, "")
    expect(vm:stats("traps.by_cause").ecall_m).to_equal(whole.traps.by_cause.ecall_m)
    return whole
  end

  it("answers a dotted path with that part alone", function()
    local vm <close> = assert(vmlab.vm { mode = "interpret", image = ecall_then_wait })
    vm:run { max_instructions = 100 }
    local s = expect_every_path_agrees(vm)
    expect(vm:stats "instructions").to_equal(4)
    expect(vm:stats "vcpus.1.instructions").to_equal(4)
    expect(vm:stats "profile").to_equal(s.profile)
    expect(vm:stats "host.vms").to_equal(1)   -- a VM under a VMM has a host of its own
  end)

  it("answers every path of a VM on a host, host share included", function()
    local host <close> = vmlab.host { memory = "64M" }
    local vm = assert(host:vm { mode = "trap", image = vmlab.asm [[
        li a7, 0x4442434E   # SBI debug console: write a0 bytes from a1
        li a6, 2            # write_byte
        li a0, 'x'
        ecall
      1: wfi
        j 1b
    ]], memory = "16M" })
    host:run { max_instructions = 1000 }
    local s = expect_every_path_agrees(vm)
    expect(s.host.vms).to_equal(1)
    expect(vm:stats "host.vms").to_equal(1)
  end)

  it("names what there is when a path names nothing", function()
    local vm <close> = assert(vmlab.vm { image = vmlab.asm "wfi" })
    expect(function() vm:stats "tlb.hitz" end)
      .to_raise("bad argument #1 to 'stats' %('tlb' has no 'hitz' %(it has hits, misses, flushes, evictions, nested_hits, nested_misses, pwc_hits, pwc_misses, fetch, load, store, flushes_by_kind%)%)")
    expect(function() vm:stats "instructionz" end).to_raise("the top level has no 'instructionz' %(it has profile, mode, instructions,")
    expect(function() vm:stats "instructions.total" end).to_raise("'instructions' is a single value: it has no 'total'")
    expect(function() vm:stats "vcpus.2" end).to_raise("'vcpus' is a list: no item '2' %(it has 1 to 1%)")
    expect(function() vm:stats "tlb." end).to_raise("'tlb' has no ''")
    expect(function() vm:stats "" end).to_raise("the top level has no ''")
    -- Native runs on no VMM: no host share.
    expect(function() vm:stats "host" end).to_raise("the top level has no 'host'")
    expect(function() vm:stats {} end).to_raise("bad argument #1 to 'stats' %(string expected, got table%)")
  end)
end)

describe("vmlab.vm options", function()
  local image = vmlab.asm("wfi")

  it("name the valid options when one is misspelt", function()
    expect(function() vmlab.vm { imgae = image } end)
      .to_raise("unknown option 'imgae' to 'vm' %(expected one of: ad_bits, bootargs, bt, disks, echo, firmware, h_extension, harts, holes, hw, image, initrd, kernel, memory, misaligned, mode, nics, plic, profile, pv, rng, shadow, sstc, symbols, tlb, virtio_console%)")
    expect(function() vmlab.vm { image = image, disks = { { fiel = "x" } } } end)
      .to_raise("unknown option 'fiel'")
    -- One disk's table where the list belongs had built a machine with no disk.
    expect(function() vmlab.vm { image = image, disks = { file = "x" } } end)
      .to_raise("option 'disks': a list expected, got a table with key 'file'")
  end)

  it("list the modes", function()
    expect(function() vmlab.vm { image = image, mode = "trapp" } end)
      .to_raise("unknown mode 'trapp' %(expected one of: native, interpret, trap, bt, pv, hw%)")
    local vm <close> = assert(vmlab.vm { image = image, mode = "native" })
  end)

  it("give the harts the hypervisor extension when asked, outside the VMMs", function()
    local plain <close> = assert(vmlab.vm { image = image })
    local h <close> = assert(vmlab.vm { image = image, h_extension = true })
    expect(plain:read("csr.misa") & (1 << 7)).to_equal(0)
    expect(h:read("csr.misa") & (1 << 7)).to_equal(1 << 7)
    expect(h:read("csr.hstatus")).to_equal(2 << 32)            -- VSXL: VS-mode is 64-bit
    expect(function() vmlab.vm { image = image, h_extension = true, mode = "trap" } end)
      .to_raise("option 'h_extension' needs mode \"native\" or \"interpret\"")
  end)

  it("check values and combinations", function()
    expect(function() vmlab.vm { image = image, memory = "lots" } end).to_raise("bad size 'lots'")
    expect(function() vmlab.vm { image = image, harts = 0 } end).to_raise("must be 1 to 64")
    expect(function() vmlab.vm { image = image, kernel = "k.elf" } end).to_raise("cannot be combined")
    expect(function() vmlab.vm {} end).to_raise("needs 'kernel'")
    -- A NUL ended the device tree's command line there, silently dropping the rest.
    expect(function() vmlab.vm { image = image, bootargs = "console=ttyS0\0quiet" } end)
      .to_raise("bad argument #1 to 'vm' %(option 'bootargs': the kernel command line holds a NUL byte at offset 13; ")
    expect(function() vmlab.host():vm { image = image, memory = "8M", bootargs = "\0" } end)
      .to_raise("option 'bootargs': the kernel command line holds a NUL byte at offset 0")
    -- Machine code where a path belongs says where it goes, not that no such file exists.
    expect(function() vmlab.vm { kernel = image } end)
      .to_raise("option 'kernel' is a path, and this string holds control bytes: machine code %(`vmlab.asm`%) goes in 'image'")
    -- And a path where machine code belongs is not run as instructions.
    for _, path in ipairs { "tinyos.elf", "/no/such/file", vmlab.guest "examples/hello" } do
      expect(function() vmlab.vm { image = path } end)
        .to_raise("option 'image' is machine code %(`vmlab.asm`%), and this string reads as a path: a kernel file goes in 'kernel'")
    end
  end)

  it("run an image as the kernel under a firmware, in every mode", function()
    -- An SBI console putchar, then an SBI system reset (shutdown) with the exit code in a1.
    local kernel = vmlab.asm [[
        csrr t0, sstatus          # S-mode: sstatus is readable (in M-mode too; mhartid would not be)
        li a7, 1
        li a0, 0x4b               # 'K'
        ecall
        li a7, 0x53525354
        li a6, 0
        li a0, 0
        li a1, 0
        ecall
    ]]
    for _, mode in ipairs { "native", "interpret", "trap", "bt", "pv" } do
      -- trap, bt and pv run their kernel under the built-in SBI whether or not it is named.
      local options = { mode = mode, image = kernel }
      if mode == "native" or mode == "interpret" then options.firmware = "builtin" end
      local vm <close> = assert(vmlab.vm(options))
      expect(vm:read("pc")).to_equal(0x80200000)
      local stop, details = vm:run { max_instructions = 100000 }
      expect(stop).to_equal("poweroff")
      expect(details.exit_code).to_equal(0)
      expect(vm:console()).to_equal("K")
      -- The pc rests after the shutdown's ecall in every mode, as natively.
      expect(vm:read("pc")).to_equal(0x80200000 + #kernel)
    end
    -- Without a firmware, natively, the same code is an M-mode program at the RAM base.
    local bare <close> = assert(vmlab.vm { image = kernel })
    expect(bare:read("pc")).to_equal(0x80000000)
    -- A VMM cannot run its kernel without one.
    expect(select(2, vmlab.vm { mode = "trap", image = kernel, firmware = "none" })).to_match("use the built%-in firmware")
  end)

  it("return nil and a message for expected failures", function()
    local vm, message = vmlab.vm { kernel = "/no/such/kernel.elf" }
    expect(vm).to_be_nil()
    expect(message).to_match("kernel '/no/such/kernel.elf' does not exist")
    vm, message = vmlab.vm { image = image, memory = "64K" }
    expect(vm).to_be_nil()
    expect(message).to_match("memory")
    -- Far too much is above the maximum (it read as "at least 1 MiB and whole pages").
    expect(select(2, vmlab.vm { image = image, memory = math.maxinteger }))
      .to_equal("memory must be at most 1 TiB (got 9223372036854775807 bytes)")
    expect(select(2, vmlab.vm { image = image, memory = (1 << 40) + 1 }))
      .to_equal("memory must be at most 1 TiB (got 1099511627777 bytes)")
    expect(select(2, vmlab.vm { image = image, memory = (1 << 20) + 1 }))
      .to_equal("memory must be a whole number of 4 KiB pages (got 1048577 bytes)")
    -- A disk with a partial last sector was cut to whole sectors without a word.
    local disk = os.tmpname()
    local f = assert(io.open(disk, "wb"))
    f:write(("x"):rep(1000))
    f:flush()
    local _, refused = vmlab.vm { image = image, disks = { { file = disk } } }
    f:write(("x"):rep(24))
    f:close()
    local padded <close> = vmlab.vm { image = image, disks = { { file = disk } } }
    os.remove(disk)
    expect(refused)
      .to_equal(("disk '%s' is 1000 bytes, not a whole number of 512-byte sectors: virtio-blk reads and writes whole sectors, "
        .. "so its last 488 bytes would be out of the guest's reach (pad it to 1024 bytes, e.g. truncate -s 1024 '%s')"):format(disk, disk))
    expect(padded).never.to_be_nil()
  end)

  it("put a disk in the virtio-mmio slot it names, and refuse a slot that does not exist or is taken", function()
    local disk = os.tmpname()
    local f = assert(io.open(disk, "wb"))
    f:write(("\0"):rep(512))
    f:close()
    local device_id = {}
    for _, slot in ipairs { 0, 7 } do
      -- A bare-metal program reads the slot's DeviceID register (offset 8) into a0.
      local code = vmlab.asm(("li t0, 0x%x\n lw a0, 8(t0)\n ebreak"):format(0x10001000 + slot * 0x1000))
      local vm <close> = assert(vmlab.vm { image = code, memory = "16M", disks = { { file = disk, slot = 0 } } })
      vm:run { max_instructions = 10 }
      device_id[slot] = vm:read "a0"
    end
    expect(device_id[0]).to_equal(2)   -- virtio-blk, where xv6 looks
    expect(device_id[7]).to_equal(0)   -- QEMU's first slot stays empty
    expect(select(2, vmlab.vm { image = image, disks = { { file = disk, slot = 8 } } }))
      .to_equal(("disk 1 (%s): slot 8 does not exist (virtio-mmio slots are 0 to 7)"):format(disk))
    expect(select(2, vmlab.vm { image = image, disks = { { file = disk, slot = 2 }, { file = disk, slot = 2 } } }))
      .to_equal("disks 1 and 2 both ask for virtio-mmio slot 2")
    os.remove(disk)
  end)

  it("take memory in bytes or with a unit, and several harts", function()
    local vm <close> = assert(vmlab.vm { image = image, memory = "16M", harts = 2 })
    expect(tostring(vm)).to_equal("vmlab.VM (native, 16 MiB, 2 harts, classic-2006)")
    expect(vm:read("pc", { hart = 1 })).to_equal(0x80000000)
    local small <close> = assert(vmlab.vm { image = image, memory = 1 << 20 })
    local float <close> = assert(vmlab.vm { image = image, memory = 2 * 2^20 })   -- a float with an integer value
    expect(tostring(float)).to_equal("vmlab.VM (native, 2 MiB, 1 hart, classic-2006)")
    expect(function() vmlab.vm { image = image, memory = 1.5e6 + 0.5 } end).to_raise("no integer representation")
    expect(function() small:read_memory(0x80100000, 1) end).to_raise("1 byte at 0x80100000 is not RAM")
  end)

  it("close handles for good", function()
    local vm = assert(vmlab.vm { image = image })
    vm:close()
    vm:close()
    expect(tostring(vm)).to_equal("vmlab.VM (closed)")
    expect(function() vm:run() end).to_raise("the VM is closed")
  end)
end)

describe("the hart's options", function()
  -- Runs an ISA test program (labs/guests/isa) to its end; returns its exit code and counters.
  local function isa(name, options)
    options.kernel = vmlab.guest("isa/" .. name)
    local vm <close> = assert(vmlab.vm(options))
    local stop, details = vm:run { max_instructions = 10000000 }
    expect(stop).to_equal("poweroff")
    return details.exit_code, vm:stats()
  end

  it("size the TLB, and tag it with the ASID or flush it on every satp write", function()
    local _, default = isa("paging_asid", {})
    local code, one = isa("paging_asid", { tlb = { entries = 1, ways = 1 } })
    expect(code).to_equal(0)   -- the same answers from a smaller TLB, with more misses
    expect(one.tlb.misses > default.tlb.misses).to_be(true)
    expect(default.tlb.flushes_by_kind.satp).to_equal(0)
    local untagged
    code, untagged = isa("paging_asid", { tlb = { tagged = false } })
    expect(code).to_equal(0)
    expect(untagged.tlb.flushes_by_kind.satp > 0).to_be(true)
    expect(untagged.tlb.misses > default.tlb.misses).to_be(true)
    local full = isa("paging_asid", { tlb = { entries = 16, ways = 16 } })
    expect(full).to_equal(0)
  end)

  it("list what the TLB holds with vm:tlb(): the kernel's global gigapage, a page of ASID 5", function()
    local kernel, symbols = sv39_kernel {
      leaves = { 0xc7 },   -- V R W A D
      kernel = 0xef,       -- V R W X G A D: global
      asid = 5,
      body = [[
      li a1, 0x40000000
      sd a1, 8(a1)
      ]],
    }
    local vm <close> = assert(vmlab.vm { image = kernel, firmware = "builtin", tlb = { entries = 8, ways = 2 } })
    expect(vm:tlb()).to_equal({})
    expect(vm:run { max_instructions = 1e6 }).to_equal("poweroff")
    local entries = vm:tlb { vcpu = 0 }
    expect(#entries).to_equal(2)
    local by_va = {}
    for _, e in ipairs(entries) do
      by_va[e.va] = e
      expect(e.set >= 0 and e.set < 4 and e.way >= 0 and e.way < 2).to_be(true)
    end
    local code, data = by_va[0x80000000], by_va[0x40000000]
    expect({ code.pa, code.page_size, code.global, code.asid, code.flags_text }).to_equal({ 0x80000000, 1 << 30, true, 5, "DAG-XWRV" })
    expect({ data.pa, data.page_size, data.global, data.asid, data.flags_text }).to_equal({ symbols.page, 4096, false, 5, "DA---WRV" })
    expect(data.flags).to_equal({ r = true, w = true, x = false, u = false, g = false, a = true, d = true })
    expect(function() vm:tlb { vcpu = 1 } end).to_raise("no vCPU 1 %(the VM has 1%)")
    expect(function() vm:tlb { hart = 0 } end).to_raise("unknown option 'hart'")

    -- Under trap the TLB caches the shadow: 4 KiB entries with U set, the VMM's ASIDs.
    local trap <close> = assert(vmlab.vm { image = kernel, firmware = "builtin", mode = "trap" })
    expect(trap:run { max_instructions = 1e6 }).to_equal("poweroff")
    local shadowed = trap:tlb()
    expect(#shadowed >= 2).to_be(true)
    for _, e in ipairs(shadowed) do
      expect({ e.va, e.page_size, e.flags.u, e.global }).to_equal({ e.va, 4096, true, false })
    end
  end)

  it("let software set A and D (Svade): a program that expects the hardware to fails", function()
    expect((isa("paging_sv39", {}))).to_equal(0)
    expect((isa("paging_sv39", { ad_bits = "hardware" }))).to_equal(0)
    expect((isa("paging_sv39", { ad_bits = "fault" }))).to_equal(31)   -- its first A/D check
  end)

  it("trap misaligned accesses, which the misaligned program accepts", function()
    local code, hardware = isa("misaligned", {})
    expect(code).to_equal(0)
    expect(hardware.traps.by_cause.load_address_misaligned).to_equal(0)
    local trapped
    code, trapped = isa("misaligned", { misaligned = "trap" })
    expect(code).to_equal(0)
    expect(trapped.traps.by_cause.load_address_misaligned > 0).to_be(true)
  end)

  it("let the PLIC's gateways follow QEMU, or the PLIC specification's level-triggered rule", function()
    -- A UART handler that claims and completes but never reads IIR, as xv6's: THR-empty stays
    -- raised. QEMU's gateway makes one request of it; a level-triggered one, one per completion.
    local program = vmlab.asm [[
        li t0, 0x0c000000 + 4 * 10    # source 10 (the UART): priority 1
        li t1, 1
        sw t1, 0(t0)
        li t0, 0x0c002000             # context 0 (hart 0, M-mode): enable source 10
        li t1, 1 << 10
        sw t1, 0(t0)
        la t0, handler
        csrw mtvec, t0
        li t0, 1 << 11
        csrw mie, t0                  # MEIE
        csrsi mstatus, 8              # MIE
        li s0, 0                      # interrupts taken
        li t0, 0x10000001
        li t1, 2
        sb t1, 0(t0)                  # IER: THR empty, which it is: the UART raises its line
    1:  wfi
        j 1b
        .balign 4
    handler:
        li t0, 0x0c200004
        lw t1, 0(t0)                  # claim
        sw t1, 0(t0)                  # complete
        addi s0, s0, 1
        li t2, 5
        bne s0, t2, 2f
        li t0, 0x100000
        li t1, 0x5555
        sw t1, 0(t0)                  # the fifth: power off
    2:  mret
    ]]
    local qemu <close> = assert(vmlab.vm { image = program })
    expect(qemu:run { max_instructions = 100000 }).to_equal("idle")
    expect(qemu:read("s0")).to_equal(1)
    local level <close> = assert(vmlab.vm { image = program, plic = "level" })
    expect(level:run { max_instructions = 100000 }).to_equal("poweroff")
    expect(level:read("s0")).to_equal(5)
  end)

  it("check their values", function()
    local image = vmlab.asm("wfi")
    expect(function() vmlab.vm { image = image, tlb = { entries = 0 } } end).to_raise("'tlb.entries': must be 1 to 65536, got 0")
    expect(function() vmlab.vm { image = image, tlb = { entries = 8, ways = 3 } } end).to_raise("'tlb.ways': must divide 'entries' %(8%), got 3")
    expect(function() vmlab.vm { image = image, tlb = { entries = 6 } } end).to_raise("got 4 %(the default; give 'ways'%)")
    expect(function() vmlab.vm { image = image, tlb = { size = 8 } } end).to_raise("unknown option 'size'")
    expect(function() vmlab.vm { image = image, tlb = { keep_global = true } } end)
      .to_raise("'tlb.keep_global': only with tagged = false %(a tagged TLB keeps every entry across satp writes%)")
    local kept <close> = assert(vmlab.vm { image = image, tlb = { tagged = false, keep_global = true } })
    expect(function() vmlab.vm { image = image, ad_bits = "software" } end).to_raise("expected one of: hardware, fault")
    expect(function() vmlab.vm { image = image, misaligned = true } end).to_raise("misaligned")
    expect(function() vmlab.vm { image = image, plic = "edge" } end).to_raise("expected one of: qemu, level")
    local small <close> = assert(vmlab.vm { image = image, tlb = { entries = 2 } })   -- ways: 2, not 4
  end)
end)

describe("a bundled guest", function()
  it("builds on demand and runs bare-metal in M-mode", function()
    local path = vmlab.guest "examples/hello"
    expect(path).to_match("/examples/hello%.elf$")
    local vm <close> = assert(vmlab.vm { kernel = path })
    expect(vm:read("priv")).to_equal("M")
    local stop, details = vm:run { max_instructions = 100000 }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(0)
    expect(vm:console()).to_equal("hello from a bare-metal guest\n")
    expect(vm:symbols().main).to_be_a("integer")
  end)

  it("takes console input: tinyos's shell", function()
    local vm <close> = assert(vmlab.vm { kernel = vmlab.guest "tinyos" })
    -- A kernel at 0x80200000 starts in S-mode under the built-in SBI, at its entry symbol.
    expect(vm:read("priv")).to_equal("S")
    expect(vm:read("pc")).to_equal(vm:symbols()._start)
    expect(vm:symbols()._start).to_equal(0x80200000)
    expect((vm:run { max_instructions = 3e6 })).to_equal("budget")
    expect(vm:console()).to_match("%$ $")
    -- One line at a time: the shell reads a line, runs it, then prompts again.
    vm:input("echo hello there\n")
    expect((vm:run { max_instructions = 3e6 })).to_equal("budget")
    vm:input("halt\n")
    local stop, details = vm:run { max_instructions = 10e6 }
    expect(stop).to_equal("poweroff")
    expect(details.exit_code).to_equal(0)
    expect(vm:console()).to_match("\nhello there\r?\n")
  end)

  it("queues lines typed ahead of tinyos's shell, and holds back what does not fit, in every mode", function()
    -- 40 commands (320 bytes) before the kernel has even booted: finished lines queue in a
    -- 256-byte ring until the shell reads them, one per read; while the ring is full the kernel
    -- turns the UART's receive interrupt off, and the rest waits in the UART until a read.
    local typed = {}
    for i = 10, 49 do typed[#typed + 1] = ("echo %d\n"):format(i) end
    typed = table.concat(typed) .. "halt\n"
    for _, mode in ipairs { "native", "interpret", "trap", "bt", "pv" } do
      local vm <close> = assert(vmlab.vm {
        mode = mode, kernel = vmlab.guest(mode == "pv" and "tinyos-pv" or "tinyos") })
      vm:input(typed)
      expect((vm:run { max_instructions = 100e6 })).to_equal("poweroff")
      local console = vm:console():gsub("\r", "")
      local ran = {}
      -- Echo's output, a line of its own or after a prompt (typed lines are echoed as they arrive).
      for line in console:gmatch("[^\n]+") do ran[#ran + 1] = line:match("^[$ ]*(%d%d)$") end
      expect(#ran).to_equal(40)
      expect(ran[1]).to_equal("10")
      expect(ran[40]).to_equal("49")
      expect(console).to_match("\n[$ ]*49\n%$ tinyos: halt\n")
    end
  end)

  it("raises for names that are not guests", function()
    expect(function() vmlab.guest "no-such-guest" end).to_raise("unknown guest 'no%-such%-guest'")
    expect(function() vmlab.guest "../etc" end).to_raise("bad guest name")
  end)
end)

describe("modes", function()
  local code = vmlab.asm [[
    li t0, 0x10000000
    li t1, 0x6f
    sb t1, 0(t0)
    sb t1, 0(t0)
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
  1: j 1b
  ]]

  it("runs the same guest under native and interpret; interpret charges every instruction", function()
    local native <close> = assert(vmlab.vm { image = code })
    local interpret <close> = assert(vmlab.vm { image = code, mode = "interpret" })
    expect(tostring(interpret)).to_match("^vmlab.VM %(interpret, 128 MiB, 1 hart, classic%-2006%)$")
    for _, vm in ipairs { native, interpret } do
      expect((vm:run { max_instructions = 100 })).to_equal("poweroff")
      expect(vm:console()).to_equal("oo")
    end
    local n, i = native:stats(), interpret:stats()
    expect(n.mode).to_equal("native")
    expect(i.mode).to_equal("interpret")
    expect(i.instructions).to_equal(n.instructions)
    expect(n.cycles.by_category.interpretation).to_equal(0)
    expect(i.cycles.by_category.guest).to_equal(0)
    expect(i.cycles.by_event.interpretation.count).to_equal(i.instructions)
    expect(i.cycles.total > n.cycles.total).to_be(true)
    expect(i.technique.interpreter.instructions).to_equal(i.instructions)
    expect(i.host.vms).to_equal(1)
    expect(n.host).to_be_nil()
    expect(#i.vcpus).to_equal(1)
    expect(i.vcpus[1].instructions).to_equal(i.instructions)
  end)

  it("closes a VM from its own hook when the run returns", function()
    local vm = assert(vmlab.vm { image = code, mode = "interpret" })
    vm:on("mmio", function() vm:close() end)
    local stop = vm:run { max_instructions = 100 }
    expect(stop).to_equal("hook")
    expect(tostring(vm)).to_equal("vmlab.VM (closed)")
  end)
end)
