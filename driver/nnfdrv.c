/*
 * nnfdrv.c - the driver core: URIs, framing, retries, fault injection and
 * the commands of docs/protocol.md, over any transport.
 */
#include "nnfdrv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_proto.h"
#include "nnfdrv_transport.h"
#include "nnfm.h"

enum { DEFAULT_TIMEOUT_MS = 1000, DEFAULT_TRIES = 8, MAX_ANSWER = 65535 };

struct nnfdrv {
  nnfdrv_transport *t;
  nnfdrv_info info;
  uint16_t chunk;               /* WRITE/READ payload per frame */
  uint8_t seq;
  int timeout_ms, tries;
  int dev_err;
  int may_run;                  /* a RUN was answered and no WAIT / READ since */
  char msg[512];
  nnfdrv_link_stats stats;
  /* answer parsing */
  nnfp_parser parser;
  uint8_t *ans;                 /* MAX_ANSWER bytes */
  uint8_t *frame;               /* outgoing frame buffer */
  /* fault injection */
  double f_drop, f_dup, f_corrupt;
  uint64_t f_rng;
};

static int fail(nnfdrv *d, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof d->msg, fmt, ap);
  va_end(ap);
  return status;
}

const char *nnfdrv_strerror(int status) {
  switch (status) {
  case NNFDRV_OK: return "ok";
  case NNFDRV_ERR_ARG: return "bad argument";
  case NNFDRV_ERR_URI: return "bad device URI";
  case NNFDRV_ERR_NO_DEVICE: return "no device";
  case NNFDRV_ERR_IO: return "link I/O error";
  case NNFDRV_ERR_TIMEOUT: return "no answer from the device";
  case NNFDRV_ERR_DEVICE: return "the device refused the command";
  case NNFDRV_ERR_PROTOCOL: return "protocol error";
  case NNFDRV_ERR_NOMEM: return "out of memory";
  case NNFDRV_ERR_UNSUPPORTED: return "not supported in this build";
  default: return "unknown error";
  }
}

static const char *device_error_name(int code) {
  switch (code) {
  case NNFP_E_BAD_CRC: return "BAD_CRC";
  case NNFP_E_UNKNOWN: return "UNKNOWN";
  case NNFP_E_BAD_LEN: return "BAD_LEN";
  case NNFP_E_RANGE: return "RANGE";
  case NNFP_E_BAD_PROG: return "BAD_PROG";
  case NNFP_E_TIMEOUT: return "TIMEOUT";
  case NNFP_E_BAD_INSN: return "BAD_INSN";
  case NNFP_E_BANK: return "BANK";
  default: return "?";
  }
}

const char *nnfdrv_errmsg(const nnfdrv *d) { return d ? d->msg : ""; }
int nnfdrv_device_error(const nnfdrv *d) { return d ? d->dev_err : 0; }
const nnfdrv_info *nnfdrv_get_info(const nnfdrv *d) { return d ? &d->info : NULL; }
void nnfdrv_set_timeout_ms(nnfdrv *d, int ms) { if (d && ms > 0) d->timeout_ms = ms; }
void nnfdrv_set_tries(nnfdrv *d, int tries) { if (d && tries > 0) d->tries = tries; }
nnfdrv_link_stats nnfdrv_get_link_stats(const nnfdrv *d) { return d->stats; }

/* ---- fault injection ------------------------------------------------------ */

void nnfdrv_set_faults(nnfdrv *d, double drop, double dup, double corrupt, uint64_t seed) {
  d->f_drop = drop;
  d->f_dup = dup;
  d->f_corrupt = corrupt;
  d->f_rng = seed * 0x9E3779B97F4A7C15ull + 1;
}

static double rng_unit(nnfdrv *d) {
  /* xorshift64* */
  uint64_t x = d->f_rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  d->f_rng = x;
  return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static int faults_on(const nnfdrv *d) { return d->f_drop > 0 || d->f_dup > 0 || d->f_corrupt > 0; }

/* Apply faults to buf (len bytes) into out (room for 2*len); returns new length. */
static size_t apply_faults(nnfdrv *d, const uint8_t *buf, size_t len, uint8_t *out) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (rng_unit(d) < d->f_drop) continue;
    uint8_t b = buf[i];
    if (rng_unit(d) < d->f_corrupt) b ^= (uint8_t)(1u << (unsigned)(rng_unit(d) * 8));
    out[n++] = b;
    if (rng_unit(d) < d->f_dup) out[n++] = b;
  }
  return n;
}

static int link_send(nnfdrv *d, const uint8_t *buf, size_t len) {
  d->stats.wire_bytes_sent += len;
  if (!faults_on(d)) return d->t->send(d->t, buf, len);
  uint8_t *tmp = malloc(2 * len + 1);
  if (!tmp) return fail(d, NNFDRV_ERR_NOMEM, "out of memory");
  size_t n = apply_faults(d, buf, len, tmp);
  int rc = n ? d->t->send(d->t, tmp, n) : NNFDRV_OK;
  free(tmp);
  return rc;
}

static int link_recv(nnfdrv *d, uint8_t *buf, size_t max) {
  int n = d->t->recv(d->t, buf, faults_on(d) ? max / 2 : max, d->timeout_ms);
  if (n <= 0 || !faults_on(d)) return n;
  uint8_t tmp[2048];
  size_t m = apply_faults(d, buf, (size_t)n, tmp);
  memcpy(buf, tmp, m);
  return (int)m;
}

/* ---- one command, with retries ---------------------------------------------- */

/* Send (type, arg, payload) and wait for its answer. On success *ans_len is
 * the answer payload length (in d->ans). */
