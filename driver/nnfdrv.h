/*
 * nnfdrv.h - libnnfdrv, the driver of the nnfpga device.
 *
 * Opens a device by URI and runs the commands of docs/protocol.md on it:
 *
 *   "sim"                         the Verilated nnf_core, in process (default)
 *   "sim:board=ulx3s,link=uart3m" the same, options comma-separated: board=NAME or
 *                                 module=PATH (another configuration), link= / cpb=
 *                                 (a slower link), trace=PATH[,trace_from=N][,trace_to=N]
 *                                 (an FST waveform; nnfdrv_sim.c, docs/cli.md)
 *   "model"                       the functional model (nnfm_device), in process, with CONV / POOL / PACK
 *   "model:conv=0"                the same without them (FEAT_CONV clear, as an RTL built with HAS_CONV = 0)
 *   "serial:/dev/ttyUSB1[@baud]"  a board on a serial port (termios)
 *   "usb[:vid:pid[:serial]]"      a board behind an FTDI bridge (libftdi1/libusb)
 *
 * Every call is synchronous and returns NNFDRV_OK (0) or a negative
 * nnfdrv_status; nnfdrv_errmsg() then says what went wrong in words. Lost,
 * corrupted or duplicated bytes are retried (bounded) and never turn into a
 * wrong result: a call either returns data that passed both CRCs of its frame
 * or fails.
 *
 * Ownership: nnfdrv_open gives a handle owned by the caller, released by
 * nnfdrv_close. Buffers passed in are borrowed for the call. Strings returned
 * (nnfdrv_errmsg, nnfdrv_strerror) belong to the library.
 */
#ifndef NNFDRV_H
#define NNFDRV_H

#include <stddef.h>
#include <stdint.h>

#include "nnf_proto_gen.h" /* region numbers (proto/nnf_proto.def) */
#include "nnfm.h"          /* nnfm_ew_params (EW) */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NNFDRV_OK = 0,
  NNFDRV_ERR_ARG = -1,          /* a bad argument (NULL, size, region) */
  NNFDRV_ERR_URI = -2,          /* the URI is malformed or names no backend */
  NNFDRV_ERR_NO_DEVICE = -3,    /* nothing at that URI (no such port / USB device) */
  NNFDRV_ERR_IO = -4,           /* the link failed (device unplugged, read/write error) */
  NNFDRV_ERR_TIMEOUT = -5,      /* no valid answer after every retry */
  NNFDRV_ERR_DEVICE = -6,       /* the device answered ERR (nnfdrv_device_error) */
  NNFDRV_ERR_PROTOCOL = -7,     /* an answer that cannot be (wrong type, size, version) */
  NNFDRV_ERR_NOMEM = -8,
  NNFDRV_ERR_UNSUPPORTED = -9,  /* backend not built in */
} nnfdrv_status;

typedef struct nnfdrv nnfdrv;

/* Regions (docs/protocol.md). */
enum {
  NNFDRV_ACT = NNFP_REGION_ACT,
  NNFDRV_W = NNFP_REGION_W,
  NNFDRV_P = NNFP_REGION_P,
  NNFDRV_LUT = NNFP_REGION_LUT,
  NNFDRV_PROG = NNFP_REGION_PROG,
  NNFDRV_STATE = NNFP_REGION_STATE  /* LIF state region: entries of 16 bytes: u (int32 LE), v (int32 LE),
                       count (uint32 LE), ref (u8), 3 zero bytes; entry index =
                       s_base + m * n_neurons + n. u is held in 25 bits, v in 24, ref in 4:
                       they read back sign-extended (docs/protocol.md) */
};

