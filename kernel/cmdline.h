// SPDX-License-Identifier: Apache-2.0
// The hypervisor command line: space-separated words, each `key` or `key=value`. Pure code,
// unit-tested on the host. Unknown words are reported, never silently ignored.
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

enum cmdline_exit { CMDLINE_EXIT_NEVER = 0, CMDLINE_EXIT_BOOT = 1 };

struct cmdline {
    uint16_t console_port; /* console=com1..com4 or a port number; default COM1 0x3f8 */
    enum cmdline_exit exit; /* exit=boot: end the emulator run once boot completes (tests) */
};

/* Parse `s` into *out (defaults first). Problems are written to err (one sentence each,
 * separated by newlines, NUL-terminated); returns how many there were. Valid words are applied
 * even when others are bad. */
int cmdline_parse(const char *s, struct cmdline *out, char *err, size_t errlen);
#endif
