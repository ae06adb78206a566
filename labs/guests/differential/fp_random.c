/* Random floating-point operations against QEMU: every F and D computational instruction, under
   each of the five rounding modes (frm), on operands drawn to reach the hard cases — signed zeros,
   infinities, quiet and signalling NaNs with payloads, subnormals, overflow, values near the
   integer conversions' limits, and single-precision operands that are not NaN-boxed (which must
   read as the canonical NaN, unprivileged spec "NaN Boxing of Narrower Values"). Each result
   (all 64 bits of the destination, so a single's boxing shows) and the fflags it raised are
   hashed per operation and rounding mode. QEMU's softfloat is the reference. */
#include "differential.h"

enum { D, S, I };   /* operand kinds: double, single (boxed in 64 bits), integer */

static const uint64_t special_d[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x7FF0000000000000ull, 0xFFF0000000000000ull,
    0x7FF8000000000000ull, 0x7FF4000000000000ull, 0xFFF8000000000001ull, 0x7FF0000000000001ull,
    0x0000000000000001ull, 0x800FFFFFFFFFFFFFull, 0x0010000000000000ull, 0x7FEFFFFFFFFFFFFFull,
    0x3FF0000000000000ull, 0xBFF0000000000000ull, 0x3FE0000000000000ull, 0x4340000000000001ull,
    0x41E0000000000000ull, 0xC1E0000000000000ull, 0x43E0000000000000ull, 0xC3E0000000000000ull,
    0x43F0000000000000ull, 0x41EFFFFFFFE00000ull, 0x3FF8000000000000ull, 0xC004000000000000ull,
};
static const uint32_t special_s[] = {
    0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0x7FA00000u, 0xFFC00001u,
    0x7F800001u, 0x00000001u, 0x807FFFFFu, 0x00800000u, 0x7F7FFFFFu, 0x3F800000u, 0xBF800000u,
    0x3F000000u, 0x4B800001u, 0x4F000000u, 0xCF000000u, 0x5F000000u, 0xDF000000u, 0x5F800000u,
    0x3FC00000u, 0xC0200000u, 0x4EFFFFFFu,
};

static uint64_t operand_d(void) {
    uint64_t r = next_random();
    switch (r & 7) {
    case 0: case 1: return special_d[(r >> 8) % (sizeof special_d / sizeof special_d[0])];
    case 2: return next_random();
    case 3: /* near 1, so that sums and products round */
        return (next_random() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(0x3FF - 8 + ((r >> 8) & 15)) << 52);
    case 4: /* tiny: subnormal results */
        return (next_random() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)((r >> 8) & 3) << 52);
    case 5: /* huge: overflow */
        return (next_random() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(0x7FE - ((r >> 8) & 3)) << 52);
    default: /* near the integer conversions' limits */
        return (next_random() & 0x80000000000FFFFFull) | ((uint64_t)(0x3FF + 28 + ((r >> 8) & 7) * 5) << 52);
    }
}
static uint64_t operand_s(void) {
    uint64_t r = next_random();
    uint32_t v;
    switch (r & 7) {
    case 0: case 1: v = special_s[(r >> 8) % (sizeof special_s / sizeof special_s[0])]; break;
    case 2: v = (uint32_t)next_random(); break;
    case 3: v = ((uint32_t)next_random() & 0x807FFFFFu) | ((uint32_t)(127 - 8 + ((r >> 8) & 15)) << 23); break;
    case 4: v = ((uint32_t)next_random() & 0x807FFFFFu) | ((uint32_t)((r >> 8) & 3) << 23); break;
    case 5: v = ((uint32_t)next_random() & 0x807FFFFFu) | ((uint32_t)(254 - ((r >> 8) & 3)) << 23); break;
    default: v = ((uint32_t)next_random() & 0x80000FFFu) | ((uint32_t)(127 + 28 + ((r >> 8) & 7) * 5) << 23); break;
    }
    /* One in 32 not NaN-boxed: the operation must see the canonical NaN. */
    return ((r >> 20) & 31) == 0 ? (next_random() << 32) | v : 0xFFFFFFFF00000000ull | v;
}
static uint64_t operand_i(void) {
    uint64_t r = next_random();
    switch (r & 3) {
    case 0: return next_random();
    case 1: return next_random() >> ((r >> 8) & 63);
    case 2: return (uint64_t)-(int64_t)(next_random() >> ((r >> 8) & 63));
    default: return (uint64_t)(int64_t)(int32_t)next_random();
    }
}

/* The accrued exception flags since the last call (read and cleared in one csrrci). */
static uint64_t take_flags(void) { uint64_t f; __asm__ volatile("csrrci %0, fflags, 31" : "=r"(f)); return f; }

