/* Random integer operations against QEMU: every RV64IM register-register operation, 32-bit (W)
   forms included, on operands drawn to reach the edge cases — zero, all ones, the most negative
   value, shift amounts past the width, values that only differ above bit 31 — so that division by
   zero and overflow (unprivileged spec, "Division Operations"), the high-half multiplies and the
   W forms' sign extension all show. Each result is hashed per operation. */
#include "differential.h"

static uint64_t operand(void) {
    static const uint64_t special[] = {
        0, 1, 2, (uint64_t)-1, (uint64_t)-2, 0x8000000000000000ull, 0x7FFFFFFFFFFFFFFFull,
        0x80000000ull, 0x7FFFFFFFull, 0xFFFFFFFF80000000ull, 0xFFFFFFFFull, 0x100000000ull, 31, 32, 63, 64,
    };
    uint64_t r = next_random();
    switch (r & 7) {
    case 0: case 1: return special[(r >> 8) % (sizeof special / sizeof special[0])];
    case 2: return next_random() >> ((r >> 8) & 63);
    case 3: return (uint64_t)-(int64_t)(next_random() >> ((r >> 8) & 63));
    case 4: return (uint64_t)(int64_t)(int32_t)next_random();
    case 5: return next_random() & 127;
    default: return next_random();
    }
}

#define R(name, insn) static uint64_t name(uint64_t a, uint64_t b) { uint64_t r; \
    __asm__ volatile(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
R(add_, "add") R(sub_, "sub") R(sll_, "sll") R(srl_, "srl") R(sra_, "sra") R(slt_, "slt") R(sltu_, "sltu")
R(xor_, "xor") R(or_, "or") R(and_, "and")
R(mul_, "mul") R(mulh_, "mulh") R(mulhsu_, "mulhsu") R(mulhu_, "mulhu")
R(div_, "div") R(divu_, "divu") R(rem_, "rem") R(remu_, "remu")
R(addw_, "addw") R(subw_, "subw") R(sllw_, "sllw") R(srlw_, "srlw") R(sraw_, "sraw")
R(mulw_, "mulw") R(divw_, "divw") R(divuw_, "divuw") R(remw_, "remw") R(remuw_, "remuw")

static const struct { const char *name; uint64_t (*op)(uint64_t, uint64_t); } ops[] = {
    {"add", add_}, {"sub", sub_}, {"sll", sll_}, {"srl", srl_}, {"sra", sra_}, {"slt", slt_}, {"sltu", sltu_},
    {"xor", xor_}, {"or", or_}, {"and", and_},
    {"mul", mul_}, {"mulh", mulh_}, {"mulhsu", mulhsu_}, {"mulhu", mulhu_},
    {"div", div_}, {"divu", divu_}, {"rem", rem_}, {"remu", remu_},
    {"addw", addw_}, {"subw", subw_}, {"sllw", sllw_}, {"srlw", srlw_}, {"sraw", sraw_},
    {"mulw", mulw_}, {"divw", divw_}, {"divuw", divuw_}, {"remw", remw_}, {"remuw", remuw_},
};

/* Cases per operation; build with -DCASES=200000 for a longer search. */
#ifndef CASES
#define CASES 5000
#endif

int main(void) {
    uint64_t all = FNV_OFFSET;
    for (unsigned k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        uint64_t hash = FNV_OFFSET;
        for (int n = 0; n < CASES; n++) {
            uint64_t a = operand(), b = operand();
            hash = fnv_fold(hash, ops[k].op(a, b));
        }
        all = fnv_fold(all, hash);
        put_result(ops[k].name, 0, hash);
    }
    put_result("all", 0, all);
    return 0;
}