typedef struct {
  uint16_t proto_version, rtl_version;
  uint8_t rows, cols;
  uint16_t features;            /* NNFP_FEAT_*: GEMM, LUT, LIF, VEC_SERIAL, CONV, PACK, CONV_POOL, EW, REL, ..., ROW */
  uint32_t act_words, w_words, p_words, acc_depth, prog_words;
  uint16_t max_payload, credits;
  uint32_t timeout_cycles, clock_hz;
  uint32_t state_words;         /* LIF state entries (region NNFDRV_STATE); 0 without LIF */
  uint32_t luts;                /* resident activation LUTs, >= 1 (INFO's 0 reads as 1) */
  uint32_t banks;               /* bank flags (FEAT_BANKS; 0 without): nnfdrv_bank_wait / _post, BANK */
  uint32_t config_id;           /* the configs/ file the device was built from (0: none; docs/codesign.md) */
} nnfdrv_info;

typedef struct {
  uint64_t cycles, busy_cycles, macs, stall_cycles, bytes_in, bytes_out, frame_errors;
} nnfdrv_counters;

typedef struct {
  int running;
  uint8_t last_error;
  uint16_t pc;
  int waiting;                  /* the program waits at a BANK acquire (pc) for a bank not posted */
} nnfdrv_state;

/* Link statistics kept by the driver. */
typedef struct {
  uint64_t frames_sent, retries, bad_answers, timeouts, chunk_shrinks;
  uint64_t auto_waits;   /* WAITs sent before a WRITE on a link without flow control */
  uint64_t payload_bytes_sent, wire_bytes_sent, payload_bytes_received, wire_bytes_received;
} nnfdrv_link_stats;

/* Open a device (NULL or "" means "sim") and read its INFO record. *out is
 * set only on success; on failure err (errlen bytes, may be NULL) says why. */
int nnfdrv_open(const char *uri, nnfdrv **out, char *err, size_t errlen);
void nnfdrv_close(nnfdrv *d);

/* A simulator opened with trace=PATH: *path (the library's, valid until
 * nnfdrv_close) and the device cycles the FST holds so far, [*first, *end),
 * counted as the simulator counts them (its power-on reset included: cycle
 * c is the trace's time steps 2c and 2c + 1); none yet: both the cycle the
 * device is at. The file is complete once the handle is closed, ending at
 * time 2 * *end if no command came after the call. NNFDRV_ERR_UNSUPPORTED
 * for every other device. */
int nnfdrv_trace_range(nnfdrv *d, const char **path, uint64_t *first, uint64_t *end);

/* The message for the last failure on this handle ("" if none). */
const char *nnfdrv_errmsg(const nnfdrv *d);
/* A short name for a status code. */
const char *nnfdrv_strerror(int status);
/* After NNFDRV_ERR_DEVICE: the device's error code (docs/protocol.md). */
int nnfdrv_device_error(const nnfdrv *d);

/* The device's INFO record (cached at open). */
const nnfdrv_info *nnfdrv_get_info(const nnfdrv *d);

/* Buffers: any length; split into frames of at most max_payload bytes. */
int nnfdrv_write(nnfdrv *d, int region, uint32_t addr, const void *buf, size_t len);
int nnfdrv_read(nnfdrv *d, int region, uint32_t addr, void *buf, size_t len);

/* Start the micro-program at instruction `entry` (answered at once). */
int nnfdrv_run(nnfdrv *d, uint32_t entry);
/* Wait until the program and the engine are idle. */
int nnfdrv_wait(nnfdrv *d);
int nnfdrv_get_state(nnfdrv *d, nnfdrv_state *st);
int nnfdrv_get_counters(nnfdrv *d, nnfdrv_counters *c);
/* what: bit 0 zero the counters, bit 1 abort the program (and empty every bank). */
int nnfdrv_reset(nnfdrv *d, unsigned what);
/* Banks (INFO banks > 0; docs/protocol.md, Banks): bank_wait returns once
 * bank `bank` is empty, the host's to fill (NNFDRV_ERR_DEVICE with device
 * error NNFP_E_BANK when the program waits for another bank and could never
 * empty this one); bank_post marks it full, the program's to acquire.
 * NNFDRV_ERR_UNSUPPORTED without banks, NNFDRV_ERR_ARG for bank >= banks. */
int nnfdrv_bank_wait(nnfdrv *d, unsigned bank);
int nnfdrv_bank_post(nnfdrv *d, unsigned bank);