static int transact_seq(nnfdrv *d, uint8_t seq, uint8_t type, uint32_t arg, const uint8_t *pl,
                        uint16_t len, uint16_t *ans_len) {
  size_t flen = nnfp_encode(d->frame, type, seq, arg, pl, len);
  uint8_t rx[1024];
  d->dev_err = 0;
  for (int attempt = 0; attempt < d->tries; attempt++) {
    if (attempt > 0) d->stats.retries++;
    d->stats.frames_sent++;
    int rc = link_send(d, d->frame, flen);
    if (rc != NNFDRV_OK) return fail(d, rc, "sending to the device: %s", d->t->err);
    d->stats.payload_bytes_sent += len;
    nnfp_parser_reset(&d->parser);
    int resend = 0;
    while (!resend) {
      int n = link_recv(d, rx, sizeof rx);
      if (n < 0) return fail(d, NNFDRV_ERR_IO, "receiving from the device: %s", d->t->err);
      if (n == 0) {
        d->stats.timeouts++;
        resend = 1;
        break;
      }
      d->stats.wire_bytes_received += (uint64_t)n;
      for (int i = 0; i < n && !resend; i++) {
        nnfp_parse_event ev = nnfp_parse_byte(&d->parser, rx[i]);
        if (ev == NNFP_PARSE_BAD_HDR) {
          d->stats.bad_answers++;
          continue;
        }
        if (ev != NNFP_PARSE_FRAME) continue;
        const nnfp_header *h = &d->parser.h;
        if (h->seq != seq) continue;                 /* a stale or duplicated answer */
        if (!d->parser.crc_ok) {                     /* our answer, damaged: ask again */
          d->stats.bad_answers++;
          resend = 1;
          break;
        }
        if (h->type == NNFP_ERR) {
          int code = h->len >= NNFP_ERR_CODE_OFS + 1 ? (int)nnfp_err_get_code(d->ans) : 0;
          if (code == NNFP_E_BAD_CRC || code == NNFP_E_TIMEOUT) {   /* our frame was damaged */
            resend = 1;
            break;
          }
          d->dev_err = code;
          return fail(d, NNFDRV_ERR_DEVICE, "the device refused command 0x%02x: %s (%d)",
                      type, device_error_name(code), code);
        }
        if (h->type != NNFP_OK(type))
          return fail(d, NNFDRV_ERR_PROTOCOL, "answer type 0x%02x to command 0x%02x", h->type, type);
        *ans_len = h->len;
        d->stats.payload_bytes_received += h->len;
        return NNFDRV_OK;
      }
    }
  }
  return fail(d, NNFDRV_ERR_TIMEOUT, "no valid answer to command 0x%02x after %d tries", type, d->tries);
}

static int transact(nnfdrv *d, uint8_t type, uint32_t arg, const uint8_t *pl, uint16_t len,
                    uint16_t *ans_len) {
  return transact_seq(d, ++d->seq, type, arg, pl, len, ans_len);
}

int nnfdrv_transact(nnfdrv *d, int seq, uint8_t type, uint32_t arg, const void *payload,
                    uint16_t len, void *ans, size_t ans_max, uint16_t *ans_len) {
  if (!d || (len && !payload) || !ans_len || (ans_max && !ans))
    return d ? fail(d, NNFDRV_ERR_ARG, "bad arguments to nnfdrv_transact") : NNFDRV_ERR_ARG;
  if (len > d->info.max_payload)
    return fail(d, NNFDRV_ERR_ARG, "payload of %u bytes > max_payload %u", len, d->info.max_payload);
  uint8_t s = seq < 0 ? ++d->seq : (uint8_t)seq;
  int rc = transact_seq(d, s, type, arg, payload, len, ans_len);
  if (rc) return rc;
  if (*ans_len > ans_max) return fail(d, NNFDRV_ERR_ARG, "answer of %u bytes > buffer of %zu", *ans_len, ans_max);
  if (*ans_len) memcpy(ans, d->ans, *ans_len);
  return NNFDRV_OK;
}

uint8_t nnfdrv_last_seq(const nnfdrv *d) { return d->seq; }

/* ---- commands ---------------------------------------------------------------- */

static int expect_len(nnfdrv *d, uint16_t got, uint16_t want, const char *what) {
  if (got != want) return fail(d, NNFDRV_ERR_PROTOCOL, "%s answer of %u bytes, expected %u", what, got, want);
  return NNFDRV_OK;
}

static int do_info(nnfdrv *d) {
  uint16_t n;
  int rc = transact(d, NNFP_INFO, 0, NULL, 0, &n);
  if (rc) return rc;
  if ((rc = expect_len(d, n, NNFP_INFO_BYTES, "INFO"))) return rc;
  const uint8_t *r = d->ans;
  nnfdrv_info *i = &d->info;
  i->proto_version = (uint16_t)nnfp_info_get_proto_version(r);
  i->rtl_version = (uint16_t)nnfp_info_get_rtl_version(r);
  i->rows = nnfp_info_get_rows(r);
  i->cols = nnfp_info_get_cols(r);
  i->features = nnfp_info_get_features(r);
  i->act_words = nnfp_info_get_act_words(r);
  i->w_words = nnfp_info_get_w_words(r);
  i->p_words = nnfp_info_get_p_words(r);
  i->acc_depth = nnfp_info_get_acc_depth(r);
  i->prog_words = nnfp_info_get_prog_words(r);
  i->max_payload = nnfp_info_get_max_payload(r);
  i->credits = nnfp_info_get_credits(r);
  i->timeout_cycles = nnfp_info_get_timeout_cycles(r);
  i->clock_hz = nnfp_info_get_clock_hz(r);
  i->state_words = nnfp_info_get_state_words(r);
  i->luts = nnfp_info_get_luts(r) ? nnfp_info_get_luts(r) : 1;
  i->banks = (i->features & NNFP_FEAT_BANKS) ? nnfp_info_get_banks(r) : 0;
  i->config_id = nnfp_info_get_config_id(r);
  if (i->proto_version != NNFP_VERSION)
    return fail(d, NNFDRV_ERR_PROTOCOL, "device speaks protocol version %u, this driver %u",
                i->proto_version, NNFP_VERSION);
  if (i->max_payload < 16 || i->rows == 0 || i->cols == 0)
    return fail(d, NNFDRV_ERR_PROTOCOL, "implausible INFO record (max_payload %u, array %ux%u)",
                i->max_payload, i->rows, i->cols);
  d->chunk = i->max_payload;
  return NNFDRV_OK;
}

