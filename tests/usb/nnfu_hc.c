/*
 * nnfu_hc.c - the USB full-speed host controller at the transaction level
 * (nnfu_hc.h), over the wire model of nnfu_host.c.
 */
#include "nnfu_hc.h"

#include <string.h>

enum { FRAME_CLOCKS = 48000, MAX_SYM = 1400, MAX_SAMP = 6000, ANSWER_CLOCKS = 8000 };

const char *nnfu_hc_strerror(int code) {
  switch (code) {
    case NNFU_HC_ACK: return "ACK";
    case NNFU_HC_NAK: return "NAK";
    case NNFU_HC_STALL: return "STALL";
    case NNFU_HC_DATA: return "DATA";
    case NNFU_HC_DUP: return "DATA with the old toggle (a resend)";
    case NNFU_HC_TIMEOUT: return "no answer (time-out)";
    case NNFU_HC_BAD: return "a bad answer";
    case NNFU_HC_E_COLLISION: return "host and device drove the line at once";
    case NNFU_HC_E_STEP: return "the step callback aborted";
    case NNFU_HC_E_STALL: return "the transfer was STALLed";
    case NNFU_HC_E_ERRORS: return "three errors in a row";
    case NNFU_HC_E_NAKS: return "NAK limit reached";
    case NNFU_HC_E_PROTO: return "protocol violation by the device";
    case NNFU_HC_E_RESET: return "bus reset injected";
    default: return nnfu_strerror(code);
  }
}

int nnfu_hc_init(nnfu_hc *h, nnfu_hc_step_fn step, void *ctx) {
  memset(h, 0, sizeof *h);
  h->step = step;
  h->ctx = ctx;
  h->timing.phase = 0.5;
  h->timing.rng = 1;
  h->sof = 1;
  h->ipd_bits = 4;
  h->timeout_bits = 18;
  h->nak_limit = 100000;
  h->ep0_max = 64;
  h->faults.reset_at = -1;
  h->stats.gap_min = 1 << 30;
  h->stats.gap_max = -1;
  h->next_sof = FRAME_CLOCKS;
  h->dev_dp = 1;
  return nnfu_mon_init(&h->mon, 0);
}

void nnfu_hc_free(nnfu_hc *h) { nnfu_mon_free(&h->mon); }

/* ---- the wire ------------------------------------------------------------- */

/* One clock: the host's line state when it drives; returns 1 when the monitor
 * just decoded a device packet (h->mon), 0, or an error. */
static int tick(nnfu_hc *h, int line, int drives) {
  if (drives && h->dev_oe) return NNFU_HC_E_COLLISION;
  int bus = drives ? line : (h->dev_oe ? (h->dev_dp << 1 | h->dev_dm) : NNFU_J);
  int dp = 1, dm = 0, oe = 0;
  if (h->step(h->ctx, (bus >> 1) & 1, bus & 1, drives, &dp, &dm, &oe)) return NNFU_HC_E_STEP;
  h->dev_dp = dp ? 1 : 0;
  h->dev_dm = dm ? 1 : 0;
  h->dev_oe = oe ? 1 : 0;
  h->stats.clocks++;
  if (bus != NNFU_J) h->quiet_since = h->stats.clocks;
  if (drives) return 0;
  return nnfu_mon_feed(&h->mon, bus);
}

static int idle_to(nnfu_hc *h, uint64_t until) {
  while (h->stats.clocks < until) {
    int rc = tick(h, NNFU_J, 0);
    if (rc < 0) return rc;
  }
  return NNFU_OK;
}

/* Send a packet after the host's gap; *eop_end: the clock of the J after its EOP. */
static int send_bytes(nnfu_hc *h, const uint8_t *b, size_t n, const nnfu_enc_opts *o, uint64_t *eop_end) {
  static uint8_t sym[MAX_SYM], samp[MAX_SAMP];
  int rc = idle_to(h, h->quiet_since + 4 * (uint64_t)h->ipd_bits);
  if (rc < 0) return rc;
  size_t ns = nnfu_encode(b, n, o, sym, MAX_SYM);
  size_t nsamp = ns ? nnfu_render(&h->timing, sym, ns, samp, MAX_SAMP) : 0;
  if (!nsamp) return NNFU_E_SPACE;
  size_t end = nsamp;
  for (size_t i = nsamp; i-- > 1;)
    if (samp[i - 1] == NNFU_SE0 && samp[i] == NNFU_J) {
      end = i;
      break;
    }
  const uint64_t t0 = h->stats.clocks;
  for (size_t i = 0; i < nsamp; i++) {
    rc = tick(h, samp[i], 1);
    if (rc < 0) return rc;
  }
  if (eop_end) *eop_end = t0 + end;
  return NNFU_OK;
}