#define F3(name, insn) static uint64_t name(uint64_t a, uint64_t b, uint64_t c) { uint64_t r; \
    __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n fmv.d.x ft2, %3\n " insn " ft3, ft0, ft1, ft2\n fmv.x.d %0, ft3" \
        : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); return r; }
#define F2(name, insn) static uint64_t name(uint64_t a, uint64_t b, uint64_t c) { uint64_t r; (void)c; \
    __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " insn " ft3, ft0, ft1\n fmv.x.d %0, ft3" \
        : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft3"); return r; }
#define F1(name, insn) static uint64_t name(uint64_t a, uint64_t b, uint64_t c) { uint64_t r; (void)b; (void)c; \
    __asm__ volatile("fmv.d.x ft0, %1\n " insn " ft3, ft0\n fmv.x.d %0, ft3" : "=r"(r) : "r"(a) : "ft0", "ft3"); return r; }
#define X2(name, insn) static uint64_t name(uint64_t a, uint64_t b, uint64_t c) { uint64_t r; (void)c; \
    __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " insn " %0, ft0, ft1" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1"); return r; }
#define X1(name, insn) static uint64_t name(uint64_t a, uint64_t b, uint64_t c) { uint64_t r; (void)b; (void)c; \
    __asm__ volatile("fmv.d.x ft0, %1\n " insn " %0, ft0" : "=r"(r) : "r"(a) : "ft0"); return r; }
#define I1(name, insn) static uint64_t name(uint64_t a, uint64_t b, uint64_t c) { uint64_t r; (void)b; (void)c; \
    __asm__ volatile(insn " ft3, %1\n fmv.x.d %0, ft3" : "=r"(r) : "r"(a) : "ft3"); return r; }

F2(fadd_d, "fadd.d") F2(fsub_d, "fsub.d") F2(fmul_d, "fmul.d") F2(fdiv_d, "fdiv.d") F1(fsqrt_d, "fsqrt.d")
F2(fmin_d, "fmin.d") F2(fmax_d, "fmax.d") F2(fsgnj_d, "fsgnj.d") F2(fsgnjn_d, "fsgnjn.d") F2(fsgnjx_d, "fsgnjx.d")
F3(fmadd_d, "fmadd.d") F3(fmsub_d, "fmsub.d") F3(fnmadd_d, "fnmadd.d") F3(fnmsub_d, "fnmsub.d")
X2(feq_d, "feq.d") X2(flt_d, "flt.d") X2(fle_d, "fle.d") X1(fclass_d, "fclass.d")
X1(fcvt_w_d, "fcvt.w.d") X1(fcvt_wu_d, "fcvt.wu.d") X1(fcvt_l_d, "fcvt.l.d") X1(fcvt_lu_d, "fcvt.lu.d")
F1(fcvt_s_d, "fcvt.s.d")
F2(fadd_s, "fadd.s") F2(fsub_s, "fsub.s") F2(fmul_s, "fmul.s") F2(fdiv_s, "fdiv.s") F1(fsqrt_s, "fsqrt.s")
F2(fmin_s, "fmin.s") F2(fmax_s, "fmax.s") F2(fsgnj_s, "fsgnj.s") F2(fsgnjn_s, "fsgnjn.s") F2(fsgnjx_s, "fsgnjx.s")
F3(fmadd_s, "fmadd.s") F3(fmsub_s, "fmsub.s") F3(fnmadd_s, "fnmadd.s") F3(fnmsub_s, "fnmsub.s")
X2(feq_s, "feq.s") X2(flt_s, "flt.s") X2(fle_s, "fle.s") X1(fclass_s, "fclass.s")
X1(fcvt_w_s, "fcvt.w.s") X1(fcvt_wu_s, "fcvt.wu.s") X1(fcvt_l_s, "fcvt.l.s") X1(fcvt_lu_s, "fcvt.lu.s")
F1(fcvt_d_s, "fcvt.d.s") X1(fmv_x_w, "fmv.x.w")
I1(fcvt_d_w, "fcvt.d.w") I1(fcvt_d_wu, "fcvt.d.wu") I1(fcvt_d_l, "fcvt.d.l") I1(fcvt_d_lu, "fcvt.d.lu")
I1(fcvt_s_w, "fcvt.s.w") I1(fcvt_s_wu, "fcvt.s.wu") I1(fcvt_s_l, "fcvt.s.l") I1(fcvt_s_lu, "fcvt.s.lu")
I1(fmv_w_x, "fmv.w.x")