static uint64_t region_bytes(const nnfdrv_info *i, int region) {
  if (region == NNFDRV_PROG) return (uint64_t)i->prog_words * NNFP_INSN_BYTES;
  if (region == NNFDRV_STATE) return (uint64_t)i->state_words * NNFP_STATE_BYTES;
  nnfm_config c = {i->rows, i->cols, i->act_words, i->w_words, i->p_words, i->acc_depth, i->luts};
  return nnfm_region_bytes(&c, region);
}

/* A WRITE's or READ's argument: region and byte address. */
static uint32_t region_arg(int region, uint32_t addr) {
  return nnfp_arg_with_region(nnfp_arg_with_addr(0, addr), (uint32_t)region);
}

static int check_range(nnfdrv *d, int region, uint32_t addr, size_t len, const void *buf) {
  if (!buf && len) return fail(d, NNFDRV_ERR_ARG, "NULL buffer");
  if (region < NNFDRV_ACT || region > NNFDRV_STATE) return fail(d, NNFDRV_ERR_ARG, "no region %d", region);
  uint64_t size = region_bytes(&d->info, region);
  if (addr > size || len > size - addr)
    return fail(d, NNFDRV_ERR_ARG, "bytes %u..%llu outside region %d (%llu bytes)", addr,
                (unsigned long long)addr + len, region, (unsigned long long)size);
  return NNFDRV_OK;
}

/* A link that damages most large frames still carries small ones: after a
 * chunk fails every try, halve the chunk size (down to 64 bytes) and go on. */
static int shrink_chunk(nnfdrv *d) {
  if (d->chunk <= 64) return 0;
  d->chunk /= 2;
  d->stats.chunk_shrinks++;
  return 1;
}

/* Whole LOOP instructions in a PROG write must jump inside program memory. */
static int check_loops(nnfdrv *d, uint32_t addr, const uint8_t *p, size_t len) {
  uint32_t first = (addr + NNFP_INSN_BYTES - 1) / NNFP_INSN_BYTES;
  for (uint64_t i = first; (i + 1) * NNFP_INSN_BYTES <= (uint64_t)addr + len; i++) {
    const uint8_t *in = p + (i * NNFP_INSN_BYTES - addr);
    if (nnfp_insn_get_opcode(in) == NNFP_OP_LOOP && nnfp_loop_get_target(in) >= d->info.prog_words)
      return fail(d, NNFDRV_ERR_ARG, "LOOP at %llu jumps to %u, outside program memory (%u)",
                  (unsigned long long)i, nnfp_loop_get_target(in), d->info.prog_words);
  }
  return NNFDRV_OK;
}

int nnfdrv_write(nnfdrv *d, int region, uint32_t addr, const void *buf, size_t len) {
  if (!d) return NNFDRV_ERR_ARG;
  int rc = check_range(d, region, addr, len, buf);
  if (rc) return rc;
  if (region == NNFDRV_PROG && (rc = check_loops(d, addr, buf, len))) return rc;
  /* A WRITE to anything but ACT (and, with banks, W and P) waits in the
   * device for a running program (docs/protocol.md) with its payload held at
   * the receiver; over a UART that payload would be lost and retried until
   * the program ends. */
  int while_running = region == NNFDRV_ACT ||
                      ((d->info.features & NNFP_FEAT_BANKS) && (region == NNFDRV_W || region == NNFDRV_P));
  if (!while_running && d->may_run && d->t->no_flow_control && len > 0) {
    d->stats.auto_waits++;
    if ((rc = nnfdrv_wait(d))) return rc;
  }
  const uint8_t *p = buf;
  while (len > 0) {
    uint16_t chunk = (uint16_t)(len > d->chunk ? d->chunk : len);
    uint16_t n;
    rc = transact(d, NNFP_WRITE, region_arg(region, addr), p, chunk, &n);
    if (rc == NNFDRV_ERR_TIMEOUT && shrink_chunk(d)) continue;
    if (rc) return rc;
    if ((rc = expect_len(d, n, 0, "WRITE"))) return rc;
    p += chunk;
    addr += chunk;
    len -= chunk;
  }
  return NNFDRV_OK;
}

int nnfdrv_read(nnfdrv *d, int region, uint32_t addr, void *buf, size_t len) {
  if (!d) return NNFDRV_ERR_ARG;
  int rc = check_range(d, region, addr, len, buf);
  if (rc) return rc;
  uint8_t *p = buf;
  while (len > 0) {
    uint16_t chunk = (uint16_t)(len > d->chunk ? d->chunk : len);
    uint8_t req[NNFP_READ_REQ_BYTES];
    uint16_t n;
    nnfp_read_req_put_count(req, chunk);
    rc = transact(d, NNFP_READ, region_arg(region, addr), req, NNFP_READ_REQ_BYTES, &n);
    if (rc == NNFDRV_ERR_TIMEOUT && shrink_chunk(d)) continue;
    if (rc) return rc;
    if ((rc = expect_len(d, n, chunk, "READ"))) return rc;
    d->may_run = 0;                        /* a READ runs after the program */
    memcpy(p, d->ans, chunk);
    p += chunk;
    addr += chunk;
    len -= chunk;
  }
  return NNFDRV_OK;
}

static int simple(nnfdrv *d, uint8_t type, uint32_t arg, const char *what) {
  if (!d) return NNFDRV_ERR_ARG;
  uint16_t n;
  int rc = transact(d, type, arg, NULL, 0, &n);
  if (rc) return rc;
  return expect_len(d, n, 0, what);
}

