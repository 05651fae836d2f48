// SPDX-License-Identifier: Apache-2.0
// Instruction length and operand decoding. Opcode properties live in two 256-entry flag
// tables transcribed from Intel SDM vol. 2 appendix A (tables ); the few rules
// that depend on ModRM.reg, on a prefix or on the mode are written out next to their cite.
#include <string.h>
#include "common/bits.h"
#include "kernel/insn.h"

/* Per-opcode flags: a ModRM byte, the kind of immediate, and the 64-bit-mode superscripts
 * of the SDM opcode maps (vol. 2 A.2.5: i64, d64, f64). */
#define OPF_MODRM     0x01u
#define OPF_IMM_SHIFT 1
#define OPF_IMM_MASK  (7u << OPF_IMM_SHIFT)
#define OPF_I64       0x10u /* invalid in 64-bit mode */
#define OPF_D64       0x20u /* 64-bit default operand size in 64-bit mode (66 gives 16) */
#define OPF_F64       0x40u /* operand size forced to 64 bits in 64-bit mode (66 ignored) */
#define OPF_UD        0x80u /* a blank cell of the map: reserved in every mode */

/* Immediate kinds (SDM vol. 2 A.2.1-A.2.2 operand codes). */
enum imm_kind {
    IMM_NONE = 0,
    IMM_B,  /* Ib: 1 byte */
    IMM_W,  /* Iw: 2 bytes */
    IMM_Z,  /* Iz: 2 bytes with 16-bit operand size, else 4 */
    IMM_V,  /* Iv: the operand size, 2, 4 or 8 (only MOV r, imm: B8-BF) */
    IMM_WB, /* ENTER Iw, Ib */
    IMM_P,  /* Ap: far pointer, 2- or 4-byte offset by operand size, then a selector */
    IMM_O,  /* Ob/Ov moffs: an offset as wide as the ADDRESS size (A0-A3) */
    IMM_BB, /* AMD SSE4a EXTRQ/INSERTQ Ib, Ib (never in the tables) */
};
_Static_assert(IMM_O <= (OPF_IMM_MASK >> OPF_IMM_SHIFT), "imm kind must fit its flag bits");

/* Shorthands for the tables only. */
#define NO   0u
#define PF   0u /* a prefix or escape byte: consumed before the table is consulted */
#define M    OPF_MODRM
#define Ib   (IMM_B << OPF_IMM_SHIFT)
#define Iw   (IMM_W << OPF_IMM_SHIFT)
#define Iz   (IMM_Z << OPF_IMM_SHIFT)
#define Iv   (IMM_V << OPF_IMM_SHIFT)
#define IwIb (IMM_WB << OPF_IMM_SHIFT)
#define Ap   (IMM_P << OPF_IMM_SHIFT)
#define Ov   (IMM_O << OPF_IMM_SHIFT)
#define X    OPF_I64
#define D    OPF_D64
#define F    OPF_F64
#define U    OPF_UD

/* One-byte opcode map, SDM vol. 2 table A-2. C4/C5/62 are VEX/EVEX in 64-bit mode and when
 * ModRM.mod would be 11b; their entries here are LES/LDS/BOUND. Groups (80-83, 8F, C0, C1,
 * C6, C7, D0-D3, F6, F7, FE, FF) are refined by ModRM.reg in decode_groups(). */
