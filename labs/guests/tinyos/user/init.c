/* init: the first process. It reads the kernel command line (bootargs, passed by the kernel as
   argv[1]) and does what it asks, then powers the machine off:

     bench=NAME[,NAME...]   run these benchmarks (or bench=all), each as `bench NAME n=.. pages=..`
     n=N  pages=P           sizes handed to every benchmark (see bench.c for the defaults)
     init=CMD; CMD; ...     then run these commands; init= takes the rest of the line
     (neither)              an interactive shell on the console; `halt` ends it

   A command is a built-in program name followed by its arguments, separated by spaces. */
#include "user.h"

static const char *all_benchmarks[] = {
    "syscall", "pagefault", "csr", "ctxsw", "fork", "pte", "mmio", "disk", "compute", "tlb",
};
#define NBENCH (int)(sizeof all_benchmarks / sizeof all_benchmarks[0])

static char *size_args[4];   /* the n= and pages= words, passed on to each benchmark */
static int nsize_args;

static void run_benchmark(char *name) {
    char *argv[8] = { "bench", name };
    int argc = 2;
    for (int i = 0; i < nsize_args; i++) argv[argc++] = size_args[i];
    argv[argc] = 0;
    int status = run(argv);
    if (status != 0) printf("init: bench %s exited with status %d\n", name, status);
}

static void run_benchmarks(char *list) {
    char *name = list;
    for (char *s = list;; s++) {
        if (*s != ',' && *s != 0) continue;
        int last = *s == 0;
        *s = 0;
        if (strcmp(name, "all") == 0) {
            for (int i = 0; i < NBENCH; i++) run_benchmark((char *)all_benchmarks[i]);
        } else if (*name) {
            run_benchmark(name);
        }
        if (last) break;
        name = s + 1;
    }
}

/* Runs one command line: commands separated by ';'. Returns 0 when `halt` was among them. */
static int run_line(char *line) {
    char *cmd = line;
    for (char *s = line;; s++) {
        if (*s != ';' && *s != 0) continue;
        int last = *s == 0;
        *s = 0;
        char *argv[9];                 /* up to 8 words (the kernel's MAXARG) and a NULL */
        int argc = split_words(cmd, argv, 8);
        argv[argc] = 0;
        if (argc > 0) {
            if (strcmp(argv[0], "halt") == 0) return 0;
            int status = run(argv);
            if (status != 0 && status != 127) printf("%s: exit status %d\n", argv[0], status);
        }
        if (last) break;
        cmd = s + 1;
    }
    return 1;
}

static void shell(void) {
    static char line[256];
    for (;;) {
        puts_raw("$ ");
        long n = read(0, line, sizeof line - 1);
        if (n <= 0) return;
        line[n] = 0;
        if (!run_line(line)) return;
    }
}

int main(int argc, char **argv) {
    static char args[256];
    strlcpy(args, argc > 1 ? argv[1] : "", sizeof args);

    /* init= swallows the rest of the line, so cut it off before splitting the rest. */
    char *init_cmds = NULL;
    for (char *s = args; *s; s++) {
        if (strncmp(s, "init=", 5) == 0 && (s == args || s[-1] == ' ')) {
            init_cmds = s + 5;
            *s = 0;
            break;
        }
    }
    char *words[16];
    int nwords = split_words(args, words, 16);
    char *bench_list = NULL;
    for (int i = 0; i < nwords; i++) {
        if (strncmp(words[i], "bench=", 6) == 0) bench_list = words[i] + 6;
        else if ((strncmp(words[i], "n=", 2) == 0 || strncmp(words[i], "pages=", 6) == 0) && nsize_args < 4)
            size_args[nsize_args++] = words[i];
        /* anything else (console=..., say) is for someone else */
    }

    if (bench_list) run_benchmarks(bench_list);
    if (init_cmds) run_line(init_cmds);
    if (!bench_list && !init_cmds) shell();
    printf("tinyos: halt\n");
    halt(0);
}
