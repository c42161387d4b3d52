/*
 * nnfu_host.c - the USB full-speed host at the wire (nnfu_host.h).
 *
 * CRCs in the reflected form, bit by bit, LSB first, as on the wire: the
 * register starts all ones, each bit b shifts it right and xors the
 * reflected polynomial when (crc & 1) ^ b; the field sent is the register
 * inverted (CRC5: x^5 + x^2 + 1, reflected 0x14; CRC16: x^16 + x^15 + x^2
 * + 1, reflected 0xA001).
 */
#include "nnfu_host.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *nnfu_strerror(int code) {
  switch (code) {
    case NNFU_OK: return "ok";
    case NNFU_E_PID: return "PID check nibble wrong";
    case NNFU_E_LEN: return "length wrong for the packet type";
    case NNFU_E_CRC5: return "CRC5 wrong";
    case NNFU_E_CRC16: return "CRC16 wrong";
    case NNFU_E_UNSUP: return "PID not used at full speed";
    case NNFU_E_SYNC: return "SYNC missing or wrong";
    case NNFU_E_STUFF: return "bit stuffing error";
    case NNFU_E_ALIGN: return "EOP not on a byte boundary";
    case NNFU_E_EOP: return "EOP malformed";
    case NNFU_E_TIMING: return "a run of samples is not a whole number of bits";
    case NNFU_E_SE1: return "SE1 on the line";
    case NNFU_E_SPACE: return "buffer too small";
    default: return "unknown error";
  }
}

/* ---- packets ------------------------------------------------------------ */

static unsigned crc_bits(unsigned c, unsigned poly, uint32_t bits, int n) {
  for (int i = 0; i < n; i++) {
    unsigned fb = (c ^ (bits >> i)) & 1u;
    c >>= 1;
    if (fb) c ^= poly;
  }
  return c;
}

unsigned nnfu_crc5(unsigned bits11) { return ~crc_bits(0x1F, 0x14, bits11 & 0x7FF, 11) & 0x1F; }

unsigned nnfu_crc16(const uint8_t *p, size_t n) {
  unsigned c = 0xFFFF;
  for (size_t i = 0; i < n; i++) c = crc_bits(c, 0xA001, p[i], 8);
  return ~c & 0xFFFF;
}

static uint8_t pid_byte(int pid) { return (uint8_t)(((~pid & 0xF) << 4) | (pid & 0xF)); }

size_t nnfu_pkt_token(uint8_t out[3], int pid, unsigned addr, unsigned ep) {
  unsigned f = (addr & 0x7F) | (ep & 0xF) << 7;
  unsigned w = f | nnfu_crc5(f) << 11;
  out[0] = pid_byte(pid);
  out[1] = (uint8_t)w;
  out[2] = (uint8_t)(w >> 8);
  return 3;
}

size_t nnfu_pkt_sof(uint8_t out[3], unsigned frame) {
  return nnfu_pkt_token(out, NNFU_PID_SOF, frame & 0x7F, (frame >> 7) & 0xF);
}

size_t nnfu_pkt_data(uint8_t *out, int pid, const uint8_t *payload, size_t n) {
  out[0] = pid_byte(pid);
  if (n) memcpy(out + 1, payload, n);
  unsigned c = nnfu_crc16(payload, n);
  out[n + 1] = (uint8_t)c;
  out[n + 2] = (uint8_t)(c >> 8);
  return n + 3;
}

size_t nnfu_pkt_handshake(uint8_t out[1], int pid) {
  out[0] = pid_byte(pid);
  return 1;
}

int nnfu_pkt_parse(const uint8_t *b, size_t n, size_t max_payload, nnfu_pkt *p) {
  memset(p, 0, sizeof *p);
  if (n == 0) return NNFU_E_LEN;
  p->pid = b[0] & 0xF;
  if ((b[0] >> 4) != (~b[0] & 0xF)) return NNFU_E_PID;
  switch (p->pid & 3) {
    case 1: { /* token */
      if (n != 3) return NNFU_E_LEN;
      unsigned w = b[1] | (unsigned)b[2] << 8;
      p->addr = w & 0x7F;
      p->ep = (w >> 7) & 0xF;
      p->frame = w & 0x7FF;
      return nnfu_crc5(w & 0x7FF) == (w >> 11) ? NNFU_OK : NNFU_E_CRC5;
    }
    case 2: /* handshake */
      return n == 1 ? NNFU_OK : NNFU_E_LEN;
    case 3: /* data */
      if (p->pid != NNFU_PID_DATA0 && p->pid != NNFU_PID_DATA1) return NNFU_E_UNSUP;
      if (n < 3 || n - 3 > max_payload) return NNFU_E_LEN;
      p->payload = b + 1;
      p->len = n - 3;
      return nnfu_crc16(b + 1, n - 3) == (unsigned)(b[n - 2] | b[n - 1] << 8) ? NNFU_OK : NNFU_E_CRC16;
    default:
      return NNFU_E_UNSUP;
  }
}

