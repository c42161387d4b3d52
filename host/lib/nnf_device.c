/*
 * nnf_device.c - a network's forward pass on an nnfpga device through the
 * driver: buffer layout, upload of the int8 model, one micro-program per
 * LUT segment, input streaming and activation read-back (see nnf_model.h,
 * docs/host.md). Packing into the device's layouts goes through the
 * functional model's engine image (nnfm_engine_put_*), the one definition
 * of those layouts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_model.h"
#include "nnf_err.h"
#include "nnf_snn.h"
#include "nnfdrv.h"
#include "nnfm.h"

struct nnf_device {
  nnfdrv *drv;
  char uri[128];
  nnfm_config cfg;
  nnfm_engine *img;          /* staging image in the device's layouts */
  int nlayers, sizes[NNF_MAX_LAYERS + 1];
  int max_batch, prog_batch;
  uint32_t w_base[NNF_MAX_LAYERS], p_base[NNF_MAX_LAYERS], act_base[NNF_MAX_LAYERS + 1];
  uint32_t in_base[2];       /* two input buffers: the next batch streams in while one runs */
  int prog_len;              /* instructions of one program copy */
  nnfdrv_gemm gemm[NNF_MAX_LAYERS];
  /* segments: layers [seg_first[s], seg_first[s + 1]) run as one program
   * starting at instruction seg_entry[s], with LUT seg_lut[s] (or none) */
  int nseg, seg_first[NNF_MAX_LAYERS + 1], seg_lut[NNF_MAX_LAYERS];
  int8_t luts[NNF_MAX_LAYERS][256];
  int resident_lut;          /* layer whose table is on the device, -1 none */
  uint64_t images;
  /* a spiking network (nnf_snn_device_load) */
  const nnf_snn *snn;
  int snn_batch;                              /* rows the program is written for */
  uint32_t snn_x, snn_cur[NNF_MAX_LAYERS], snn_spk[NNF_MAX_LAYERS], snn_state[NNF_MAX_LAYERS];
  uint32_t snn_w[NNF_MAX_LAYERS], snn_p[NNF_MAX_LAYERS];
  int snn_entry_first, snn_entry_next;        /* rate coding: programs of step 0 and later steps */
};

static int drv_fail(nnf_device *d, int rc, const char *what, char *err, size_t errlen) {
  return nnf_fail(err, errlen, "device %s: %s failed: %s (%s)", d->uri, what, nnfdrv_strerror(rc),
              nnfdrv_errmsg(d->drv));
}

nnf_device *nnf_device_open(const char *uri, char *err, size_t errlen) {
  nnf_device *d = NULL;
  return nnf_device_connect(uri, &d, err, errlen) == NNFDRV_OK ? d : NULL;
}

