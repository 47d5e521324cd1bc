/*
 * src/wasm/ops.h - the internal instruction set (IR) of the interpreter.
 *
 * Structural instructions with their immediates (each immediate one cell):
 *   JMP rel | BR rel {height,arity} | BR_IF_JMP rel |
 *   BR_IF rel {height,arity} | BR_UNLESS rel | BR_TABLE n (rel {height,arity})*(n+1) |
 *   RETURN | CALL funcidx | CALL_WASM code (a defined function's wasm_code *) |
 *   CALL_INDIRECT typeidx tableidx | LOCAL_* idx | GLOBAL_* idx |
 *   LOCAL_COPY {src,dst} (local.get src; local.set dst) | LOCAL_SET_K idx value |
 *   LOCAL_COPY_JMP {src,dst} rel (a copy, then br: the move before a branch) |
 *   LOCAL_GET2 {x,y} (two local.get that nothing fused) |
 *   I32_ADD_LC_SET2 x k t y k2 t2 (two i32.add_LC_SET in a row, in order) |
 *   BR_IF_L / BR_UNLESS_L x rel (local.get x; br_if, and with i32.eqz / if) |
 *   I32_LOAD_L_BRNZ/_BRZ x off rel, I32_LOAD8_U_SCA_BRNZ k off rel (the
 *   loaded value decides a br_if/if; the lookup-table test of parsers) |
 *   I32_LOAD8_LLA_SXLE_BRNZ / _SXGT_BRNZ {x,y} off t u k rel (byte at x+y+off
 *   into local t, sign-extended into local u, branch if u <= k / u > k: a
 *   UTF-8 scan's ASCII test) |
 *   I32_LOAD8_U_LLA_TAB_BRNZ {x,y} t off t2 k off2 rel (t = x+y, t2 = byte at
 *   t+off, branch if the byte at t2+k+off2 is non-zero: a parser's string
 *   scan with its lookup table) |
 *   I32_ADD_LC_SET[2]_NE/LT_U_LL_BRNZ (I32_ADD_LC_SET[2] then a compare of
 *   two locals that branches: a loop's counter and its exit test) |
 *   I32_ADD_LC_SET_STORE_LL x k t {a,v} off (an add to a local, then
 *   i32.store_LL: `self.pos += 1` in memory) |
 *   I32_MOVE_L / I64_MOVE_L / I32_MOVE8_L x off a off2 (load_L x off, then
 *   store_LS a off2 of the same width: a copy loop's body) |
 *   I32_MOVE_L / I32_MOVE8_L then I32_ADD_LC_SET2_LT_U_LL_BRNZ, their
 *   immediates in that order (`memcpy`'s word and byte loops) |
 *   GLOBAL_I32_SUB_K_TEE {g,h} k t (global.get g; i32.const k; i32.sub;
 *   local.tee t; global.set h: a function's stack frame) |
 *   GLOBAL_SET_I32_ADD_LC x k g (global g = local x + k: the frame's release) |
 *   RETURN_L x n (local.get x; return) | GLOBAL_SET_I32_ADD_LC_RETURN x k g n |
 *   I32_LOAD_LCA / I64_LOAD_LCA x k off (the address local x + k, wrapping
 *   at 32 bits before the offset is added) |
 *   LOCAL_COPY_LT_U_LL_BR {src,dst} {x,y} rel rel2 (LOCAL_COPY_JMP whose
 *   target is I32_LT_U_LL_BRNZ x y: the copy, then that branch's target if
 *   x < y, else the instruction after it) |
 *   I32_LOAD8_U_LLA_TEE_TAB_BRNZ {x,y} off t k off2 rel (t = byte at x+y+off,
 *   branch if the byte at t+k+off2 is non-zero) |
 *   I32_ADD_LLC_STORE_LS {x,y} k a off (i32.store of x+y+k at local a + off) |
 *   I32_ADD_LC_SET_ADD_LL_BRNZ x k t {a,b} rel (t = x+k, branch if a+b != 0:
 *   a counter running up to zero) |
 *   I32_TAB_SCAN_LOOP: a loop whose body is exactly the three above, in that
 *   order, the last branching back to the first (the cells are those of the
 *   three, only the first opcode changes; serde_json's string scan) |
 *   I32_FUNNEL_COPY_LOOP: a loop of exactly local.get d, I32_SHR_U_LL,
 *   I32_LOAD_L_SET, I32_SHL_LL, I32_OR, I32_STORE and
 *   I32_ADD_LC_SET2_LT_U_LL_BRNZ back to the first (`memcpy` between
 *   differently aligned pointers), the cells again those of the seven |
 *   I32_WORD_PAIR_TEST_LOOP: a loop of exactly I32_ADD_LL_TEE, I32_LOAD,
 *   I32_LOAD_LCA, I32_OR, I32_AND_SC_BRNZ and I32_ADD_LC_SET_LT_U_LL_BRNZ
 *   back to the first (UTF-8 validation's ASCII test, 8 bytes at a time) |
 *   I32_BYTE_LT_S_LOOP: a loop of exactly I32_LOAD8_S_LLA, I32_LT_S_SC_BRNZ
 *   and I32_ADD_LC_SET_NE_LL_BRNZ back to the first (the same test a byte
 *   at a time) |
 *   I32_AND_SC_BRNZ / _BRZ k rel (stack top & k decides a br_if / if) |
 *   I32_STORE_LL2 {a,v} off {a2,v2} off2 (two i32.store_LL in a row) |
 *   I32_LOAD_K[_SET/_TEE] ea [t] (i32.load from a constant address; ea is
 *   the address plus the offset, computed once) |
 *   I32_LOAD_LCA_SET/_TEE x k off t (I32_LOAD_LCA into local t) |
 *   I32_STORE_LCA_L x k v off (i32.store of local v at x+k+off, x+k wrapping
 *   at 32 bits) |
 *   I64_MOVE_LCA x k off a k2 off2 (i64 at x+k+off stored at a+k2+off2, each
 *   sum of local and constant wrapping at 32 bits before its offset) |
 *   I32_EXTEND8/16_S_SET/_TEE idx |
 *   CONST value | loads/stores offset | table/memory/segment ops with indices.
 * `height` is relative to the frame pointer (locals included), so a branch is
 * a move of `arity` slots and a new stack pointer: nothing is searched at run
 * time. Numeric instructions take no immediates; they are listed below with
 * their binary opcode and their type (a, b -> r; '_' = none) for validation.
 */
