/*
 * test_rtl_trace.c - nnfsim_trace_open writes an FST waveform, and it holds
 * what the engine did. A small command is traced into a file (argv[1]) and
 * the file is read back with the FST reader (gtkwave's fstapi, the one that
 * Verilator's FST writer ships with and libnnfsim contains); at the cycles
 * the test knows, the ports must hold the values the test drove or the C
 * API reported:
 *   - clk is 0 then 1 at every pair of time steps (two per cycle), and the
 *     trace is exactly as many cycles long as cnt_cycles advanced;
 *   - every host-port write is there, one per cycle: as many as bytes were
 *     uploaded, and the LUT's 256 with their addresses and data in order;
 *   - cmd_valid is high in exactly one cycle, with cmd_ready and the
 *     command's m, k, n and lut on the port;
 *   - busy is high from the next cycle for exactly the busy cycles
 *     nnfsim_gemm reported, done rises once, where busy falls;
 *   - cnt_macs advanced by the command's MACs (equal to the model's).
 * Tracing does not change the results, and a second trace on the same
 * handle (its times continue) passes the same checks.
 *
 *   test_rtl_trace <file.fst>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fstapi.h"
#include "nnf_test.h"
#include "rtl_harness.h"

static long file_size(const char *path, int *first_byte) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  *first_byte = fgetc(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

/* ---- the trace, read back ------------------------------------------------------ */

enum { S_CLK, S_CMD_VALID, S_CMD_READY, S_CMD_M, S_CMD_K, S_CMD_N, S_CMD_LUT, S_BUSY, S_DONE, S_HP_WE,
       S_HP_SEL, S_HP_ADDR, S_HP_WDATA, S_CNT_CYCLES, S_CNT_MACS, NSIG };
static const char *const SIG_NAMES[NSIG] = {"clk", "cmd_valid", "cmd_ready", "cmd_m", "cmd_k", "cmd_n",
                                            "cmd_lut", "busy", "done", "hp_we", "hp_sel", "hp_addr",
                                            "hp_wdata", "cnt_cycles", "cnt_macs"};

typedef struct {
  uint64_t t, v;
} change;

typedef struct {
  fstHandle handle[NSIG];
  change *ch[NSIG];
  size_t n[NSIG], cap[NSIG];
  int bad_value;              /* an x, z or over-wide value where a number was due */
  uint64_t start, end;
} trace;

static void on_change(void *user, uint64_t time, fstHandle h, const unsigned char *value) {
  trace *tr = user;
  for (int i = 0; i < NSIG; i++) {
    if (tr->handle[i] != h) continue;
    uint64_t v = 0;
    size_t len = strlen((const char *)value);
    if (len > 64) tr->bad_value = 1;
    for (size_t k = 0; k < len; k++) {
      if (value[k] != '0' && value[k] != '1') tr->bad_value = 1;
      v = v << 1 | (value[k] == '1');
    }
    if (tr->n[i] == tr->cap[i]) {
      tr->cap[i] = tr->cap[i] ? 2 * tr->cap[i] : 1024;
      tr->ch[i] = realloc(tr->ch[i], tr->cap[i] * sizeof *tr->ch[i]);
      if (!tr->ch[i]) abort();
    }
    tr->ch[i][tr->n[i]++] = (change){time, v};
  }
}

