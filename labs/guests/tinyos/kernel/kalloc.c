/* The physical page allocator. Free pages are kept on a linked list threaded through the pages
   themselves. Each page also has a reference count, because copy-on-write fork lets several
   address spaces map one page: it returns to the free list only when the last mapping goes.
   The counts live in an array carved from the start of the managed range. */
#include "kernel.h"

struct free_page { struct free_page *next; };

static struct free_page *free_list;
static uint64_t first_page, last_page;   /* managed range [first_page, last_page) */
static uint16_t *refcount;               /* one count per page of the range */
static uint64_t free_pages;

static uint64_t index_of(void *page) {
    uint64_t pa = (uint64_t)(uintptr_t)page;
    if (pa % PAGE_SIZE || pa < first_page || pa >= last_page) panic("kalloc: bad page %p", page);
    return (pa - first_page) / PAGE_SIZE;
}

void kalloc_init(uint64_t start, uint64_t end) {
    uint64_t pages = (end - start) / PAGE_SIZE;
    refcount = (uint16_t *)(uintptr_t)start;
    first_page = PAGE_ROUND_UP(start + pages * sizeof(uint16_t));
    last_page = PAGE_ROUND_DOWN(end);
    /* Push in descending order so that allocation hands out ascending addresses: easier to
       follow in a trace, and the same on every run. */
    for (uint64_t pa = last_page; pa > first_page;) {
        pa -= PAGE_SIZE;
        struct free_page *f = (struct free_page *)(uintptr_t)pa;
        f->next = free_list;
        free_list = f;
        refcount[index_of(f)] = 0;
        free_pages++;
    }
}

void *kalloc(void) {
    struct free_page *f = free_list;
    if (!f) return NULL;
    free_list = f->next;
    free_pages--;
    refcount[index_of(f)] = 1;
    memset(f, 0, PAGE_SIZE);
    return f;
}

void kref(void *page) { refcount[index_of(page)]++; }
int kref_count(void *page) { return refcount[index_of(page)]; }
uint64_t kalloc_free_pages(void) { return free_pages; }

void kfree(void *page) {
    uint64_t i = index_of(page);
    if (refcount[i] == 0) panic("kfree: page %p is already free", page);
    if (--refcount[i] > 0) return;
    struct free_page *f = page;
    f->next = free_list;
    free_list = f;
    free_pages++;
}