#ifndef SLUICE_WASM_OPS_H
#define SLUICE_WASM_OPS_H

/* X(opcode, NAME, in1, in2, out) with I=i32 L=i64 F=f32 D=f64 */
#define WASM_NUMERIC_OPS(X) \
    X(0x45, I32_EQZ, I, _, I) X(0x46, I32_EQ, I, I, I) X(0x47, I32_NE, I, I, I) \
    X(0x48, I32_LT_S, I, I, I) X(0x49, I32_LT_U, I, I, I) X(0x4a, I32_GT_S, I, I, I) \
    X(0x4b, I32_GT_U, I, I, I) X(0x4c, I32_LE_S, I, I, I) X(0x4d, I32_LE_U, I, I, I) \
    X(0x4e, I32_GE_S, I, I, I) X(0x4f, I32_GE_U, I, I, I) \
    X(0x50, I64_EQZ, L, _, I) X(0x51, I64_EQ, L, L, I) X(0x52, I64_NE, L, L, I) \
    X(0x53, I64_LT_S, L, L, I) X(0x54, I64_LT_U, L, L, I) X(0x55, I64_GT_S, L, L, I) \
    X(0x56, I64_GT_U, L, L, I) X(0x57, I64_LE_S, L, L, I) X(0x58, I64_LE_U, L, L, I) \
    X(0x59, I64_GE_S, L, L, I) X(0x5a, I64_GE_U, L, L, I) \
    X(0x5b, F32_EQ, F, F, I) X(0x5c, F32_NE, F, F, I) X(0x5d, F32_LT, F, F, I) \
    X(0x5e, F32_GT, F, F, I) X(0x5f, F32_LE, F, F, I) X(0x60, F32_GE, F, F, I) \
    X(0x61, F64_EQ, D, D, I) X(0x62, F64_NE, D, D, I) X(0x63, F64_LT, D, D, I) \
    X(0x64, F64_GT, D, D, I) X(0x65, F64_LE, D, D, I) X(0x66, F64_GE, D, D, I) \
    X(0x67, I32_CLZ, I, _, I) X(0x68, I32_CTZ, I, _, I) X(0x69, I32_POPCNT, I, _, I) \
    X(0x6a, I32_ADD, I, I, I) X(0x6b, I32_SUB, I, I, I) X(0x6c, I32_MUL, I, I, I) \
    X(0x6d, I32_DIV_S, I, I, I) X(0x6e, I32_DIV_U, I, I, I) X(0x6f, I32_REM_S, I, I, I) \
    X(0x70, I32_REM_U, I, I, I) X(0x71, I32_AND, I, I, I) X(0x72, I32_OR, I, I, I) \
    X(0x73, I32_XOR, I, I, I) X(0x74, I32_SHL, I, I, I) X(0x75, I32_SHR_S, I, I, I) \
    X(0x76, I32_SHR_U, I, I, I) X(0x77, I32_ROTL, I, I, I) X(0x78, I32_ROTR, I, I, I) \
    X(0x79, I64_CLZ, L, _, L) X(0x7a, I64_CTZ, L, _, L) X(0x7b, I64_POPCNT, L, _, L) \
    X(0x7c, I64_ADD, L, L, L) X(0x7d, I64_SUB, L, L, L) X(0x7e, I64_MUL, L, L, L) \
    X(0x7f, I64_DIV_S, L, L, L) X(0x80, I64_DIV_U, L, L, L) X(0x81, I64_REM_S, L, L, L) \
    X(0x82, I64_REM_U, L, L, L) X(0x83, I64_AND, L, L, L) X(0x84, I64_OR, L, L, L) \
    X(0x85, I64_XOR, L, L, L) X(0x86, I64_SHL, L, L, L) X(0x87, I64_SHR_S, L, L, L) \
    X(0x88, I64_SHR_U, L, L, L) X(0x89, I64_ROTL, L, L, L) X(0x8a, I64_ROTR, L, L, L) \
    X(0x8b, F32_ABS, F, _, F) X(0x8c, F32_NEG, F, _, F) X(0x8d, F32_CEIL, F, _, F) \
    X(0x8e, F32_FLOOR, F, _, F) X(0x8f, F32_TRUNC, F, _, F) X(0x90, F32_NEAREST, F, _, F) \
    X(0x91, F32_SQRT, F, _, F) X(0x92, F32_ADD, F, F, F) X(0x93, F32_SUB, F, F, F) \
    X(0x94, F32_MUL, F, F, F) X(0x95, F32_DIV, F, F, F) X(0x96, F32_MIN, F, F, F) \
    X(0x97, F32_MAX, F, F, F) X(0x98, F32_COPYSIGN, F, F, F) \
    X(0x99, F64_ABS, D, _, D) X(0x9a, F64_NEG, D, _, D) X(0x9b, F64_CEIL, D, _, D) \
    X(0x9c, F64_FLOOR, D, _, D) X(0x9d, F64_TRUNC, D, _, D) X(0x9e, F64_NEAREST, D, _, D) \
    X(0x9f, F64_SQRT, D, _, D) X(0xa0, F64_ADD, D, D, D) X(0xa1, F64_SUB, D, D, D) \
    X(0xa2, F64_MUL, D, D, D) X(0xa3, F64_DIV, D, D, D) X(0xa4, F64_MIN, D, D, D) \
    X(0xa5, F64_MAX, D, D, D) X(0xa6, F64_COPYSIGN, D, D, D) \
    X(0xa7, I32_WRAP_I64, L, _, I) X(0xa8, I32_TRUNC_F32_S, F, _, I) \
    X(0xa9, I32_TRUNC_F32_U, F, _, I) X(0xaa, I32_TRUNC_F64_S, D, _, I) \
    X(0xab, I32_TRUNC_F64_U, D, _, I) X(0xac, I64_EXTEND_I32_S, I, _, L) \
    X(0xad, I64_EXTEND_I32_U, I, _, L) X(0xae, I64_TRUNC_F32_S, F, _, L) \
    X(0xaf, I64_TRUNC_F32_U, F, _, L) X(0xb0, I64_TRUNC_F64_S, D, _, L) \
    X(0xb1, I64_TRUNC_F64_U, D, _, L) X(0xb2, F32_CONVERT_I32_S, I, _, F) \
    X(0xb3, F32_CONVERT_I32_U, I, _, F) X(0xb4, F32_CONVERT_I64_S, L, _, F) \
    X(0xb5, F32_CONVERT_I64_U, L, _, F) X(0xb6, F32_DEMOTE_F64, D, _, F) \
    X(0xb7, F64_CONVERT_I32_S, I, _, D) X(0xb8, F64_CONVERT_I32_U, I, _, D) \
    X(0xb9, F64_CONVERT_I64_S, L, _, D) X(0xba, F64_CONVERT_I64_U, L, _, D) \
    X(0xbb, F64_PROMOTE_F32, F, _, D) X(0xbc, I32_REINTERPRET_F32, F, _, I) \
    X(0xbd, I64_REINTERPRET_F64, D, _, L) X(0xbe, F32_REINTERPRET_I32, I, _, F) \
    X(0xbf, F64_REINTERPRET_I64, L, _, D) \
    X(0xc0, I32_EXTEND8_S, I, _, I) X(0xc1, I32_EXTEND16_S, I, _, I) \
    X(0xc2, I64_EXTEND8_S, L, _, L) X(0xc3, I64_EXTEND16_S, L, _, L) \
    X(0xc4, I64_EXTEND32_S, L, _, L)