/* ---- symbols ------------------------------------------------------------ */

nnfu_enc_opts nnfu_enc_default(void) {
  nnfu_enc_opts o = {8, -1, -1, 2};
  return o;
}

typedef struct {
  uint8_t *sym;
  size_t n, cap;
  int lvl;      /* NRZI level: NNFU_J or NNFU_K */
  int ones;     /* ones in a row, for stuffing */
  int ok;
} enc;

static void put_sym(enc *e, int s) {
  if (e->n < e->cap) e->sym[e->n++] = (uint8_t)s;
  else e->ok = 0;
}

static void put_raw(enc *e, int bit) {  /* NRZI: a zero toggles */
  if (!bit) e->lvl = e->lvl == NNFU_J ? NNFU_K : NNFU_J;
  put_sym(e, e->lvl);
}

static void put_bit(enc *e, int bit) {  /* with stuffing */
  put_raw(e, bit);
  e->ones = bit ? e->ones + 1 : 0;
  if (e->ones == 6) {
    put_raw(e, 0);
    e->ones = 0;
  }
}

size_t nnfu_encode(const uint8_t *bytes, size_t n, const nnfu_enc_opts *o, uint8_t *sym, size_t cap) {
  enc e = {sym, 0, cap, NNFU_J, 0, 1};
  for (int i = 0; i < o->sync_bits; i++) put_bit(&e, i == o->sync_bits - 1);
  long nbits = (long)n * 8;
  if (o->cut_bits >= 0 && o->cut_bits < nbits) nbits = o->cut_bits;
  for (long i = 0; i < nbits; i++) {
    if (i == o->ones_at)
      for (int k = 0; k < 7; k++) put_raw(&e, 1);
    put_bit(&e, (bytes[i / 8] >> (i % 8)) & 1);
  }
  if (o->ones_at >= 0 && o->ones_at >= nbits)
    for (int k = 0; k < 7; k++) put_raw(&e, 1);
  for (int i = 0; i < o->eop_se0; i++) put_sym(&e, NNFU_SE0);
  put_sym(&e, NNFU_J);
  return e.ok ? e.n : 0;
}

/* ---- samples ------------------------------------------------------------ */