static int send_pkt(nnfu_hc *h, const uint8_t *b, size_t n, uint64_t *eop_end) {
  nnfu_enc_opts o = nnfu_enc_default();
  return send_bytes(h, b, n, &o, eop_end);
}

static int send_token(nnfu_hc *h, int pid, unsigned addr, unsigned ep, uint64_t *eop_end) {
  uint8_t b[3];
  nnfu_pkt_token(b, pid, addr, ep);
  h->stats.tokens++;
  return send_pkt(h, b, 3, eop_end);
}

static int send_data(nnfu_hc *h, int pid, const uint8_t *p, size_t n, uint64_t *eop_end) {
  static uint8_t b[1100];
  size_t len = nnfu_pkt_data(b, pid, p, n);
  nnfu_enc_opts o = nnfu_enc_default();
  if (h->faults.crc > 0) {
    h->faults.crc--;
    b[len - 1] ^= 0x20;
  }
  if (h->faults.stuff > 0) {
    h->faults.stuff--;
    o.ones_at = 8 + (long)(n * 4);   /* seven ones in the middle of the packet */
  }
  return send_bytes(h, b, len, &o, eop_end);
}

static int send_handshake(nnfu_hc *h, int pid) {
  uint8_t b[1];
  nnfu_pkt_handshake(b, pid);
  nnfu_enc_opts o = nnfu_enc_default();
  if (pid == NNFU_PID_ACK && h->faults.bad_ack > 0) {
    h->faults.bad_ack--;
    o.ones_at = 3;
  }
  return send_bytes(h, b, 1, &o, NULL);
}

/* Wait for the device's answer to a packet that ended at eop_end: NNFU_OK with
 * the packet parsed into *p (its bytes in h->mon.bytes), NNFU_HC_TIMEOUT, NNFU_HC_BAD. */
static int listen(nnfu_hc *h, uint64_t eop_end, size_t max_payload, nnfu_pkt *p) {
  const uint64_t limit = eop_end + 4 * (uint64_t)h->timeout_bits;
  int started = 0;
  uint64_t t_start = 0;
  for (;;) {
    if (!started && h->dev_oe) {
      started = 1;
      t_start = h->stats.clocks;
      int gap = (int)(t_start - eop_end);
      if (gap < h->stats.gap_min) h->stats.gap_min = gap;
      if (gap > h->stats.gap_max) h->stats.gap_max = gap;
    }
    if (!started && h->stats.clocks >= limit) {
      h->stats.timeouts++;
      return NNFU_HC_TIMEOUT;
    }
    if (started && h->stats.clocks > t_start + ANSWER_CLOCKS) {
      h->stats.bad++;
      return NNFU_HC_BAD;
    }
    int rc = tick(h, NNFU_J, 0);
    if (rc < 0) return rc;
    if (rc == 1) {
      if (h->mon.status != NNFU_OK ||
          nnfu_pkt_parse(h->mon.bytes, h->mon.info.nbytes, max_payload, p) != NNFU_OK) {
        h->stats.bad++;
        return NNFU_HC_BAD;
      }
      return NNFU_OK;
    }
  }
}

/* SOFs: before a transaction of about `payload` bytes each way, make sure it
 * ends before the next SOF, else idle to it and send the SOF. */
static int send_sof(nnfu_hc *h) {
  int rc = idle_to(h, h->next_sof);
  if (rc < 0) return rc;
  uint8_t b[3];
  h->frame = (h->frame + 1) & 0x7FF;
  nnfu_pkt_sof(b, h->frame);
  h->next_sof += FRAME_CLOCKS;
  h->stats.sofs++;
  h->quiet_since = 0;                  /* the frame starts exactly on time */
  return send_pkt(h, b, 3, NULL);
}

