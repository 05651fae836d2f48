// SPDX-License-Identifier: Apache-2.0
// Moat's partition configuration file (docs/config.md): an INI-style text parsed into a fixed-size
// struct moat_config, then validated against a description of the machine. Pure code shared by
// the kernel and the host tool `moat-cfg`: no allocation, input is a buffer and a length (never
// NUL-terminated), every problem goes to a caller-supplied sink with file, line and column.
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_PARTITIONS_MAX 16
#define CONFIG_SHMEM_MAX      8
#define CONFIG_NAME_MAX       32  /* partition and shmem names: 1..31 of [A-Za-z0-9_-] + NUL */
#define CONFIG_IMAGE_MAX      64  /* a module name; matches BOOT_MODULE_NAME_MAX */
#define CONFIG_CMDLINE_MAX    128 /* 127 characters + NUL: the guest's argument string */
#define CONFIG_CPUS_MAX       256 /* physical CPU indices 0..255; matches MAX_CPUS */
#define CONFIG_WINDOWS_MAX    8   /* cyclic windows per partition */
#define CONFIG_PCI_MAX        8   /* PCI functions per partition */
#define CONFIG_LINKS_MAX      8   /* shmem regions per partition */
#define CONFIG_INPUT_MAX      (1024u * 1024u) /* longer files are refused */

/* Every key of every section kind; the section a key belongs to is in the key table. */
enum config_key {
    /* [moat] */
    CONFIG_KEY_CONSOLE,
    CONFIG_KEY_SCHEDULER,
    CONFIG_KEY_TIMESLICE,
    CONFIG_KEY_MAJOR_FRAME,
    /* [partition NAME] */
    CONFIG_KEY_CPUS,
    CONFIG_KEY_MEMORY,
    CONFIG_KEY_BASE,
    CONFIG_KEY_IMAGE,
    CONFIG_KEY_KIND,
    CONFIG_KEY_MODE,
    CONFIG_KEY_LOAD,
    CONFIG_KEY_ENTRY,
    CONFIG_KEY_CMDLINE,
    CONFIG_KEY_PRIORITY,
    CONFIG_KEY_BUDGET,
    CONFIG_KEY_PERIOD,
    CONFIG_KEY_WINDOW,
    CONFIG_KEY_ON_CRASH,
    CONFIG_KEY_RESTART_DELAY,
    CONFIG_KEY_RESTART_DELAY_MAX,
    CONFIG_KEY_MAX_RESTARTS,
    CONFIG_KEY_AUTOSTART,
    CONFIG_KEY_SERIAL,
    CONFIG_KEY_SERIAL_PORT,
    CONFIG_KEY_PCI,
    CONFIG_KEY_SHMEM,
    /* [shmem NAME] */
    CONFIG_KEY_SIZE,
    CONFIG_KEY_COUNT
};
_Static_assert(CONFIG_KEY_COUNT <= 64, "key bit masks are uint64_t");

enum config_sched { CONFIG_SCHED_ROUND_ROBIN, CONFIG_SCHED_PRIORITY, CONFIG_SCHED_CYCLIC };
enum config_kind { CONFIG_KIND_FLAT, CONFIG_KIND_ELF };
enum config_mode { CONFIG_MODE_LONG64, CONFIG_MODE_PROT32, CONFIG_MODE_REAL };
enum config_crash { CONFIG_CRASH_STOP, CONFIG_CRASH_RESTART };
enum config_serial { CONFIG_SERIAL_VIRTUAL, CONFIG_SERIAL_PASSTHROUGH, CONFIG_SERIAL_NONE };

/* A place in the file; line 0 means "not given". Columns count bytes from 1 (a tab is one). */
struct config_loc {
    uint32_t line, col;
};

/* What each section records about its keys: where each one's value starts (line 0: not
 * given), and which were given with a value that did not parse (those keep their default and
 * are left out of later checks). */
struct config_keys {
    struct config_loc at[CONFIG_KEY_COUNT];
    uint64_t bad; /* bit k: key k was given but invalid */
};

struct config_window {
    uint64_t offset_us, length_us; /* within the major frame */
};

struct config_pci {
    uint8_t bus, dev, fn; /* dev 0..31, fn 0..7 (PCI Local Bus 3.0, 3.2.2.3.2) */
};

