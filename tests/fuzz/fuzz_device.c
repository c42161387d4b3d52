/*
 * fuzz_device.c - libFuzzer target for the functional model of the device
 * (sim/model/nnfm_device.c): nnfm_device_rx and nnfm_device_idle_timeout fed
 * an arbitrary session on a small configuration picked by the input (CONV
 * and POOL on or off: FEAT_CONV).
 *
 * A session is a list of steps: raw bytes, a frame built from the input with
 * good CRCs (optionally with one bit flipped, or cut short and followed by a
 * timeout), a READ of a small count, or an idle timeout. Frames with good
 * CRCs let the fuzzer reach the executor and the micro-program (WRITE to
 * PROG, then RUN) instead of only the hunt for a sync.
 *
 * Invariants (docs/protocol.md), checked against a second parser that
 * follows the request stream:
 *   - the answers are back-to-back frames with good header and payload CRCs,
 *     arg 0, nothing between or after them;
 *   - every request whose header is good gets exactly one answer, in order,
 *     with its seq; a bad payload CRC is answered ERR BAD_CRC, a timeout in
 *     the payload ERR TIMEOUT; an unknown type ERR UNKNOWN;
 *   - an OK answer has the command's type and the documented payload length
 *     (INFO 48 with this configuration in it, STATUS 4, COUNTERS 56, READ
 *     its count, others 0); an ERR answer is 2 bytes, a known code and the
 *     request's type;
 *   - the device is inside a frame exactly when the request parser is;
 *   - no crash, leak or undefined behaviour (ASan, UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_proto.h"
#include "nnfm_device.h"

typedef struct {
  const uint8_t *p;
  size_t n;
} input;

static unsigned take(input *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

/* What the checker expects next from the device, per answer. */
typedef struct {
  uint8_t seq, type;
  int forced_err;       /* NNFP_E_BAD_CRC / NNFP_E_TIMEOUT, or 0 */
  uint32_t read_count;  /* READ: the count the request asked for (0: not a 4-byte READ) */
} expect;

typedef struct {
  nnfm_device_config cfg;
  nnfm_device *dev;
  nnfp_parser req;           /* follows the request stream */
  uint8_t req_pl[65536];
  nnfp_parser ans;           /* parses the answers */
  uint8_t ans_pl[65536];
  size_t ans_pos;            /* bytes of the answer being parsed */
  unsigned drains;
  expect *q;
  size_t qn, qcap, qhead;
} session;

static void want(session *s, uint8_t seq, uint8_t type, int forced, uint32_t read_count) {
  if (s->qn == s->qcap) {
    s->qcap = s->qcap ? 2 * s->qcap : 64;
    s->q = realloc(s->q, s->qcap * sizeof *s->q);
    if (!s->q) abort();
  }
  s->q[s->qn++] = (expect){seq, type, forced, read_count};
}