/* 0xfc 0..7: saturating truncations (numbered 0x100 + sub-opcode here). */
#define WASM_SAT_OPS(X) \
    X(0x100, I32_TRUNC_SAT_F32_S, F, _, I) X(0x101, I32_TRUNC_SAT_F32_U, F, _, I) \
    X(0x102, I32_TRUNC_SAT_F64_S, D, _, I) X(0x103, I32_TRUNC_SAT_F64_U, D, _, I) \
    X(0x104, I64_TRUNC_SAT_F32_S, F, _, L) X(0x105, I64_TRUNC_SAT_F32_U, F, _, L) \
    X(0x106, I64_TRUNC_SAT_F64_S, D, _, L) X(0x107, I64_TRUNC_SAT_F64_U, D, _, L)

/* Loads and stores: X(opcode, NAME, value type, natural alignment log2) */
#define WASM_MEMORY_OPS(X) \
    X(0x28, I32_LOAD, I, 2) X(0x29, I64_LOAD, L, 3) X(0x2a, F32_LOAD, F, 2) X(0x2b, F64_LOAD, D, 3) \
    X(0x2c, I32_LOAD8_S, I, 0) X(0x2d, I32_LOAD8_U, I, 0) X(0x2e, I32_LOAD16_S, I, 1) \
    X(0x2f, I32_LOAD16_U, I, 1) X(0x30, I64_LOAD8_S, L, 0) X(0x31, I64_LOAD8_U, L, 0) \
    X(0x32, I64_LOAD16_S, L, 1) X(0x33, I64_LOAD16_U, L, 1) X(0x34, I64_LOAD32_S, L, 2) \
    X(0x35, I64_LOAD32_U, L, 2) \
    X(0x36, I32_STORE, I, 2) X(0x37, I64_STORE, L, 3) X(0x38, F32_STORE, F, 2) \
    X(0x39, F64_STORE, D, 3) X(0x3a, I32_STORE8, I, 0) X(0x3b, I32_STORE16, I, 1) \
    X(0x3c, I64_STORE8, L, 0) X(0x3d, I64_STORE16, L, 1) X(0x3e, I64_STORE32, L, 2)