static int sof_before(nnfu_hc *h, size_t payload) {
  if (!h->sof) return NNFU_OK;
  /* token, data (stuffing at worst 7/6), handshake, three gaps and the answer time */
  const uint64_t bits = 35 + 11 + (payload + 3) * 8 * 7 / 6 + 19 + 3 * (uint64_t)h->ipd_bits + 2 * 7 + 16;
  if (h->stats.clocks + 4 * bits < h->next_sof) return NNFU_OK;
  return send_sof(h);
}

int nnfu_hc_idle(nnfu_hc *h, uint64_t n) {
  const uint64_t until = h->stats.clocks + n;
  while (h->sof && h->next_sof < until) {
    int rc = send_sof(h);
    if (rc < 0) return rc;
  }
  return idle_to(h, until);
}

int nnfu_hc_bus_reset(nnfu_hc *h, uint64_t se0_clocks, uint64_t recovery_clocks) {
  for (uint64_t i = 0; i < se0_clocks; i++) {
    int rc = tick(h, NNFU_SE0, 1);
    if (rc < 0) return rc;
  }
  memset(h->toggle, 0, sizeof h->toggle);
  if (h->next_sof <= h->stats.clocks) h->next_sof = h->stats.clocks + 1;
  return nnfu_hc_idle(h, recovery_clocks);
}

/* ---- transactions --------------------------------------------------------- */

static int handshake_of(const nnfu_pkt *p) {
  switch (p->pid) {
    case NNFU_PID_ACK: return NNFU_HC_ACK;
    case NNFU_PID_NAK: return NNFU_HC_NAK;
    case NNFU_PID_STALL: return NNFU_HC_STALL;
    default: return NNFU_HC_BAD;
  }
}

static int count(nnfu_hc *h, int r) {
  if (r == NNFU_HC_NAK) h->stats.naks++;
  if (r == NNFU_HC_STALL) h->stats.stalls++;
  if (r == NNFU_HC_BAD) h->stats.bad++;   /* a packet of the wrong type */
  return r;
}

int nnfu_hc_token(nnfu_hc *h, int pid, unsigned addr, unsigned ep) {
  int rc = sof_before(h, 64);
  return rc == NNFU_OK ? send_token(h, pid, addr, ep, NULL) : rc;
}

int nnfu_hc_setup(nnfu_hc *h, unsigned addr, const uint8_t setup[8]) {
  uint64_t eop;
  nnfu_pkt p;
  int rc = sof_before(h, 8);
  if (rc == NNFU_OK) rc = send_token(h, NNFU_PID_SETUP, addr, 0, NULL);
  if (rc == NNFU_OK) rc = send_data(h, NNFU_PID_DATA0, setup, 8, &eop);
  if (rc == NNFU_OK) rc = listen(h, eop, 0, &p);
  if (rc != NNFU_OK) return rc;
  h->stats.data_out++;
  rc = count(h, handshake_of(&p));
  if (rc == NNFU_HC_ACK) h->toggle[0][0] = h->toggle[0][1] = 1;
  return rc;
}

int nnfu_hc_out(nnfu_hc *h, unsigned addr, unsigned ep, const uint8_t *d, size_t n) {
  uint64_t eop;
  nnfu_pkt p;
  int rc = sof_before(h, n);
  if (rc == NNFU_OK) rc = send_token(h, NNFU_PID_OUT, addr, ep, NULL);
  if (rc == NNFU_OK)
    rc = send_data(h, h->toggle[ep & 15][0] ? NNFU_PID_DATA1 : NNFU_PID_DATA0, d, n, &eop);
  if (rc == NNFU_OK) rc = listen(h, eop, 0, &p);
  if (rc != NNFU_OK) return rc;
  h->stats.data_out++;
  if (h->faults.lose_hs > 0) {
    h->faults.lose_hs--;
    h->stats.timeouts++;
    return NNFU_HC_TIMEOUT;
  }
  rc = count(h, handshake_of(&p));
  if (rc == NNFU_HC_ACK) h->toggle[ep & 15][0] ^= 1;
  return rc;
}

