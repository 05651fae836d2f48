// SPDX-License-Identifier: Apache-2.0
// x86 instruction decoder for VM exits: the length of the instruction that caused an
// intercept (SVM without NRIPS must skip it itself) and, for MMIO emulation, what a faulting
// access does (direction, width, register or immediate). Pure and table-driven: no fetching
// from guest memory (the caller hands in the bytes it could read), no emulation.
#ifndef KERNEL_INSN_H
#define KERNEL_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest legal instruction, prefixes included (Intel SDM vol. 2 2.3.11, AMD APM vol. 3
 * 1.1: longer is #GP(0)). The decoder never looks at more than this many bytes. */
#define INSN_MAX_LEN 15

/* The CPU mode that fixes default operand/address sizes (SDM vol. 1 3.6.1, vol. 2 2.2.1).
 * Compatibility mode is PROT32 or PROT16 by CS.D; virtual-8086 mode decodes as REAL. */
enum insn_mode {
    INSN_MODE_REAL = 0,   /* CR0.PE = 0 or EFLAGS.VM = 1: 16-bit defaults, no VEX/EVEX */
    INSN_MODE_PROT16 = 1, /* protected (or compatibility) mode, CS.D = 0 */
    INSN_MODE_PROT32 = 2, /* protected (or compatibility) mode, CS.D = 1 */
    INSN_MODE_LONG64 = 3, /* 64-bit mode: EFER.LMA = 1 and CS.L = 1 */
};

/* insn_decode() results: 0 is success, failures are negative and distinct. */
enum insn_error {
    INSN_OK = 0,
    INSN_ERR_NEED_MORE = -1, /* the instruction goes on past `avail`: see insn.need */
    INSN_ERR_TOO_LONG = -2,  /* more than INSN_MAX_LEN bytes (the CPU raises #GP) */
    INSN_ERR_INVALID = -3,   /* undefined opcode, or not valid in this mode (#UD) */
    INSN_ERR_ARGS = -4,      /* out is NULL, bytes is NULL with avail > 0, or bad mode */
};

/* insn.prefixes: which prefixes were seen (any number, any order, repeats allowed). */
#define INSN_P_LOCK     (1u << 0) /* F0 */
#define INSN_P_REPNE    (1u << 1) /* F2 */
#define INSN_P_REP      (1u << 2) /* F3 (also the mandatory prefix of PAUSE, POPCNT, ...) */
#define INSN_P_OPSIZE   (1u << 3) /* 66 */
#define INSN_P_ADDRSIZE (1u << 4) /* 67 */
#define INSN_P_SEG      (1u << 5) /* 26 2E 36 3E 64 65: the last one is in insn.seg */
#define INSN_P_REX      (1u << 6) /* an effective REX prefix: insn.rex */
#define INSN_P_VEX      (1u << 7) /* C4 or C5 (insn.vex_size 3 or 2) */
#define INSN_P_EVEX     (1u << 8) /* 62 in its EVEX role (insn.vex_size 4) */

/* insn.rex bits (SDM vol. 2 2.2.1.2). insn.rex is 0 without a REX prefix, else 0x40-0x4f. */
#define INSN_REX_B 0x01u /* extends ModRM.rm, SIB.base or the opcode register */
#define INSN_REX_X 0x02u /* extends SIB.index */
#define INSN_REX_R 0x04u /* extends ModRM.reg */
#define INSN_REX_W 0x08u /* 64-bit operand size */

/* Segment override, numbered as the hardware numbers segment registers (SDM vol. 2
 * 3.1.1.3 "Sreg"). In 64-bit mode ES/CS/SS/DS overrides are recorded but have no effect. */
enum insn_seg {
    INSN_SEG_ES = 0, INSN_SEG_CS = 1, INSN_SEG_SS = 2, INSN_SEG_DS = 3,
    INSN_SEG_FS = 4, INSN_SEG_GS = 5, INSN_SEG_NONE = 7,
};

