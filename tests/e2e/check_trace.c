/*
 * check_trace.c - reads an FST waveform of the RTL simulator (what
 * `nnfpga ... --trace F.fst` or the driver's sim:trace=F.fst write) back with
 * gtkwave's FST reader and checks it against the device it shows
 * (docs/cli.md, Waveforms; run by tests/e2e/trace_cli.sh).
 *
 *   check_trace F.fst --list                print the times and every signal: path [width]
 *   check_trace F.fst [--start T] [--end T] [--sync] [--whole]
 *
 * Always, on nnf_core's own signals:
 *   - clk changes at every time step, low at even times and high at odd
 *     ones (cycle c is times 2c and 2c + 1), rst stays low;
 *   - the engine's cycle counter (u_gemm's cnt_cycles) advances by exactly 1
 *     in every cycle of the trace, so the trace is as many cycles long as
 *     the device's own COUNTERS cycle count advanced over it.
 * --start / --end: the first and last time steps, exactly.
 * --sync: the bytes the core took on its receive port (rx_valid && rx_ready
 *   in the low half of a cycle: what its rising edge samples) hold the
 *   frame sync A5 5A and a whole frame with good CRCs, and so do the bytes it
 *   gave on its transmit port.
 * --whole: the trace starts at the device's reset (nothing taken before it,
 *   the engine's cycle counter at cycle - 4) and ends after the last answer:
 *   every request parses (nnfproto's parser, the driver's), is answered
 *   once, in order, with its seq; each
 *   COUNTERS answer counts exactly the bytes the trace shows taken up to the
 *   end of its request (bytes in) and given before it (bytes out), and its
 *   cycle count is the engine counter's value at a cycle between the
 *   request's end and the answer. Prints the last two COUNTERS answers'
 *   difference ("counters delta: cycles C bytes_in B bytes_out O"), what
 *   nnfpga eval reports as its cycles and link bytes.
 * Prints one summary line ("F: times S..E, N cycles, ..."). Exit 0 when
 * every check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fstapi.h"
#include "nnf_proto.h"
#include "nnf_test.h"

/* ---- the signals, read back --------------------------------------------------------- */

enum { S_CLK, S_RST, S_RX_VALID, S_RX_DATA, S_RX_READY, S_TX_VALID, S_TX_DATA, S_TX_READY, S_CNT_CYCLES, NSIG };
/* their paths: the ports in the top scope (named nnf_core by the shim),
 * the rest inside the nnf_core instance under it */
static const char *const SIG_PATHS[NSIG] = {"nnf_core.clk",      "nnf_core.rst",      "nnf_core.rx_valid",
                                            "nnf_core.rx_data",  "nnf_core.rx_ready", "nnf_core.tx_valid",
                                            "nnf_core.tx_data",  "nnf_core.tx_ready",
                                            "nnf_core.nnf_core.u_gemm.cnt_cycles"};

typedef struct {
  uint64_t t, v;
} change;

typedef struct {
  fstHandle handle[NSIG];
  change *ch[NSIG];
  size_t n[NSIG], cap[NSIG];
  int bad_value; /* an x, z or over-wide value */
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
      tr->cap[i] = tr->cap[i] ? 2 * tr->cap[i] : 4096;
      tr->ch[i] = realloc(tr->ch[i], tr->cap[i] * sizeof *tr->ch[i]);
      if (!tr->ch[i]) abort();
    }
    tr->ch[i][tr->n[i]++] = (change){time, v};
  }
}

