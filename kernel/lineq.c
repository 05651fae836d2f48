// SPDX-License-Identifier: Apache-2.0
// The line queue (kernel/lineq.h): records [source][vcpu][len][text] in a byte ring.
#include <string.h>
#include "kernel/lineq.h"

void lineq_init(struct lineq *q, uint8_t *buf, uint32_t size, uint32_t quota)
{
    memset(q, 0, sizeof(*q));
    q->buf = buf;
    q->size = size;
    q->quota = quota;
}

static void put(struct lineq *q, uint8_t b)
{
    q->buf[(q->head + q->used) % q->size] = b;
    q->used++;
}

static uint8_t take(struct lineq *q)
{
    uint8_t b = q->buf[q->head];
    q->head = (q->head + 1) % q->size;
    q->used--;
    return b;
}

bool lineq_put(struct lineq *q, uint32_t source, uint32_t vcpu, const char *text, uint32_t len)
{
    if (source >= LINEQ_SOURCES)
        return false;
    if (len > LINEQ_LINE_MAX)
        len = LINEQ_LINE_MAX;
    uint32_t need = LINEQ_HDR + len;
    if (q->held[source] + need > q->quota || q->used + need > q->size) {
        q->dropped[source] += len + 1;
        return false;
    }
    put(q, (uint8_t)source);
    put(q, (uint8_t)vcpu);
    put(q, (uint8_t)len);
    for (uint32_t i = 0; i < len; i++)
        put(q, (uint8_t)text[i]);
    q->held[source] += need;
    return true;
}

bool lineq_get(struct lineq *q, uint32_t *source, uint32_t *vcpu, char *text, uint32_t *len)
{
    if (q->used == 0)
        return false;
    *source = take(q);
    *vcpu = take(q);
    *len = take(q);
    for (uint32_t i = 0; i < *len; i++)
        text[i] = (char)take(q);
    q->held[*source] -= LINEQ_HDR + *len;
    return true;
}