/* Loads as X(NAME, C type in memory, slot field, cast to the slot type):
 * the interpreter's handlers, plain and with the address in a local (_L). */
#define WASM_LOAD_IMPL(X) WASM_LOAD_HOT(X) WASM_LOAD_COLD(X)
/* The loads that also get the _SET/_TEE/_LLA/_SCA forms (the ones compilers
 * emit in loops); the others keep only _L, to bound the number of handlers. */
#define WASM_LOAD_HOT(X) \
    X(I32_LOAD, uint32_t, u32, ) \
    X(I64_LOAD, uint64_t, u64, ) \
    X(I32_LOAD8_S, int8_t, i32, (int32_t)) \
    X(I32_LOAD8_U, uint8_t, u32, (uint32_t)) \
    X(I32_LOAD16_U, uint16_t, u32, (uint32_t))
#define WASM_LOAD_COLD(X) \
    X(F32_LOAD, uint32_t, u32, ) \
    X(F64_LOAD, uint64_t, u64, ) \
    X(I32_LOAD16_S, int16_t, i32, (int32_t)) \
    X(I64_LOAD8_S, int8_t, i64, (int64_t)) \
    X(I64_LOAD8_U, uint8_t, u64, (uint64_t)) \
    X(I64_LOAD16_S, int16_t, i64, (int64_t)) \
    X(I64_LOAD16_U, uint16_t, u64, (uint64_t)) \
    X(I64_LOAD32_S, int32_t, i64, (int64_t)) \
    X(I64_LOAD32_U, uint32_t, u64, (uint64_t))