/* Tuning: answer timeout per try (real links, milliseconds; default 1000)
 * and tries per frame (default 8). */
void nnfdrv_set_timeout_ms(nnfdrv *d, int ms);
void nnfdrv_set_tries(nnfdrv *d, int tries);
nnfdrv_link_stats nnfdrv_get_link_stats(const nnfdrv *d);

/* Fault injection for tests (any backend): from now on each byte on the
 * wire, in either direction, is dropped, duplicated or corrupted with the
 * given probabilities (0..1), from a seeded generator. All zero: off. */
void nnfdrv_set_faults(nnfdrv *d, double drop, double dup, double corrupt, uint64_t seed);

/* One raw frame and its answer, with the driver's retries; for tests and
 * tools. seq < 0 takes the next sequence number; seq >= 0 sends that one
 * (a host retry, as the device sees it). On NNFDRV_OK the answer payload is
 * copied to ans (ans_max bytes of room) and its length to *ans_len. A device
 * ERR answer gives NNFDRV_ERR_DEVICE and nnfdrv_device_error(). */
int nnfdrv_transact(nnfdrv *d, int seq, uint8_t type, uint32_t arg, const void *payload,
                    uint16_t len, void *ans, size_t ans_max, uint16_t *ans_len);
/* The sequence number of the last frame sent. */
uint8_t nnfdrv_last_seq(const nnfdrv *d);

/* ---- micro-programs (docs/protocol.md) ----------------------------------- */

typedef struct {
  uint16_t m, k, n;
  uint32_t a_base, w_base, p_base, o_base;
  int8_t zp, lo, hi;
  int lut;
  int round;              /* NNFM_ROUND_*: NNFM_ROUND_TFLITE sets the TFL_ROUND flag
                           * (TFLite's double rounding; INFO FEAT_TFL_ROUND) */
} nnfdrv_gemm;

/* One LIF time step of an m x n layer (docs/protocol.md, LIF; the update is
 * nnfm_lif_step, docs/numerics.md "LIF neurons"). */
typedef struct {
  uint16_t m, n;          /* rows (batch) and neurons */
  uint32_t a_base;        /* ACT word of the int8 currents (m x n, the activation layout) */
  uint32_t o_base;        /* ACT word of the spikes out (0/1 int8, same layout) */
  uint32_t s_base;        /* first state entry */
  uint16_t du, dv;        /* 0..4095 */
  int32_t vth;            /* 0..131071 */
  int16_t bias_mant;      /* -4096..4095 */
  uint8_t bias_exp;       /* 0..7 */
  uint8_t reset_sub, refractory;  /* 0/1, 0..15 */
  uint8_t count;          /* 1: count += spike */
  uint8_t clear;          /* 1: zero u, v, ref and count of these entries before this step */
} nnfdrv_lif;

/* One conv layer on the array (docs/conv.md, docs/protocol.md CONV): the
 * input map (cin x h x w, b images, the feature-map layout) at a_base, the
 * output map (n x OH x OW) at o_base, weights at w_base, P entries at p_base;
 * the numeric definition is nnfm_conv2d_ref with the bias folded
 * (nnfm_conv_fold_input_zp). Needs INFO feature FEAT_CONV. */
typedef struct {
  uint16_t cin, n;        /* channels in and out, 1..65535 */
  uint16_t h, w, b;       /* input height, width, images: 1..1024 */
  uint8_t kh, kw;         /* kernel 1..7 */
  uint8_t sh, sw;         /* stride 1..4 */
  uint8_t ph, pw;         /* padding above and below / left and right, 0..7 */
  uint8_t eh, ew;         /* 0/1: one more padding row below / column right (TFLite SAME) */
  uint32_t a_base, w_base, p_base, o_base;
  int8_t zp_in;           /* input zero point: the value of padding taps */
  int8_t zp, lo, hi;      /* output zero point, clamp */
  int lut;                /* 0/1: apply the LUT */
  int pool2;              /* 0/1: fused 2x2 max pooling at stride 2 (nnfm_conv_cmd
                           * pool2): the output is n x OH/2 x OW/2. Needs INFO
                           * feature FEAT_CONV_POOL */
  int round;              /* NNFM_ROUND_*, as nnfdrv_gemm's */
} nnfdrv_conv;

