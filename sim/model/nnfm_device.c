/*
 * nnfm_device.c - functional model of nnf_core (docs/protocol.md). Mirrors
 * rtl/core/nnf_core.v: the same answers, the same error order, the same
 * retry rule for RUN and RESET, the same bytes written by a WRITE whose
 * payload CRC fails.
 */
#include "nnfm_device.h"

#include <stdlib.h>
#include <string.h>

#include "nnfdrv_proto.h"

enum { RTL_VERSION = 0x0001 };

struct nnfm_device {
  nnfm_device_config cfg;
  nnfm_engine *eng;
  uint8_t *prog;             /* prog_words * 32 bytes */
  nnfp_parser parser;
  uint8_t *payload;          /* max_payload bytes */
  /* answer queue */
  uint8_t *out;
  size_t out_len, out_cap, out_head;
  /* executor state */
  uint8_t last_err;
  uint32_t pc;
  int prev_valid;
  uint8_t prev_seq, prev_type;
  /* counters */
  uint64_t macs, bytes_in, bytes_out, frame_errors;
  nnfm_device_stats stats;
};

static int is_pow2(uint32_t x) { return x != 0 && (x & (x - 1)) == 0; }

nnfm_device_config nnfm_device_config_default(void) {
  nnfm_device_config c;
  c.engine = nnfm_config_default();
  c.prog_words = 64;
  c.max_payload = 4096;
  c.timeout_cycles = 65536;
  c.clock_hz = 0;
  c.vec_serial = 0;
  return c;
}

nnfm_device *nnfm_device_create(const nnfm_device_config *cfg) {
  if (!cfg || nnfm_config_check(&cfg->engine) != NNFM_OK || !is_pow2(cfg->prog_words) ||
      cfg->prog_words < 2 || cfg->prog_words > 65536 || cfg->max_payload < 16 ||
      cfg->max_payload > 65535)
    return NULL;
  nnfm_device *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->cfg = *cfg;
  d->eng = nnfm_engine_create(&cfg->engine);
  d->prog = calloc(cfg->prog_words, NNFP_INSN_BYTES);
  d->payload = malloc(cfg->max_payload);
  if (!d->eng || !d->prog || !d->payload) {
    nnfm_device_destroy(d);
    return NULL;
  }
  nnfp_parser_init(&d->parser, d->payload, cfg->max_payload);
  return d;
}

void nnfm_device_destroy(nnfm_device *d) {
  if (!d) return;
  nnfm_engine_destroy(d->eng);
  free(d->prog);
  free(d->payload);
  free(d->out);
  free(d);
}

nnfm_engine *nnfm_device_engine(nnfm_device *d) { return d ? d->eng : NULL; }

nnfm_device_stats nnfm_device_get_stats(const nnfm_device *d) { return d->stats; }

int nnfm_device_in_frame(const nnfm_device *d) { return nnfp_parser_in_frame(&d->parser); }

size_t nnfm_device_tx_pending(const nnfm_device *d) { return d->out_len - d->out_head; }

size_t nnfm_device_tx(nnfm_device *d, uint8_t *buf, size_t max) {
  size_t n = nnfm_device_tx_pending(d);
  if (n > max) n = max;
  memcpy(buf, d->out + d->out_head, n);
  d->out_head += n;
  d->bytes_out += n;
  if (d->out_head == d->out_len) d->out_head = d->out_len = 0;
  return n;
}

/* ---- answers ------------------------------------------------------------- */

static int out_reserve(nnfm_device *d, size_t extra) {
  if (d->out_len + extra <= d->out_cap) return 0;
  size_t cap = d->out_cap ? d->out_cap : 4096;
  while (cap < d->out_len + extra) cap *= 2;
  uint8_t *p = realloc(d->out, cap);
  if (!p) return -1;
  d->out = p;
  d->out_cap = cap;
  return 0;
}

static void answer(nnfm_device *d, uint8_t type, uint8_t seq, const uint8_t *pl, uint16_t len) {
  if (out_reserve(d, nnfp_frame_size(len)) != 0) return; /* out of memory: the answer is lost, as on a broken link */
  d->out_len += nnfp_encode(d->out + d->out_len, type, seq, 0, pl, len);
}

static void answer_err(nnfm_device *d, const nnfp_header *h, uint8_t code) {
  uint8_t pl[2] = {code, h->type};
  d->last_err = code;
  answer(d, NNFP_ERR, h->seq, pl, 2);
}

/* ---- regions --------------------------------------------------------------- */

