/* What a tinyos program can call: the system calls (usys.S) and a few helpers (ulib.c). */
#ifndef TINYOS_USER_H
#define TINYOS_USER_H
#include <stdint.h>
#include "../include/abi.h"
#include "../lib/lib.h"

/* System calls; see include/abi.h for what each does. Negative results are errors. */
__attribute__((noreturn)) void exit(int status);
int fork(void);
int wait(int *status);
int exec(const char *name, char *const argv[]);
int getpid(void);
long write(int fd, const void *buf, long n);
long read(int fd, void *buf, long n);
void *sbrk(long n);
int yield(void);
int pipe(int fds[2]);
int close(int fd);
int map(void *va);
int unmap(void *va);
int blkio(uint64_t sector, void *buf, int write);
long kbench(int kind, uint64_t n);
__attribute__((noreturn)) void halt(int status);
long disksize(void);
long timebase(void);

/* Helpers. printf writes each call's output with one write(). */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void puts_raw(const char *s);
/* Splits s in place at spaces into at most max words; returns how many. */
int split_words(char *s, char **words, int max);
/* fork, exec name with argv in the child, wait: the child's exit status, or -1. */
int run(char *const argv[]);

static inline uint64_t rdcycle(void) { uint64_t v; __asm__ volatile("rdcycle %0" : "=r"(v)); return v; }
static inline uint64_t rdtime(void) { uint64_t v; __asm__ volatile("rdtime %0" : "=r"(v)); return v; }
static inline uint64_t rdinstret(void) { uint64_t v; __asm__ volatile("rdinstret %0" : "=r"(v)); return v; }

#endif