/* Max or average pooling of a map (docs/conv.md, docs/protocol.md POOL):
 * c x h x w, b images at a_base, the output (c x OH x OW) at o_base; the
 * numeric definition is nnfm_maxpool_ref / nnfm_avgpool_ref. FEAT_CONV. */
typedef struct {
  int avg;                /* 0 max, 1 average */
  uint16_t c;             /* channels, 1..65535 */
  uint16_t h, w, b;       /* 1..1024 */
  uint8_t kh, kw, sh, sw, ph, pw, eh, ew;  /* as nnfdrv_conv */
  uint32_t a_base, o_base;
  int8_t lo, hi;          /* clamp */
  int global;             /* 1: the window is the whole h x w map (global
                           * pooling, any size): kh = kw = 0, sh = sw = 1,
                           * no padding; the output is c x 1 x 1 */
} nnfdrv_pool;

/* A first layer's few input channels folded into the lanes (docs/conv.md,
 * "PACK"; the definition is nnfm_engine_pack). The input at a_base is a
 * dense map: b images of h x w pixels of cin bytes, image after image
 * (byte a_base*rows + ((b*h + y)*w + x)*cin + c); the output at o_base the
 * feature map of C' = kw*cin channels, h rows and OW = (w + 2*pw + ew -
 * kw) / sw + 1 columns that the conv's KH x 1 form reads (channel
 * kx*cin + c of pixel (y, ox) is X[c][y][ox*sw - pw + kx], zp_in outside
 * the row). kw, sw, pw, ew are the conv's own. Needs INFO feature
 * FEAT_PACK. */
typedef struct {
  uint16_t cin;           /* input channels, 1..rows (the record holds up to 65535) */
  uint16_t h, w, b;       /* as nnfdrv_conv: 1..1024 */
  uint8_t kw, sw, pw, ew; /* the conv's kernel width 1..7, column stride 1..4,
                           * padding 0..7, extra right column 0/1 */
  uint32_t a_base, o_base;
  int8_t zp_in;           /* the input zero point: the value of padding columns */
} nnfdrv_pack;

/* An elementwise op (docs/rnn.md, docs/protocol.md EW): A and B, m rows of n
 * channels in the activation layout, into O (the same range as A or B, or
 * disjoint). The numbers are nnfm_ew's (nnfm_ew_prepare computes them from
 * real scales as TFLite does). Needs INFO feature FEAT_EW. */
typedef struct {
  nnfm_ew_params p;       /* op, zero points, multipliers, clamp, rounding (p.round
                           * NNFM_ROUND_TFLITE sets TFL_ROUND: FEAT_TFL_ROUND) */
  uint16_t n, m;          /* channels, rows */
  uint32_t a_base, b_base, o_base;  /* ACT words (b_base < 2^24; MAP reads no B) */
  int lut;                /* 0/1: apply LUT lut_idx after the clamp */
  uint8_t lut_idx;        /* 0..7 (the device refuses one >= its INFO LUTS) */
} nnfdrv_ew;

/* A row-wise op (docs/attention.md, docs/protocol.md ROW): m rows of n
 * channels in the activation layout, into O (A's range or disjoint). Needs
 * INFO feature FEAT_ROW. SOFTMAX: each row through TFLite's int8 SOFTMAX
 * (nnfm_softmax) with the exp table in LUTs 4*tbl .. 4*tbl+3
 * (nnfdrv_softmax_luts lays a table out so; LUTS >= 4, 8 for tbl 1).
 * LAYERNORM: each row (a token of n <= 1024 channels) through the integer
 * LayerNorm (nnfm_layernorm) with zp_in, eps_q, zp_out and the per-channel
 * parameters in the ceil(n / cols) P entries at p_base
 * (nnfdrv_layernorm_p lays them out). */