/* The value of signal i at time t (its last change at or before t). */
static uint64_t at(const trace *tr, int i, uint64_t t) {
  size_t lo = 0, hi = tr->n[i];
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (tr->ch[i][mid].t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo ? tr->ch[i][lo - 1].v : ~0ull;
}

/* Walk the hierarchy: list it (list), or find SIG_PATHS' handles. */
static int trace_read(const char *path, trace *tr, int list) {
  memset(tr, 0, sizeof *tr);
  void *f = fstReaderOpen(path);
  if (!f) {
    fprintf(stderr, "%s: not an FST file\n", path);
    return -1;
  }
  if (list)
    printf("# times %llu..%llu, time unit 1e%d s\n", (unsigned long long)fstReaderGetStartTime(f),
           (unsigned long long)fstReaderGetEndTime(f), (int)fstReaderGetTimescale(f));
  char scope[1024] = "";
  size_t len[64];
  int depth = 0;
  struct fstHier *h;
  while ((h = fstReaderIterateHier(f))) {
    if (h->htyp == FST_HT_SCOPE) {
      size_t l = strlen(scope);
      if (depth < 64) len[depth] = l;
      depth++;
      snprintf(scope + l, sizeof scope - l, "%s%s", l ? "." : "", h->u.scope.name);
    } else if (h->htyp == FST_HT_UPSCOPE) {
      if (depth > 0 && --depth < 64) scope[len[depth]] = 0;
    } else if (h->htyp == FST_HT_VAR) {
      char name[1200];
      snprintf(name, sizeof name, "%s.%s", scope, h->u.var.name);
      name[strcspn(name, " ")] = 0; /* "rx_data [7:0]" */
      if (list) printf("%s [%u]\n", name, (unsigned)h->u.var.length);
      for (int i = 0; i < NSIG; i++)
        if (!tr->handle[i] && !strcmp(name, SIG_PATHS[i])) tr->handle[i] = h->u.var.handle;
    }
  }
  if (list) {
    fstReaderClose(f);
    return 0;
  }
  for (int i = 0; i < NSIG; i++)
    if (!tr->handle[i]) {
      fprintf(stderr, "%s: no signal %s\n", path, SIG_PATHS[i]);
      fstReaderClose(f);
      return -1;
    }
  tr->start = fstReaderGetStartTime(f);
  tr->end = fstReaderGetEndTime(f);
  fstReaderClrFacProcessMaskAll(f);
  for (int i = 0; i < NSIG; i++) fstReaderSetFacProcessMask(f, tr->handle[i]);
  int ok = fstReaderIterBlocks(f, on_change, tr, NULL);
  fstReaderClose(f);
  return ok ? 0 : -1;
}

/* ---- the byte streams and their frames -------------------------------------------------- */

typedef struct {
  uint8_t type, seq;
  uint16_t len;
  int crc_ok;
  uint64_t first, last;      /* cycles of its sync0 and its last byte */
  uint64_t bytes_before;     /* bytes of the stream before its sync0 */
  uint8_t counters[NNFP_COUNTERS_BYTES]; /* a COUNTERS answer's record */
} frame;

typedef struct {
  uint64_t *cycle; /* the cycle of every byte */
  uint8_t *byte;
  size_t n, cap;
  frame *fr;
  size_t nfr, frcap;
  int bad_headers, sync_pairs;
} stream;

static void stream_push(stream *s, uint64_t cycle, uint8_t b) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 4096;
    s->cycle = realloc(s->cycle, s->cap * sizeof *s->cycle);
    s->byte = realloc(s->byte, s->cap);
    if (!s->cycle || !s->byte) abort();
  }
  if (s->n && s->byte[s->n - 1] == NNFP_SYNC0 && b == NNFP_SYNC1) s->sync_pairs++;
  s->cycle[s->n] = cycle;
  s->byte[s->n++] = b;
}

/* Split the stream into frames with the driver's parser. */
static void stream_parse(stream *s) {
  static uint8_t payload[65536];
  nnfp_parser p;
  nnfp_parser_init(&p, payload, sizeof payload - 1);
  size_t sync0 = 0;
  for (size_t k = 0; k < s->n; k++) {
    int was_in = nnfp_parser_in_frame(&p);
    nnfp_parse_event ev = nnfp_parse_byte(&p, s->byte[k]);
    if (!was_in && nnfp_parser_in_frame(&p)) sync0 = k ? k - 1 : 0;
    if (ev == NNFP_PARSE_BAD_HDR) s->bad_headers++;
    if (ev != NNFP_PARSE_FRAME) continue;
    if (s->nfr == s->frcap) {
      s->frcap = s->frcap ? 2 * s->frcap : 256;
      s->fr = realloc(s->fr, s->frcap * sizeof *s->fr);
      if (!s->fr) abort();
    }
    frame *f = &s->fr[s->nfr++];
    memset(f, 0, sizeof *f);
    f->type = p.h.type;
    f->seq = p.h.seq;
    f->len = p.h.len;
    f->crc_ok = p.h.len == 0 || p.crc_ok;
    f->first = s->cycle[sync0];
    f->last = s->cycle[k];
    f->bytes_before = sync0;
    if (p.h.len == NNFP_COUNTERS_BYTES) memcpy(f->counters, payload, NNFP_COUNTERS_BYTES);
  }
}

