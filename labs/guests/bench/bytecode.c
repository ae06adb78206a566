/* bytecode.c — CPU-bound benchmark for scripts/bench: a bytecode interpreter, the kind of program
 * (Lua, Python, Forth, a regex engine) whose time goes to a `switch` over opcodes. Compiled with
 * -O2, the switch is a jump table, so the guest runs an indirect jump (`jr`) for every bytecode,
 * loads its operands from memory and keeps its stack in memory. That makes it the CPU-bound guest
 * on which QEMU TCG is slowest of the three (every indirect jump leaves its translated block), at
 * about the scale issue #3 quotes for "a CPU-bound guest" (~1000 MIPS); cpu.S (a register-only
 * ALU loop, QEMU's best case) and mix.c (CoreMark-like) are the others.
 *
 * The bytecode program sums (i * i) mod 7 and counts the multiples of 3 below n; it runs ROUNDS
 * times with n = 1000 + (round mod 64), and the results are folded into one hash, checked against
 * EXPECTED, which was computed by compiling this same file for the host with BYTECODE_HOST defined
 * (`cc -O2 -DBYTECODE_HOST labs/guests/bench/bytecode.c && ./a.out`), so a wrong simulator cannot
 * pass. Deterministic, M-mode, no traps, no paging; instruction counts come from the simulator's
 * counters (about 571 M). */
#include <stdint.h>

#define ROUNDS 1500
#define EXPECTED 0x214bdac2u

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, LT, JZ, JMP, MOD, DUP, DROP, HALT };

/* vars: 0 = i, 1 = n, 2 = the sum of (i * i) mod 7 over i < n, 3 = how many i < n are multiples of 3.
 * The numbers in comments are the offsets of jump targets. */
static const int32_t program[] = {
    PUSH, 0, STORE, 0,            /* i = 0 */
    PUSH, 0, STORE, 2,            /* sum = 0 */
    PUSH, 0, STORE, 3,            /* count = 0 */
    /* 12: loop */
    LOAD, 0, LOAD, 1, LT, JZ, 56, /* if !(i < n) goto end */
    LOAD, 0, DUP, MUL, PUSH, 7, MOD, LOAD, 2, ADD, STORE, 2,          /* sum += i * i % 7 */
    LOAD, 0, PUSH, 3, MOD, JZ, 40, JMP, 47,                           /* i % 3 == 0? */
    /* 40 */ LOAD, 3, PUSH, 1, ADD, STORE, 3,                         /* count += 1 */
    /* 47: i = i + 1 */
    LOAD, 0, PUSH, 1, ADD, STORE, 0, JMP, 12,
    /* 56: end */ HALT,
};

static uint32_t run_program(int32_t n) {
    int32_t vars[4] = { 0, n, 0, 0 };
    int32_t stack[16];
    int sp = 0;
    const int32_t *pc = program;
    for (;;) {
        switch (*pc++) {
        case PUSH: stack[sp++] = *pc++; break;
        case LOAD: stack[sp++] = vars[*pc++]; break;
        case STORE: vars[*pc++] = stack[--sp]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case JZ: { int32_t t = *pc++; if (stack[--sp] == 0) pc = program + t; break; }
        case JMP: pc = program + *pc; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case DROP: sp--; break;
        case HALT: return (uint32_t)vars[2] * 65536u + (uint32_t)vars[3];
        default: return 0xFFFFFFFFu;
        }
    }
}

static uint32_t run(void) {
    uint32_t h = 0;
    for (int r = 0; r < ROUNDS; r++) h = h * 31u + run_program(1000 + (r & 63));
    return h;
}

#ifdef BYTECODE_HOST
#include <stdio.h>
int main(void) { printf("0x%08x\n", run()); return 0; }
#else
#include "baremetal.h"
int main(void) { return run() == EXPECTED ? 0 : 1; }
#endif