/* Opcode maps (SDM vol. 2 A.2-A.3; VEX.mmmmm / EVEX.mmm name them the same way). */
enum insn_map {
    INSN_MAP_1BYTE = 0, /* legacy one-byte opcodes */
    INSN_MAP_0F = 1,    /* 0F xx (also VEX/EVEX map 1; 3DNow! 0F 0F keeps its suffix in imm) */
    INSN_MAP_0F38 = 2,  /* 0F 38 xx */
    INSN_MAP_0F3A = 3,  /* 0F 3A xx, always with an imm8 */
    INSN_MAP_EVEX5 = 5, /* EVEX map 5 (AVX512-FP16) */
    INSN_MAP_EVEX6 = 6, /* EVEX map 6 (AVX512-FP16) */
};

/* What an instruction with a memory operand does, as far as MMIO emulation cares. Only
 * LOAD, STORE and STORE_IMM are meant to be emulated; the others are recognised so that
 * the caller can refuse them by name. */
enum insn_mmio_kind {
    INSN_MMIO_NONE = 0,  /* no memory operand */
    INSN_MMIO_LOAD,      /* register <- memory: MOV 8A/8B/A0/A1, MOVZX/MOVSX, MOVSXD */
    INSN_MMIO_STORE,     /* memory <- register: MOV 88/89/A2/A3, MOVNTI */
    INSN_MMIO_STORE_IMM, /* memory <- immediate: MOV C6 /0, C7 /0 */
    INSN_MMIO_STRING,    /* MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS (with or without REP) */
    INSN_MMIO_ATOMIC,    /* any LOCK-prefixed access, XCHG, CMPXCHG(8B/16B), XADD */
    INSN_MMIO_ALU,       /* read-modify-write or read-and-compare: ADD/OR/AND/.../CMP, TEST,
                            shifts, INC/DEC/NOT/NEG/MUL/DIV, BT*, SHLD/SHRD, CMOVcc, IMUL... */
    INSN_MMIO_SIMD,      /* MMX/SSE/AVX/AVX-512 access: every VEX/EVEX form (BMI included) */
    INSN_MMIO_OTHER,     /* any other memory operand: PUSH/POP m, CALL/JMP m, x87, SETcc,
                            LEA, descriptor tables, MOV Sreg, INVLPG, CLFLUSH, MOVBE, ... */
};

enum insn_ext {
    INSN_EXT_NONE = 0, /* the register is as wide as the access */
    INSN_EXT_ZERO,     /* MOVZX */
    INSN_EXT_SIGN,     /* MOVSX, MOVSXD */
};

struct insn_mmio {
    uint8_t kind;     /* enum insn_mmio_kind */
    uint8_t width;    /* LOAD/STORE/STORE_IMM: bytes of memory accessed (1, 2, 4, 8) */
    uint8_t reg;      /* LOAD/STORE: the GPR, 0 = rAX ... 15 = r15 (REX.R applied) */
    bool high8;       /* LOAD/STORE: the byte register AH/CH/DH/BH, i.e. bits 15:8 of reg
                         0-3 (8-bit operand, ModRM.reg 4-7, no REX prefix) */
    uint8_t reg_size; /* LOAD: bytes of the register written (> width for MOVZX/MOVSX) */
    uint8_t ext;      /* LOAD: enum insn_ext */
    uint64_t imm;     /* STORE_IMM: the value written, already sign-extended to width */
};

/* One decoded instruction. Raw fields are as encoded: ModRM/SIB fields are 3-bit values
 * without the REX (or VEX) extension bits, which stay in rex/vex. */