static uint64_t region_size(const nnfm_device *d, unsigned region) {
  if (region == NNFP_REGION_PROG) return (uint64_t)d->cfg.prog_words * NNFP_INSN_BYTES;
  return nnfm_region_bytes(&d->cfg.engine, (int)region);
}

static int in_range(const nnfm_device *d, uint32_t arg, uint64_t count) {
  uint64_t size = region_size(d, arg >> 28), addr = arg & 0x0FFFFFFFu;
  return addr <= size && count <= size - addr;
}

static void put_byte(nnfm_device *d, unsigned region, uint32_t addr, uint8_t v) {
  if (region == NNFP_REGION_PROG) d->prog[addr] = v;
  else nnfm_engine_write_byte(d->eng, (int)region, addr, v);
}

static uint8_t get_byte(const nnfm_device *d, unsigned region, uint32_t addr) {
  uint8_t v = 0;
  if (region == NNFP_REGION_PROG) v = d->prog[addr];
  else nnfm_engine_read_byte(d->eng, (int)region, addr, &v);
  return v;
}

/* A WRITE writes the bytes it received, good CRC or not (as the RTL does:
 * it writes while receiving); a bad range writes nothing. */
static void write_payload(nnfm_device *d, const nnfp_header *h, uint32_t received) {
  if (h->type != NNFP_WRITE || !in_range(d, h->arg, h->len)) return;
  unsigned region = h->arg >> 28;
  uint32_t addr = h->arg & 0x0FFFFFFFu;
  for (uint32_t i = 0; i < received; i++) put_byte(d, region, addr + i, d->payload[i]);
}

/* ---- the micro-program ---------------------------------------------------- */

static void run_program(nnfm_device *d, uint32_t entry) {
  d->pc = entry;
  while (d->pc < d->cfg.prog_words) {
    const uint8_t *in = d->prog + (size_t)d->pc * NNFP_INSN_BYTES;
    if (in[0] == NNFP_OP_BARRIER) {
      d->pc++;
      continue;
    }
    if (in[0] != NNFP_OP_GEMM) return; /* END and reserved opcodes stop */
    nnfm_cmd c;
    c.lut = in[1] & 1;
    c.zp = (int8_t)in[2];
    c.lo = (int8_t)in[3];
    c.hi = (int8_t)in[4];
    c.m = nnfp_get16(in + 8);
    c.k = nnfp_get16(in + 10);
    c.n = nnfp_get16(in + 12);
    c.a_base = nnfp_get32(in + 16);
    c.w_base = nnfp_get32(in + 20);
    c.p_base = nnfp_get32(in + 24);
    c.o_base = nnfp_get32(in + 28);
    uint64_t macs = 0;
    if (nnfm_engine_gemm(d->eng, &c, &macs) != NNFM_OK) {
      d->stats.refused_gemms++;
      return;
    }
    d->macs += macs;
    d->pc++;
  }
}

/* ---- the executor ---------------------------------------------------------- */

static uint8_t validate(const nnfm_device *d, const nnfp_header *h, int crc_ok, int tmo) {
  if (!crc_ok) return tmo ? NNFP_E_TIMEOUT : NNFP_E_BAD_CRC;
  switch (h->type) {
  case NNFP_INFO: case NNFP_WAIT: case NNFP_STATUS: case NNFP_COUNTERS: case NNFP_RESET:
    return h->len != 0 ? NNFP_E_BAD_LEN : 0;
  case NNFP_RUN:
    if (h->len != 0) return NNFP_E_BAD_LEN;
    return h->arg >= d->cfg.prog_words ? NNFP_E_BAD_PROG : 0;
  case NNFP_WRITE:
    if (h->len == 0) return NNFP_E_BAD_LEN;
    return in_range(d, h->arg, h->len) ? 0 : NNFP_E_RANGE;
  case NNFP_READ: {
    if (h->len != 4) return NNFP_E_BAD_LEN;
    uint32_t count = nnfp_get32(d->payload);
    if (count == 0 || count > d->cfg.max_payload) return NNFP_E_BAD_LEN;
    return in_range(d, h->arg, count) ? 0 : NNFP_E_RANGE;
  }
  default:
    return NNFP_E_UNKNOWN;
  }
}

