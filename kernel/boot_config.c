// SPDX-License-Identifier: Apache-2.0
// Where the partitions come from at boot: the moat.cfg module (the ESP folder's file, or a
// Multiboot2 module of that name), else the command line's guest= words turned into the same
// configuration text, so both paths share the parser, the defaults and every check.
#include <stdio.h>
#include <string.h>
#include "kernel/boot_config.h"
#include "kernel/console.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/virt.h"

static const struct boot_module *module_find(const struct boot_info *bi, const char *name)
{
    for (uint32_t i = 0; i < bi->module_count; i++)
        if (strncmp(bi->modules[i].name, name, BOOT_MODULE_NAME_MAX) == 0)
            return &bi->modules[i];
    return NULL;
}

static void print_diag(void *ctx, const struct config_diag *d)
{
    char line[512];
    config_diag_format(d, line, sizeof(line));
    printk("%s\n", line);
}

/* What the configuration is checked against: the CPUs that run guests (dense from 0), the
 * free memory, the RAM a fixed base may use, and the modules the loader brought. */
static const char *module_names[BOOT_MODULES_MAX];
static uint64_t module_sizes[BOOT_MODULES_MAX];
static struct config_range ram[BOOT_MEM_MAX];

static void describe_machine(const struct boot_info *bi, uint16_t console, struct config_machine *m)
{
    memset(m, 0, sizeof(*m));
    uint32_t cpus = 0;
    while (cpus < cpu_count && percpu_of[cpus]->online && percpu_of[cpus]->virt_ready)
        cpus++;
    m->cpu_count = cpus;
    m->usable_memory = frames_free_bytes();
    uint32_t n = 0;
    for (uint32_t i = 0; i < bi->mem_count; i++)
        if (bi->mem[i].type == BOOT_MEM_USABLE)
            ram[n++] = (struct config_range){ bi->mem[i].base, bi->mem[i].length };
    m->ram = ram;
    m->ram_count = n;
    for (uint32_t i = 0; i < bi->module_count; i++) {
        module_names[i] = bi->modules[i].name;
        module_sizes[i] = bi->modules[i].size;
    }
    m->modules = module_names;
    m->module_sizes = module_sizes;
    m->module_count = bi->module_count;
    m->console_port_default = console;
    m->long64_only = !virt_caps.unrestricted_guest;
}

/* guest=IMAGE[,mode=..][,mem=..][,args=..] as configuration text: one partition on every CPU
 * that runs guests, named after the image's stem and its arguments. */
static const char *const cmdline_mode_names[] = { "long64", "prot32", "real" };

static size_t guests_as_config(const struct cmdline *cmd, uint32_t cpus, char *buf, size_t len)
{
    size_t n = 0;
    for (uint32_t i = 0; i < cmd->guest_count && n < len; i++) {
        const struct cmdline_guest *g = &cmd->guests[i];
        char name[CONFIG_NAME_MAX];
        const char *dot = strchr(g->image, '.');
        size_t stem = dot ? (size_t)(dot - g->image) : strlen(g->image);
        bool again = false; /* the same guest twice: the later ones get their index */
        for (uint32_t j = 0; j < i; j++)
            again |= strcmp(cmd->guests[j].image, g->image) == 0 && strcmp(cmd->guests[j].args, g->args) == 0;
        int k = again ? snprintf(name, sizeof(name), "%u-", i) : 0;
        snprintf(name + k, sizeof(name) - (size_t)k, "%.*s%s%s", (int)stem, g->image,
                 g->args[0] ? "-" : "", g->args);
        for (char *c = name; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  *c == '_' || *c == '-'))
                *c = '_';
        n += (size_t)snprintf(buf + n, len - n,
                              "[partition %s]\ncpus = 0-%u\nmemory = %uM\nimage = %s\nmode = %s\n"
                              "cmdline = \"", name, cpus - 1, g->mem_mib, g->image,
                              cmdline_mode_names[g->mode]);
        for (const char *a = g->args; *a && n + 2 < len; a++) {
            if (*a == '"' || *a == '\\')
                buf[n++] = '\\';
            buf[n++] = *a;
        }
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "\"\n\n");
    }
    return n < len ? n : len;
}

static char generated[CMDLINE_GUESTS_MAX * 512];

bool boot_config_load(const struct boot_info *bi, const struct cmdline *cmd,
                      struct moat_config *cfg, struct run_image *images, bool *found)
{
    struct config_machine m;
    describe_machine(bi, cmd->console_port, &m);
    const struct boot_module *file = module_find(bi, BOOT_CONFIG_NAME);
    struct config_sink sink = { print_diag, NULL, 0, 0 };
    *found = true;
    if (file) {
        printk("config: %s, %lu bytes\n", BOOT_CONFIG_NAME, file->size);
        if (cmd->guest_count)
            printk("config: the command line's guest= options are ignored: %s is there\n",
                   BOOT_CONFIG_NAME);
        config_parse(cfg, BOOT_CONFIG_NAME, hpa_to_ptr(file->base), file->size, &sink);
    } else if (cmd->guest_count && m.cpu_count) {
        size_t len = guests_as_config(cmd, m.cpu_count, generated, sizeof(generated));
        config_parse(cfg, "cmdline", generated, len, &sink);
    } else {
        *found = false;
        return true;
    }
    config_validate(cfg, &m, &sink);
    if (sink.errors) {
        printk("config: %u error%s, %u warning%s: no partition started (fix %s and reboot)\n",
               sink.errors, sink.errors == 1 ? "" : "s", sink.warnings,
               sink.warnings == 1 ? "" : "s", file ? BOOT_CONFIG_NAME : "the guest= options");
        return false;
    }
    for (uint32_t i = 0; i < cfg->partition_count; i++) {
        const struct boot_module *mod = module_find(bi, cfg->partitions[i].image);
        if (!mod) /* config_validate checked that every image is there */
            return false;
        images[i] = (struct run_image){ hpa_to_ptr(mod->base), mod->size };
        char line[256];
        config_partition_summary(cfg, i, line, sizeof(line));
        printk("config: %s\n", line);
    }
    return true;
}