struct insn {
    uint8_t length;     /* total bytes, 1..INSN_MAX_LEN */
    uint8_t need;       /* INSN_ERR_NEED_MORE only: at least this many bytes are needed */
    uint8_t mode;       /* enum insn_mode it was decoded in */
    uint8_t nprefixes;  /* legacy and REX prefix bytes before the opcode or VEX/EVEX */
    uint16_t prefixes;  /* INSN_P_* */
    uint8_t seg;        /* enum insn_seg: the last segment override, or INSN_SEG_NONE */
    uint8_t rex;        /* the effective REX byte, 0 if none (a REX not directly before
                           the opcode is ignored, SDM vol. 2 2.2.1) */
    uint8_t vex_size;   /* 0, 2 (C5 VEX), 3 (C4 VEX) or 4 (62 EVEX), prefix byte included */
    uint8_t vex[3];     /* the VEX/EVEX payload bytes that follow C5/C4/62 */
    uint8_t map;        /* enum insn_map */
    uint8_t opcode;     /* the opcode byte within its map */
    bool has_modrm;
    uint8_t modrm, mod, reg, rm;
    bool has_sib;
    uint8_t sib, scale, index, base; /* scale is the raw 2-bit field (factor 1 << scale) */
    uint8_t disp_size;  /* 0, 1, 2 or 4; or 2/4/8 for a moffs (A0-A3), which is kept here */
    int64_t disp;       /* sign-extended; a moffs is zero-extended (it is an address) */
    uint8_t imm_size;   /* total immediate bytes, 0..8 */
    uint64_t imm;       /* first immediate, zero-extended; ENTER: Iw; far pointer Ap: offset;
                           3DNow!: the opcode suffix; SSE4a EXTRQ/INSERTQ: first imm8 */
    uint16_t imm2;      /* second immediate: ENTER Ib; Ap selector; EXTRQ/INSERTQ 2nd imm8 */
    uint8_t op_size;    /* effective operand-size attribute in bytes: 2, 4 or 8 (byte forms
                           such as Eb/Gb do not change it; see mmio.width) */
    uint8_t addr_size;  /* effective address size in bytes: 2, 4 or 8 */
    bool has_mem;       /* a ModRM memory operand, a moffs, or a string instruction's
                           implicit [rSI]/[rDI] (stack and XLAT accesses do not count) */
    bool rip_relative;  /* 64-bit mode ModRM mod=00 rm=101: disp32 from the next RIP */
    struct insn_mmio mmio;
};

/* Decode one instruction from the first `avail` bytes at `bytes` (never reads more than
 * min(avail, INSN_MAX_LEN) bytes). Returns INSN_OK with *out filled in; or
 * INSN_ERR_NEED_MORE with out->need > avail, the total length decoding needs before it can
 * go further (fetch that many and call again: the instruction crossed into a page that was
 * not fetched); or INSN_ERR_TOO_LONG, INSN_ERR_INVALID, INSN_ERR_ARGS. On any error the
 * other fields of *out are unspecified.
 * Vendor choices: a 66 prefix on a near branch in 64-bit mode is ignored as on Intel (AMD
 * would take a rel16); AMD SSE4a EXTRQ/INSERTQ and 3DNow! are decoded; AMD XOP (8F with
 * ModRM.reg != 0) and VIA PadLock (0F A6/A7) are INVALID. Blank cells of the SDM opcode
 * maps are INVALID; undefined opcodes inside the 0F 38 / 0F 3A / VEX / EVEX maps are
 * decoded by their map's length rule. */
int insn_decode(const uint8_t *bytes, size_t avail, enum insn_mode mode, struct insn *out);

/* The decoding mode for a vCPU's state: CR0.PE, EFLAGS.VM, EFER.LMA, CS.L and CS.D. */
enum insn_mode insn_mode_of(bool cr0_pe, bool eflags_vm, bool efer_lma, bool cs_l, bool cs_d);

/* For an INSN_MMIO_STORE: the value written to memory, given the source register's full
 * 64-bit value (the low mmio.width bytes, or bits 15:8 for AH/CH/DH/BH). For an
 * INSN_MMIO_STORE_IMM: mmio.imm. Otherwise 0. */
uint64_t insn_mmio_store_value(const struct insn *in, uint64_t reg_value);

/* For an INSN_MMIO_LOAD: the destination register's new 64-bit value, given its old value
 * and the `data` read from memory (only its low mmio.width bytes are used). Applies the
 * zero/sign extension and the architectural merge: 8/16-bit writes keep the other bits,
 * 32-bit writes clear bits 63:32 (SDM vol. 1 3.4.1.1). Otherwise returns old_value. */
uint64_t insn_mmio_load_value(const struct insn *in, uint64_t old_value, uint64_t data);

/* A short English text for an enum insn_error value. */
const char *insn_strerror(int code);

#endif