typedef struct {
  int op;                 /* NNFM_ROW_SOFTMAX or NNFM_ROW_LAYERNORM */
  int tbl;                /* 0 or 1 (SOFTMAX) */
  uint16_t n, m;          /* the row's length (1..4095; LAYERNORM 1..1024), rows */
  uint32_t a_base, o_base;  /* ACT words */
  int32_t zp_in, zp_out;  /* LAYERNORM: int8 */
  int64_t eps_q;          /* LAYERNORM: 0 .. 2^62 (nnfm_layernorm_params) */
  uint32_t p_base;        /* LAYERNORM: P entry */
} nnfdrv_row;

/* ACTW (docs/attention.md, docs/protocol.md ACTW): the m x n int8 tensor A
 * at ACT word a_base (activation layout) into W at w_base as a GEMM's
 * weights B: B = A (tr 0: K = m, N = n) or B = A^T (tr 1: K = n, N = m),
 * the words a GEMM with that K and N reads at w_base; with sum, the biases
 * of the GEMM's P entries p_base .. become -za * B's column sums (the
 * GEMM's A zero point folded in: za = -128 for softmax probabilities).
 * Needs INFO feature FEAT_ACTW. */
typedef struct {
  int tr, sum;            /* 0 or 1 */
  int32_t za;             /* -128 .. 127 */
  uint16_t n, m;          /* A's channels and rows */
  uint32_t a_base, w_base, p_base;
} nnfdrv_actw;

/* Encode instructions into 32-byte words. */
void nnfdrv_insn_gemm(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_gemm *g);
void nnfdrv_insn_barrier(uint8_t out[NNFP_INSN_BYTES]);
void nnfdrv_insn_end(uint8_t out[NNFP_INSN_BYTES]);
/* NNFDRV_OK, or NNFDRV_ERR_ARG (nothing written) for any field out of range
 * or m/n 0. */
int nnfdrv_insn_lif(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_lif *l);
/* LOOP: run instructions [target, this LOOP) count times in all (count
 * 1..65535; the body runs once before the LOOP is reached, so count - 1
 * jumps back). One LOOP is active at a time (no nesting). NNFDRV_ERR_ARG
 * (nothing written) for count 0 or target > 65535 (no program memory is
 * larger); nnfdrv_write to NNFDRV_PROG refuses whole LOOP instructions whose
 * target is outside the device's program memory. */
int nnfdrv_insn_loop(uint8_t out[NNFP_INSN_BYTES], uint32_t target, uint32_t count);
/* CONV and POOL: NNFDRV_OK, or NNFDRV_ERR_ARG (nothing written) for a field
 * the record cannot hold (a size, kernel, stride, padding, eh / ew, lut or
 * avg outside the ranges above, pool2 not 0/1). What depends on several
 * fields or on the device (lo > hi, a kernel larger than the padded input, a
 * pooling window of padding only, a pooled conv's output under 2x2, ranges
 * outside the buffers) the device refuses when the
 * program reaches the instruction (STATUS: BAD_INSN). */
int nnfdrv_insn_conv(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_conv *c);
int nnfdrv_insn_pool(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_pool *p);
/* DWCONV (docs/conv.md, "The depthwise unit"; FEAT_DW): a depthwise conv of
 * c->cin channels, the CONV fields with n = cin, kernels 1..3, lut and
 * pool2 0, and the bias in P NOT folded (nnfm_engine_dwconv: the unit
 * subtracts zp_in from every in-map tap); weights in DWCONV's layout
 * (nnfm_engine_put_dw_weights). NNFDRV_ERR_ARG (nothing written) for a field
 * out of those ranges; the device refuses the rest as CONV's. */