static const uint8_t op1_flags[256] = {
/* 00 */ M,       M,       M,       M,       Ib,      Iz,      X,       X,
/* 08 */ M,       M,       M,       M,       Ib,      Iz,      X,       PF,
/* 10 */ M,       M,       M,       M,       Ib,      Iz,      X,       X,
/* 18 */ M,       M,       M,       M,       Ib,      Iz,      X,       X,
/* 20 */ M,       M,       M,       M,       Ib,      Iz,      PF,      X,
/* 28 */ M,       M,       M,       M,       Ib,      Iz,      PF,      X,
/* 30 */ M,       M,       M,       M,       Ib,      Iz,      PF,      X,
/* 38 */ M,       M,       M,       M,       Ib,      Iz,      PF,      X,
/* 40 */ NO,      NO,      NO,      NO,      NO,      NO,      NO,      NO,
/* 48 */ NO,      NO,      NO,      NO,      NO,      NO,      NO,      NO,
/* 50 */ D,       D,       D,       D,       D,       D,       D,       D,
/* 58 */ D,       D,       D,       D,       D,       D,       D,       D,
/* 60 */ X,       X,       M|X,     M,       PF,      PF,      PF,      PF,
/* 68 */ Iz|D,    M|Iz,    Ib|D,    M|Ib,    NO,      NO,      NO,      NO,
/* 70 */ Ib|F,    Ib|F,    Ib|F,    Ib|F,    Ib|F,    Ib|F,    Ib|F,    Ib|F,
/* 78 */ Ib|F,    Ib|F,    Ib|F,    Ib|F,    Ib|F,    Ib|F,    Ib|F,    Ib|F,
/* 80 */ M|Ib,    M|Iz,    M|Ib|X,  M|Ib,    M,       M,       M,       M,
/* 88 */ M,       M,       M,       M,       M,       M,       M,       M|D,
/* 90 */ NO,      NO,      NO,      NO,      NO,      NO,      NO,      NO,
/* 98 */ NO,      NO,      Ap|X,    NO,      D,       D,       NO,      NO,
/* a0 */ Ov,      Ov,      Ov,      Ov,      NO,      NO,      NO,      NO,
/* a8 */ Ib,      Iz,      NO,      NO,      NO,      NO,      NO,      NO,
/* b0 */ Ib,      Ib,      Ib,      Ib,      Ib,      Ib,      Ib,      Ib,
/* b8 */ Iv,      Iv,      Iv,      Iv,      Iv,      Iv,      Iv,      Iv,
/* c0 */ M|Ib,    M|Ib,    Iw|F,    F,       M|X,     M|X,     M|Ib,    M|Iz,
/* c8 */ IwIb|D,  D,       Iw,      NO,      NO,      Ib,      X,       NO,
/* d0 */ M,       M,       M,       M,       Ib|X,    Ib|X,    U,       NO,
/* d8 */ M,       M,       M,       M,       M,       M,       M,       M,
/* e0 */ Ib|F,    Ib|F,    Ib|F,    Ib|F,    Ib,      Ib,      Ib,      Ib,
/* e8 */ Iz|F,    Iz|F,    Ap|X,    Ib|F,    NO,      NO,      NO,      NO,
/* f0 */ PF,      NO,      PF,      PF,      NO,      NO,      M,       M,
/* f8 */ NO,      NO,      NO,      NO,      NO,      NO,      M,       M,
};

/* Two-byte opcode map (0F xx), SDM vol. 2 table A-3. 38 and 3A are escapes to the
 * three-byte maps (tables: every opcode has ModRM, and 0F 3A adds an Ib). 0F 0F is
 * AMD 3DNow! (APM vol. 3 appendix A): ModRM, then the real opcode as a trailing Ib. The
 * same table serves VEX/EVEX map 1, whose only opcodes with an Ib are 70-73 and C2-C6 and
 * whose only opcode without ModRM is 77 (VZEROUPPER/VZEROALL). VMREAD/VMWRITE (78, 79) have
 * 64-bit operands in 64-bit mode whatever REX.W says (SDM vol. 3 VMREAD, VMWRITE). */
static const uint8_t op0f_flags[256] = {
/* 00 */ M,       M,       M,       M,       U,       NO,      NO,      NO,
/* 08 */ NO,      NO,      U,       NO,      U,       M,       NO,      M|Ib,
/* 10 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 18 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 20 */ M|F,     M|F,     M|F,     M|F,     U,       U,       U,       U,
/* 28 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 30 */ NO,      NO,      NO,      NO,      NO,      NO,      U,       NO,
/* 38 */ PF,      U,       PF,      U,       U,       U,       U,       U,
/* 40 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 48 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 50 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 58 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 60 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 68 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 70 */ M|Ib,    M|Ib,    M|Ib,    M|Ib,    M,       M,       M,       NO,
/* 78 */ M|F,     M|F,     U,       U,       M,       M,       M,       M,
/* 80 */ Iz|F,    Iz|F,    Iz|F,    Iz|F,    Iz|F,    Iz|F,    Iz|F,    Iz|F,
/* 88 */ Iz|F,    Iz|F,    Iz|F,    Iz|F,    Iz|F,    Iz|F,    Iz|F,    Iz|F,
/* 90 */ M,       M,       M,       M,       M,       M,       M,       M,
/* 98 */ M,       M,       M,       M,       M,       M,       M,       M,
/* a0 */ D,       D,       NO,      M,       M|Ib,    M,       U,       U,
/* a8 */ D,       D,       NO,      M,       M|Ib,    M,       M,       M,
/* b0 */ M,       M,       M,       M,       M,       M,       M,       M,
/* b8 */ M,       M,       M|Ib,    M,       M,       M,       M,       M,
/* c0 */ M,       M,       M|Ib,    M,       M|Ib,    M|Ib,    M|Ib,    M,
/* c8 */ NO,      NO,      NO,      NO,      NO,      NO,      NO,      NO,
/* d0 */ M,       M,       M,       M,       M,       M,       M,       M,
/* d8 */ M,       M,       M,       M,       M,       M,       M,       M,
/* e0 */ M,       M,       M,       M,       M,       M,       M,       M,
/* e8 */ M,       M,       M,       M,       M,       M,       M,       M,
/* f0 */ M,       M,       M,       M,       M,       M,       M,       M,
/* f8 */ M,       M,       M,       M,       M,       M,       M,       M,
};

