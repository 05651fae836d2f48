// SPDX-License-Identifier: Apache-2.0
// MMIO emulation, the pure part: the device registry, the effective address of a decoded
// memory operand, and the decision whether a faulting access can be emulated. What a device
// does with an access, and fetching the instruction, live elsewhere.
#include "kernel/mmio.h"

#include <stddef.h>

#define PAGE_OFFSET_MASK 0xfffull

enum { R_AX = 0, R_BX = 3, R_SP = 4, R_BP = 5, R_SI = 6, R_DI = 7 };

bool mmio_add(struct mmio_bus *bus, const struct mmio_device *d)
{
    if (!bus || !d || !d->access || d->size == 0 || d->base + d->size < d->base ||
        bus->count >= MMIO_DEVICES_MAX)
        return false;
    for (uint32_t i = 0; i < bus->count; i++) {
        const struct mmio_device *o = &bus->devs[i];
        if (d->base < o->base + o->size && o->base < d->base + d->size)
            return false;
    }
    bus->devs[bus->count++] = *d;
    return true;
}

struct mmio_device *mmio_find(struct mmio_bus *bus, uint64_t gpa)
{
    for (uint32_t i = 0; i < bus->count; i++) {
        struct mmio_device *d = &bus->devs[i];
        if (gpa >= d->base && gpa - d->base < d->size)
            return d;
    }
    return NULL;
}

/* 16-bit addressing (SDM vol. 2 table 2-1): the base and index registers by ModRM.rm
 * (-1: none); rm 6 with mod 0 is a bare disp16. */
static const int8_t base16[8] = { R_BX, R_BX, R_BP, R_BP, -1, -1, R_BP, R_BX };
static const int8_t index16[8] = { R_SI, R_DI, R_SI, R_DI, R_SI, R_DI, -1, -1 };

static bool is_moffs(const struct insn *in)
{
    return in->map == INSN_MAP_1BYTE && in->opcode >= 0xa0 && in->opcode <= 0xa3;
}

bool mmio_linear_address(const struct insn *in, const uint64_t gpr[16], uint64_t next_rip,
                         const uint64_t seg_base[6], uint64_t *la)
{
    if (!in || !gpr || !seg_base || !la || !in->has_mem)
        return false;
    uint64_t ea = (uint64_t)in->disp;
    unsigned seg = INSN_SEG_DS;
    if (is_moffs(in)) {
        /* the offset is the address (disp holds it, zero-extended) */
    } else if (!in->has_modrm || in->mod == 3) {
        return false; /* string instructions' implicit rSI/rDI: not emulated */
    } else if (in->addr_size == 2) {
        bool bare = in->mod == 0 && in->rm == 6;
        if (!bare && base16[in->rm] >= 0)
            ea += gpr[base16[in->rm]];
        if (!bare && index16[in->rm] >= 0)
            ea += gpr[index16[in->rm]];
        if (!bare && base16[in->rm] == R_BP)
            seg = INSN_SEG_SS;
    } else if (in->rip_relative) {
        ea += next_rip;
    } else if (in->has_sib) {
        unsigned base = in->base | ((in->rex & INSN_REX_B) ? 8u : 0u);
        unsigned index = in->index | ((in->rex & INSN_REX_X) ? 8u : 0u);
        if (!(in->base == 5 && in->mod == 0)) { /* SIB base 101 with mod 00: disp32, no base */
            ea += gpr[base];
            if (base == R_SP || base == R_BP)
                seg = INSN_SEG_SS;
        }
        if (index != R_SP) /* index 100 without REX.X: none */
            ea += gpr[index] << in->scale;
    } else if (!(in->mod == 0 && in->rm == 5)) { /* mod 00 rm 101 outside 64-bit: disp32 */
        unsigned base = in->rm | ((in->rex & INSN_REX_B) ? 8u : 0u);
        ea += gpr[base];
        if (base == R_BP)
            seg = INSN_SEG_SS;
    }
    if (in->addr_size == 2)
        ea &= 0xffff;
    else if (in->addr_size == 4)
        ea &= 0xffffffff;
    if (in->seg != INSN_SEG_NONE && in->seg <= INSN_SEG_GS)
        seg = in->seg;
    bool long64 = in->mode == INSN_MODE_LONG64;
    uint64_t sb = !long64 || seg == INSN_SEG_FS || seg == INSN_SEG_GS ? seg_base[seg] : 0;
    *la = long64 ? sb + ea : (sb + ea) & 0xffffffff;
    return true;
}

enum mmio_refusal mmio_plan(const struct insn *in, const struct mmio_device *d, uint64_t gpa,
                            bool write, bool has_la, uint64_t la, const uint64_t gpr[16],
                            struct mmio_access *acc)
{
    switch (in->mmio.kind) {
    case INSN_MMIO_LOAD:
        if (write)
            return MMIO_R_DIRECTION;
        break;
    case INSN_MMIO_STORE:
    case INSN_MMIO_STORE_IMM:
        if (!write)
            return MMIO_R_DIRECTION;
        break;
    case INSN_MMIO_STRING: return MMIO_R_STRING;
    case INSN_MMIO_ATOMIC: return MMIO_R_ATOMIC;
    case INSN_MMIO_ALU: return MMIO_R_ALU;
    case INSN_MMIO_SIMD: return MMIO_R_SIMD;
    case INSN_MMIO_NONE: return MMIO_R_NO_MEM;
    default: return MMIO_R_OTHER;
    }
    unsigned size = in->mmio.width;
    if (gpa < d->base || gpa - d->base >= d->size)
        return MMIO_R_BELOW;
    uint64_t off = gpa - d->base;
    if (size > d->size - off)
        return MMIO_R_PAST_END;
    /* An access that starts on the page below and runs into the device faults on the
     * device's first byte; its page offset then differs from the operand's (paging keeps
     * offsets within a page). */
    if (has_la && (la & PAGE_OFFSET_MASK) != (gpa & PAGE_OFFSET_MASK))
        return MMIO_R_BELOW;
    acc->offset = off;
    acc->size = size;
    acc->write = write;
    acc->value = write ? insn_mmio_store_value(in, gpr[in->mmio.reg & 15]) : 0;
    return MMIO_OK;
}

const char *mmio_refusal_text(enum mmio_refusal r)
{
    switch (r) {
    case MMIO_OK: return "ok";
    case MMIO_R_STRING: return "string instructions (MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS)";
    case MMIO_R_ATOMIC: return "locked and exchanging accesses (LOCK, XCHG, CMPXCHG, XADD)";
    case MMIO_R_ALU: return "read-modify-write and compare instructions (ADD, OR, TEST, BT, ...)";
    case MMIO_R_SIMD: return "MMX/SSE/AVX accesses";
    case MMIO_R_OTHER: return "this instruction (only MOV, MOVZX, MOVSX and MOVNTI are emulated)";
    case MMIO_R_NO_MEM: return "an instruction without a memory operand (it changed since the fault)";
    case MMIO_R_DIRECTION: return "an instruction that does not make this access (it changed since the fault)";
    case MMIO_R_PAST_END: return "an access that runs past the device's end";
    case MMIO_R_BELOW: return "an access that starts below the device's range";
    }
    return "unknown";
}
