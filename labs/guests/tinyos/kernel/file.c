/* Open files: what a file descriptor refers to. tinyos has two kinds, the console and pipes.
   A struct file is shared by every descriptor that refers to it (after fork) and counts them. */
#include "kernel.h"

#define PIPE_SIZE 512

struct pipe {
    char data[PIPE_SIZE];
    uint64_t nread, nwrite;  /* bytes read and written so far; the difference is what is buffered */
    int read_open, write_open;
};

struct file {
    enum { FD_NONE, FD_CONSOLE, FD_PIPE } type;
    int ref;
    int readable, writable;
    struct pipe *pipe;
};

static struct file files[NFILE];

static struct file *file_alloc(void) {
    for (int i = 0; i < NFILE; i++) {
        if (files[i].ref == 0) {
            memset(&files[i], 0, sizeof files[i]);
            files[i].ref = 1;
            return &files[i];
        }
    }
    return NULL;
}

/* One console file, shared by all: descriptors 0, 1 and 2 of init and its descendants. */
struct file *file_console(void) {
    static struct file *console;
    if (!console) {
        console = file_alloc();
        if (!console) panic("file_console: no file");
        console->type = FD_CONSOLE;
        console->readable = console->writable = 1;
        console->ref = 0; /* file_dup below makes it 1 */
    }
    return file_dup(console);
}

struct file *file_dup(struct file *f) {
    f->ref++;
    return f;
}

void file_close(struct file *f) {
    if (--f->ref > 0) return;
    if (f->type == FD_PIPE) {
        struct pipe *p = f->pipe;
        if (f->writable) { p->write_open = 0; wakeup(&p->nread); }  /* readers see end of file */
        else { p->read_open = 0; wakeup(&p->nwrite); }              /* writers see an error */
        if (!p->read_open && !p->write_open) kfree(p);
    }
    f->type = FD_NONE;
}

int pipe_create(struct file **read_end, struct file **write_end) {
    struct pipe *p = kalloc(); /* a page; struct pipe fits */
    struct file *r = file_alloc();
    struct file *w = r ? file_alloc() : NULL;
    if (!p || !r || !w) {
        if (p) kfree(p);
        if (r) r->ref = 0;
        return -1;
    }
    p->read_open = p->write_open = 1;
    *r = (struct file){ FD_PIPE, 1, 1, 0, p };
    *w = (struct file){ FD_PIPE, 1, 0, 1, p };
    *read_end = r;
    *write_end = w;
    return 0;
}

/* Blocks until at least one byte is there (or every writer has closed: 0, end of file). */
static long pipe_read(struct pipe *p, uint64_t dst_va, size_t n) {
    while (p->nread == p->nwrite && p->write_open) sleep(&p->nread);
    size_t k = 0;
    for (; k < n && p->nread != p->nwrite; k++, p->nread++) {
        char c = p->data[p->nread % PIPE_SIZE];
        if (copyout(myproc(), dst_va + k, &c, 1) < 0) return k ? (long)k : -1;
    }
    wakeup(&p->nwrite);
    return (long)k;
}

/* Blocks while the pipe is full; fails if nobody can read any more. */
static long pipe_write(struct pipe *p, uint64_t src_va, size_t n) {
    size_t k = 0;
    while (k < n) {
        if (!p->read_open) return -1;
        if (p->nwrite - p->nread == PIPE_SIZE) {
            wakeup(&p->nread);
            sleep(&p->nwrite);
            continue;
        }
        char c;
        if (copyin(myproc(), &c, src_va + k, 1) < 0) {
            if (k == 0) return -1;
            break;
        }
        p->data[p->nwrite++ % PIPE_SIZE] = c;
        k++;
    }
    wakeup(&p->nread);
    return (long)k;
}

long file_read(struct file *f, uint64_t dst_va, size_t n) {
    if (!f->readable) return -1;
    if (f->type == FD_PIPE) return pipe_read(f->pipe, dst_va, n);
    char buf[256];
    int k = console_read(buf, n < sizeof buf ? n : sizeof buf);
    return copyout(myproc(), dst_va, buf, (size_t)k) < 0 ? -1 : k;
}

long file_write(struct file *f, uint64_t src_va, size_t n) {
    if (!f->writable) return -1;
    if (f->type == FD_PIPE) return pipe_write(f->pipe, src_va, n);
    char buf[256];
    size_t done = 0;
    while (done < n) {   /* in pieces, since the user buffer may be larger than ours */
        size_t k = n - done < sizeof buf ? n - done : sizeof buf;
        if (copyin(myproc(), buf, src_va + done, k) < 0) return done ? (long)done : -1;
        console_write(buf, k);
        done += k;
    }
    return (long)n;
}