int nnfdrv_run(nnfdrv *d, uint32_t entry) {
  if (d && entry >= d->info.prog_words)
    return fail(d, NNFDRV_ERR_ARG, "program entry %u outside program memory (%u)", entry, d->info.prog_words);
  int rc = simple(d, NNFP_RUN, entry, "RUN");
  if (rc == NNFDRV_OK) d->may_run = 1;
  return rc;
}

int nnfdrv_wait(nnfdrv *d) {
  int rc = simple(d, NNFP_WAIT, 0, "WAIT");
  if (rc == NNFDRV_OK) d->may_run = 0;
  return rc;
}

int nnfdrv_reset(nnfdrv *d, unsigned what) {
  if (d && (what & ~(unsigned)(NNFP_RESET_ARG_COUNTERS | NNFP_RESET_ARG_ABORT)))
    return fail(d, NNFDRV_ERR_ARG, "RESET takes bits 0..1, got 0x%x", what);
  return simple(d, NNFP_RESET, what, "RESET");
}

static int bank_cmd(nnfdrv *d, uint8_t type, unsigned bank, const char *what) {
  if (!d) return NNFDRV_ERR_ARG;
  if (!d->info.banks) return fail(d, NNFDRV_ERR_UNSUPPORTED, "%s: the device has no banks (INFO feature BANKS)", what);
  if (bank >= d->info.banks)
    return fail(d, NNFDRV_ERR_ARG, "%s: bank %u, the device has %u", what, bank, d->info.banks);
  return simple(d, type, bank, what);
}

int nnfdrv_bank_wait(nnfdrv *d, unsigned bank) { return bank_cmd(d, NNFP_BWAIT, bank, "BWAIT"); }

int nnfdrv_bank_post(nnfdrv *d, unsigned bank) { return bank_cmd(d, NNFP_BPOST, bank, "BPOST"); }

int nnfdrv_get_state(nnfdrv *d, nnfdrv_state *st) {
  if (!d || !st) return d ? fail(d, NNFDRV_ERR_ARG, "NULL state") : NNFDRV_ERR_ARG;
  uint16_t n;
  int rc = transact(d, NNFP_STATUS, 0, NULL, 0, &n);
  if (rc) return rc;
  if ((rc = expect_len(d, n, NNFP_STATUS_BYTES, "STATUS"))) return rc;
  st->running = (int)nnfp_status_get_running(d->ans);
  st->waiting = (int)nnfp_status_get_waiting(d->ans);
  st->last_error = (uint8_t)nnfp_status_get_last_error(d->ans);
  st->pc = (uint16_t)nnfp_status_get_pc(d->ans);
  return NNFDRV_OK;
}

int nnfdrv_get_counters(nnfdrv *d, nnfdrv_counters *c) {
  if (!d || !c) return d ? fail(d, NNFDRV_ERR_ARG, "NULL counters") : NNFDRV_ERR_ARG;
  uint16_t n;
  int rc = transact(d, NNFP_COUNTERS, 0, NULL, 0, &n);
  if (rc) return rc;
  if ((rc = expect_len(d, n, NNFP_COUNTERS_BYTES, "COUNTERS"))) return rc;
  const uint8_t *r = d->ans;
  c->cycles = nnfp_counters_get_cycles(r);
  c->busy_cycles = nnfp_counters_get_busy(r);
  c->macs = nnfp_counters_get_macs(r);
  c->stall_cycles = nnfp_counters_get_stall(r);
  c->bytes_in = nnfp_counters_get_bytes_in(r);
  c->bytes_out = nnfp_counters_get_bytes_out(r);
  c->frame_errors = nnfp_counters_get_frame_errors(r);
  return NNFDRV_OK;
}

/* ---- micro-program encoding ---------------------------------------------------- */

void nnfdrv_insn_gemm(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_gemm *g) {
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_gemm_put_opcode(out, NNFP_OP_GEMM);
  nnfp_gemm_put_lut(out, g->lut ? 1 : 0);
  nnfp_gemm_put_tfl_round(out, g->round == NNFM_ROUND_TFLITE ? 1u : 0u);
  nnfp_gemm_put_zp(out, g->zp);
  nnfp_gemm_put_lo(out, g->lo);
  nnfp_gemm_put_hi(out, g->hi);
  nnfp_gemm_put_m(out, g->m);
  nnfp_gemm_put_k(out, g->k);
  nnfp_gemm_put_n(out, g->n);
  nnfp_gemm_put_a_base(out, g->a_base);
  nnfp_gemm_put_w_base(out, g->w_base);
  nnfp_gemm_put_p_base(out, g->p_base);
  nnfp_gemm_put_o_base(out, g->o_base);
}

void nnfdrv_insn_barrier(uint8_t out[NNFP_INSN_BYTES]) {
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_insn_put_opcode(out, NNFP_OP_BARRIER);
}

void nnfdrv_insn_end(uint8_t out[NNFP_INSN_BYTES]) {
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_insn_put_opcode(out, NNFP_OP_END);
}

/* The largest value of an unsigned field of w bits, and the range of a signed one. */
#define UMAX(w) ((1LL << (w)) - 1)
#define SMIN(w) (-(1LL << ((w) - 1)))
#define SMAX(w) ((1LL << ((w) - 1)) - 1)