static void check_answer(session *s, const nnfp_header *h, const uint8_t *pl) {
  if (s->qhead >= s->qn) abort();                      /* an answer nobody asked for */
  expect e = s->q[s->qhead++];
  if (h->seq != e.seq || h->arg != 0) abort();
  if (e.forced_err) {
    if (h->type != NNFP_ERR || h->len != 2 || pl[0] != e.forced_err || pl[1] != e.type) abort();
    return;
  }
  /* the commands this device knows: BWAIT and BPOST only with banks */
  const unsigned last = s->cfg.banks ? NNFP_BPOST : NNFP_RESET;
  if (h->type == NNFP_ERR) {
    if (h->len != 2 || pl[1] != e.type || pl[0] < NNFP_E_UNKNOWN || pl[0] > NNFP_E_BANK || pl[0] == NNFP_E_TIMEOUT ||
        pl[0] == NNFP_E_BAD_INSN || (pl[0] == NNFP_E_BANK && e.type != NNFP_BWAIT))
      abort();
    if ((e.type < NNFP_INFO || e.type > last) != (pl[0] == NNFP_E_UNKNOWN)) abort();
    return;
  }
  if (h->type != NNFP_OK(e.type) || e.type < NNFP_INFO || e.type > last) abort();
  switch (e.type) {
  case NNFP_INFO: {
    const nnfm_config *c = &s->cfg.engine;
    if (h->len != NNFP_INFO_BYTES || nnfp_get16(pl) != NNFP_VERSION || pl[4] != c->rows || pl[5] != c->cols ||
        !(nnfp_info_get_features(pl) & NNFP_FEAT_CONV) != !s->cfg.conv ||
        nnfp_get32(pl + 8) != c->act_words || nnfp_get32(pl + 12) != c->w_words ||
        nnfp_get32(pl + 24) != s->cfg.prog_words || nnfp_get16(pl + 28) != s->cfg.max_payload ||
        nnfp_get16(pl + 30) != 1 || nnfp_get32(pl + 40) != s->cfg.state_words ||
        nnfp_info_get_banks(pl) != s->cfg.banks || !(nnfp_info_get_features(pl) & NNFP_FEAT_BANKS) != !s->cfg.banks)
      abort();
    break;
  }
  case NNFP_STATUS:
    /* the model is never running, unless a program waits at a BANK acquire */
    if (h->len != NNFP_STATUS_BYTES || (pl[0] != 0 && (pl[0] != 3 || !s->cfg.banks))) abort();
    break;
  case NNFP_COUNTERS:
    if (h->len != NNFP_COUNTERS_BYTES) abort();
    break;
  case NNFP_READ:
    if (!e.read_count || h->len != e.read_count) abort();
    break;
  default:
    if (h->len != 0) abort();
  }
}

/* Take every answer byte, in chunks of varying size. */
static void drain(session *s) {
  uint8_t buf[97];
  for (;;) {
    size_t want_n = 1 + (s->drains++ * 37u) % sizeof buf;
    size_t got = nnfm_device_tx(s->dev, buf, want_n);
    if (got > want_n) abort();
    if (!got) break;
    for (size_t i = 0; i < got; i++) {
      /* answers are back to back: each starts right after the last one */
      if ((s->ans_pos == 0 && buf[i] != NNFP_SYNC0) || (s->ans_pos == 1 && buf[i] != NNFP_SYNC1)) abort();
      s->ans_pos++;
      nnfp_parse_event ev = nnfp_parse_byte(&s->ans, buf[i]);
      if (ev == NNFP_PARSE_BAD_HDR) abort();
      if (ev == NNFP_PARSE_FRAME) {
        if (!s->ans.crc_ok || s->ans_pos != nnfp_frame_size(s->ans.h.len)) abort();
        s->ans_pos = 0;
        check_answer(s, &s->ans.h, s->ans_pl);
      }
    }
  }
  if (nnfm_device_tx_pending(s->dev)) abort();
}

/* Bytes to the device, and to the request parser that predicts the answers. */
static void send(session *s, const uint8_t *b, size_t n) {
  nnfm_device_rx(s->dev, b, n);
  for (size_t i = 0; i < n; i++) {
    nnfp_parse_event ev = nnfp_parse_byte(&s->req, b[i]);
    if (ev != NNFP_PARSE_FRAME) continue;
    const nnfp_header *h = &s->req.h;
    uint32_t rc = h->type == NNFP_READ && h->len == 4 ? nnfp_get32(s->req_pl) : 0;
    want(s, h->seq, h->type, s->req.crc_ok ? 0 : NNFP_E_BAD_CRC, rc);
  }
  if (nnfm_device_in_frame(s->dev) != nnfp_parser_in_frame(&s->req)) abort();
}

/* A gap abandons a frame after its sync (not a lone A5: the RTL's timer runs
 * only inside a frame, so A5, a gap, 5A still syncs). */
static void timeout(session *s) {
  if (nnfp_parser_in_payload(&s->req)) want(s, s->req.h.seq, s->req.h.type, NNFP_E_TIMEOUT, 0);
  if (nnfp_parser_in_frame(&s->req)) nnfp_parser_reset(&s->req);
  nnfm_device_idle_timeout(s->dev);
  if (nnfm_device_in_frame(s->dev)) abort();
}