struct config_partition {
    char name[CONFIG_NAME_MAX];
    struct config_loc at; /* the [partition NAME] header */
    struct config_keys keys;
    uint64_t cpus[CONFIG_CPUS_MAX / 64]; /* bit i: physical CPU i; one vCPU each */
    uint32_t cpu_count;
    uint64_t memory;      /* bytes, a multiple of 2 MiB */
    uint64_t base;        /* fixed host-physical base; valid when has_base */
    bool has_base;
    char image[CONFIG_IMAGE_MAX];
    enum config_kind kind;
    enum config_mode mode;
    uint64_t load, entry; /* guest-physical; flat images only (defaults filled in) */
    char cmdline[CONFIG_CMDLINE_MAX];
    uint8_t priority;
    uint64_t budget_us;   /* 0: no budget */
    uint64_t period_us;
    uint32_t window_count;
    struct config_window windows[CONFIG_WINDOWS_MAX];
    enum config_crash on_crash;
    uint64_t restart_delay_us, restart_delay_max_us;
    uint32_t max_restarts;
    bool autostart;
    enum config_serial serial;
    uint16_t serial_port; /* 0 with serial = none */
    uint32_t pci_count;
    struct config_pci pci[CONFIG_PCI_MAX];
    uint32_t shmem_count;
    char shmem[CONFIG_LINKS_MAX][CONFIG_NAME_MAX];
    uint8_t shmem_index[CONFIG_LINKS_MAX]; /* into moat_config.shmem; CONFIG_NO_SHMEM: unknown */
};
#define CONFIG_NO_SHMEM 0xff

struct config_shmem {
    char name[CONFIG_NAME_MAX];
    struct config_loc at;
    struct config_keys keys;
    uint64_t size; /* bytes, a multiple of 4 KiB */
};

struct moat_config {
    const char *file; /* the name diagnostics carry (the caller's string, not copied) */
    struct config_loc moat_at; /* the [moat] header, line 0 when there is none */
    struct config_keys moat_keys;
    uint16_t console_port;     /* 0: not given (the machine's default console stays) */
    enum config_sched scheduler;
    uint64_t timeslice_us;
    uint64_t major_frame_us;   /* 0: not given */
    uint32_t partition_count;
    struct config_partition partitions[CONFIG_PARTITIONS_MAX];
    uint32_t shmem_count;
    struct config_shmem shmem[CONFIG_SHMEM_MAX];
};

/* ---- diagnostics ---------------------------------------------------------------------- */
enum config_severity { CONFIG_ERROR, CONFIG_WARNING };

struct config_diag {
    const char *file;
    uint32_t line, col;
    enum config_severity severity;
    const char *message; /* valid only during the report call */
    const char *hint;    /* NULL: none */
};

/* Where diagnostics go. report may be NULL (count only); errors and warnings accumulate over
 * config_parse and config_validate. */
struct config_sink {
    void (*report)(void *ctx, const struct config_diag *d);
    void *ctx;
    uint32_t errors, warnings;
};

/* A diagnostic as `FILE:LINE:COL: error: MESSAGE (hint: HINT)` (or `warning:`), no newline.
 * Returns what snprintf returns. */
int config_diag_format(const struct config_diag *d, char *buf, size_t len);

/* ---- the machine a configuration is checked against ------------------------------------ */
struct config_range {
    uint64_t base, length; /* bytes */
};

#define CONFIG_SIZE_UNKNOWN UINT64_MAX

struct config_machine {
    uint32_t cpu_count;              /* CPUs 0..cpu_count-1 exist; 0: unknown (not checked) */
    uint64_t usable_memory;          /* bytes partitions and shmem may take; 0: unknown */
    const struct config_range *ram;  /* where a fixed base may lie; NULL: not checked */
    uint32_t ram_count;
    const char *const *modules;      /* names of the loaded modules; NULL: not checked */
    const uint64_t *module_sizes;    /* their sizes in bytes, parallel; NULL: all unknown,
                                      * CONFIG_SIZE_UNKNOWN: that one unknown */
    uint32_t module_count;
    uint16_t console_port_default;   /* the console when [moat] names none; 0: COM1 (0x3f8) */
    bool long64_only;                /* the CPU runs only long64 guests (VT-x without
                                      * unrestricted guest): prot32 and real are refused */
};

/* ---- parsing and validation ----------------------------------------------------------- */
/* Parse len bytes of buf (named `file` in diagnostics) into *cfg, reporting every syntax and
 * value error and every check that needs nothing but the file itself (required keys,
 * duplicates between partitions, scheduler-specific keys, windows, shmem links). Returns the
 * number of errors it reported (sink may be NULL: nothing is reported, only counted). *cfg is
 * always fully initialized. */
uint32_t config_parse(struct moat_config *cfg, const char *file, const char *buf, size_t len,
                      struct config_sink *sink);

/* Check cfg against machine m: CPUs that exist, memory in total, fixed bases in RAM, images
 * present (and their sizes), the console UART not passed through, entry modes the CPU can run.
 * Returns the number of errors it reported. */
uint32_t config_validate(const struct moat_config *cfg, const struct config_machine *m,
                         struct config_sink *sink);

/* One line about partition i: "web: 2 vCPUs (CPUs 0-1), 256 MiB, flat long64 web.bin, ...".
 * Returns what snprintf returns. */
int config_partition_summary(const struct moat_config *cfg, uint32_t i, char *buf, size_t len);

/* Names for enum values (as written in the file). */
const char *config_sched_name(enum config_sched s);
const char *config_mode_name(enum config_mode m);
const char *config_key_name(enum config_key k);

/* The console port cfg selects on machine m (its own, or m's default, or COM1). */
uint16_t config_console_port(const struct moat_config *cfg, const struct config_machine *m);

#endif