int nnfdrv_insn_lif(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_lif *l) {
  if (!out || !l || l->m == 0 || l->n == 0 || l->du > UMAX(NNFP_LIF_DU_W) ||
      l->dv > UMAX(NNFP_LIF_DV_W) || l->vth < 0 || l->vth > UMAX(NNFP_LIF_VTH_W) ||
      l->bias_mant < SMIN(NNFP_LIF_BIAS_MANT_W) || l->bias_mant > SMAX(NNFP_LIF_BIAS_MANT_W) ||
      l->bias_exp > UMAX(NNFP_LIF_BIAS_EXP_W) || l->reset_sub > 1 ||
      l->refractory > UMAX(NNFP_LIF_REFRACTORY_W) || l->count > 1 || l->clear > 1)
    return NNFDRV_ERR_ARG;
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_lif_put_opcode(out, NNFP_OP_LIF);
  nnfp_lif_put_reset_sub(out, l->reset_sub);
  nnfp_lif_put_count(out, l->count);
  nnfp_lif_put_clear(out, l->clear);
  nnfp_lif_put_refractory(out, l->refractory);
  nnfp_lif_put_bias_exp(out, l->bias_exp);
  nnfp_lif_put_bias_mant(out, l->bias_mant);
  nnfp_lif_put_m(out, l->m);
  nnfp_lif_put_du(out, l->du);
  nnfp_lif_put_n(out, l->n);
  nnfp_lif_put_dv(out, l->dv);
  nnfp_lif_put_a_base(out, l->a_base);
  nnfp_lif_put_vth(out, (uint32_t)l->vth);
  nnfp_lif_put_s_base(out, l->s_base);
  nnfp_lif_put_o_base(out, l->o_base);
  return NNFDRV_OK;
}

int nnfdrv_insn_loop(uint8_t out[NNFP_INSN_BYTES], uint32_t target, uint32_t count) {
  /* target: an instruction index (program memory holds at most 65536) */
  if (!out || count == 0 || count > UMAX(NNFP_LOOP_COUNT_W) || target > 65535) return NNFDRV_ERR_ARG;
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_loop_put_opcode(out, NNFP_OP_LOOP);
  nnfp_loop_put_count(out, count);
  nnfp_loop_put_target(out, target);
  return NNFDRV_OK;
}

/* The shape fields CONV and POOL share, in the ranges their records hold
 * (the same bits in both records: checked here, since walk_ok reads CONV's). */
#define SAME_FIELD(f) (NNFP_CONV_##f##_LSB == NNFP_POOL_##f##_LSB && NNFP_CONV_##f##_W == NNFP_POOL_##f##_W)
_Static_assert(SAME_FIELD(KH) && SAME_FIELD(KW) && SAME_FIELD(SH_M1) && SAME_FIELD(SW_M1) &&
                   SAME_FIELD(PH) && SAME_FIELD(PW) && SAME_FIELD(H_M1) && SAME_FIELD(W_M1) &&
                   SAME_FIELD(B_M1) && SAME_FIELD(EH) && SAME_FIELD(EW),
               "CONV and POOL shape fields differ");
static int walk_ok(uint16_t h, uint16_t w, uint16_t b, uint8_t kh, uint8_t kw, uint8_t sh, uint8_t sw,
                   uint8_t ph, uint8_t pw, uint8_t eh, uint8_t ew) {
  return h >= 1 && h <= UMAX(NNFP_CONV_H_M1_W) + 1 && w >= 1 && w <= UMAX(NNFP_CONV_W_M1_W) + 1 &&
         b >= 1 && b <= UMAX(NNFP_CONV_B_M1_W) + 1 && kh >= 1 && kh <= UMAX(NNFP_CONV_KH_W) &&
         kw >= 1 && kw <= UMAX(NNFP_CONV_KW_W) && sh >= 1 && sh <= UMAX(NNFP_CONV_SH_M1_W) + 1 &&
         sw >= 1 && sw <= UMAX(NNFP_CONV_SW_M1_W) + 1 && ph <= UMAX(NNFP_CONV_PH_W) &&
         pw <= UMAX(NNFP_CONV_PW_W) && eh <= 1 && ew <= 1;
}

int nnfdrv_insn_conv(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_conv *c) {
  if (!out || !c || c->cin == 0 || c->n == 0 || (c->lut != 0 && c->lut != 1) ||
      (c->pool2 != 0 && c->pool2 != 1) ||
      !walk_ok(c->h, c->w, c->b, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->eh, c->ew))
    return NNFDRV_ERR_ARG;
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_conv_put_opcode(out, NNFP_OP_CONV);
  nnfp_conv_put_lut(out, (uint32_t)c->lut);
  nnfp_conv_put_pool2(out, (uint32_t)c->pool2);
  nnfp_conv_put_tfl_round(out, c->round == NNFM_ROUND_TFLITE ? 1u : 0u);
  nnfp_conv_put_zp(out, c->zp);
  nnfp_conv_put_lo(out, c->lo);
  nnfp_conv_put_hi(out, c->hi);
  nnfp_conv_put_zp_in(out, c->zp_in);
  nnfp_conv_put_kh(out, c->kh);
  nnfp_conv_put_kw(out, c->kw);
  nnfp_conv_put_sh_m1(out, c->sh - 1u);
  nnfp_conv_put_sw_m1(out, c->sw - 1u);
  nnfp_conv_put_ph(out, c->ph);
  nnfp_conv_put_pw(out, c->pw);
  nnfp_conv_put_cin(out, c->cin);
  nnfp_conv_put_n(out, c->n);
  nnfp_conv_put_h_m1(out, c->h - 1u);
  nnfp_conv_put_w_m1(out, c->w - 1u);
  nnfp_conv_put_b_m1(out, c->b - 1u);
  nnfp_conv_put_eh(out, c->eh);
  nnfp_conv_put_ew(out, c->ew);
  nnfp_conv_put_a_base(out, c->a_base);
  nnfp_conv_put_w_base(out, c->w_base);
  nnfp_conv_put_p_base(out, c->p_base);
  nnfp_conv_put_o_base(out, c->o_base);
  return NNFDRV_OK;
}

/* DWCONV's record is CONV's (C where Cin is) with its own opcode */
_Static_assert(NNFP_DWCONV_C_OFS == NNFP_CONV_CIN_OFS && NNFP_DWCONV_N_OFS == NNFP_CONV_N_OFS &&
                   NNFP_DWCONV_KH_LSB == NNFP_CONV_KH_LSB && NNFP_DWCONV_H_M1_LSB == NNFP_CONV_H_M1_LSB &&
                   NNFP_DWCONV_ZP_IN_OFS == NNFP_CONV_ZP_IN_OFS && NNFP_DWCONV_TFL_ROUND == NNFP_CONV_TFL_ROUND &&
                   NNFP_DWCONV_W_BASE_OFS == NNFP_CONV_W_BASE_OFS && NNFP_DWCONV_P_BASE_OFS == NNFP_CONV_P_BASE_OFS,
               "DWCONV's record differs from CONV's");