/* Stores as X(NAME, C type in memory, slot field of the value). */
#define WASM_STORE_IMPL(X) \
    X(I32_STORE, uint32_t, u32) \
    X(I64_STORE, uint64_t, u64) \
    X(F32_STORE, uint32_t, u32) \
    X(F64_STORE, uint64_t, u64) \
    X(I32_STORE8, uint8_t, u32) \
    X(I32_STORE16, uint16_t, u32) \
    X(I64_STORE8, uint8_t, u64) \
    X(I64_STORE16, uint16_t, u64) \
    X(I64_STORE32, uint32_t, u64)

#define WASM_CONTROL_OPS(X) \
    X(UNREACHABLE) X(JMP) X(BR) X(BR_IF_JMP) X(BR_IF) X(BR_UNLESS) X(BR_TABLE) \
    X(RETURN) X(CALL) X(CALL_WASM) X(CALL_INDIRECT) X(DROP) X(SELECT) \
    X(LOCAL_GET) X(LOCAL_SET) X(LOCAL_TEE) X(LOCAL_COPY) X(LOCAL_SET_K) X(LOCAL_COPY_JMP) X(LOCAL_GET2) \
    X(I32_ADD_LC_SET2) X(BR_IF_L) X(BR_UNLESS_L) X(I32_LOAD_L_BRNZ) X(I32_LOAD_L_BRZ) X(I32_LOAD8_U_SCA_BRNZ) \
    X(I32_LOAD8_LLA_SXLE_BRNZ) X(I32_LOAD8_LLA_SXGT_BRNZ) X(I32_LOAD8_U_LLA_TAB_BRNZ) \
    X(I32_ADD_LC_SET_NE_LL_BRNZ) X(I32_ADD_LC_SET_LT_U_LL_BRNZ) \
    X(I32_ADD_LC_SET2_NE_LL_BRNZ) X(I32_ADD_LC_SET2_LT_U_LL_BRNZ) X(I32_ADD_LC_SET_STORE_LL) \
    X(I32_MOVE_L) X(I64_MOVE_L) X(I32_MOVE8_L) X(LOCAL_COPY_LT_U_LL_BR) \
    X(GLOBAL_I32_SUB_K_TEE) X(GLOBAL_SET_I32_ADD_LC) X(I32_LOAD_LCA) X(I64_LOAD_LCA) \
    X(I32_MOVE_L_SET2_LT_U_LL_BRNZ) X(I32_MOVE8_L_SET2_LT_U_LL_BRNZ) \
    X(RETURN_L) X(GLOBAL_SET_I32_ADD_LC_RETURN) \
    X(I32_LOAD8_U_LLA_TEE_TAB_BRNZ) X(I32_ADD_LLC_STORE_LS) X(I32_ADD_LC_SET_ADD_LL_BRNZ) X(I32_TAB_SCAN_LOOP) X(I32_FUNNEL_COPY_LOOP) \
    X(I32_AND_SC_BRNZ) X(I32_AND_SC_BRZ) X(I32_STORE_LL2) X(I32_LOAD_K) X(I32_LOAD_K_SET) X(I32_LOAD_K_TEE) X(I64_MOVE_LCA) \
    X(I32_LOAD_LCA_SET) X(I32_LOAD_LCA_TEE) X(I32_STORE_LCA_L) X(I32_WORD_PAIR_TEST_LOOP) X(I32_BYTE_LT_S_LOOP) \
    X(I32_EXTEND8_S_SET) X(I32_EXTEND8_S_TEE) X(I32_EXTEND16_S_SET) X(I32_EXTEND16_S_TEE) X(GLOBAL_GET) X(GLOBAL_SET) X(CONST) X(REF_FUNC) \
    X(REF_IS_NULL) X(TABLE_GET) X(TABLE_SET) X(TABLE_SIZE) X(TABLE_GROW) X(TABLE_FILL) \
    X(TABLE_COPY) X(TABLE_INIT) X(ELEM_DROP) X(MEMORY_SIZE) X(MEMORY_GROW) X(MEMORY_FILL) \
    X(MEMORY_COPY) X(MEMORY_INIT) X(DATA_DROP)