#undef NO
#undef PF
#undef M
#undef Ib
#undef Iw
#undef Iz
#undef Iv
#undef IwIb
#undef Ap
#undef Ov
#undef X
#undef D
#undef F
#undef U

_Static_assert(sizeof(op1_flags) == 256 && sizeof(op0f_flags) == 256, "one entry per opcode");

#define TRY(expr)                                                                            \
    do {                                                                                     \
        int try_rc_ = (expr);                                                                \
        if (try_rc_ != INSN_OK)                                                              \
            return try_rc_;                                                                  \
    } while (0)

/* The bytes being decoded. `avail` is already clamped to INSN_MAX_LEN; nothing at or past
 * it is ever read. */
struct cursor {
    const uint8_t *bytes;
    unsigned avail;
    unsigned pos;
    struct insn *out;
};

/* Check that n more bytes exist. The 15-byte limit comes first: an instruction that would
 * be too long is too long however many bytes the caller could fetch. */
static int cur_need(struct cursor *c, unsigned n)
{
    unsigned end = c->pos + n;
    if (end > INSN_MAX_LEN)
        return INSN_ERR_TOO_LONG;
    if (end > c->avail) {
        c->out->need = (uint8_t)end;
        return INSN_ERR_NEED_MORE;
    }
    return INSN_OK;
}

/* n (<= 8) little-endian bytes; cur_need() must have vouched for them. */
static uint64_t cur_take(struct cursor *c, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
    c->pos += n;
    return v;
}

static int64_t sign_extend(uint64_t v, unsigned bytes)
{
    unsigned shift = 64 - 8 * bytes;
    return (int64_t)(v << shift) >> shift;
}

/* Legacy prefixes (SDM vol. 2 2.1.1) and, in 64-bit mode, REX (2.2.1). Stops at the first
 * other byte without consuming it. */
static int decode_prefixes(struct cursor *c)
{
    struct insn *in = c->out;
    for (;;) {
        TRY(cur_need(c, 1));
        uint8_t b = c->bytes[c->pos];
        switch (b) {
        case 0xf0: in->prefixes |= INSN_P_LOCK; break;
        case 0xf2: in->prefixes |= INSN_P_REPNE; break;
        case 0xf3: in->prefixes |= INSN_P_REP; break;
        case 0x66: in->prefixes |= INSN_P_OPSIZE; break;
        case 0x67: in->prefixes |= INSN_P_ADDRSIZE; break;
        case 0x26: case 0x2e: case 0x36: case 0x3e: /* ES CS SS DS: Sreg = bits 4:3 */
            in->prefixes |= INSN_P_SEG;
            in->seg = (b >> 3) & 3;
            break;
        case 0x64: case 0x65: /* FS GS */
            in->prefixes |= INSN_P_SEG;
            in->seg = (uint8_t)(b - 0x60);
            break;
        default:
            if (in->mode == INSN_MODE_LONG64 && (b & 0xf0) == 0x40) {
                in->rex = b; /* the last REX counts, if nothing follows it */
                c->pos++;
                continue;
            }
            return INSN_OK;
        }
        /* A REX followed by a legacy prefix is ignored (SDM vol. 2 2.2.1). */
        in->rex = 0;
        c->pos++;
    }
}

/* VEX (C4/C5, SDM vol. 2 2.3.5-2.3.6) or EVEX (62, 2.7.1). On entry c->pos is at the
 * prefix byte, which the caller has established is not LES/LDS/BOUND. Sets the map and
 * opcode, and *flags / *w for the rest of the decoder. */