int nnfdrv_insn_dwconv(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_conv *c) {
  if (!out || !c || c->n != c->cin || c->lut != 0 || c->pool2 != 0 || c->kh > NNFM_DW_KERNEL_MAX ||
      c->kw > NNFM_DW_KERNEL_MAX)
    return NNFDRV_ERR_ARG;
  int rc = nnfdrv_insn_conv(out, c);
  if (rc == NNFDRV_OK) nnfp_dwconv_put_opcode(out, NNFP_OP_DWCONV);
  return rc;
}

int nnfdrv_insn_pool(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_pool *p) {
  if (!out || !p || p->c == 0 || (p->avg != 0 && p->avg != 1) || (p->global != 0 && p->global != 1))
    return NNFDRV_ERR_ARG;
  if (p->global ? (p->kh || p->kw || p->sh != 1 || p->sw != 1 || p->ph || p->pw || p->eh || p->ew ||
                   !walk_ok(p->h, p->w, p->b, 1, 1, 1, 1, 0, 0, 0, 0))
                : !walk_ok(p->h, p->w, p->b, p->kh, p->kw, p->sh, p->sw, p->ph, p->pw, p->eh, p->ew))
    return NNFDRV_ERR_ARG;
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_pool_put_opcode(out, NNFP_OP_POOL);
  nnfp_pool_put_avg(out, (uint32_t)p->avg);
  nnfp_pool_put_global(out, (uint32_t)p->global);
  nnfp_pool_put_lo(out, p->lo);
  nnfp_pool_put_hi(out, p->hi);
  nnfp_pool_put_kh(out, p->kh);
  nnfp_pool_put_kw(out, p->kw);
  nnfp_pool_put_sh_m1(out, p->sh - 1u);
  nnfp_pool_put_sw_m1(out, p->sw - 1u);
  nnfp_pool_put_ph(out, p->ph);
  nnfp_pool_put_pw(out, p->pw);
  nnfp_pool_put_c(out, p->c);
  nnfp_pool_put_h_m1(out, p->h - 1u);
  nnfp_pool_put_w_m1(out, p->w - 1u);
  nnfp_pool_put_b_m1(out, p->b - 1u);
  nnfp_pool_put_eh(out, p->eh);
  nnfp_pool_put_ew(out, p->ew);
  nnfp_pool_put_a_base(out, p->a_base);
  nnfp_pool_put_o_base(out, p->o_base);
  return NNFDRV_OK;
}

/* PACK's shape fields sit where POOL's do (proto/nnf_proto.def), so walk_ok
 * checks them too. */
#define SAME_PACK_FIELD(f) (NNFP_PACK_##f##_LSB == NNFP_POOL_##f##_LSB && NNFP_PACK_##f##_W == NNFP_POOL_##f##_W)
_Static_assert(SAME_PACK_FIELD(KW) && SAME_PACK_FIELD(SW_M1) && SAME_PACK_FIELD(PW) && SAME_PACK_FIELD(H_M1) &&
                   SAME_PACK_FIELD(W_M1) && SAME_PACK_FIELD(B_M1) && SAME_PACK_FIELD(EW),
               "PACK and POOL shape fields differ");

int nnfdrv_insn_pack(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_pack *p) {
  /* the 1 x KW window of POOL's ranges (KH = SH = 1, PH = EH = 0) */
  if (!out || !p || p->cin == 0 || !walk_ok(p->h, p->w, p->b, 1, p->kw, 1, p->sw, 0, p->pw, 0, p->ew))
    return NNFDRV_ERR_ARG;
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_pack_put_opcode(out, NNFP_OP_PACK);
  nnfp_pack_put_zp_in(out, p->zp_in);
  nnfp_pack_put_kw(out, p->kw);
  nnfp_pack_put_sw_m1(out, p->sw - 1u);
  nnfp_pack_put_pw(out, p->pw);
  nnfp_pack_put_cin(out, p->cin);
  nnfp_pack_put_h_m1(out, p->h - 1u);
  nnfp_pack_put_w_m1(out, p->w - 1u);
  nnfp_pack_put_b_m1(out, p->b - 1u);
  nnfp_pack_put_ew(out, p->ew);
  nnfp_pack_put_a_base(out, p->a_base);
  nnfp_pack_put_o_base(out, p->o_base);
  return NNFDRV_OK;
}

int nnfdrv_insn_ew(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_ew *e) {
  if (!out || !e || nnfm_ew_params_check(&e->p) != NNFM_OK || e->b_base > UMAX(NNFP_EW_B_BASE_W) ||
      (e->lut != 0 && e->lut != 1) || e->lut_idx > UMAX(NNFP_EW_LUT_IDX_W))
    return NNFDRV_ERR_ARG;
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_ew_put_opcode(out, NNFP_OP_EW);
  nnfp_ew_put_lut(out, (uint32_t)e->lut);
  nnfp_ew_put_a_small(out, (uint32_t)e->p.a_small);
  nnfp_ew_put_lut_idx(out, e->lut_idx);
  nnfp_ew_put_zp(out, e->p.zp);
  nnfp_ew_put_lo(out, e->p.lo);
  nnfp_ew_put_hi(out, e->p.hi);
  nnfp_ew_put_zp_a(out, e->p.zp_a);
  nnfp_ew_put_zp_b(out, e->p.zp_b);
  nnfp_ew_put_shift(out, e->p.shift);
  nnfp_ew_put_n(out, e->n);
  nnfp_ew_put_m(out, e->m);
  nnfp_ew_put_b_base(out, e->b_base);
  nnfp_ew_put_nshift_s(out, (uint32_t)-e->p.shift_s);
  nnfp_ew_put_op(out, (uint32_t)e->p.op);
  nnfp_ew_put_tfl_round(out, e->p.round == NNFM_ROUND_TFLITE ? 1u : 0u);
  nnfp_ew_put_a_base(out, e->a_base);
  nnfp_ew_put_m0_s(out, (uint32_t)e->p.m0_s);
  nnfp_ew_put_m0(out, (uint32_t)e->p.m0);
  nnfp_ew_put_o_base(out, e->o_base);
  return NNFDRV_OK;
}