/* The value of signal i at time t (the last change at or before t). */
static uint64_t at(const trace *tr, int i, uint64_t t) {
  size_t lo = 0, hi = tr->n[i];   /* first change after t */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (tr->ch[i][mid].t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo ? tr->ch[i][lo - 1].v : ~0ull;
}

/* Read the ports of nnf_gemm (at the top, or one scope down) from path. */
static int trace_read(const char *path, trace *tr) {
  memset(tr, 0, sizeof *tr);
  void *f = fstReaderOpen(path);
  if (!f) return -1;
  struct fstHier *h;
  int depth = 0;
  while ((h = fstReaderIterateHier(f))) {
    if (h->htyp == FST_HT_SCOPE) depth++;
    else if (h->htyp == FST_HT_UPSCOPE) depth--;
    else if (h->htyp == FST_HT_VAR && depth <= 2) {
      char name[64];
      snprintf(name, sizeof name, "%s", h->u.var.name);
      name[strcspn(name, " [")] = 0;
      for (int i = 0; i < NSIG; i++)
        if (!tr->handle[i] && !strcmp(name, SIG_NAMES[i])) tr->handle[i] = h->u.var.handle;
    }
  }
  for (int i = 0; i < NSIG; i++)
    if (!tr->handle[i]) {
      fprintf(stderr, "%s: no signal %s\n", path, SIG_NAMES[i]);
      fstReaderClose(f);
      return -1;
    }
  tr->start = fstReaderGetStartTime(f);
  tr->end = fstReaderGetEndTime(f);
  fstReaderSetFacProcessMaskAll(f);
  int ok = fstReaderIterBlocks(f, on_change, tr, NULL);
  fstReaderClose(f);
  return ok ? 0 : -1;
}

static void trace_free(trace *tr) {
  for (int i = 0; i < NSIG; i++) free(tr->ch[i]);
}

/* What the test drove and the C API reported around one traced command. */
typedef struct {
  nnfm_cmd c;
  uint64_t upload_bytes;      /* host-port writes, one cycle each */
  const int8_t *lut;          /* the 256 LUT bytes, uploaded last */
  uint64_t busy_cycles, macs;
} expected;

/* Time steps: the open dumps the state at `start`; cycle k dumps its
 * falling edge at start + 1 + 2k and its rising edge at start + 2 + 2k. */
static void check_trace(const char *path, const expected *x) {
  trace tr;
  CHECK_OK(trace_read(path, &tr));
  CHECK_EQ(tr.bad_value, 0);
  CHECK((tr.end - tr.start) % 2 == 0);
  uint64_t cycles = (tr.end - tr.start) / 2;
  printf("%s: %llu cycles, times %llu..%llu\n", path, (unsigned long long)cycles,
         (unsigned long long)tr.start, (unsigned long long)tr.end);
  CHECK(cycles > x->upload_bytes);
  CHECK_EQ_U64(at(&tr, S_CNT_CYCLES, tr.end) - at(&tr, S_CNT_CYCLES, tr.start), cycles);
  uint64_t writes = 0, lut_writes = 0, valid_at = 0, valids = 0, busy = 0, dones = 0, done_at = 0;
  for (uint64_t k = 0; k < cycles; k++) {
    uint64_t fall = tr.start + 1 + 2 * k, rise = fall + 1;
    if (at(&tr, S_CLK, fall) != 0 || at(&tr, S_CLK, rise) != 1) {
      CHECK_EQ_U64(at(&tr, S_CLK, fall), 0);
      CHECK_EQ_U64(at(&tr, S_CLK, rise), 1);
      break;
    }
    if (at(&tr, S_HP_WE, rise)) {
      writes++;
      if (at(&tr, S_HP_SEL, rise) == 3) {   /* the LUT: address and data, in order */
        if (lut_writes < 256) {
          CHECK_EQ_U64(at(&tr, S_HP_ADDR, rise), lut_writes);
          CHECK_EQ_U64(at(&tr, S_HP_WDATA, rise), (uint8_t)x->lut[lut_writes]);
        }
        lut_writes++;
      }
    }
    if (at(&tr, S_CMD_VALID, rise)) {
      valids++;
      valid_at = k;
      CHECK_EQ_U64(at(&tr, S_CMD_READY, fall), 1);
      CHECK_EQ_U64(at(&tr, S_CMD_M, rise), x->c.m);
      CHECK_EQ_U64(at(&tr, S_CMD_K, rise), x->c.k);
      CHECK_EQ_U64(at(&tr, S_CMD_N, rise), x->c.n);
      CHECK_EQ_U64(at(&tr, S_CMD_LUT, rise), (uint64_t)x->c.lut);
    }
    busy += at(&tr, S_BUSY, rise) == 1;
    if (at(&tr, S_DONE, rise) == 1 && at(&tr, S_DONE, rise - 2) != 1) dones++, done_at = k;
  }
  CHECK_EQ_U64(writes, x->upload_bytes);
  CHECK_EQ_U64(lut_writes, 256);
  CHECK_EQ_U64(valids, 1);
  CHECK_EQ_U64(busy, x->busy_cycles);
  /* busy from the cycle after the command, without a gap, falling where done rises */
  CHECK_EQ_U64(at(&tr, S_BUSY, tr.start + 2 + 2 * valid_at), 1);
  CHECK_EQ_U64(at(&tr, S_BUSY, tr.start + 2 + 2 * (valid_at + x->busy_cycles)), 0);
  CHECK_EQ_U64(dones, 1);
  CHECK_EQ_U64(done_at, valid_at + x->busy_cycles);
  CHECK_EQ_U64(at(&tr, S_CNT_MACS, tr.end) - at(&tr, S_CNT_MACS, tr.start), x->macs);
  trace_free(&tr);
}

static void traced_gemm(rtl_h *h, nnf_rng *r, const char *path) {
  nnfm_cmd c = {0};
  memset(&c, 0, sizeof c);
  c.m = 9;
  c.k = 2 * (uint32_t)h->cfg.rows + 1;
  c.n = (uint32_t)h->cfg.cols + 3;
  c.lo = -128;
  c.hi = 127;
  c.lut = 1;
  c.o_base = nnfm_act_words(&h->cfg, c.m, c.k);
  int8_t a[9 * 129], w[129 * 67];
  int32_t b[67], q[67];
  int8_t s[67];
  nnf_rng_fill(r, a, sizeof a);
  nnf_rng_fill(r, w, sizeof w);
  for (int j = 0; j < 67; j++) b[j] = (int32_t)nnf_rng_range(r, -3000, 3000), q[j] = 1 << 30, s[j] = -10;
  CHECK_OK(nnfm_engine_put_act(h->e, 0, a, c.m, c.k));
  CHECK_OK(nnfm_engine_put_weights(h->e, 0, w, c.k, c.n));
  CHECK_OK(nnfm_engine_put_params(h->e, 0, b, q, s, c.n));
  nnf_rng_fill(r, h->e->lut, 256);
  CHECK_OK(nnfsim_trace_open(h->s, path));
  rtl_upload_act_words(h, 0, nnfm_act_words(&h->cfg, c.m, c.k));
  rtl_upload_w_words(h, 0, nnfm_w_words(&h->cfg, c.k, c.n));
  rtl_upload_p_entries(h, 0, nnfm_p_entries(&h->cfg, c.n));
  rtl_upload_lut(h);
  uint64_t macs = 0, mm = 0, busy = 0;
  CHECK_OK(nnfsim_gemm(h->s, &c, 0, &busy, &macs));
  CHECK_OK(nnfm_engine_gemm(h->e, &c, &mm));
  CHECK_EQ_U64(macs, mm);
  nnfsim_trace_close(h->s);   /* the trace ends with the command */
  rtl_compare_act_words(h, c.o_base, nnfm_p_entries(&h->cfg, c.n) * c.m, "traced output");
  int first = -1;
  long n = file_size(path, &first);
  printf("%s: %ld bytes\n", path, n);
  CHECK(n > 64);
  CHECK_EQ(first, 0); /* FST_BL_HDR */
  expected x;
  x.c = c;
  x.upload_bytes = (uint64_t)nnfm_act_words(&h->cfg, c.m, c.k) * (uint64_t)h->cfg.rows +
                   (uint64_t)nnfm_w_words(&h->cfg, c.k, c.n) * (uint64_t)h->cfg.cols +
                   9ull * (uint64_t)h->cfg.cols * nnfm_p_entries(&h->cfg, c.n) + 256;   /* 9 bytes a P slot */
  x.lut = h->e->lut;
  x.busy_cycles = busy;
  x.macs = macs;
  check_trace(path, &x);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <file.fst>\n", argv[0]);
    return 2;
  }
  char second[4096];
  snprintf(second, sizeof second, "%s.2.fst", argv[1]);
  remove(argv[1]);
  remove(second);
  rtl_h h;
  rtl_open(&h, 3);
  nnf_rng r = nnf_rng_seed(33);
  nnf_test_ctx("first trace");
  traced_gemm(&h, &r, argv[1]);
  nnf_test_ctx("second trace");
  traced_gemm(&h, &r, second);
  /* closing twice, and destroying with a trace open, are fine */
  nnfsim_trace_close(h.s);
  CHECK_OK(nnfsim_trace_open(h.s, second));
  nnfsim_step(h.s, 3);
  rtl_close(&h);
  int first = -1;
  CHECK(file_size(second, &first) > 64);
  return nnf_test_done(argv[0]);
}
