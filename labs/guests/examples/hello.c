/* The smallest bare-metal guest: greets through the UART and passes through the syscon finisher. */
#include "baremetal.h"

int main(void) {
    uart_puts("hello from a bare-metal guest\n");
    return 0;
}