/* Superinstructions: a binary operator fused with its operand producers.
 * X(NAME, operand slot field, result slot field, C expression of a and b).
 * Every listed operator gets OP_NAME_LL (two locals: immediates {x,y}),
 * OP_NAME_LC (local x, constant k: two cells) and OP_NAME_SC (stack top,
 * constant k). Arithmetic also gets forms that store the result into a
 * local (a following local.set: _LL_SET, _LC_SET, _SC_SET, and _SS_SET for
 * the plain two-stack-operand operator) or store and keep it (local.tee:
 * _LL_TEE, _LC_TEE, _SC_TEE, _SS_TEE); the local's index is the last
 * immediate. Hot loads (WASM_LOAD_HOT) get the same _SET/_TEE forms (plain and _L), and forms
 * whose address is an i32.add: _LLA {x,y} off (two locals, with _SET/_TEE)
 * and _SCA k off (stack top plus a constant); the sum wraps at 32 bits
 * before the offset is added, as in the unfused code. Comparisons
 * get a conditional branch folded in (br_if / if): _BRNZ jumps when the
 * result is non-zero, _BRZ when zero; the relative target follows the
 * operands (_LL_BRNZ/BRZ, _LC_BRNZ/BRZ, _SC_BRNZ, _SS_BRNZ). */
#define WASM_FUSED_ARITH(X) \
    X(I32_ADD, u32, u32, a + b) X(I32_SUB, u32, u32, a - b) X(I32_MUL, u32, u32, a * b) \
    X(I32_AND, u32, u32, a & b) X(I32_OR, u32, u32, a | b) X(I32_XOR, u32, u32, a ^ b) \
    X(I32_SHL, u32, u32, a << (b & 31)) X(I32_SHR_U, u32, u32, a >> (b & 31)) \
    X(I32_SHR_S, i32, i32, a >> (b & 31)) \
    X(I32_ROTL, u32, u32, rotl32(a, b)) X(I32_ROTR, u32, u32, rotr32(a, b)) \
    X(I64_ADD, u64, u64, a + b) X(I64_SUB, u64, u64, a - b) X(I64_MUL, u64, u64, a * b) \
    X(I64_AND, u64, u64, a & b) X(I64_OR, u64, u64, a | b) X(I64_XOR, u64, u64, a ^ b) \
    X(I64_SHL, u64, u64, a << (b & 63)) X(I64_SHR_U, u64, u64, a >> (b & 63)) \
    X(I64_SHR_S, i64, i64, a >> (b & 63)) \
    X(I64_ROTL, u64, u64, rotl64(a, b)) X(I64_ROTR, u64, u64, rotr64(a, b)) \
    X(F64_ADD, f64, f64, a + b) X(F64_SUB, f64, f64, a - b) X(F64_MUL, f64, f64, a * b) \
    X(F64_DIV, f64, f64, a / b)