int nnfu_hc_in(nnfu_hc *h, unsigned addr, unsigned ep, uint8_t *d, size_t cap, size_t *n) {
  uint64_t eop;
  nnfu_pkt p;
  *n = 0;
  int rc = sof_before(h, cap);
  if (rc == NNFU_OK) rc = send_token(h, NNFU_PID_IN, addr, ep, &eop);
  if (rc == NNFU_OK) rc = listen(h, eop, 1023, &p);
  if (rc != NNFU_OK) return rc;
  if (p.pid != NNFU_PID_DATA0 && p.pid != NNFU_PID_DATA1) return count(h, handshake_of(&p));
  if (p.len > cap) return NNFU_HC_E_PROTO;                     /* babble */
  if (h->faults.drop_ack > 0) {                                /* as if it came damaged */
    h->faults.drop_ack--;
    h->stats.bad++;
    return NNFU_HC_BAD;
  }
  int *tog = &h->toggle[ep & 15][1];
  const int same = (p.pid == NNFU_PID_DATA1) == (*tog != 0);
  /* copy before the ACK: the monitor's buffer is reused */
  if (same && p.len) memcpy(d, p.payload, p.len);
  rc = send_handshake(h, NNFU_PID_ACK);
  if (rc < 0) return rc;
  h->stats.data_in++;
  if (!same) {
    h->stats.dups++;
    return NNFU_HC_DUP;
  }
  *tog ^= 1;
  *n = p.len;
  return NNFU_HC_DATA;
}

/* ---- transfers ------------------------------------------------------------ */

void nnfu_hc_req(uint8_t s[8], int bm, int req, unsigned value, unsigned index, unsigned length) {
  s[0] = (uint8_t)bm;
  s[1] = (uint8_t)req;
  s[2] = (uint8_t)value;
  s[3] = (uint8_t)(value >> 8);
  s[4] = (uint8_t)index;
  s[5] = (uint8_t)(index >> 8);
  s[6] = (uint8_t)length;
  s[7] = (uint8_t)(length >> 8);
}

/* The retry policy of one outcome: 1 retry, 0 done, < 0 give up. */
typedef struct {
  long naks;
  int errors;
} retry;

static int again(nnfu_hc *h, retry *r, int rc) {
  if (rc < 0) return rc;
  if (rc == NNFU_HC_STALL) return NNFU_HC_E_STALL;
  if (rc == NNFU_HC_NAK) {
    if (++r->naks > h->nak_limit) return NNFU_HC_E_NAKS;
    return 1;
  }
  if (rc == NNFU_HC_TIMEOUT || rc == NNFU_HC_BAD) {
    if (++r->errors >= 3) return NNFU_HC_E_ERRORS;
    return 1;
  }
  if (rc == NNFU_HC_DUP) return 1;
  r->naks = 0;
  r->errors = 0;
  return 0;
}

int nnfu_hc_control(nnfu_hc *h, unsigned addr, const uint8_t setup[8], uint8_t *data, size_t *n) {
  const size_t len = setup[6] | (size_t)setup[7] << 8;
  const int dir_in = setup[0] & 0x80;
  retry r = {0, 0};
  int rc, a;
  size_t got = 0;
  if (n) *n = 0;
  do {
    rc = nnfu_hc_setup(h, addr, setup);
    if (rc == NNFU_HC_NAK) rc = NNFU_HC_E_PROTO;      /* a SETUP is never NAKed */
  } while ((a = again(h, &r, rc)) == 1);
  if (a < 0) return a;
  if (dir_in) {
    uint8_t buf[64];
    while (got < len) {
      size_t k = 0, want = len - got < (size_t)h->ep0_max ? len - got : (size_t)h->ep0_max;
      rc = nnfu_hc_in(h, addr, 0, buf, (size_t)h->ep0_max, &k);
      if (rc == NNFU_HC_DATA && k > want) return NNFU_HC_E_PROTO;
      a = again(h, &r, rc);
      if (a < 0) return a;
      if (a == 1) continue;
      memcpy(data + got, buf, k);
      got += k;
      if (k < (size_t)h->ep0_max) break;
    }
    do rc = nnfu_hc_out(h, addr, 0, NULL, 0);
    while ((a = again(h, &r, rc)) == 1);
    if (a < 0) return a;
  } else {
    while (got < len) {
      size_t k = len - got < (size_t)h->ep0_max ? len - got : (size_t)h->ep0_max;
      rc = nnfu_hc_out(h, addr, 0, data + got, k);
      a = again(h, &r, rc);
      if (a < 0) return a;
      if (a == 0) got += k;
    }
    for (;;) {
      size_t k = 0;
      uint8_t dummy[1];
      rc = nnfu_hc_in(h, addr, 0, dummy, 0, &k);
      a = again(h, &r, rc);
      if (a < 0) return a;
      if (a == 0) break;
    }
  }
  if (n) *n = got;
  return NNFU_OK;
}