static void info_record(const nnfm_device *d, uint8_t r[NNFP_INFO_BYTES]) {
  const nnfm_config *c = &d->cfg.engine;
  memset(r, 0, NNFP_INFO_BYTES);
  nnfp_put16(r + 0, NNFP_VERSION);
  nnfp_put16(r + 2, RTL_VERSION);
  r[4] = (uint8_t)c->rows;
  r[5] = (uint8_t)c->cols;
  nnfp_put16(r + 6, (uint16_t)(0x3u | (d->cfg.vec_serial ? 0x8u : 0u)));
  nnfp_put32(r + 8, c->act_words);
  nnfp_put32(r + 12, c->w_words);
  nnfp_put32(r + 16, c->p_words);
  nnfp_put32(r + 20, c->acc_depth);
  nnfp_put32(r + 24, d->cfg.prog_words);
  nnfp_put16(r + 28, (uint16_t)d->cfg.max_payload);
  nnfp_put16(r + 30, 1); /* credits */
  nnfp_put32(r + 32, d->cfg.timeout_cycles);
  nnfp_put32(r + 36, d->cfg.clock_hz);
}

static void execute(nnfm_device *d, const nnfp_header *h, int crc_ok, int tmo) {
  uint8_t err = validate(d, h, crc_ok, tmo);
  int retry = d->prev_valid && d->prev_seq == h->seq && d->prev_type == h->type;
  uint8_t buf[NNFP_COUNTERS_BYTES];
  if (err) {
    answer_err(d, h, err);
  } else {
    d->stats.frames_ok++;
    switch (h->type) {
    case NNFP_INFO:
      info_record(d, buf);
      answer(d, NNFP_OK(h->type), h->seq, buf, NNFP_INFO_BYTES);
      break;
    case NNFP_STATUS:
      buf[0] = 0; /* never running between frames: RUN completes at once */
      buf[1] = d->last_err;
      nnfp_put16(buf + 2, (uint16_t)d->pc);
      answer(d, NNFP_OK(h->type), h->seq, buf, NNFP_STATUS_BYTES);
      break;
    case NNFP_COUNTERS:
      /* bytes_out counts what has left the device before this answer */
      nnfp_put64(buf + 0, 0);
      nnfp_put64(buf + 8, 0);
      nnfp_put64(buf + 16, d->macs);
      nnfp_put64(buf + 24, 0);
      nnfp_put64(buf + 32, d->bytes_in);
      nnfp_put64(buf + 40, d->bytes_out + nnfm_device_tx_pending(d));
      nnfp_put64(buf + 48, d->frame_errors);
      answer(d, NNFP_OK(h->type), h->seq, buf, NNFP_COUNTERS_BYTES);
      break;
    case NNFP_RESET:
      if (!retry && (h->arg & 1u)) {
        d->macs = d->bytes_in = d->bytes_out = d->frame_errors = 0;
        d->bytes_out = 0 - (uint64_t)nnfm_device_tx_pending(d); /* answers already queued were sent before */
      }
      answer(d, NNFP_OK(h->type), h->seq, NULL, 0);
      break;
    case NNFP_RUN:
      if (!retry) run_program(d, h->arg);
      answer(d, NNFP_OK(h->type), h->seq, NULL, 0);
      break;
    case NNFP_READ: {
      uint32_t count = nnfp_get32(d->payload);
      uint8_t *data = malloc(count);
      if (!data) return;
      unsigned region = h->arg >> 28;
      uint32_t addr = h->arg & 0x0FFFFFFFu;
      for (uint32_t i = 0; i < count; i++) data[i] = get_byte(d, region, addr + i);
      answer(d, NNFP_OK(h->type), h->seq, data, (uint16_t)count);
      free(data);
      break;
    }
    default: /* WRITE (already written), WAIT */
      answer(d, NNFP_OK(h->type), h->seq, NULL, 0);
      break;
    }
  }
  d->prev_valid = !err && (h->type == NNFP_RUN || h->type == NNFP_RESET);
  d->prev_seq = h->seq;
  d->prev_type = h->type;
}

void nnfm_device_rx(nnfm_device *d, const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    d->bytes_in++;
    nnfp_parse_event ev = nnfp_parse_byte(&d->parser, buf[i]);
    if (ev == NNFP_PARSE_BAD_HDR) {
      d->frame_errors++;
    } else if (ev == NNFP_PARSE_FRAME) {
      if (!d->parser.crc_ok) d->frame_errors++;
      write_payload(d, &d->parser.h, d->parser.h.len);
      execute(d, &d->parser.h, d->parser.crc_ok, 0);
    }
  }
}

void nnfm_device_idle_timeout(nnfm_device *d) {
  if (!nnfp_parser_in_frame(&d->parser)) return;
  d->frame_errors++;
  if (nnfp_parser_in_payload(&d->parser)) {
    uint32_t got = d->parser.pcnt;
    write_payload(d, &d->parser.h, got);
    nnfp_parser_reset(&d->parser);
    execute(d, &d->parser.h, 0, 1);
  } else {
    nnfp_parser_reset(&d->parser);
  }
}
