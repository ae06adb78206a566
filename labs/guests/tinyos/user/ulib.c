/* Helpers for user programs, on top of the system calls. */
#include "user.h"

int printf(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1) n = (int)sizeof buf - 1;
    write(1, buf, n);
    return n;
}

void puts_raw(const char *s) { write(1, s, (long)strlen(s)); }

int split_words(char *s, char **words, int max) {
    int n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\n') *s++ = 0;
        if (!*s) break;
        if (n == max) break;
        words[n++] = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n') s++;
    }
    return n;
}

int run(char *const argv[]) {
    int pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        exec(argv[0], argv);
        printf("%s: not found\n", argv[0]);
        exit(127);
    }
    /* init also adopts orphans, so a wait may reap someone else first. */
    int status, reaped;
    while ((reaped = wait(&status)) != pid)
        if (reaped < 0) return -1;
    return status;
}
