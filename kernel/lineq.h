// SPDX-License-Identifier: Apache-2.0
// A bounded queue of console lines from several sources, oldest first, where each source may
// hold at most `quota` bytes: a source that writes faster than the queue drains loses its own
// lines (counted), never anyone else's. Pure (no lock, no allocation): kernel/conmux.c holds
// the lock and prints; the unit test drives it directly.
#ifndef KERNEL_LINEQ_H
#define KERNEL_LINEQ_H

#include <stdbool.h>
#include <stdint.h>

#define LINEQ_SOURCES  16
#define LINEQ_LINE_MAX 255 /* longer lines are cut */
#define LINEQ_HDR      3   /* source, vcpu, length */

struct lineq {
    uint8_t *buf;
    uint32_t size, quota;            /* bytes of buf; bytes one source may hold */
    uint32_t head, used;             /* oldest byte; bytes in use */
    uint32_t held[LINEQ_SOURCES];    /* bytes each source holds, headers included */
    uint64_t dropped[LINEQ_SOURCES]; /* bytes of lines refused (each with its newline) */
};

/* An empty queue over buf[0, size), each source allowed quota bytes (headers included). */
void lineq_init(struct lineq *q, uint8_t *buf, uint32_t size, uint32_t quota);
/* Queue a line of `len` bytes (no newline) from `source`'s vCPU `vcpu`. False when it was
 * dropped: the source's quota or the queue is full, or source is out of range. */
bool lineq_put(struct lineq *q, uint32_t source, uint32_t vcpu, const char *text, uint32_t len);
/* Take the oldest line into text (LINEQ_LINE_MAX bytes); false when empty. */
bool lineq_get(struct lineq *q, uint32_t *source, uint32_t *vcpu, char *text, uint32_t *len);
#endif