static int decode_vex(struct cursor *c, unsigned *flags, bool *w)
{
    struct insn *in = c->out;
    uint8_t b = c->bytes[c->pos];
    unsigned n = b == 0xc5 ? 1 : b == 0xc4 ? 2 : 3;

    /* LOCK, 66, F2, F3 or REX before VEX/EVEX is #UD (SDM vol. 2 2.3.2-2.3.4). */
    if ((in->prefixes & (INSN_P_LOCK | INSN_P_OPSIZE | INSN_P_REP | INSN_P_REPNE)) || in->rex)
        return INSN_ERR_INVALID;
    TRY(cur_need(c, 1 + n + 1)); /* prefix, payload, opcode */
    c->pos++;
    for (unsigned i = 0; i < n; i++)
        in->vex[i] = (uint8_t)cur_take(c, 1);
    in->vex_size = (uint8_t)(1 + n);
    in->opcode = (uint8_t)cur_take(c, 1);

    unsigned map;
    if (b == 0xc5) {
        in->prefixes |= INSN_P_VEX;
        map = INSN_MAP_0F; /* 2-byte VEX implies 0F */
        *w = false;
    } else if (b == 0xc4) {
        in->prefixes |= INSN_P_VEX;
        map = in->vex[0] & 0x1f; /* VEX.mmmmm: 1 = 0F, 2 = 0F38, 3 = 0F3A, others #UD */
        if (map < INSN_MAP_0F || map > INSN_MAP_0F3A)
            return INSN_ERR_INVALID;
        *w = in->vex[1] & 0x80;
    } else {
        in->prefixes |= INSN_P_EVEX;
        map = in->vex[0] & 0x07; /* EVEX.mmm: 1-3 as VEX, 5 and 6 for AVX512-FP16 */
        if (map == 0 || map == 4 || map == 7)
            return INSN_ERR_INVALID;
        if (!(in->vex[1] & 0x04)) /* EVEX.P1 bit 2 is fixed at 1 */
            return INSN_ERR_INVALID;
        *w = in->vex[1] & 0x80;
    }
    in->map = (uint8_t)map;

    *flags = OPF_MODRM;
    if (map == INSN_MAP_0F3A)
        *flags |= IMM_B << OPF_IMM_SHIFT;
    else if (map == INSN_MAP_0F) {
        if (((op0f_flags[in->opcode] & OPF_IMM_MASK) >> OPF_IMM_SHIFT) == IMM_B)
            *flags |= IMM_B << OPF_IMM_SHIFT;
        if (in->opcode == 0x77 && b != 0x62)
            *flags = 0;
    }
    return INSN_OK;
}

/* ModRM, SIB and displacement: SDM vol. 2 2.1.5, tables 2-1 (16-bit addressing), 2-2 and
 * 2-3 (32-bit), and 2.2.1.6 (RIP-relative in 64-bit mode). The special cases look at the
 * raw 3-bit fields, so REX.B does not change them (r12 needs a SIB, r13 a disp8). */
static int decode_modrm(struct cursor *c, bool reg_only)
{
    struct insn *in = c->out;
    TRY(cur_need(c, 1));
    uint8_t m = (uint8_t)cur_take(c, 1);
    in->has_modrm = true;
    in->modrm = m;
    in->mod = m >> 6;
    in->reg = (m >> 3) & 7;
    in->rm = m & 7;
    if (in->mod == 3 || reg_only)
        return INSN_OK;

    in->has_mem = true;
    unsigned disp = 0;
    if (in->addr_size == 2) {
        if (in->mod == 1)
            disp = 1;
        else if (in->mod == 2 || in->rm == 6) /* mod 00 rm 110: disp16 alone */
            disp = 2;
    } else {
        if (in->rm == 4) {
            TRY(cur_need(c, 1));
            uint8_t s = (uint8_t)cur_take(c, 1);
            in->has_sib = true;
            in->sib = s;
            in->scale = s >> 6;
            in->index = (s >> 3) & 7;
            in->base = s & 7;
            if (in->mod == 0 && in->base == 5) /* no base register, disp32 */
                disp = 4;
        } else if (in->mod == 0 && in->rm == 5) {
            disp = 4;
            in->rip_relative = in->mode == INSN_MODE_LONG64;
        }
        if (in->mod == 1)
            disp = 1;
        else if (in->mod == 2)
            disp = 4;
    }
    if (disp) {
        TRY(cur_need(c, disp));
        in->disp_size = (uint8_t)disp;
        in->disp = sign_extend(cur_take(c, disp), disp);
    }
    return INSN_OK;
}