int nnfdrv_insn_row(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_row *r) {
  if (!out || !r || (r->tbl != 0 && r->tbl != 1)) return NNFDRV_ERR_ARG;
  const int ln = r->op == NNFM_ROW_LAYERNORM;
  if (!ln && (r->op != NNFM_ROW_SOFTMAX || r->n > NNFM_ROW_N_MAX)) return NNFDRV_ERR_ARG;
  if (ln && (r->n > NNFM_ROW_LN_N_MAX || r->eps_q < 0 || r->eps_q > NNFM_ROW_LN_EPS_MAX || r->zp_in < -128 ||
             r->zp_in > 127 || r->zp_out < -128 || r->zp_out > 127))
    return NNFDRV_ERR_ARG;
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_row_put_opcode(out, NNFP_OP_ROW);
  nnfp_row_put_tbl(out, (uint32_t)r->tbl);
  nnfp_row_put_op(out, ln ? NNFP_ROWOP_LAYERNORM : NNFP_ROWOP_SOFTMAX);
  nnfp_row_put_n(out, r->n);
  nnfp_row_put_m(out, r->m);
  nnfp_row_put_a_base(out, r->a_base);
  nnfp_row_put_o_base(out, r->o_base);
  if (ln) {
    nnfp_row_put_zp_in(out, r->zp_in);
    nnfp_row_put_zp_out(out, r->zp_out);
    nnfp_row_put_eps_hi(out, (uint32_t)((uint64_t)r->eps_q >> 32));
    nnfp_row_put_eps_lo(out, (uint32_t)r->eps_q);
    nnfp_row_put_p_base(out, r->p_base);
  }
  return NNFDRV_OK;
}

int nnfdrv_layernorm_p(int d, const int32_t *m0, const int8_t *shift, const int8_t *sign, const int32_t *bias,
                       uint32_t cols, uint8_t *out) {
  if (!m0 || !shift || !sign || !bias || !out || d < 1 || d > NNFM_ROW_LN_N_MAX || cols == 0) return NNFDRV_ERR_ARG;
  for (int j = 0; j < d; j++)
    if (sign[j] < -1 || sign[j] > 1 || m0[j] < 0) return NNFDRV_ERR_ARG;
  const uint32_t entries = ((uint32_t)d + cols - 1) / cols;
  memset(out, 0, (size_t)entries * cols * NNFP_P_BYTES);
  for (int j = 0; j < d; j++) {
    uint8_t *l = out + (size_t)j * NNFP_P_BYTES; /* entry j / cols, lane j % cols: (entry * cols + lane) * 16 */
    nnfp_p_put_bias(l, bias[j]);
    nnfp_p_put_m0(l, (int32_t)((uint32_t)m0[j] | (sign[j] < 0 ? 0x80000000u : 0u)));
    nnfp_p_put_shift(l, shift[j]);
  }
  return NNFDRV_OK;
}

int nnfdrv_insn_actw(uint8_t out[NNFP_INSN_BYTES], const nnfdrv_actw *a) {
  if (!out || !a || (a->tr != 0 && a->tr != 1) || (a->sum != 0 && a->sum != 1) || a->za < -128 || a->za > 127)
    return NNFDRV_ERR_ARG;
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_actw_put_opcode(out, NNFP_OP_ACTW);
  nnfp_actw_put_tr(out, (uint32_t)a->tr);
  nnfp_actw_put_sum(out, (uint32_t)a->sum);
  nnfp_actw_put_za(out, a->za);
  nnfp_actw_put_n(out, a->n);
  nnfp_actw_put_m(out, a->m);
  nnfp_actw_put_a_base(out, a->a_base);
  nnfp_actw_put_w_base(out, a->w_base);
  nnfp_actw_put_p_base(out, a->p_base);
  return NNFDRV_OK;
}

int nnfdrv_softmax_luts(const int32_t table[256], uint8_t lut[1024]) {
  if (!table || !lut) return NNFDRV_ERR_ARG;
  for (int i = 0; i < 256; i++)
    if (table[i] < 0) return NNFDRV_ERR_ARG;
  for (int b = 0; b < 4; b++)
    for (int i = 0; i < 256; i++) lut[256 * b + i] = (uint8_t)((uint32_t)table[i] >> (8 * b));
  return NNFDRV_OK;
}

int nnfdrv_insn_loop_stride(uint8_t out[NNFP_INSN_BYTES], uint32_t target, uint32_t count,
                            uint32_t stride) {
  int rc = nnfdrv_insn_loop(out, target, count);
  if (rc == NNFDRV_OK) nnfp_loop_put_stride(out, stride);
  return rc;
}

/* LUT_IDX and the REL flags sit at the same bits in every record that has them. */
_Static_assert(NNFP_GEMM_LUT_IDX_LSB == NNFP_CONV_LUT_IDX_LSB && NNFP_GEMM_LUT_IDX_LSB == NNFP_EW_LUT_IDX_LSB &&
                   NNFP_GEMM_A_REL == NNFP_INSN_A_REL && NNFP_EW_O_REL == NNFP_INSN_O_REL &&
                   NNFP_ROW_A_REL == NNFP_INSN_A_REL && NNFP_ROW_O_REL == NNFP_INSN_O_REL &&
                   NNFP_ROW_A_BASE_OFS == NNFP_GEMM_A_BASE_OFS && NNFP_ROW_O_BASE_OFS == NNFP_GEMM_O_BASE_OFS &&
                   NNFP_ROW_N_OFS == NNFP_EW_N_OFS && NNFP_ROW_M_OFS == NNFP_EW_M_OFS &&
                   NNFP_DWCONV_A_BASE_OFS == NNFP_GEMM_A_BASE_OFS && NNFP_DWCONV_O_BASE_OFS == NNFP_GEMM_O_BASE_OFS,
               "LUT_IDX, the REL bits or a shared field differ between records");

