// SPDX-License-Identifier: Apache-2.0
// moat-cfg: checks Moat configuration files on the build host with the kernel's own parser and
// validator (kernel/config.c), so a bad file is caught before it is copied to a boot medium.
// The machine is described by flags; images are looked up beside the file unless named.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "kernel/config.h"

#define MODULES_MAX 256

struct options {
    struct config_machine m;
    const char *dir;      /* image directory; NULL: each file's own */
    bool modules_given;   /* --module: the list is fixed, no directory scan */
    bool strict, quiet;
};

static const char *module_names[MODULES_MAX];
static uint64_t module_sizes[MODULES_MAX];
static uint32_t module_count;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moat-cfg check [options] FILE...\n"
            "Checks Moat configuration files (docs/config.md) and prints every problem as\n"
            "FILE:LINE:COL: error: MESSAGE (hint: HINT). Exit status 0: valid, 1: errors, 2: usage.\n"
            "options (they describe the machine the files are meant for):\n"
            "  --cpus N          CPUs 0..N-1 exist (default: only Moat's limit of 256 is checked)\n"
            "  --memory SIZE     memory partitions may use, e.g. 448M or 16G (default: not checked)\n"
            "  --module NAME     a module the loader will find (repeat it); a path also gives the\n"
            "                    size. Default: every file in the config file's directory\n"
            "  --dir DIR         look for images in DIR instead of beside each FILE\n"
            "  --console PORT    the console when [moat] names none: com1..com4 or a port (com1)\n"
            "  --long64-only     the CPU has VT-x without unrestricted guest: prot32/real refused\n"
            "  --strict          warnings count as errors\n"
            "  -q, --quiet       print problems only, no summary\n");
}

/* Diagnostics are collected and printed in line order (the parser reports the checks that
 * need the whole file, and the validator its own, after the line-by-line ones). */
struct diag_line {
    uint32_t line, seq;
    char *text;
};

struct diag_list {
    struct diag_line *v;
    uint32_t count, cap;
};

static void collect_diag(void *ctx, const struct config_diag *d)
{
    struct diag_list *l = ctx;
    char text[1024];
    config_diag_format(d, text, sizeof(text));
    if (l->count == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 64;
        struct diag_line *v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            fprintf(stderr, "%s\n", text); /* out of memory: print it unsorted */
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->count] = (struct diag_line){ d->line, l->count, strdup(text) };
    l->count++;
}

static int diag_cmp(const void *a, const void *b)
{
    const struct diag_line *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void print_diags(struct diag_list *l)
{
    if (l->count)
        qsort(l->v, l->count, sizeof(*l->v), diag_cmp);
    for (uint32_t i = 0; i < l->count; i++) {
        fprintf(stderr, "%s\n", l->v[i].text ? l->v[i].text : "moat-cfg: out of memory");
        free(l->v[i].text);
    }
    free(l->v);
    *l = (struct diag_list){ 0 };
}

static bool parse_size_arg(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (end == s || errno || *s == '-')
        return false;
    unsigned shift = 0;
    if (*end == 'K')
        shift = 10;
    else if (*end == 'M')
        shift = 20;
    else if (*end == 'G')
        shift = 30;
    else if (*end == 'T')
        shift = 40;
    else if (*end != '\0')
        return false;
    if (shift && end[1] != '\0')
        return false;
    if (v > (UINT64_MAX >> shift))
        return false;
    *out = (uint64_t)v << shift;
    return true;
}

static bool parse_port_arg(const char *s, uint16_t *out)
{
    static const char *const names[] = { "com1", "com2", "com3", "com4" };
    static const uint16_t ports[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = ports[i];
            return true;
        }
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (end == s || *end || errno || v == 0 || v > 0xfff8 || *s == '-')
        return false;
    *out = (uint16_t)v;
    return true;
}

static bool add_module(const char *name, uint64_t size)
{
    if (module_count == MODULES_MAX)
        return false;
    module_names[module_count] = strdup(name);
    module_sizes[module_count] = size;
    module_count++;
    return module_names[module_count - 1] != NULL;
}

static void clear_modules(void)
{
    for (uint32_t i = 0; i < module_count; i++)
        free((void *)module_names[i]);
    module_count = 0;
}

/* --module NAME or PATH: a path that exists gives its base name and its size. */
static bool module_arg(const char *arg)
{
    struct stat st;
    const char *slash = strrchr(arg, '/');
    const char *base = slash ? slash + 1 : arg;
    if (stat(arg, &st) == 0 && S_ISREG(st.st_mode))
        return add_module(base, (uint64_t)st.st_size);
    return add_module(base, CONFIG_SIZE_UNKNOWN);
}

/* Every regular file in dir, as the UEFI loader and GRUB module2 lines would provide them. */
static bool scan_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "moat-cfg: %s: %s\n", dir, strerror(errno));
        return false;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= CONFIG_IMAGE_MAX)
            continue;
        char path[4096 + 256 + 2];
        struct stat st;
        snprintf(path, sizeof(path), "%.4096s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!add_module(e->d_name, (uint64_t)st.st_size))
            break;
    }
    closedir(d);
    return true;
}