/* Effective operand size (SDM vol. 1 3.6.1, vol. 2 2.2.1.7 and A.2.5). In 64-bit mode a
 * 66 prefix on an f64 near branch is ignored as Intel does (AMD would use 16 bits). */
static uint8_t operand_size(enum insn_mode mode, bool o16, bool w, unsigned flags)
{
    switch (mode) {
    case INSN_MODE_LONG64:
        if (w || (flags & OPF_F64))
            return 8;
        if (o16)
            return 2;
        return (flags & OPF_D64) ? 8 : 4;
    case INSN_MODE_PROT32:
        return o16 ? 2 : 4;
    default:
        return o16 ? 4 : 2;
    }
}

static uint8_t address_size(enum insn_mode mode, bool a32)
{
    switch (mode) {
    case INSN_MODE_LONG64:
        return a32 ? 4 : 8;
    case INSN_MODE_PROT32:
        return a32 ? 2 : 4;
    default:
        return a32 ? 4 : 2;
    }
}

/* Legacy-map rules that depend on ModRM.reg or a prefix (SDM vol. 2 table A-6, groups).
 * Updates *flags; returns INSN_ERR_INVALID for encodings the groups leave reserved. */
static int decode_groups(struct insn *in, unsigned *flags, unsigned *imm)
{
    if (in->map == INSN_MAP_0F) {
        /* AMD SSE4a (APM vol. 4): 66 0F 78 /0 Ib Ib is EXTRQ, F2 0F 78 /r Ib Ib is INSERTQ.
         * Without those prefixes 0F 78 is VMREAD, which has no immediate. */
        if (in->opcode == 0x78 && (in->prefixes & (INSN_P_OPSIZE | INSN_P_REPNE)))
            *imm = IMM_BB;
        return INSN_OK;
    }
    if (in->map != INSN_MAP_1BYTE)
        return INSN_OK;
    switch (in->opcode) {
    case 0x8f: /* group 1A: only /0 POP Ev (others are AMD XOP, not supported) */
        return in->reg == 0 ? INSN_OK : INSN_ERR_INVALID;
    case 0xc6: case 0xc7: /* group 11: /0 MOV, /7 XABORT/XBEGIN */
        return in->reg == 0 || in->reg == 7 ? INSN_OK : INSN_ERR_INVALID;
    case 0xf6: /* group 3: /0 and /1 TEST Eb, Ib */
        *imm = in->reg < 2 ? IMM_B : IMM_NONE;
        return INSN_OK;
    case 0xf7: /* group 3: /0 and /1 TEST Ev, Iz */
        *imm = in->reg < 2 ? IMM_Z : IMM_NONE;
        return INSN_OK;
    case 0xfe: /* group 4: /0 INC, /1 DEC */
        return in->reg < 2 ? INSN_OK : INSN_ERR_INVALID;
    case 0xff: /* group 5: near CALL/JMP f64, PUSH d64, /7 reserved */
        if (in->reg == 2 || in->reg == 4)
            *flags |= OPF_F64;
        else if (in->reg == 6)
            *flags |= OPF_D64;
        return in->reg == 7 ? INSN_ERR_INVALID : INSN_OK;
    default:
        return INSN_OK;
    }
}

static int decode_imm(struct cursor *c, unsigned kind)
{
    struct insn *in = c->out;
    unsigned n1 = 0, n2 = 0;
    switch (kind) {
    case IMM_B: n1 = 1; break;
    case IMM_W: n1 = 2; break;
    case IMM_Z: n1 = in->op_size == 2 ? 2 : 4; break;
    case IMM_V: n1 = in->op_size; break;
    case IMM_WB: n1 = 2; n2 = 1; break;
    case IMM_BB: n1 = 1; n2 = 1; break;
    case IMM_P: n1 = in->op_size == 2 ? 2 : 4; n2 = 2; break;
    case IMM_O:
        TRY(cur_need(c, in->addr_size));
        in->disp_size = in->addr_size;
        in->disp = (int64_t)cur_take(c, in->addr_size);
        in->has_mem = true;
        return INSN_OK;
    default:
        return INSN_OK;
    }
    TRY(cur_need(c, n1 + n2));
    in->imm = cur_take(c, n1);
    in->imm2 = (uint16_t)cur_take(c, n2);
    in->imm_size = (uint8_t)(n1 + n2);
    return INSN_OK;
}