static int reset_due(nnfu_hc *h) {
  if (h->faults.reset_at < 0) return 0;
  if (h->faults.reset_at-- > 0) return 0;
  return 1;
}

int nnfu_hc_bulk_out(nnfu_hc *h, unsigned addr, unsigned ep, size_t maxp, const uint8_t *p, size_t n,
                     int zlp, size_t *sent) {
  retry r = {0, 0};
  size_t pos = 0;
  int last_full = 0, first = 1;
  if (sent) *sent = 0;
  while (first || pos < n || (zlp && last_full)) {
    size_t k = n - pos < maxp ? n - pos : maxp;
    if (reset_due(h)) {
      int rc = nnfu_hc_bus_reset(h, 480000, 48000);
      return rc < 0 ? rc : NNFU_HC_E_RESET;
    }
    int a = again(h, &r, nnfu_hc_out(h, addr, ep, p + pos, k));
    if (a < 0) return a;
    if (a == 1) continue;
    first = 0;
    pos += k;
    h->stats.bytes_out += k;
    if (sent) *sent = pos;
    last_full = (k == maxp);
    if (k < maxp) break;            /* the short (or zero-length) packet ends it */
  }
  return NNFU_OK;
}

int nnfu_hc_bulk_in(nnfu_hc *h, unsigned addr, unsigned ep, size_t maxp, uint8_t *p, size_t cap,
                    size_t *n) {
  retry r = {0, 0};
  uint8_t buf[1024];
  size_t got = 0;
  *n = 0;
  while (got < cap) {
    size_t k = 0;
    if (reset_due(h)) {
      int rc = nnfu_hc_bus_reset(h, 480000, 48000);
      return rc < 0 ? rc : NNFU_HC_E_RESET;
    }
    int rc = nnfu_hc_in(h, addr, ep, buf, maxp, &k);
    if (rc == NNFU_HC_DATA && got + k > cap) return NNFU_HC_E_PROTO;
    int a = again(h, &r, rc);
    if (a < 0) {
      *n = got;
      return a;
    }
    if (a == 1) continue;
    memcpy(p + got, buf, k);
    got += k;
    *n = got;
    h->stats.bytes_in += k;
    if (k < maxp) break;
  }
  return NNFU_OK;
}

int nnfu_hc_configure(nnfu_hc *h, unsigned addr, uint8_t dev[18]) {
  uint8_t s[8], buf[64];
  size_t n = 0;
  int rc = nnfu_hc_bus_reset(h, 48000, 48000);
  if (rc < 0) return rc;
  nnfu_hc_req(s, 0x80, 6, 0x0100, 0, 64);                /* GET_DESCRIPTOR device */
  if ((rc = nnfu_hc_control(h, 0, s, buf, &n)) < 0) return rc;
  if (n != 18) return NNFU_HC_E_PROTO;
  memcpy(dev, buf, 18);
  nnfu_hc_req(s, 0x00, 5, addr, 0, 0);                   /* SET_ADDRESS */
  if ((rc = nnfu_hc_control(h, 0, s, NULL, NULL)) < 0) return rc;
  nnfu_hc_req(s, 0x00, 9, 1, 0, 0);                      /* SET_CONFIGURATION 1 */
  return nnfu_hc_control(h, addr, s, NULL, NULL);
}

int nnfu_hc_read_answer(nnfu_hc *h, unsigned addr, unsigned ep, size_t maxp, uint8_t *p, size_t cap,
                        size_t want, uint64_t deadline, int quiet, size_t *n) {
  uint8_t buf[1024];
  *n = 0;
  if (maxp > sizeof buf) return NNFU_E_SPACE;
  int extra = 0;
  for (;;) {
    if (*n < want) {
      if (h->stats.clocks >= deadline) break;
    } else if (extra++ >= quiet) {
      break;
    }
    size_t k = 0;
    int rc = nnfu_hc_in(h, addr, ep, buf, maxp, &k);
    if (rc < 0) return rc;
    if (rc == NNFU_HC_NAK || rc == NNFU_HC_DUP) continue;
    if (rc != NNFU_HC_DATA) return rc;
    if (*n + k > cap) return NNFU_HC_E_PROTO;
    memcpy(p + *n, buf, k);
    *n += k;
    h->stats.bytes_in += k;
  }
  return NNFU_OK;
}