static void stream_free(stream *s) {
  free(s->cycle);
  free(s->byte);
  free(s->fr);
}

/* Bytes of s taken at or before cycle c. */
static uint64_t bytes_upto(const stream *s, uint64_t c) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->cycle[mid] <= c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* ---- the checks --------------------------------------------------------------------- */

static void check_whole(const trace *tr, const stream *rx, const stream *tx) {
  CHECK_EQ(rx->bad_headers, 0);
  CHECK_EQ(tx->bad_headers, 0);
  CHECK(rx->nfr > 0);
  CHECK_EQ_U64(rx->nfr, tx->nfr); /* stop-and-wait: every request answered once */
  /* nothing half-sent at either end */
  CHECK_EQ_U64(rx->nfr ? rx->fr[0].bytes_before : 0, 0);
  CHECK_EQ_U64(tx->nfr ? tx->fr[0].bytes_before : 0, 0);
  /* the engine counts from the end of the simulator's 4 reset cycles: c - 4
   * at the start of cycle c (docs/cli.md, Waveforms) */
  CHECK_EQ_U64(at(tr, S_CNT_CYCLES, tr->start), tr->start / 2 - 4);
  size_t n = rx->nfr < tx->nfr ? rx->nfr : tx->nfr;
  const frame *prev_q = NULL, *prev_a = NULL;
  for (size_t k = 0; k < n; k++) {
    const frame *q = &rx->fr[k], *a = &tx->fr[k];
    nnf_test_ctx("frame %zu: request type %u seq %u at cycles %llu..%llu", k, q->type, q->seq,
                 (unsigned long long)q->first, (unsigned long long)q->last);
    CHECK(q->crc_ok);
    CHECK(a->crc_ok);
    CHECK_EQ(a->seq, q->seq);
    CHECK(a->type == NNFP_OK(q->type) || a->type == NNFP_ERR);
    CHECK(a->first > q->last);
    if (k + 1 < n) CHECK(rx->fr[k + 1].first > a->last);
    if (a->type != NNFP_OK(NNFP_COUNTERS)) continue;
    CHECK_EQ(a->len, NNFP_COUNTERS_BYTES);
    uint64_t cyc = nnfp_counters_get_cycles(a->counters);
    uint64_t bin = nnfp_counters_get_bytes_in(a->counters), bout = nnfp_counters_get_bytes_out(a->counters);
    /* the trace from the reset on: bytes in up to the end of the request */
    CHECK_EQ_U64(bin, bytes_upto(rx, q->last));
    CHECK_EQ_U64(bin, bytes_upto(rx, a->first));
    CHECK_EQ_U64(bout, a->bytes_before);
    /* the snapshot: the engine counter held that value in a cycle between
     * the request's last byte and the answer's first */
    int seen = 0;
    for (uint64_t c = q->last; c <= a->first && !seen; c++)
      seen = at(tr, S_CNT_CYCLES, 2 * c) == cyc || at(tr, S_CNT_CYCLES, 2 * c + 1) == cyc;
    CHECK(seen);
    if (prev_a) {
      uint64_t pc = nnfp_counters_get_cycles(prev_a->counters), pin = nnfp_counters_get_bytes_in(prev_a->counters);
      /* the trace's view of the delta: request end to request end */
      CHECK_EQ_U64(bin - pin, bytes_upto(rx, q->last) - bytes_upto(rx, prev_q->last));
      CHECK_EQ_U64(cyc - pc, q->last - prev_q->last);
      printf("counters delta: cycles %llu bytes_in %llu bytes_out %llu\n", (unsigned long long)(cyc - pc),
             (unsigned long long)(bin - pin),
             (unsigned long long)(bout - nnfp_counters_get_bytes_out(prev_a->counters)));
    }
    prev_q = q;
    prev_a = a;
  }
  nnf_test_ctx("");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s F.fst [--list] [--start T] [--end T] [--sync] [--whole]\n", argv[0]);
    return 2;
  }
  const char *path = argv[1];
  int list = 0, sync = 0, whole = 0, has_start = 0, has_end = 0;
  unsigned long long want_start = 0, want_end = 0;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--list")) list = 1;
    else if (!strcmp(argv[i], "--sync")) sync = 1;
    else if (!strcmp(argv[i], "--whole")) whole = 1;
    else if (!strcmp(argv[i], "--start") && i + 1 < argc) has_start = 1, want_start = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--end") && i + 1 < argc) has_end = 1, want_end = strtoull(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
      return 2;
    }
  }
  trace tr;
  if (list) return trace_read(path, &tr, 1) ? 1 : 0;
  CHECK_OK(trace_read(path, &tr, 0));
  CHECK_EQ(tr.bad_value, 0);
  if (has_start) CHECK_EQ_U64(tr.start, want_start);
  if (has_end) CHECK_EQ_U64(tr.end, want_end);
  /* the clock: a change at every time step, low at even times */
  CHECK_EQ_U64(tr.ch[S_CLK][0].t, tr.start);
  CHECK_EQ_U64(tr.n[S_CLK], tr.end - tr.start + 1);
  for (size_t k = 0; k < tr.n[S_CLK]; k++)
    if (tr.ch[S_CLK][k].t != tr.start + k || tr.ch[S_CLK][k].v != ((tr.start + k) & 1)) {
      CHECK_EQ_U64(tr.ch[S_CLK][k].t, tr.start + k);
      CHECK_EQ_U64(tr.ch[S_CLK][k].v, (tr.start + k) & 1);
      break;
    }
  CHECK_EQ_U64(tr.start % 2, 0);
  CHECK_EQ_U64(tr.end % 2, 0);
  CHECK_EQ_U64(tr.n[S_RST], 1);
  CHECK_EQ_U64(at(&tr, S_RST, tr.start), 0);
  /* cycles [c0, c1); the engine's counter: one a cycle, never cleared */
  uint64_t c0 = tr.start / 2, c1 = tr.end / 2;
  CHECK_EQ_U64(at(&tr, S_CNT_CYCLES, tr.end) - at(&tr, S_CNT_CYCLES, tr.start), c1 - c0);
  stream rx, tx;
  memset(&rx, 0, sizeof rx);
  memset(&tx, 0, sizeof tx);
  for (uint64_t c = c0; c < c1; c++) {
    uint64_t lo = 2 * c, hi = lo + 1;
    if (at(&tr, S_CNT_CYCLES, hi) != at(&tr, S_CNT_CYCLES, lo) + 1) {
      nnf_test_ctx("cycle %llu", (unsigned long long)c);
      CHECK_EQ_U64(at(&tr, S_CNT_CYCLES, hi), at(&tr, S_CNT_CYCLES, lo) + 1);
      break;
    }
    if (at(&tr, S_RX_VALID, lo) == 1 && at(&tr, S_RX_READY, lo) == 1) stream_push(&rx, c, (uint8_t)at(&tr, S_RX_DATA, lo));
    if (at(&tr, S_TX_VALID, lo) == 1 && at(&tr, S_TX_READY, lo) == 1) stream_push(&tx, c, (uint8_t)at(&tr, S_TX_DATA, lo));
  }
  nnf_test_ctx("");
  stream_parse(&rx);
  stream_parse(&tx);
  printf("%s: times %llu..%llu, %llu cycles (%llu..%llu), %zu bytes in (%zu frames), %zu bytes out (%zu frames)\n",
         path, (unsigned long long)tr.start, (unsigned long long)tr.end, (unsigned long long)(c1 - c0),
         (unsigned long long)c0, (unsigned long long)c1, rx.n, rx.nfr, tx.n, tx.nfr);
  if (sync) {
    CHECK(rx.sync_pairs > 0);
    CHECK(tx.sync_pairs > 0);
    int good_rx = 0, good_tx = 0;
    for (size_t k = 0; k < rx.nfr; k++) good_rx += rx.fr[k].crc_ok;
    for (size_t k = 0; k < tx.nfr; k++) good_tx += tx.fr[k].crc_ok;
    CHECK(good_rx > 0);
    CHECK(good_tx > 0);
  }
  if (whole) check_whole(&tr, &rx, &tx);
  stream_free(&rx);
  stream_free(&tx);
  for (int i = 0; i < NSIG; i++) free(tr.ch[i]);
  return nnf_test_done(argv[0]);
}