/* The register operand of a MOV-like instruction: ModRM.reg with REX.R. For byte operands
 * without any REX prefix, 4-7 are AH, CH, DH, BH; with one they are SPL, BPL, SIL, DIL
 * (SDM vol. 2 2.2.1.2 and table 3-1). */
static void mmio_reg(struct insn *in, bool byte_op)
{
    unsigned r = in->reg | ((in->rex & INSN_REX_R) ? 8u : 0u);
    if (byte_op && !in->rex && r >= 4) {
        in->mmio.reg = (uint8_t)(r - 4);
        in->mmio.high8 = true;
    } else {
        in->mmio.reg = (uint8_t)r;
    }
}

static void mmio_load(struct insn *in, unsigned width, unsigned reg_size, enum insn_ext ext)
{
    in->mmio.kind = INSN_MMIO_LOAD;
    in->mmio.width = (uint8_t)width;
    in->mmio.reg_size = (uint8_t)reg_size;
    in->mmio.ext = (uint8_t)ext;
}

static void mmio_store(struct insn *in, unsigned width)
{
    in->mmio.kind = INSN_MMIO_STORE;
    in->mmio.width = (uint8_t)width;
    in->mmio.reg_size = (uint8_t)width;
}

/* INS, OUTS, MOVS, CMPS, STOS, LODS, SCAS (SDM vol. 2 table A-2). */
static bool is_string_op(uint8_t op)
{
    return (op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf);
}

static unsigned classify_1byte(struct insn *in)
{
    uint8_t op = in->opcode;
    unsigned osz = in->op_size;
    if (op < 0x40 && (op & 7) < 4) /* ADD OR ADC SBB AND SUB XOR CMP with ModRM */
        return INSN_MMIO_ALU;
    switch (op) {
    case 0x88: mmio_reg(in, true); mmio_store(in, 1); break;      /* MOV Eb, Gb */
    case 0x89: mmio_reg(in, false); mmio_store(in, osz); break;   /* MOV Ev, Gv */
    case 0x8a: mmio_reg(in, true); mmio_load(in, 1, 1, INSN_EXT_NONE); break;
    case 0x8b: mmio_reg(in, false); mmio_load(in, osz, osz, INSN_EXT_NONE); break;
    case 0xa0: mmio_load(in, 1, 1, INSN_EXT_NONE); break;          /* MOV AL, Ob */
    case 0xa1: mmio_load(in, osz, osz, INSN_EXT_NONE); break;      /* MOV rAX, Ov */
    case 0xa2: mmio_store(in, 1); break;                          /* MOV Ob, AL */
    case 0xa3: mmio_store(in, osz); break;                        /* MOV Ov, rAX */
    case 0xc6: case 0xc7: { /* MOV Eb, Ib / MOV Ev, Iz (imm32 sign-extended to 64) */
        if (in->reg != 0)
            return INSN_MMIO_OTHER;
        unsigned width = op == 0xc6 ? 1 : osz;
        in->mmio.kind = INSN_MMIO_STORE_IMM;
        in->mmio.width = (uint8_t)width;
        in->mmio.imm = (uint64_t)sign_extend(in->imm, in->imm_size) & width_mask(width);
        break;
    }
    case 0x63: /* MOVSXD Gv, Ed in 64-bit mode; ARPL elsewhere */
        if (in->mode != INSN_MODE_LONG64)
            return INSN_MMIO_OTHER;
        mmio_reg(in, false);
        mmio_load(in, osz == 2 ? 2 : 4, osz, osz == 8 ? INSN_EXT_SIGN : INSN_EXT_NONE);
        break;
    case 0x86: case 0x87: /* XCHG with memory is always locked */
        return INSN_MMIO_ATOMIC;
    case 0x69: case 0x6b: case 0x80 ... 0x85: case 0xc0: case 0xc1: case 0xd0 ... 0xd3:
    case 0xf6: case 0xf7: case 0xfe:
        return INSN_MMIO_ALU;
    case 0xff:
        return in->reg < 2 ? INSN_MMIO_ALU : INSN_MMIO_OTHER;
    default:
        return is_string_op(op) ? INSN_MMIO_STRING : INSN_MMIO_OTHER;
    }
    return in->mmio.kind;
}