#define WASM_FUSED_CMP(X) \
    X(I32_EQ, u32, u64, a == b) X(I32_NE, u32, u64, a != b) \
    X(I32_LT_S, i32, u64, a < b) X(I32_LT_U, u32, u64, a < b) \
    X(I32_GT_S, i32, u64, a > b) X(I32_GT_U, u32, u64, a > b) \
    X(I32_LE_S, i32, u64, a <= b) X(I32_LE_U, u32, u64, a <= b) \
    X(I32_GE_S, i32, u64, a >= b) X(I32_GE_U, u32, u64, a >= b) \
    X(I64_EQ, u64, u64, a == b) X(I64_NE, u64, u64, a != b) \
    X(I64_LT_S, i64, u64, a < b) X(I64_LT_U, u64, u64, a < b) \
    X(I64_GT_S, i64, u64, a > b) X(I64_GT_U, u64, u64, a > b) \
    X(I64_LE_S, i64, u64, a <= b) X(I64_LE_U, u64, u64, a <= b) \
    X(I64_GE_S, i64, u64, a >= b) X(I64_GE_U, u64, u64, a >= b) \
    X(F64_LT, f64, u64, a < b) X(F64_GT, f64, u64, a > b) \
    X(F64_LE, f64, u64, a <= b) X(F64_GE, f64, u64, a >= b)

#define WASM_FUSED_OPS(X) WASM_FUSED_ARITH(X) WASM_FUSED_CMP(X)

enum wasm_op {
#define WASM_X_CTL(name) OP_##name,
#define WASM_X_NUM(code, name, a, b, r) OP_##name,
#define WASM_X_MEM(code, name, t, al) OP_##name,
    WASM_CONTROL_OPS(WASM_X_CTL)
    WASM_NUMERIC_OPS(WASM_X_NUM)
    WASM_SAT_OPS(WASM_X_NUM)
    WASM_MEMORY_OPS(WASM_X_MEM)
#define WASM_X_FUSED(name, in, out, expr) OP_##name##_LL, OP_##name##_LC, OP_##name##_SC,
    WASM_FUSED_OPS(WASM_X_FUSED)
#define WASM_X_FARITH(name, in, out, expr) OP_##name##_LL_SET, OP_##name##_LC_SET, OP_##name##_SC_SET, \
    OP_##name##_SS_SET, OP_##name##_LL_TEE, OP_##name##_LC_TEE, OP_##name##_SC_TEE, OP_##name##_SS_TEE,
    WASM_FUSED_ARITH(WASM_X_FARITH)
#define WASM_X_FCMP(name, in, out, expr) OP_##name##_LL_BRNZ, OP_##name##_LL_BRZ, OP_##name##_LC_BRNZ, \
    OP_##name##_LC_BRZ, OP_##name##_SC_BRNZ, OP_##name##_SS_BRNZ,
    WASM_FUSED_CMP(WASM_X_FCMP)
#undef WASM_X_FARITH
#undef WASM_X_FCMP
#undef WASM_X_FUSED
#define WASM_X_LOADL(name, ct, field, cast) OP_##name##_L,
    WASM_LOAD_IMPL(WASM_X_LOADL)
#undef WASM_X_LOADL
#define WASM_X_LOADH(name, ct, field, cast) OP_##name##_SET, OP_##name##_TEE, \
    OP_##name##_L_SET, OP_##name##_L_TEE, OP_##name##_LLA, OP_##name##_LLA_SET, OP_##name##_LLA_TEE, \
    OP_##name##_SCA,
    WASM_LOAD_HOT(WASM_X_LOADH)
#undef WASM_X_LOADH
#define WASM_X_STOREL(name, ct, field) OP_##name##_SL, OP_##name##_LL, OP_##name##_LS,
    WASM_STORE_IMPL(WASM_X_STOREL)
#undef WASM_X_STOREL
    OP_COUNT_
};

#endif
