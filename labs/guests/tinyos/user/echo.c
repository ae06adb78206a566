/* echo: prints its arguments, separated by spaces. */
#include "user.h"

int main(int argc, char **argv) {
    char line[256];
    size_t len = 0;
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (len + n + 2 > sizeof line) break;
        if (i > 1) line[len++] = ' ';
        memcpy(line + len, argv[i], n);
        len += n;
    }
    line[len++] = '\n';
    write(1, line, (long)len);
    return 0;
}