/* A frame with good CRCs from the input; maybe damaged or cut short. */
static void frame_step(session *s, input *in, unsigned ctl) {
  uint8_t type = (uint8_t)(take(in) % 12), seq = (uint8_t)take(in);
  uint32_t region = take(in) % 7, addr = take(in) | (take(in) & 1) << 8;
  uint32_t arg = type == NNFP_RUN || type == NNFP_RESET ? take(in) % 20
                 : type == NNFP_BWAIT || type == NNFP_BPOST ? take(in) % 5
                                                          : region << NNFP_ARG_REGION_LSB | addr;
  uint16_t len = (uint16_t)(take(in) % (s->cfg.max_payload + 9));
  uint8_t pl[512], fr[sizeof pl + 32];   /* max_payload <= 128 here */
  for (uint16_t i = 0; i < len; i++) pl[i] = (uint8_t)take(in);
  size_t fl = nnfp_encode(fr, type, seq, arg, pl, len);
  if (ctl & 4) fr[take(in) % fl] ^= (uint8_t)(1u << (take(in) & 7));
  if (ctl & 8) {
    send(s, fr, take(in) % fl);
    drain(s);
    timeout(s);
  } else {
    send(s, fr, fl);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in = {data, size};
  unsigned c0 = take(&in), c1 = take(&in);
  session *s = calloc(1, sizeof *s);
  if (!s) abort();
  /* a small device: the program and its loops stay cheap */
  s->cfg = nnfm_device_config_default();
  s->cfg.engine.rows = s->cfg.engine.cols = 2 << (c0 & 1);
  s->cfg.engine.act_words = 2u << (c0 >> 1 & 3);
  s->cfg.engine.w_words = 2u << (c0 >> 3 & 3);
  s->cfg.engine.p_words = 2;
  s->cfg.engine.acc_depth = 2u << (c0 >> 5 & 1);
  s->cfg.prog_words = 2u << (c1 & 3);
  s->cfg.max_payload = 16u << (c1 >> 2 & 3);
  s->cfg.state_words = c1 & 0x10 ? 0 : 2u << (c1 >> 5 & 3);
  s->cfg.conv = c1 >> 7 & 1; /* CONV and POOL run (FEAT_CONV), or stop like END */
  s->cfg.banks = c0 >> 6 & 3; /* 0: no banks (BWAIT, BPOST unknown) */
  s->dev = nnfm_device_create(&s->cfg);
  if (!s->dev) abort();
  nnfp_parser_init(&s->req, s->req_pl, s->cfg.max_payload);
  nnfp_parser_init(&s->ans, s->ans_pl, 65535);
  while (in.n) {
    unsigned ctl = take(&in);
    switch (ctl & 3) {
    case 0: {
      uint8_t raw[64];
      size_t n = 1 + take(&in) % sizeof raw;
      for (size_t i = 0; i < n; i++) raw[i] = (uint8_t)take(&in);
      send(s, raw, n);
      break;
    }
    case 1:
      frame_step(s, &in, ctl);
      break;
    case 2:
      timeout(s);
      break;
    default: {    /* a READ of a small count, or INFO / STATUS / COUNTERS */
      uint8_t cnt[4], fr[32];
      nnfp_put32(cnt, 1 + take(&in) % 40);
      uint8_t type = (uint8_t)(ctl & 4 ? NNFP_INFO + (ctl >> 3) % 10 : NNFP_READ);
      size_t fl = type == NNFP_READ
                      ? nnfp_encode(fr, type, (uint8_t)take(&in), (take(&in) % 6) << NNFP_ARG_REGION_LSB | take(&in), cnt, 4)
                      : nnfp_encode(fr, type, (uint8_t)take(&in), 0, NULL, 0);
      send(s, fr, fl);
    }
    }
    drain(s);
  }
  timeout(s);
  drain(s);
  if (s->qhead != s->qn || s->ans_pos) abort();   /* every answer came, whole */
  nnfm_device_destroy(s->dev);
  free(s->q);
  free(s);
  return 0;
}
