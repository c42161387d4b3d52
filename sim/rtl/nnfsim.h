/*
 * nnfsim.h - the cycle-accurate simulator: the Verilated RTL of the GEMM
 * engine (rtl/core/nnf_gemm.v) behind a small C API. Only nnfsim_shim.cpp is
 * C++; everything that uses the simulator is C.
 *
 * Ownership: nnfsim_create returns a handle owned by the caller, released by
 * nnfsim_destroy. nnfsim_ports() points into the handle and stays valid until
 * nnfsim_destroy. Other pointer arguments are borrowed for the call.
 *
 * Errors: functions returning int give NNFSIM_OK (0) or a negative
 * nnfsim_status; nnfsim_last_error() holds a message for the last failure.
 */
#ifndef NNFSIM_H
#define NNFSIM_H

#include <stddef.h>
#include <stdint.h>

#include "nnfm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NNFSIM_OK = 0,
  NNFSIM_ERR_NULL = -1,     /* NULL handle or buffer */
  NNFSIM_ERR_RANGE = -2,    /* parameter or address out of range */
  NNFSIM_ERR_SHAPE = -3,    /* sizes do not fit the device's buffers */
  NNFSIM_ERR_BUSY = -4,     /* the engine is busy */
  NNFSIM_ERR_TIMEOUT = -5,  /* no `done` within the cycle limit */
  NNFSIM_ERR_IO = -6,       /* trace file could not be opened */
} nnfsim_status;

typedef struct nnfsim nnfsim;

/* The engine's ports. Write inputs, call nnfsim_step; outputs reflect the
 * state after the last rising edge. Field names follow docs/engine.md. */
typedef struct {
  /* inputs */
  uint8_t cmd_valid;
  uint16_t cmd_m, cmd_k, cmd_n;
  uint32_t cmd_a_base, cmd_w_base, cmd_p_base, cmd_o_base;
  int8_t cmd_zp, cmd_lo, cmd_hi;
  uint8_t cmd_lut;
  /* CONV geometry (cmd_conv = 1; docs/conv.md): the sizes nnf_insn_check
   * computes, given here by nnfsim_conv */
  uint8_t cmd_conv;
  uint8_t cmd_pool2;             /* with cmd_conv: fused 2x2 max pooling */
  uint16_t cmd_kt, cmd_ct, cmd_h, cmd_w, cmd_b, cmd_oh, cmd_ow;
  uint8_t cmd_kh, cmd_kw, cmd_sh, cmd_sw, cmd_ph, cmd_pw;
  uint32_t cmd_wb, cmd_hwb;
  int8_t cmd_zp_in;
  uint8_t hp_we, hp_re, hp_sel;
  uint32_t hp_addr;
  uint8_t hp_wdata;
  uint8_t cnt_clear; /* zero the counters on the next edge (like rst, counters only) */
  /* outputs */
  uint8_t cmd_ready, busy, done;
  uint8_t hp_rdata;
  uint8_t hp_wait; /* the ACT write offered in the last cycle stepped was not
                      taken (the RTL's hp_wait, sampled before that edge) */
  uint64_t cnt_cycles, cnt_busy, cnt_macs;
} nnfsim_ports;

/* Create the simulator (the compiled-in configuration, held in reset for a
 * few cycles and released). NULL on out of memory. */
nnfsim *nnfsim_create(void);
void nnfsim_destroy(nnfsim *s);

/* The compiled-in configuration (array size and buffer depths), read from
 * the RTL's parameters. */
nnfm_config nnfsim_config(const nnfsim *s);

/* One of the RTL's parameters by name ("ROWS", "COLS", "ACT_WORDS",
 * "W_WORDS", "P_WORDS", "ACC_DEPTH", "VEC_SERIAL", "PE_DSP"); -1 for an
 * unknown name or a NULL argument. */
long nnfsim_param(const nnfsim *s, const char *name);

/* Assert reset for `cycles` (>= 1) cycles, then release it (a running
 * command is abandoned; cmd_valid, hp_we, hp_re and cnt_clear are cleared;
 * the buffers keep their contents). */
void nnfsim_reset(nnfsim *s, unsigned cycles);

/* Advance n clock cycles, driving the inputs in nnfsim_ports each cycle. */
void nnfsim_step(nnfsim *s, uint64_t n);

/* Port access. */
nnfsim_ports *nnfsim_ports_of(nnfsim *s);

/* FST waveform: start (overwrites path) and stop. */
int nnfsim_trace_open(nnfsim *s, const char *path);
void nnfsim_trace_close(nnfsim *s);

/* ---- conveniences built on the ports (C, sim/rtl/nnfsim.c) --------------- */

/* Write / read len bytes through the host port (region 0..3, byte address),
 * one byte per cycle. Refuses addresses outside the region (NNFSIM_ERR_RANGE)
 * and use while busy (NNFSIM_ERR_BUSY), except ACT writes: those the engine
 * takes in the cycles its output writer leaves free (a write it did not take,
 * hp_wait, is offered again), so inputs can stream in while a command runs.
 * The caller must not write words the running command reads or writes. */
int nnfsim_write(nnfsim *s, int region, uint32_t addr, const uint8_t *buf, size_t len);
int nnfsim_read(nnfsim *s, int region, uint32_t addr, uint8_t *buf, size_t len);

/* Copy a whole model engine's buffers into the device (all four regions;
 * P bytes 9..15 of an entry, which hold nothing, are skipped).
 * NNFSIM_ERR_SHAPE if the engine's configuration is not the device's. */
int nnfsim_load_engine(nnfsim *s, const nnfm_engine *e);

/* Issue one command and wait for done (at most max_cycles; 0 = a limit
 * derived from the command's size). The command is checked first with
 * nnfm_engine_check's rules and codes, in its order: fields (RANGE), then
 * buffer ranges (SHAPE) without touching the device, then (BUSY if a command
 * runs) the (m0, shift) of the used P lanes, read back through the host port
 * (5 cycles per lane; RANGE if invalid). *busy_cycles / *macs (may be NULL)
 * receive the counters' increments over the command. On TIMEOUT the command
 * may still be running (nnfsim_reset stops it). */
int nnfsim_gemm(nnfsim *s, const nnfm_cmd *c, uint64_t max_cycles,
                uint64_t *busy_cycles, uint64_t *macs);

/* Issue a command without waiting (returns when accepted, one cycle; the
 * same checks as nnfsim_gemm). */
int nnfsim_gemm_start(nnfsim *s, const nnfm_cmd *c);
/* Wait for done after nnfsim_gemm_start (at most max_cycles; 0 = the limit
 * derived from the started command). NNFSIM_OK at once when nothing runs. */
int nnfsim_gemm_wait(nnfsim *s, uint64_t max_cycles);

/* Issue one CONV (nnfm_conv_cmd: the model's command) on the engine's
 * command port with the geometry nnf_insn_check would compute (OH, OW,
 * M = OH*OW*B, CT, KT = KH*KW*CT, W*B, H*W*B), and wait for done: the
 * checks, codes, limits and counters of nnfsim_gemm, with
 * nnfm_engine_conv_check's rules. */
int nnfsim_conv(nnfsim *s, const nnfm_conv_cmd *c, uint64_t max_cycles,
                uint64_t *busy_cycles, uint64_t *macs);

/* Message for the last failure on this handle ("" if none). */
const char *nnfsim_last_error(const nnfsim *s);

#ifdef __cplusplus
}
#endif
#endif /* NNFSIM_H */
