/* The little C library shared by the kernel and the user programs: string and memory routines
   and a printf-style formatter. There is no libc under either, and the compiler may emit calls
   to memcpy/memset for structure copies, so these carry the standard names. */
#ifndef TINYOS_LIB_H
#define TINYOS_LIB_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 characters and always terminates (when size > 0). */
void strlcpy(char *dst, const char *src, size_t size);

/* Parses a decimal or 0x-prefixed hexadecimal unsigned number; *end (if not NULL) gets the first
   character not used. */
uint64_t parse_uint(const char *s, const char **end);

/* Formats like snprintf: %d %i %u %x %p %s %c %%, with an optional '0' flag, a width and the
   'l'/'ll' length modifiers. Returns the length the output would have had. */
int vformat(char *buf, size_t size, const char *fmt, va_list ap);
int format(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