/* Whole file, up to one byte more than the parser accepts (so it can say the file is too long). */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "moat-cfg: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = CONFIG_INPUT_MAX + 1;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, cap, f);
    bool err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "moat-cfg: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* 0: valid, 1: errors, 2: the file could not be read. */
static int check_file(const char *path, struct options *o)
{
    size_t len;
    char *buf = read_file(path, &len);
    if (!buf)
        return 2;
    if (!o->modules_given) {
        clear_modules();
        char dir[4096];
        if (o->dir) {
            snprintf(dir, sizeof(dir), "%s", o->dir);
        } else {
            const char *slash = strrchr(path, '/');
            if (slash)
                snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
            else
                snprintf(dir, sizeof(dir), ".");
            if (dir[0] == '\0')
                snprintf(dir, sizeof(dir), "/");
        }
        if (!scan_dir(dir)) {
            free(buf);
            return 2;
        }
    }
    o->m.modules = module_names;
    o->m.module_count = module_count;
    o->m.module_sizes = module_sizes;

    static struct moat_config cfg;
    struct diag_list diags = { 0 };
    struct config_sink sink = { collect_diag, &diags, 0, 0 };
    config_parse(&cfg, path, buf, len, &sink);
    config_validate(&cfg, &o->m, &sink);
    free(buf);
    print_diags(&diags);

    bool failed = sink.errors || (o->strict && sink.warnings);
    if (failed) {
        fprintf(stderr, "%s: %u error%s, %u warning%s\n", path, sink.errors, sink.errors == 1 ? "" : "s",
                sink.warnings, sink.warnings == 1 ? "" : "s");
        return 1;
    }
    if (o->quiet)
        return 0;
    char line[1024];
    printf("%s: ok: %u partition%s, %s scheduler, console 0x%x", path, cfg.partition_count,
           cfg.partition_count == 1 ? "" : "s", config_sched_name(cfg.scheduler),
           config_console_port(&cfg, &o->m));
    if (sink.warnings)
        printf(", %u warning%s", sink.warnings, sink.warnings == 1 ? "" : "s");
    if (!o->m.cpu_count || !o->m.usable_memory)
        printf(" (%s%s%s not checked)", o->m.cpu_count ? "" : "CPU count",
               !o->m.cpu_count && !o->m.usable_memory ? " and " : "", o->m.usable_memory ? "" : "memory");
    printf("\n");
    for (uint32_t i = 0; i < cfg.partition_count; i++) {
        config_partition_summary(&cfg, i, line, sizeof(line));
        printf("%s\n", line);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "moat-cfg: unknown command '%s' (the only one is 'check')\n", argv[1]);
        return 2;
    }
    struct options o = { 0 };
    const char *files[256];
    int nfiles = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(a, "--cpus") == 0 || strcmp(a, "--memory") == 0 || strcmp(a, "--module") == 0 ||
                     strcmp(a, "--dir") == 0 || strcmp(a, "--console") == 0;
        if (takes && !val) {
            fprintf(stderr, "moat-cfg: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--cpus") == 0) {
            char *end;
            unsigned long n = strtoul(val, &end, 10);
            if (end == val || *end || n == 0 || n > CONFIG_CPUS_MAX) {
                fprintf(stderr, "moat-cfg: --cpus wants 1 to %d, got '%s'\n", CONFIG_CPUS_MAX, val);
                return 2;
            }
            o.m.cpu_count = (uint32_t)n;
            i++;
        } else if (strcmp(a, "--memory") == 0) {
            if (!parse_size_arg(val, &o.m.usable_memory) || o.m.usable_memory == 0) {
                fprintf(stderr, "moat-cfg: --memory wants a size such as 448M or 16G, got '%s'\n", val);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--module") == 0) {
            if (!module_arg(val)) {
                fprintf(stderr, "moat-cfg: too many modules (at most %d)\n", MODULES_MAX);
                return 2;
            }
            o.modules_given = true;
            i++;
        } else if (strcmp(a, "--dir") == 0) {
            o.dir = val;
            i++;
        } else if (strcmp(a, "--console") == 0) {
            if (!parse_port_arg(val, &o.m.console_port_default)) {
                fprintf(stderr, "moat-cfg: --console wants com1..com4 or a port such as 0x3f8, got '%s'\n", val);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--long64-only") == 0) {
            o.m.long64_only = true;
        } else if (strcmp(a, "--strict") == 0) {
            o.strict = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o.quiet = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "moat-cfg: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (nfiles == (int)(sizeof(files) / sizeof(files[0]))) {
            fprintf(stderr, "moat-cfg: too many files\n");
            return 2;
        } else {
            files[nfiles++] = a;
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "moat-cfg: check needs a FILE\n");
        usage(stderr);
        return 2;
    }
    int status = 0;
    for (int i = 0; i < nfiles; i++) {
        int rc = check_file(files[i], &o);
        if (rc > status)
            status = rc;
    }
    clear_modules();
    return status;
}