static double unit(nnfu_timing *t) {  /* splitmix64, uniform in [0, 1) */
  uint64_t z = (t->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static double jit(nnfu_timing *t) { return (2.0 * unit(t) - 1.0) * t->jitter; }

static int is_jk(int s) { return s == NNFU_J || s == NNFU_K; }

size_t nnfu_render(nnfu_timing *t, const uint8_t *sym, size_t n, uint8_t *samp, size_t cap) {
  const double bit = 4.0 * (1.0 + t->offset);
  size_t i = 0;
  double start = t->phase + (t->jitter > 0 ? fabs(jit(t)) : 0.0);  /* first edge never before 0 */
  for (size_t k = 0; k < n; k++) {
    double next = t->phase + (double)(k + 1) * bit;
    if (k + 1 < n && t->jitter > 0) next += jit(t);
    /* samples before this symbol's start keep the previous state (idle J at first) */
    while ((double)i < start) {
      if (i >= cap) return 0;
      samp[i] = (uint8_t)(k == 0 ? NNFU_J : sym[k - 1]);
      i++;
    }
    const int change = k > 0 && is_jk(sym[k]) && is_jk(sym[k - 1]) && sym[k] != sym[k - 1];
    const int glitch = change && t->glitch > 0 && unit(t) < t->glitch;
    const size_t first = i;
    while ((double)i < next) {
      if (i >= cap) return 0;
      samp[i] = sym[k];
      if (glitch && i == first) samp[i] = unit(t) < 0.5 ? NNFU_SE0 : NNFU_SE1;
      i++;
    }
    start = next;
  }
  return i;
}

/* ---- decoding ----------------------------------------------------------- */

int nnfu_decode(const uint8_t *samp, size_t n, int tol, uint8_t *bytes, size_t cap,
                nnfu_dec_info *info) {
  nnfu_dec_info dummy;
  if (!info) info = &dummy;
  memset(info, 0, sizeof *info);
  info->err_sample = -1;
  size_t i = 0;
  while (i < n && samp[i] == NNFU_J) i++;
  const size_t first = i;
  if (i == n || samp[i] != NNFU_K) {
    info->err_sample = (long)i;
    return NNFU_E_SYNC;
  }
  int lvl = NNFU_J;        /* NRZI reference */
  long bitno = 0;          /* decoded bits, SYNC included */
  int ones = 0;            /* for unstuffing: ones in a row */
  unsigned sh = 0;         /* the byte being assembled */
  int nb = 0;              /* its bits */
#define FAIL(code)                    \
  do {                                \
    info->err_sample = (long)i;       \
    return (code);                    \
  } while (0)
  while (i < n) {
    /* one run of equal samples */
    size_t j = i;
    while (j < n && samp[j] == samp[i]) j++;
    const int s = samp[i];
    const long len = (long)(j - i);
    long bits = (len + 2) / 4;
    if (s == NNFU_J && j == n) bits = 1;      /* idle after the EOP: at least one bit */
    else if (bits < 1 || labs(len - 4 * bits) > tol) FAIL(NNFU_E_TIMING);
    if (s == NNFU_SE1) FAIL(NNFU_E_SE1);
    if (s == NNFU_SE0) {
      if (bits != 2) FAIL(NNFU_E_EOP);
      if (j == n || samp[j] != NNFU_J) FAIL(NNFU_E_EOP);
      size_t k = j;
      while (k < n && samp[k] == NNFU_J) k++;
      if (k - j < 4 - (size_t)tol) FAIL(NNFU_E_EOP);
      if (bitno < 8) FAIL(NNFU_E_SYNC);
      if (ones == 6) FAIL(NNFU_E_STUFF);      /* the stuffed zero before the EOP is missing */
      if (nb != 0) FAIL(NNFU_E_ALIGN);
      info->nsamples = j + 4 - first;
      return NNFU_OK;
    }
    for (long b = 0; b < bits; b++) {
      const int bit = (s == lvl);
      lvl = s;
      if (bitno < 8) {                         /* SYNC: 0000 0001 */
        if (bit != (bitno == 7)) FAIL(NNFU_E_SYNC);
        ones = bit;
      } else if (ones == 6) {                  /* a stuffed zero must come */
        if (bit) FAIL(NNFU_E_STUFF);
        ones = 0;
      } else {
        ones = bit ? ones + 1 : 0;
        sh |= (unsigned)bit << nb;
        if (++nb == 8) {
          if (info->nbytes >= cap) FAIL(NNFU_E_SPACE);
          bytes[info->nbytes++] = (uint8_t)sh;
          sh = 0;
          nb = 0;
        }
      }
      bitno++;
    }
    i = j;
  }
#undef FAIL
  info->err_sample = (long)n;
  return NNFU_E_EOP;                            /* the line ended inside the packet */
}

int nnfu_mon_init(nnfu_mon *m, int tol) {
  memset(m, 0, sizeof *m);
  m->tol = tol;
  m->cap = 64 * 1024;
  m->buf = malloc(m->cap);
  return m->buf ? NNFU_OK : NNFU_E_SPACE;
}

void nnfu_mon_free(nnfu_mon *m) {
  free(m->buf);
  m->buf = NULL;
}

int nnfu_mon_feed(nnfu_mon *m, int line) {
  if (!m->in_pkt) {
    if (line == NNFU_J) return 0;
    m->in_pkt = 1;
    m->se0_seen = 0;
    m->j_run = 0;
    m->buf[0] = NNFU_J;                        /* decode from idle */
    m->n = 1;
  }
  if (m->n == m->cap) {
    m->in_pkt = 0;
    m->status = NNFU_E_SPACE;
    return 1;
  }
  m->buf[m->n++] = (uint8_t)line;
  if (line == NNFU_SE0) m->se0_seen = 1;
  m->j_run = line == NNFU_J ? m->j_run + 1 : 0;
  if (m->se0_seen && m->j_run == 4) {           /* one bit of J after an SE0 */
    m->in_pkt = 0;
    m->status = nnfu_decode(m->buf, m->n, m->tol, m->bytes, sizeof m->bytes, &m->info);
    return 1;
  }
  return 0;
}