static unsigned classify_0f(struct insn *in)
{
    uint8_t op = in->opcode;
    switch (op) {
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: /* MOVZX/MOVSX Gv, Eb/Ew */
        mmio_reg(in, false);
        mmio_load(in, (op & 1) ? 2 : 1, in->op_size, op < 0xb8 ? INSN_EXT_ZERO : INSN_EXT_SIGN);
        return INSN_MMIO_LOAD;
    case 0xc3: /* MOVNTI My, Gy: a plain store with a non-temporal hint */
        mmio_reg(in, false);
        mmio_store(in, in->op_size);
        return INSN_MMIO_STORE;
    case 0xb0: case 0xb1: case 0xc0: case 0xc1: /* CMPXCHG, XADD */
        return INSN_MMIO_ATOMIC;
    case 0xc7: /* group 9: /1 CMPXCHG8B/16B */
        return in->reg == 1 ? INSN_MMIO_ATOMIC : INSN_MMIO_OTHER;
    case 0x40 ... 0x4f: case 0xa3 ... 0xa5: case 0xab ... 0xad: case 0xaf: case 0xb3:
    case 0xb8: case 0xba ... 0xbd:
        return INSN_MMIO_ALU;
    case 0x0f: case 0x10 ... 0x17: case 0x28 ... 0x2f: case 0x50 ... 0x77: case 0x7c ... 0x7f:
    case 0xc2: case 0xc4 ... 0xc6: case 0xd0 ... 0xfe:
        return INSN_MMIO_SIMD;
    default:
        return INSN_MMIO_OTHER;
    }
}

/* What the instruction does to its memory operand, for MMIO emulation. */
static void classify(struct insn *in)
{
    unsigned kind;
    if (!in->has_mem)
        kind = INSN_MMIO_NONE;
    else if (in->vex_size)
        kind = INSN_MMIO_SIMD;
    else if (in->prefixes & INSN_P_LOCK)
        kind = INSN_MMIO_ATOMIC;
    else if (in->map == INSN_MAP_1BYTE)
        kind = classify_1byte(in);
    else if (in->map == INSN_MAP_0F)
        kind = classify_0f(in);
    else if (in->map == INSN_MAP_0F38 && in->opcode >= 0xf0) /* MOVBE, CRC32, ADCX, ... */
        kind = INSN_MMIO_OTHER;
    else
        kind = INSN_MMIO_SIMD;
    if (kind != INSN_MMIO_LOAD && kind != INSN_MMIO_STORE && kind != INSN_MMIO_STORE_IMM)
        memset(&in->mmio, 0, sizeof(in->mmio));
    in->mmio.kind = (uint8_t)kind;
}