int nnf_device_connect(const char *uri, nnf_device **out, char *err, size_t errlen) {
  *out = NULL;
  nnf_device *d = calloc(1, sizeof *d);
  if (!d) {
    nnf_fail(err, errlen, "out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  snprintf(d->uri, sizeof d->uri, "%s", uri && *uri ? uri : "sim");
  int rc = nnfdrv_open(d->uri, &d->drv, err, errlen);
  if (rc) {
    free(d);
    return rc;
  }
  const nnfdrv_info *in = nnfdrv_get_info(d->drv);
  d->cfg = nnfm_config_default();
  d->cfg.rows = in->rows;
  d->cfg.cols = in->cols;
  d->cfg.act_words = in->act_words;
  d->cfg.w_words = in->w_words;
  d->cfg.p_words = in->p_words;
  d->cfg.acc_depth = in->acc_depth;
  if (!(in->features & 1) || nnfm_config_check(&d->cfg) != NNFM_OK ||
      !(d->img = nnfm_engine_create(&d->cfg))) {
    nnf_fail(err, errlen, "device %s: its INFO record describes no usable GEMM engine", d->uri);
    nnf_device_close(d);
    return NNFDRV_ERR_PROTOCOL;
  }
  d->resident_lut = -1;
  *out = d;
  return NNFDRV_OK;
}

void nnf_device_close(nnf_device *d) {
  if (!d) return;
  if (d->drv) nnfdrv_close(d->drv);
  nnfm_engine_destroy(d->img);
  free(d);
}

const char *nnf_device_uri(const nnf_device *d) { return d->uri; }

/* Bytes of a word range of ACT / W, and of P entries. */
static size_t act_bytes(const nnf_device *d, uint32_t words) { return (size_t)words * d->cfg.rows; }

static int upload_range(nnf_device *d, int region, uint32_t addr, size_t len, const char *what,
                        char *err, size_t errlen) {
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return nnf_fail(err, errlen, "out of memory");
  int rc = nnfm_engine_read_bytes(d->img, region, addr, buf, len);
  if (rc == NNFM_OK) rc = nnfdrv_write(d->drv, region, addr, buf, len);
  else rc = NNFDRV_ERR_ARG;
  free(buf);
  return rc ? drv_fail(d, rc, what, err, errlen) : 0;
}

/* Layout for batches of B rows; 0 if it fits, else a message. */
static int plan(nnf_device *d, const nnf_net *n, int B, char *err, size_t errlen) {
  const nnfm_config *c = &d->cfg;
  uint64_t w = 0, p = 0, a = 0;
  for (int l = 0; l < n->nlayers; l++) {
    d->w_base[l] = (uint32_t)w;
    d->p_base[l] = (uint32_t)p;
    w += nnfm_w_words(c, (uint32_t)n->sizes[l], (uint32_t)n->sizes[l + 1]);
    p += nnfm_p_entries(c, (uint32_t)n->sizes[l + 1]);
  }
  uint32_t in_words = nnfm_act_words(c, (uint32_t)B, (uint32_t)n->sizes[0]);
  d->in_base[0] = 0;
  d->in_base[1] = in_words;
  a = 2 * (uint64_t)in_words;
  d->act_base[0] = 0;
  for (int l = 1; l <= n->nlayers; l++) {
    d->act_base[l] = (uint32_t)a;
    a += nnfm_act_words(c, (uint32_t)B, (uint32_t)n->sizes[l]);
  }
  if (w > c->w_words)
    return nnf_fail(err, errlen, "the weights need %llu W words; device %s has %u",
                (unsigned long long)w, d->uri, c->w_words);
  if (p > c->p_words)
    return nnf_fail(err, errlen, "the layers need %llu parameter entries; device %s has %u",
                (unsigned long long)p, d->uri, c->p_words);
  if (a > c->act_words)
    return nnf_fail(err, errlen, "a batch of %d needs %llu ACT words; device %s has %u (use a smaller batch)",
                B, (unsigned long long)a, d->uri, c->act_words);
  return 0;
}

/* Largest batch (<= want) whose activations fit. */
static int fit_batch(nnf_device *d, const nnf_net *n, int want) {
  int lo = 1, hi = want;
  if (plan(d, n, 1, NULL, 0)) return 0;
  while (lo < hi) {
    int mid = lo + (hi - lo + 1) / 2;
    if (plan(d, n, mid, NULL, 0)) hi = mid - 1;
    else lo = mid;
  }
  return lo;
}

/* Two copies of the program, one per input buffer; copy c starts at
 * instruction c * prog_len, and segment s of a copy at the segment's offset. */
static int write_program(nnf_device *d, int B, char *err, size_t errlen) {
  uint8_t prog[2 * (NNF_MAX_LAYERS * 2) * 32];
  int pc = 0;
  for (int copy = 0; copy < 2; copy++)
    for (int s = 0; s < d->nseg; s++) {
      for (int l = d->seg_first[s]; l < d->seg_first[s + 1]; l++) {
        nnfdrv_gemm g = d->gemm[l];
        g.m = (uint16_t)B;
        if (l == 0) g.a_base = d->in_base[copy];
        nnfdrv_insn_gemm(prog + 32 * pc++, &g);
      }
      nnfdrv_insn_end(prog + 32 * pc++);
    }
  d->prog_len = pc / 2;
  int rc = nnfdrv_write(d->drv, NNFDRV_PROG, 0, prog, (size_t)pc * 32);
  if (rc) return drv_fail(d, rc, "program upload", err, errlen);
  d->prog_batch = B;
  return 0;
}

int nnf_device_load(nnf_device *d, const nnf_net *n, int max_batch, char *err, size_t errlen) {
  if (!n->quantized) return nnf_fail(err, errlen, "the network is not quantized yet");
  if (max_batch < 1 || max_batch > 65535) return nnf_fail(err, errlen, "batch %d out of range", max_batch);
  int B = fit_batch(d, n, max_batch);
  if (B < 1) return plan(d, n, 1, err, errlen);
  d->max_batch = B;
  d->snn = NULL;
  plan(d, n, B, NULL, 0);
  d->nlayers = n->nlayers;
  memcpy(d->sizes, n->sizes, sizeof d->sizes);
  d->nseg = 0;
  int cur_lut = -2;
  for (int l = 0; l < n->nlayers; l++) {
    const nnf_qlayer *Q = &n->ql[l];
    if (nnfm_engine_put_weights(d->img, d->w_base[l], Q->w_kn, (uint32_t)n->sizes[l],
                                (uint32_t)n->sizes[l + 1]) != NNFM_OK ||
        nnfm_engine_put_params(d->img, d->p_base[l], Q->bias, Q->m0, Q->shift,
                               (uint32_t)n->sizes[l + 1]) != NNFM_OK)
      return nnf_fail(err, errlen, "layer %d does not pack into the device's buffers", l + 1);
    nnfdrv_gemm g = {0, (uint16_t)n->sizes[l], (uint16_t)n->sizes[l + 1], d->act_base[l],
                     d->w_base[l], d->p_base[l], d->act_base[l + 1], (int8_t)Q->zp,
                     (int8_t)Q->lo, (int8_t)Q->hi, Q->lut};
    d->gemm[l] = g;
    /* a new segment where a second, different LUT is needed */
    if (Q->lut && cur_lut >= 0 && memcmp(d->luts[cur_lut], Q->table, 256)) cur_lut = -2;
    if (cur_lut == -2) {
      d->seg_first[d->nseg] = l;
      d->seg_lut[d->nseg] = -1;
      d->nseg++;
      cur_lut = -1;
    }
    if (Q->lut) {
      memcpy(d->luts[l], Q->table, 256);
      if (cur_lut < 0) cur_lut = l;
      d->seg_lut[d->nseg - 1] = cur_lut;
    }
  }
  d->seg_first[d->nseg] = n->nlayers;
  const nnfm_config *c = &d->cfg;
  uint32_t wl = d->w_base[n->nlayers - 1] +
                nnfm_w_words(c, (uint32_t)n->sizes[n->nlayers - 1], (uint32_t)n->sizes[n->nlayers]);
  uint32_t pl = d->p_base[n->nlayers - 1] + nnfm_p_entries(c, (uint32_t)n->sizes[n->nlayers]);
  if (upload_range(d, NNFDRV_W, 0, (size_t)wl * c->cols, "weight upload", err, errlen) ||
      upload_range(d, NNFDRV_P, 0, (size_t)pl * c->cols * 16, "parameter upload", err, errlen))
    return -1;
  d->resident_lut = -1;
  return write_program(d, B, err, errlen);
}

/* WRITE a chunk's inputs into input buffer `buf`. */
static int put_inputs(nnf_device *d, int buf, const int8_t *xq, int B, char *err, size_t errlen) {
  uint32_t base = d->in_base[buf];
  if (nnfm_engine_put_act(d->img, base, xq, (uint32_t)B, (uint32_t)d->sizes[0]) != NNFM_OK)
    return nnf_fail(err, errlen, "inputs do not pack");
  uint32_t words = nnfm_act_words(&d->cfg, (uint32_t)B, (uint32_t)d->sizes[0]);
  int rc = nnfdrv_write(d->drv, NNFDRV_ACT, base * (uint32_t)d->cfg.rows,
                        d->img->act + act_bytes(d, base), act_bytes(d, words));
  return rc ? drv_fail(d, rc, "input upload", err, errlen) : 0;
}

/* Run program copy `buf` segment by segment, uploading LUTs as needed. With
 * one segment the RUN returns at once and the caller overlaps the next
 * chunk's input upload with it; `waited` says whether it already waited. */
static int start(nnf_device *d, int buf, int *waited, char *err, size_t errlen) {
  int rc, pc = buf * d->prog_len;
  *waited = d->nseg > 1;
  for (int s = 0; s < d->nseg; s++) {
    int lut = d->seg_lut[s];
    if (lut >= 0 && lut != d->resident_lut) {
      if ((rc = nnfdrv_write(d->drv, NNFDRV_LUT, 0, d->luts[lut], 256)))
        return drv_fail(d, rc, "LUT upload", err, errlen);
      d->resident_lut = lut;
    }
    if ((rc = nnfdrv_run(d->drv, (uint32_t)pc))) return drv_fail(d, rc, "run", err, errlen);
    if (d->nseg > 1 && (rc = nnfdrv_wait(d->drv))) return drv_fail(d, rc, "run", err, errlen);
    pc += d->seg_first[s + 1] - d->seg_first[s] + 1;
  }
  return 0;
}

/* READ the requested layers' outputs of a chunk of B rows (a READ waits for
 * the program to finish). */
static int get_outputs(nnf_device *d, int B, int8_t *const *outs, char *err, size_t errlen) {
  for (int l = 1; l <= d->nlayers; l++) {
    if (!outs[l]) continue;
    uint32_t words = nnfm_act_words(&d->cfg, (uint32_t)B, (uint32_t)d->sizes[l]);
    uint8_t *dst = d->img->act + act_bytes(d, d->act_base[l]);
    int rc = nnfdrv_read(d->drv, NNFDRV_ACT, d->act_base[l] * (uint32_t)d->cfg.rows, dst,
                         act_bytes(d, words));
    if (rc) return drv_fail(d, rc, "activation read-back", err, errlen);
    nnfm_engine_get_act(d->img, d->act_base[l], outs[l], (uint32_t)B, (uint32_t)d->sizes[l]);
  }
  return 0;
}

/* Chunks of up to max_batch rows, streamed: while chunk i runs from one input
 * buffer, chunk i + 1's inputs are written to the other; then chunk i's
 * outputs are read back and chunk i + 1 started. */
int nnf_device_run(nnf_device *d, const int8_t *xq, int batch, int8_t *const *outs, char *err,
                   size_t errlen) {
  if (!d->max_batch) return nnf_fail(err, errlen, "no network loaded on device %s", d->uri);
  int nchunks = (batch + d->max_batch - 1) / d->max_batch;
  int last = batch - (nchunks - 1) * d->max_batch;
  int B0 = nchunks > 1 ? d->max_batch : last;
  if (B0 != d->prog_batch && write_program(d, B0, err, errlen)) return -1;
  if (put_inputs(d, 0, xq, B0, err, errlen)) return -1;
  for (int c = 0; c < nchunks; c++) {
    int buf = c & 1, B = c + 1 < nchunks ? d->max_batch : last, waited;
    size_t first = (size_t)c * d->max_batch;
    if (start(d, buf, &waited, err, errlen)) return -1;
    int next_B = c + 2 < nchunks ? d->max_batch : last;
    /* the last chunk may be shorter: its program is rewritten, which must
     * wait for this one, so its inputs go in afterwards */
    int overlap = c + 1 < nchunks && next_B == B;
    if (overlap && put_inputs(d, buf ^ 1, xq + (first + (size_t)B) * d->sizes[0], next_B, err, errlen))
      return -1;
    int8_t *o[NNF_MAX_LAYERS + 1] = {0};
    int any = 0;
    for (int l = 1; l <= d->nlayers; l++)
      if (outs[l]) o[l] = outs[l] + first * d->sizes[l], any = 1;
    if (get_outputs(d, B, o, err, errlen)) return -1;
    if (!waited && !any) {
      int rc = nnfdrv_wait(d->drv);
      if (rc) return drv_fail(d, rc, "run", err, errlen);
    }
    d->images += (uint64_t)B;
    if (c + 1 < nchunks && !overlap) {
      if (next_B != d->prog_batch && write_program(d, next_B, err, errlen)) return -1;
      if (put_inputs(d, buf ^ 1, xq + (first + (size_t)B) * d->sizes[0], next_B, err, errlen))
        return -1;
    }
  }
  return 0;
}

int nnf_device_figures_get(nnf_device *d, nnf_device_figures *f, char *err, size_t errlen) {
  nnfdrv_counters c;
  int rc = nnfdrv_get_counters(d->drv, &c);
  if (rc) return drv_fail(d, rc, "counter read", err, errlen);
  f->cycles = c.cycles;
  f->busy_cycles = c.busy_cycles;
  f->macs = c.macs;
  f->images = d->images;
  f->rows = d->cfg.rows;
  f->cols = d->cfg.cols;
  return 0;
}

int nnf_device_reset_counters(nnf_device *d, char *err, size_t errlen) {
  int rc = nnfdrv_reset(d->drv, 1);
  if (rc) return drv_fail(d, rc, "counter reset", err, errlen);
  d->images = 0;
  return 0;
}

/* ---- spiking networks ------------------------------------------------------ */

/* Layout for B rows: ACT holds the input, then per layer its currents and
 * its spikes; STATE the layers' neurons one after another. */
static int snn_plan(nnf_device *d, const nnf_snn *n, int B, char *err, size_t errlen) {
  const nnfm_config *c = &d->cfg;
  const nnfdrv_info *in = nnfdrv_get_info(d->drv);
  uint64_t w = 0, p = 0, a = 0, st = 0;
  a = nnfm_act_words(c, (uint32_t)B, (uint32_t)n->sizes[0]);
  d->snn_x = 0;
  for (int l = 0; l < n->nlayers; l++) {
    uint32_t N = (uint32_t)n->sizes[l + 1], words = nnfm_act_words(c, (uint32_t)B, N);
    d->snn_w[l] = (uint32_t)w;
    d->snn_p[l] = (uint32_t)p;
    w += nnfm_w_words(c, (uint32_t)n->sizes[l], N);
    p += nnfm_p_entries(c, N);
    d->snn_cur[l] = (uint32_t)a;
    d->snn_spk[l] = (uint32_t)(a + words);
    a += 2 * (uint64_t)words;
    d->snn_state[l] = (uint32_t)st;
    st += (uint64_t)B * N;
  }
  if (!(in->features & 4) || !in->state_words)
    return nnf_fail(err, errlen, "device %s has no LIF cores (INFO feature bit 2)", d->uri);
  if (w > c->w_words)
    return nnf_fail(err, errlen, "the weights need %llu W words; device %s has %u", (unsigned long long)w, d->uri,
                c->w_words);
  if (p > c->p_words)
    return nnf_fail(err, errlen, "the layers need %llu parameter entries; device %s has %u",
                (unsigned long long)p, d->uri, c->p_words);
  if (a > c->act_words)
    return nnf_fail(err, errlen, "a batch of %d needs %llu ACT words; device %s has %u", B, (unsigned long long)a,
                d->uri, c->act_words);
  if (st > in->state_words)
    return nnf_fail(err, errlen, "a batch of %d needs %llu LIF state entries; device %s has %u", B,
                (unsigned long long)st, d->uri, in->state_words);
  return 0;
}

static nnfdrv_lif snn_lif(const nnf_device *d, const nnf_snn *n, int l, int B, int clear) {
  nnfdrv_lif f;
  memset(&f, 0, sizeof f);
  f.m = (uint16_t)B;
  f.n = (uint16_t)n->sizes[l + 1];
  f.a_base = d->snn_cur[l];
  f.o_base = d->snn_spk[l];
  f.s_base = d->snn_state[l];
  f.du = n->lif.du;
  f.dv = n->lif.dv;
  f.vth = n->cur[l].vth;
  f.bias_mant = n->lif.bias_mant;
  f.bias_exp = n->lif.bias_exp;
  f.reset_sub = n->lif.reset_sub;
  f.refractory = n->lif.refractory;
  f.count = l + 1 == n->nlayers;
  f.clear = (uint8_t)clear;
  return f;
}

static nnfdrv_gemm snn_gemm(const nnf_device *d, const nnf_snn *n, int l, int B) {
  nnfdrv_gemm g = {(uint16_t)B, (uint16_t)n->sizes[l], (uint16_t)n->sizes[l + 1],
                   l ? d->snn_spk[l - 1] : d->snn_x, d->snn_w[l], d->snn_p[l], d->snn_cur[l], 0, -128, 127, 0};
  return g;
}

/* Emit one time step: [GEMM 0 when `with_input`] LIF 0, then GEMM l, LIF l. */
static int snn_emit_step(nnf_device *d, const nnf_snn *n, int B, int clear, int with_input, uint8_t *prog,
                         int *pc) {
  for (int l = 0; l < n->nlayers; l++) {
    if (l > 0 || with_input) {
      nnfdrv_gemm g = snn_gemm(d, n, l, B);
      nnfdrv_insn_gemm(prog + 32 * (*pc)++, &g);
    }
    nnfdrv_lif f = snn_lif(d, n, l, B, clear);
    if (nnfdrv_insn_lif(prog + 32 * (*pc)++, &f) != NNFDRV_OK) return -1;
  }
  return 0;
}

/* The micro-program for B rows. Direct input: GEMM 0 once, step 0 with
 * clear, then the other T - 1 steps in a LOOP. Rate coding: two programs of
 * one step each (with and without clear); the host streams each step's
 * input spikes and RUNs one of them. */
static int snn_program(nnf_device *d, const nnf_snn *n, int B, char *err, size_t errlen) {
  const nnfdrv_info *in = nnfdrv_get_info(d->drv);
  size_t max = (size_t)(4 * NNF_MAX_LAYERS + 8);
  uint8_t *prog = calloc(max, 32);
  int pc = 0, rc = 0, T = n->cfg.steps;
  if (!prog) return nnf_fail(err, errlen, "out of memory");
  if (n->cfg.encoding == NNF_ENC_DIRECT) {
    nnfdrv_gemm g = snn_gemm(d, n, 0, B);
    nnfdrv_insn_gemm(prog + 32 * pc++, &g);
    rc = snn_emit_step(d, n, B, 1, 0, prog, &pc);
    if (!rc && T > 1) {
      int body = pc;
      rc = snn_emit_step(d, n, B, 0, 0, prog, &pc);
      if (!rc && T > 2 && nnfdrv_insn_loop(prog + 32 * pc++, (uint32_t)body, (uint32_t)(T - 1)) != NNFDRV_OK)
        rc = -1;
    }
    nnfdrv_insn_end(prog + 32 * pc++);
  } else {
    d->snn_entry_first = pc;
    rc = snn_emit_step(d, n, B, 1, 1, prog, &pc);
    nnfdrv_insn_end(prog + 32 * pc++);
    d->snn_entry_next = pc;
    if (!rc) rc = snn_emit_step(d, n, B, 0, 1, prog, &pc);
    nnfdrv_insn_end(prog + 32 * pc++);
  }
  if (rc) {
    free(prog);
    return nnf_fail(err, errlen, "a LIF parameter or the step count is out of the device's range");
  }
  if ((uint32_t)pc > in->prog_words) {
    free(prog);
    return nnf_fail(err, errlen, "the program needs %d instructions; device %s has %u", pc, d->uri, in->prog_words);
  }
  int drc = nnfdrv_write(d->drv, NNFDRV_PROG, 0, prog, (size_t)pc * 32);
  free(prog);
  if (drc) return drv_fail(d, drc, "program upload", err, errlen);
  d->snn_batch = B;
  return 0;
}

int nnf_snn_device_load(nnf_device *d, const nnf_snn *n, int max_batch, char *err, size_t errlen) {
  if (!n->quantized) return nnf_fail(err, errlen, "the spiking network is not quantized yet");
  if (max_batch < 1 || max_batch > 65535) return nnf_fail(err, errlen, "batch %d out of range", max_batch);
  int B = max_batch;
  while (B > 1 && snn_plan(d, n, B, NULL, 0)) B /= 2;
  if (snn_plan(d, n, B, err, errlen)) return -1;
  for (int l = 0; l < n->nlayers; l++) {
    const nnf_qlayer *Q = &n->ql[l];
    if (nnfm_engine_put_weights(d->img, d->snn_w[l], Q->w_kn, (uint32_t)n->sizes[l], (uint32_t)n->sizes[l + 1]) !=
            NNFM_OK ||
        nnfm_engine_put_params(d->img, d->snn_p[l], Q->bias, Q->m0, Q->shift, (uint32_t)n->sizes[l + 1]) != NNFM_OK)
      return nnf_fail(err, errlen, "layer %d does not pack into the device's buffers", l + 1);
  }
  const nnfm_config *c = &d->cfg;
  int L = n->nlayers;
  uint32_t wl = d->snn_w[L - 1] + nnfm_w_words(c, (uint32_t)n->sizes[L - 1], (uint32_t)n->sizes[L]);
  uint32_t pl = d->snn_p[L - 1] + nnfm_p_entries(c, (uint32_t)n->sizes[L]);
  if (upload_range(d, NNFDRV_W, 0, (size_t)wl * c->cols, "weight upload", err, errlen) ||
      upload_range(d, NNFDRV_P, 0, (size_t)pl * c->cols * 16, "parameter upload", err, errlen))
    return -1;
  d->snn = n;
  d->max_batch = B;
  d->nlayers = 0; /* the MLP program is gone */
  return snn_program(d, n, B, err, errlen);
}

static int snn_write_input(nnf_device *d, const int8_t *q, int B, int K, char *err, size_t errlen) {
  if (nnfm_engine_put_act(d->img, d->snn_x, q, (uint32_t)B, (uint32_t)K) != NNFM_OK)
    return nnf_fail(err, errlen, "inputs do not pack");
  uint32_t words = nnfm_act_words(&d->cfg, (uint32_t)B, (uint32_t)K);
  int rc = nnfdrv_write(d->drv, NNFDRV_ACT, d->snn_x * (uint32_t)d->cfg.rows, d->img->act + act_bytes(d, d->snn_x),
                        act_bytes(d, words));
  return rc ? drv_fail(d, rc, "input upload", err, errlen) : 0;
}

static int snn_run(nnf_device *d, uint32_t entry, char *err, size_t errlen) {
  int rc = nnfdrv_run(d->drv, entry);
  if (!rc) rc = nnfdrv_wait(d->drv);
  return rc ? drv_fail(d, rc, "run", err, errlen) : 0;
}

/* One chunk of B rows: inputs in, the T steps, the output counts out. */
static int snn_chunk(nnf_device *d, nnf_snn *n, const float *x, int B, size_t row0, uint64_t base,
                     int32_t *counts, char *err, size_t errlen) {
  int K = n->sizes[0], L = n->nlayers, C = n->sizes[L], T = n->cfg.steps;
  size_t cnt = (size_t)B * K;
  int8_t *q = malloc(cnt);
  uint8_t *raw = malloc((size_t)B * C * 16);
  int rc = 0;
  if (!q || !raw) rc = nnf_fail(err, errlen, "out of memory");
  if (!rc && B != d->snn_batch) rc = snn_program(d, n, B, err, errlen);
  if (!rc && n->cfg.encoding == NNF_ENC_DIRECT) {
    for (size_t i = 0; i < cnt; i++) q[i] = (int8_t)nnfm_quantize_real(x[i], 1.0 / 255.0, -128, -128, 127);
    rc = snn_write_input(d, q, B, K, err, errlen);
    if (!rc) rc = snn_run(d, 0, err, errlen);
  } else if (!rc) {
    for (int t = 0; t < T && !rc; t++) {
      for (size_t i = 0; i < cnt; i++)
        q[i] = (int8_t)nnf_snn_rate_spike(base, row0 + i / (size_t)K, t, i % (size_t)K, x[i]);
      rc = snn_write_input(d, q, B, K, err, errlen);
      if (!rc) rc = snn_run(d, (uint32_t)(t ? d->snn_entry_next : d->snn_entry_first), err, errlen);
    }
  }
  if (!rc) {
    int drc = nnfdrv_read(d->drv, NNFDRV_STATE, d->snn_state[L - 1] * 16u, raw, (size_t)B * C * 16);
    if (drc) rc = drv_fail(d, drc, "spike count read-back", err, errlen);
  }
  for (size_t i = 0; !rc && i < (size_t)B * C; i++) {
    const uint8_t *e = raw + 16 * i + 8;
    counts[i] = (int32_t)((uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24);
  }
  if (!rc) d->images += (uint64_t)B;
  free(q);
  free(raw);
  return rc;
}

int nnf_snn_device_run(nnf_device *d, nnf_snn *n, const float *x, int batch, int32_t *counts, char *err,
                       size_t errlen) {
  if (d->snn != n || !d->max_batch) return nnf_fail(err, errlen, "the spiking network is not loaded on %s", d->uri);
  int C = n->sizes[n->nlayers];
  uint64_t base = n->cfg.encoding == NNF_ENC_RATE ? nnf_rng_next(&n->rng) : 0;
  for (int first = 0; first < batch; first += d->max_batch) {
    int B = batch - first < d->max_batch ? batch - first : d->max_batch;
    if (snn_chunk(d, n, x + (size_t)first * n->sizes[0], B, (size_t)first, base, counts + (size_t)first * C, err,
                  errlen))
      return -1;
  }
  return 0;
}
