// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for kernel/config.c: arbitrary bytes through the parser, the validator (on a
// small known machine and on an unknown one) and the summaries. Besides the sanitizers, it
// aborts when a diagnostic or an accepted configuration breaks the documented invariants.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/config.h"

struct ctx {
    uint32_t lines; /* lines in the input, for the location check */
};

static void check(int cond)
{
    if (!cond)
        abort();
}

static void sink_report(void *arg, const struct config_diag *d)
{
    struct ctx *c = arg;
    char buf[1024];
    check(d->line >= 1 && d->line <= c->lines + 1 && d->col >= 1);
    check(d->message && d->message[0]);
    int n = config_diag_format(d, buf, sizeof(buf));
    check(n > 0 && strlen(buf) == (size_t)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1));
    check(strncmp(buf, "fuzz.cfg:", 9) == 0);
    for (const char *p = d->message; *p; p++)
        check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f); /* user text is sanitized */
}

static int name_ok(const char *s)
{
    size_t n = strnlen(s, CONFIG_NAME_MAX);
    if (n == 0 || n >= CONFIG_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '_' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return 0;
    return 1;
}

/* What an error-free configuration promises its users (the kernel builds from it directly). */
static void check_accepted(const struct moat_config *c)
{
    check(c->partition_count >= 1 && c->partition_count <= CONFIG_PARTITIONS_MAX);
    check(c->shmem_count <= CONFIG_SHMEM_MAX);
    for (uint32_t i = 0; i < c->partition_count; i++) {
        const struct config_partition *p = &c->partitions[i];
        check(name_ok(p->name));
        for (uint32_t j = 0; j < i; j++)
            check(strcmp(p->name, c->partitions[j].name) != 0);
        check(p->cpu_count >= 1 && p->cpu_count <= CONFIG_CPUS_MAX);
        check(p->memory >= (4u << 20) && p->memory % (2u << 20) == 0);
        check(!p->has_base || p->base % (2u << 20) == 0);
        check(p->image[0] && strnlen(p->image, CONFIG_IMAGE_MAX) < CONFIG_IMAGE_MAX);
        check(strnlen(p->cmdline, CONFIG_CMDLINE_MAX) < CONFIG_CMDLINE_MAX);
        check(p->window_count <= CONFIG_WINDOWS_MAX && p->pci_count <= CONFIG_PCI_MAX);
        check(p->shmem_count <= CONFIG_LINKS_MAX);
        if (p->kind == CONFIG_KIND_FLAT) {
            check(p->load >= 0x10000 && p->load < p->memory && p->entry < p->memory);
            if (p->mode == CONFIG_MODE_REAL)
                check(p->load < 0x100000 && p->entry >= p->load && p->entry - p->load < 0x10000);
        } else {
            check(p->mode != CONFIG_MODE_REAL);
        }
        for (uint32_t l = 0; l < p->shmem_count; l++)
            check(p->shmem_index[l] < c->shmem_count);
        if (c->scheduler == CONFIG_SCHED_CYCLIC) {
            check(p->window_count >= 1);
            for (uint32_t w = 0; w < p->window_count; w++)
                check(p->windows[w].length_us > 0 &&
                      p->windows[w].offset_us + p->windows[w].length_us <= c->major_frame_us);
        }
    }
    for (uint32_t s = 0; s < c->shmem_count; s++)
        check(c->shmem[s].size >= 4096 && c->shmem[s].size % 4096 == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct moat_config cfg;
    struct ctx c = { 1 };
    for (size_t i = 0; i < size; i++)
        c.lines += data[i] == '\n';
    struct config_sink sink = { sink_report, &c, 0, 0 };
    uint32_t errs = config_parse(&cfg, "fuzz.cfg", (const char *)data, size, &sink);
    check(errs == sink.errors);
    if (errs == 0)
        check_accepted(&cfg);

    static const char *const modules[] = { "a.bin", "web.bin", "selftest.bin", "real16.bin" };
    static const uint64_t sizes[] = { 1, 4096, CONFIG_SIZE_UNKNOWN, 0x20000 };
    static const struct config_range ram[] = { { 0x100000, 0x3ff00000 }, { 0x100000000ull, 0x40000000 } };
    struct config_machine small = { 4, 256u << 20, ram, 2, modules, sizes, 4, 0x2f8, 1 };
    struct config_machine unknown = { 0 };
    config_validate(&cfg, &small, &sink);
    struct config_sink quiet = { NULL, NULL, 0, 0 };
    check(config_validate(&cfg, &unknown, &quiet) == quiet.errors);
    /* Valid on any machine: every partition's RAM ends below the PCI ECAM window. */
    for (uint32_t i = 0; errs == 0 && quiet.errors == 0 && i < cfg.partition_count; i++)
        check(cfg.partitions[i].memory <= 0xb0000000u);

    char line[512];
    for (uint32_t i = 0; i < cfg.partition_count + 1; i++) {
        int n = config_partition_summary(&cfg, i, line, sizeof(line));
        check(n >= 0 && strlen(line) < sizeof(line));
    }
    return 0;
}