int nnfdrv_insn_set_lut(uint8_t insn[NNFP_INSN_BYTES], unsigned idx) {
  if (!insn || idx > UMAX(NNFP_GEMM_LUT_IDX_W)) return NNFDRV_ERR_ARG;
  uint32_t op = nnfp_insn_get_opcode(insn);
  if (op != NNFP_OP_GEMM && op != NNFP_OP_CONV && op != NNFP_OP_EW) return NNFDRV_ERR_ARG;
  nnfp_gemm_put_lut_idx(insn, idx);
  return NNFDRV_OK;
}

int nnfdrv_insn_set_rel(uint8_t insn[NNFP_INSN_BYTES], int a_rel, int o_rel, int b_rel) {
  if (!insn) return NNFDRV_ERR_ARG;
  uint32_t op = nnfp_insn_get_opcode(insn);
  int bases = op == NNFP_OP_GEMM || op == NNFP_OP_LIF || op == NNFP_OP_CONV || op == NNFP_OP_DWCONV || op == NNFP_OP_POOL ||
              op == NNFP_OP_PACK || op == NNFP_OP_EW || op == NNFP_OP_ROW || op == NNFP_OP_ACTW;
  if (!bases || (b_rel && op != NNFP_OP_EW) || (o_rel && op == NNFP_OP_ACTW)) return NNFDRV_ERR_ARG;
  nnfp_insn_put_a_rel(insn, a_rel ? 1u : 0u);
  if (op != NNFP_OP_ACTW) nnfp_insn_put_o_rel(insn, o_rel ? 1u : 0u);
  if (op == NNFP_OP_EW) nnfp_ew_put_b_rel(insn, b_rel ? 1u : 0u);
  return NNFDRV_OK;
}

int nnfdrv_insn_bank(uint8_t out[NNFP_INSN_BYTES], int release, int acquire) {
  if (!out || release < -1 || release > 255 || acquire < -1 || acquire > 255) return NNFDRV_ERR_ARG;
  memset(out, 0, NNFP_INSN_BYTES);
  nnfp_bank_put_opcode(out, NNFP_OP_BANK);
  if (release >= 0) {
    nnfp_bank_put_release(out, 1);
    nnfp_bank_put_rel_bank(out, (uint32_t)release);
  }
  if (acquire >= 0) {
    nnfp_bank_put_acquire(out, 1);
    nnfp_bank_put_acq_bank(out, (uint32_t)acquire);
  }
  return NNFDRV_OK;
}

/* ---- open / close ---------------------------------------------------------------- */

int nnfdrv_open(const char *uri, nnfdrv **out, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!out) return NNFDRV_ERR_ARG;
  *out = NULL;
  if (!uri || !*uri) uri = "sim";
  nnfdrv *d = calloc(1, sizeof *d);
  if (!d) return NNFDRV_ERR_NOMEM;
  d->timeout_ms = DEFAULT_TIMEOUT_MS;
  d->tries = DEFAULT_TRIES;
  d->ans = malloc(MAX_ANSWER);
  d->frame = malloc(nnfp_frame_size(MAX_ANSWER));
  if (!d->ans || !d->frame) {
    nnfdrv_close(d);
    return NNFDRV_ERR_NOMEM;
  }
  nnfp_parser_init(&d->parser, d->ans, MAX_ANSWER);

  const char *colon = strchr(uri, ':');
  size_t slen = colon ? (size_t)(colon - uri) : strlen(uri);
  const char *spec = colon ? colon + 1 : "";
  /* usb takes all that follows "usb" (its URI may be usb@BAUD: nnfdrv_usb.c) */
  int is_usb = !strncmp(uri, "usb", 3) && (uri[3] == '\0' || uri[3] == ':' || uri[3] == '@');
  char msg[1024] = "";
  int rc;
  if (slen == 5 && !strncmp(uri, "model", 5)) rc = nnfdrv_open_model(spec, &d->t, msg, sizeof msg);
  else if (slen == 3 && !strncmp(uri, "sim", 3)) rc = nnfdrv_open_sim(spec, &d->t, msg, sizeof msg);
  else if (slen == 6 && !strncmp(uri, "serial", 6)) rc = nnfdrv_open_serial(spec, &d->t, msg, sizeof msg);
  else if (is_usb) rc = nnfdrv_open_usb(uri + 3, &d->t, msg, sizeof msg);
  else {
    rc = NNFDRV_ERR_URI;
    snprintf(msg, sizeof msg, "unknown device \"%s\" (expected sim, model, serial:PATH[@BAUD] or usb[:VID:PID[:SERIAL]][@BAUD])", uri);
  }
  if (rc != NNFDRV_OK) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    nnfdrv_close(d);
    return rc;
  }
  rc = do_info(d);
  if (rc != NNFDRV_OK) {
    if (err && errlen) snprintf(err, errlen, "%s: %s", uri, d->msg);
    nnfdrv_close(d);
    return rc;
  }
  *out = d;
  return NNFDRV_OK;
}

int nnfdrv_trace_range(nnfdrv *d, const char **path, uint64_t *first, uint64_t *end) {
  if (!d || !path || !first || !end) return NNFDRV_ERR_ARG;
  if (!d->t || !d->t->trace_range) return NNFDRV_ERR_UNSUPPORTED;
  return d->t->trace_range(d->t, path, first, end);
}

void nnfdrv_close(nnfdrv *d) {
  if (!d) return;
  if (d->t) d->t->close(d->t);
  free(d->ans);
  free(d->frame);
  free(d);
}
