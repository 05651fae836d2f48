// SPDX-License-Identifier: Apache-2.0
// The hypervisor shell (kernel/shell.h). Line-based: printable bytes are echoed and collected,
// Backspace/DEL erases, Enter runs the line. Commands act through kernel/run.c's requests, so
// the supervisor stays the only code that starts and stops partitions.
#include <stdio.h>
#include <string.h>
#include "kernel/shell.h"
#include "kernel/conmux.h"
#include "kernel/console.h"
#include "kernel/mm.h"
#include "kernel/partition.h"
#include "kernel/run.h"

#define SHELL_LINE_MAX 80

static char line[SHELL_LINE_MAX];
static uint32_t len;

void shell_prompt(void)
{
    printk("moat> %.*s", (int)len, line);
}

static void help(void)
{
    printk("commands:\n"
           "  list              partitions: state, CPUs, memory, CPU time, exits, restarts\n"
           "  start NAME        start a partition that is not running\n"
           "  stop NAME         stop a running partition (not a crash: no restart)\n"
           "  restart NAME      stop it if it runs, then start it afresh\n"
           "  crash NAME        the last crash of a partition\n"
           "  mem               free memory and what each partition holds\n"
           "  console NAME      send the console input to NAME's serial port; Ctrl-] comes back\n");
}

static void list(void)
{
    printk("%-16s %-12s %-8s %6s %10s %10s %8s %8s\n", "name", "state", "cpus", "MiB",
           "cpu ms", "exits", "restarts", "dropped");
    for (uint32_t i = 0; i < run_slot_count(); i++) {
        struct run_info r;
        run_info(i, &r);
        printk("%-16s %-12s %-8s %6lu %10lu %10lu %8u %8lu\n", r.name, r.state, r.cpus,
               r.memory / MIB, r.cpu_ns / 1000000, r.exits, r.restarts, r.dropped);
    }
}

static void mem(void)
{
    printk("memory: %lu KiB free\n", frames_free_bytes() / 1024);
    for (uint32_t i = 0; i < run_slot_count(); i++) {
        struct run_info r;
        run_info(i, &r);
        if (r.held)
            printk("  %-16s %lu MiB of memory, %lu KiB held by Moat for it\n", r.name,
                   r.memory / MIB, r.held / 1024);
    }
}

/* Split "verb arg" in place; arg is "" when absent. */
static const char *split(char *s)
{
    char *sp = strchr(s, ' ');
    if (!sp)
        return s + strlen(s);
    *sp++ = '\0';
    while (*sp == ' ')
        sp++;
    return sp;
}

static int named(const char *verb, const char *arg)
{
    if (!arg[0]) {
        printk("%s: which partition? ('list' shows them)\n", verb);
        return -1;
    }
    int slot = run_find(arg);
    if (slot < 0)
        printk("%s: no partition named '%s' ('list' shows them)\n", verb, arg);
    return slot;
}

/* The commands that name a partition, in the order of the switch in run_line. */
enum { CMD_START, CMD_STOP, CMD_RESTART, CMD_CRASH, CMD_CONSOLE, CMD_NAMED_COUNT };
static const char *const named_cmds[CMD_NAMED_COUNT] = { "start", "stop", "restart", "crash",
                                                         "console" };

static void console_to(uint32_t slot, const char *name)
{
    struct partition *p = run_partition(slot);
    if (!p || !p->has_com1) {
        printk("console: %s %s\n", name, p ? "has no virtual serial port (serial = passthrough "
               "or none)" : "is not running");
        return;
    }
    printk("[input: partition %s; Ctrl-] returns to the shell]\n", name);
    conmux_focus((int)slot);
}

static void run_line(char *s)
{
    while (*s == ' ')
        s++;
    const char *arg = split(s);
    if (!s[0])
        return;
    if (strcmp(s, "help") == 0 || strcmp(s, "?") == 0) {
        help();
        return;
    }
    if (strcmp(s, "list") == 0) {
        list();
        return;
    }
    if (strcmp(s, "mem") == 0) {
        mem();
        return;
    }
    unsigned cmd = 0;
    while (cmd < CMD_NAMED_COUNT && strcmp(s, named_cmds[cmd]) != 0)
        cmd++;
    if (cmd == CMD_NAMED_COUNT) {
        printk("unknown command '%s' ('help' lists them)\n", s);
        return;
    }
    int slot = named(s, arg);
    if (slot < 0)
        return;
    struct run_info r;
    switch (cmd) {
    case CMD_START:
        printk("%s\n", run_request_start((uint32_t)slot) ? "starting" : "it is already running");
        break;
    case CMD_STOP:
        printk("%s\n", run_request_stop((uint32_t)slot) ? "stopping" : "it is not running");
        break;
    case CMD_RESTART:
        run_request_restart((uint32_t)slot);
        printk("restarting\n");
        break;
    case CMD_CRASH:
        run_info((uint32_t)slot, &r);
        printk("%s: %s\n", r.name, r.last_crash[0] ? r.last_crash : "no crash since boot");
        break;
    case CMD_CONSOLE:
        console_to((uint32_t)slot, arg);
        break;
    }
}

void shell_input(uint8_t c)
{
    if (c == '\r' || c == '\n') {
        printk("\n");
        line[len] = '\0';
        len = 0;
        run_line(line);
        if (conmux_focused() < 0)
            shell_prompt();
    } else if (c == 0x7f || c == 0x08) {
        if (len) {
            len--;
            printk("\b \b");
        }
    } else if (c >= 0x20 && c < 0x7f && len + 1 < SHELL_LINE_MAX) {
        line[len++] = (char)c;
        printk("%c", c);
    }
}
