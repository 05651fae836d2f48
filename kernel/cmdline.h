// SPDX-License-Identifier: Apache-2.0
// The hypervisor command line: space-separated words, each `key` or `key=value`. Pure code,
// unit-tested on the host. Unknown words are reported, never silently ignored.
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

enum cmdline_exit {
    CMDLINE_EXIT_NEVER = 0,
    CMDLINE_EXIT_BOOT = 1, /* end the emulator run once boot completes (tests) */
    CMDLINE_EXIT_IDLE = 2, /* ... once every partition has stopped */
};

enum cmdline_mode { CMDLINE_MODE_LONG64 = 0, CMDLINE_MODE_PROT32, CMDLINE_MODE_REAL };

#define CMDLINE_GUESTS_MAX 4
#define CMDLINE_NAME_MAX   64

/* guest=IMAGE[,mode=long64|prot32|real][,mem=MIB][,args=TEXT]: run the flat image module
 * IMAGE as a partition with one vCPU per CPU (until the configuration file exists). */
struct cmdline_guest {
    char image[CMDLINE_NAME_MAX];
    char args[CMDLINE_NAME_MAX];
    enum cmdline_mode mode;
    uint32_t mem_mib; /* default 16 */
};

struct cmdline {
    uint16_t console_port; /* console=com1..com4 or a port number; default COM1 0x3f8 */
    enum cmdline_exit exit;
    bool debug_fault;       /* debug=fault: a page fault on the last CPU, to test the panic path */
    uint32_t guest_count;
    struct cmdline_guest guests[CMDLINE_GUESTS_MAX];
};

/* Parse `s` into *out (defaults first). Problems are written to err (one sentence each,
 * separated by newlines, NUL-terminated); returns how many there were. Valid words are applied
 * even when others are bad. */
int cmdline_parse(const char *s, struct cmdline *out, char *err, size_t errlen);
#endif