int insn_decode(const uint8_t *bytes, size_t avail, enum insn_mode mode, struct insn *out)
{
    if (!out)
        return INSN_ERR_ARGS;
    memset(out, 0, sizeof(*out));
    if ((!bytes && avail) || (unsigned)mode > INSN_MODE_LONG64)
        return INSN_ERR_ARGS;

    struct cursor c = {
        .bytes = bytes,
        .avail = avail < INSN_MAX_LEN ? (unsigned)avail : INSN_MAX_LEN,
        .out = out,
    };
    bool long64 = mode == INSN_MODE_LONG64;
    out->mode = (uint8_t)mode;
    out->seg = INSN_SEG_NONE;

    TRY(decode_prefixes(&c));
    out->nprefixes = (uint8_t)c.pos;
    if (out->rex)
        out->prefixes |= INSN_P_REX;
    out->addr_size = address_size(mode, out->prefixes & INSN_P_ADDRSIZE);

    unsigned flags;
    bool w = out->rex & INSN_REX_W;
    uint8_t b = c.bytes[c.pos];
    bool vex = false;
    if (b == 0xc4 || b == 0xc5 || b == 0x62) {
        /* Outside 64-bit mode these are LES/LDS/BOUND unless ModRM.mod would be 11b, which
         * those (memory-only) forms cannot encode (SDM vol. 2 2.3.5, 2.7.1). In real and
         * virtual-8086 mode both readings are #UD. */
        vex = long64;
        if (!long64) {
            TRY(cur_need(&c, 2));
            vex = (c.bytes[c.pos + 1] & 0xc0) == 0xc0;
            if (vex && mode == INSN_MODE_REAL)
                return INSN_ERR_INVALID;
        }
    }
    if (vex) {
        TRY(decode_vex(&c, &flags, &w));
    } else {
        c.pos++;
        if (b != 0x0f) {
            out->map = INSN_MAP_1BYTE;
            out->opcode = b;
            flags = op1_flags[b];
        } else {
            TRY(cur_need(&c, 1));
            b = (uint8_t)cur_take(&c, 1);
            if (b == 0x38 || b == 0x3a) {
                TRY(cur_need(&c, 1));
                out->map = b == 0x38 ? INSN_MAP_0F38 : INSN_MAP_0F3A;
                out->opcode = (uint8_t)cur_take(&c, 1);
                flags = OPF_MODRM | (b == 0x3a ? IMM_B << OPF_IMM_SHIFT : 0);
            } else {
                out->map = INSN_MAP_0F;
                out->opcode = b;
                flags = op0f_flags[b];
            }
        }
        if ((flags & OPF_UD) || (long64 && (flags & OPF_I64)))
            return INSN_ERR_INVALID;
    }

    unsigned imm = (flags & OPF_IMM_MASK) >> OPF_IMM_SHIFT;
    /* MOV to/from CR/DR: ModRM.mod is ignored, the operands are always registers, and the
     * operand size is 32 bits, or 64 in 64-bit mode (SDM vol. 2 MOV--Move to/from Control
     * Registers, and Move to/from Debug Registers). */
    bool mov_cr_dr = !out->vex_size && out->map == INSN_MAP_0F && out->opcode >= 0x20 &&
                     out->opcode <= 0x23;
    if (flags & OPF_MODRM)
        TRY(decode_modrm(&c, mov_cr_dr));
    if (!out->vex_size)
        TRY(decode_groups(out, &flags, &imm));
    out->op_size = operand_size(mode, out->prefixes & INSN_P_OPSIZE, w, flags);
    if (mov_cr_dr)
        out->op_size = long64 ? 8 : 4;
    TRY(decode_imm(&c, imm));

    /* String instructions address memory through rSI/rDI without a ModRM byte. */
    if (out->map == INSN_MAP_1BYTE && !out->vex_size && is_string_op(out->opcode))
        out->has_mem = true;

    out->length = (uint8_t)c.pos;
    classify(out);
    return INSN_OK;
}

enum insn_mode insn_mode_of(bool cr0_pe, bool eflags_vm, bool efer_lma, bool cs_l, bool cs_d)
{
    if (!cr0_pe || eflags_vm)
        return INSN_MODE_REAL;
    if (efer_lma && cs_l)
        return INSN_MODE_LONG64;
    return cs_d ? INSN_MODE_PROT32 : INSN_MODE_PROT16;
}

uint64_t insn_mmio_store_value(const struct insn *in, uint64_t reg_value)
{
    if (!in)
        return 0;
    if (in->mmio.kind == INSN_MMIO_STORE_IMM)
        return in->mmio.imm;
    if (in->mmio.kind != INSN_MMIO_STORE)
        return 0;
    if (in->mmio.high8)
        reg_value >>= 8;
    return reg_value & width_mask(in->mmio.width);
}

uint64_t insn_mmio_load_value(const struct insn *in, uint64_t old_value, uint64_t data)
{
    if (!in || in->mmio.kind != INSN_MMIO_LOAD || in->mmio.width == 0)
        return old_value;
    uint64_t v = data & width_mask(in->mmio.width);
    if (in->mmio.ext == INSN_EXT_SIGN)
        v = (uint64_t)sign_extend(v, in->mmio.width);
    if (in->mmio.high8)
        return (old_value & ~0xff00ull) | ((v & 0xff) << 8);
    switch (in->mmio.reg_size) {
    case 8:
        return v;
    case 4:
        return v & 0xffffffffull; /* 32-bit destinations are zero-extended */
    default: {
        uint64_t m = width_mask(in->mmio.reg_size);
        return (old_value & ~m) | (v & m);
    }
    }
}

const char *insn_strerror(int code)
{
    switch (code) {
    case INSN_OK: return "ok";
    case INSN_ERR_NEED_MORE: return "instruction continues past the bytes available";
    case INSN_ERR_TOO_LONG: return "instruction longer than 15 bytes";
    case INSN_ERR_INVALID: return "undefined opcode or invalid in this mode";
    case INSN_ERR_ARGS: return "bad arguments";
    default: return "unknown instruction decoder error";
    }
}