int nnfdrv_insn_dwconv(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_conv *c);
/* PACK: NNFDRV_OK, or NNFDRV_ERR_ARG (nothing written) for cin 0 or a size,
 * kernel width, stride, padding or ew outside the ranges above. The device
 * refuses (STATUS: BAD_INSN) cin over its rows, a kernel wider than the
 * padded row, an output column of padding only, h*OW*b over 65535 and
 * ranges outside ACT or sharing a word (nnfm_engine_pack_check). */
int nnfdrv_insn_pack(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_pack *p);
/* EW: NNFDRV_OK, or NNFDRV_ERR_ARG (nothing written) for parameters
 * nnfm_ew_params_check refuses, b_base >= 2^24, lut not 0/1 or lut_idx > 7.
 * The device refuses ranges outside ACT, a partial overlap of O with A or B
 * and lut_idx >= its LUTS (STATUS: BAD_INSN). */
int nnfdrv_insn_ew(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_ew *e);
/* ROW: NNFDRV_OK, or NNFDRV_ERR_ARG (nothing written) for an op other than
 * NNFM_ROW_SOFTMAX, tbl not 0/1 or n over NNFM_ROW_N_MAX. The device
 * refuses ranges outside ACT, O partly over A and a table whose LUTs it
 * does not have (STATUS: BAD_INSN). */
int nnfdrv_insn_row(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_row *r);
/* ACTW: NNFDRV_OK, or NNFDRV_ERR_ARG (nothing written) for tr or sum not 0/1
 * or za outside int8. The device refuses (STATUS: BAD_INSN) ranges outside
 * ACT, W or P (nnfm_engine_actw_check). */
int nnfdrv_insn_actw(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_actw *a);
/* LAYERNORM's per-channel parameters as P's bytes (region P from entry
 * p_base's first byte: ceil(d / cols) entries of cols lanes of 16 bytes):
 * channel j in lane j % cols of entry j / cols, bias, m0 with gamma's sign
 * in bit 31, shift; lanes of channels >= d 0. NNFDRV_ERR_ARG for d outside
 * 1..1024, cols 0, a sign outside -1..1 or an m0 outside 0 .. 2^31 - 1. */
int nnfdrv_layernorm_p(int d, const int32_t *m0, const int8_t *shift, const int8_t *sign, const int32_t *bias,
                       uint32_t cols, uint8_t *out);
/* The bytes of region LUT from 1024 * tbl that hold an exp table (entry i's
 * byte b at LUT 4*tbl+b, index i): lut[256*b + i]. Entries outside
 * 0..INT32_MAX: NNFDRV_ERR_ARG (nothing written). */
int nnfdrv_softmax_luts(const int32_t table[256], uint8_t lut[1024]);
/* LOOP with a stride (INFO feature FEAT_REL): as nnfdrv_insn_loop, and each
 * jump back adds `stride` ACT words to the LOOP offset that relative bases
 * add (nnfdrv_insn_set_rel). */
int nnfdrv_insn_loop_stride(uint8_t out[NNFP_INSN_BYTES], uint32_t target, uint32_t count,
                            uint32_t stride);
/* Options of an encoded instruction. set_lut: the LUT a GEMM, CONV or EW
 * applies (0..7). set_rel (FEAT_REL): its A and O bases (and an EW's B; ROW
 * has A and O, ACTW only A) plus the LOOP offset. NNFDRV_ERR_ARG (nothing
 * changed) for an opcode without the field, or idx > 7. */
int nnfdrv_insn_set_lut(uint8_t insn[NNFP_INSN_BYTES], unsigned idx);
int nnfdrv_insn_set_rel(uint8_t insn[NNFP_INSN_BYTES], int a_rel, int o_rel, int b_rel);
/* BANK (FEAT_BANKS): release bank `release` (after the work before it) and
 * then acquire bank `acquire` (wait until it is full); -1 for none.
 * NNFDRV_ERR_ARG (nothing written) for a bank outside -1..255; the device
 * refuses banks at or above its INFO banks (STATUS: BAD_INSN). */
int nnfdrv_insn_bank(uint8_t out[NNFP_INSN_BYTES], int release, int acquire);

#ifdef __cplusplus
}
#endif
#endif /* NNFDRV_H */