static const struct { const char *name; uint64_t (*op)(uint64_t, uint64_t, uint64_t); int kind; } ops[] = {
    {"fadd.d", fadd_d, D}, {"fsub.d", fsub_d, D}, {"fmul.d", fmul_d, D}, {"fdiv.d", fdiv_d, D}, {"fsqrt.d", fsqrt_d, D},
    {"fmin.d", fmin_d, D}, {"fmax.d", fmax_d, D}, {"fsgnj.d", fsgnj_d, D}, {"fsgnjn.d", fsgnjn_d, D}, {"fsgnjx.d", fsgnjx_d, D},
    {"fmadd.d", fmadd_d, D}, {"fmsub.d", fmsub_d, D}, {"fnmadd.d", fnmadd_d, D}, {"fnmsub.d", fnmsub_d, D},
    {"feq.d", feq_d, D}, {"flt.d", flt_d, D}, {"fle.d", fle_d, D}, {"fclass.d", fclass_d, D},
    {"fcvt.w.d", fcvt_w_d, D}, {"fcvt.wu.d", fcvt_wu_d, D}, {"fcvt.l.d", fcvt_l_d, D}, {"fcvt.lu.d", fcvt_lu_d, D},
    {"fcvt.s.d", fcvt_s_d, D},
    {"fadd.s", fadd_s, S}, {"fsub.s", fsub_s, S}, {"fmul.s", fmul_s, S}, {"fdiv.s", fdiv_s, S}, {"fsqrt.s", fsqrt_s, S},
    {"fmin.s", fmin_s, S}, {"fmax.s", fmax_s, S}, {"fsgnj.s", fsgnj_s, S}, {"fsgnjn.s", fsgnjn_s, S}, {"fsgnjx.s", fsgnjx_s, S},
    {"fmadd.s", fmadd_s, S}, {"fmsub.s", fmsub_s, S}, {"fnmadd.s", fnmadd_s, S}, {"fnmsub.s", fnmsub_s, S},
    {"feq.s", feq_s, S}, {"flt.s", flt_s, S}, {"fle.s", fle_s, S}, {"fclass.s", fclass_s, S},
    {"fcvt.w.s", fcvt_w_s, S}, {"fcvt.wu.s", fcvt_wu_s, S}, {"fcvt.l.s", fcvt_l_s, S}, {"fcvt.lu.s", fcvt_lu_s, S},
    {"fcvt.d.s", fcvt_d_s, S}, {"fmv.x.w", fmv_x_w, S},
    {"fcvt.d.w", fcvt_d_w, I}, {"fcvt.d.wu", fcvt_d_wu, I}, {"fcvt.d.l", fcvt_d_l, I}, {"fcvt.d.lu", fcvt_d_lu, I},
    {"fcvt.s.w", fcvt_s_w, I}, {"fcvt.s.wu", fcvt_s_wu, I}, {"fcvt.s.l", fcvt_s_l, I}, {"fcvt.s.lu", fcvt_s_lu, I},
    {"fmv.w.x", fmv_w_x, I},
};

/* Cases per operation and rounding mode; build with -DCASES=20000 for a longer search. */
#ifndef CASES
#define CASES 1000
#endif
static const char *const rounding_names[] = {"rne", "rtz", "rdn", "rup", "rmm"};

int main(void) {
    __asm__ volatile("li t0, 0x2000\n csrs mstatus, t0" ::: "t0");   /* mstatus.FS = Initial: FP on */
    uint64_t all = FNV_OFFSET;
    for (unsigned k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        for (uint64_t rm = 0; rm < 5; rm++) {
            __asm__ volatile("csrw frm, %0" :: "r"(rm));
            uint64_t hash = FNV_OFFSET;
            for (int n = 0; n < CASES; n++) {
                uint64_t a, b, c;
                if (ops[k].kind == D) { a = operand_d(); b = operand_d(); c = operand_d(); }
                else if (ops[k].kind == S) { a = operand_s(); b = operand_s(); c = operand_s(); }
                else { a = operand_i(); b = c = 0; }
                (void)take_flags();
                uint64_t r = ops[k].op(a, b, c);
                uint64_t f = take_flags();
                hash = fnv_fold(fnv_fold(hash, r), f);
#ifdef DUMP   /* every case, to find the first that differs: op rm a b c result flags */
                uart_puts(ops[k].name); uart_putc(' '); put_hex(rm); uart_putc(' '); put_hex(a); uart_putc(' ');
                put_hex(b); uart_putc(' '); put_hex(c); uart_putc(' '); put_hex(r); uart_putc(' '); put_hex(f); uart_putc('\n');
#endif
            }
            all = fnv_fold(all, hash);
            put_result(ops[k].name, rounding_names[rm], hash);
        }
    }
    put_result("all", 0, all);
    return 0;
}
