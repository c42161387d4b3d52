/*
 * fuzz_driver.c - libFuzzer target for the host side of the link: the
 * driver's answer handling (driver/nnfdrv.c: transact_seq and the commands
 * above it) behind a device that lies. The "model" backend here is the
 * functional model with a man in the middle that the input steers: per
 * receive it passes the model's answer bytes, or injects raw bytes, or a
 * forged answer with good CRCs (to the seq in flight or a near one, any
 * type, any payload), or reports a timeout or an I/O error. The harness
 * then runs driver calls picked by the input.
 *
 * Invariants: no crash, leak, UB or hang; every call returns NNFDRV_OK or a
 * documented error with a message; after a successful open the INFO record
 * passed the driver's own checks; nnfdrv_transact never reports more answer
 * bytes than it was given room for. (Whether forged data is taken is not
 * checked: a device that forges CRCs cannot be told from an honest one; the
 * honest-but-lossy link is e2e_driver_*_faults.)
 *
 * The other backends (sim, serial, usb) are not linked: they say so.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfdrv.h"
#include "nnf_proto.h"
#include "nnfdrv_transport.h"
#include "nnfm_device.h"

typedef struct {
  const uint8_t *p;
  size_t n;
} input;

static input in;

static unsigned take(void) {
  if (!in.n) return 0;
  in.n--;
  return *in.p++;
}

typedef struct {
  nnfdrv_transport t;
  nnfm_device *dev;
  nnfp_parser req;          /* follows the requests: the seq and type in flight */
  uint8_t req_pl[65536];
  uint8_t seq, type;
  int recvs;
} mitm;

static int mitm_send(nnfdrv_transport *t, const uint8_t *buf, size_t len) {
  mitm *m = (mitm *)t;
  for (size_t i = 0; i < len; i++)
    if (nnfp_parse_byte(&m->req, buf[i]) == NNFP_PARSE_FRAME) {
      m->seq = m->req.h.seq;
      m->type = m->req.h.type;
    }
  nnfm_device_rx(m->dev, buf, len);
  return NNFDRV_OK;
}

static int mitm_recv(nnfdrv_transport *t, uint8_t *buf, size_t max, int timeout_ms) {
  mitm *m = (mitm *)t;
  (void)timeout_ms;
  if (nnfm_device_tx_pending(m->dev) == 0) nnfm_device_idle_timeout(m->dev);
  if (++m->recvs > 4000 || !in.n)                 /* the input is spent: an honest device */
    return (int)nnfm_device_tx(m->dev, buf, max);
  unsigned op = take();
  switch (op % 6) {
  case 0: case 1:                                  /* pass answer bytes on */
    return (int)nnfm_device_tx(m->dev, buf, 1 + (take() * 7u) % max);
  case 2: {                                        /* raw bytes */
    size_t n = 1 + take() % 32;
    if (n > max) n = max;
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)take();
    return (int)n;
  }
  case 3: {                                        /* a forged answer with good CRCs */
    uint8_t pl[300], fr[320];
    unsigned kind = take();
    uint8_t type = kind & 1 ? NNFP_ERR : kind & 2 ? (uint8_t)take() : NNFP_OK(m->type);
    uint8_t seq = (uint8_t)(m->seq + (kind & 4 ? take() % 3 - 1 : 0));
    uint16_t len = (uint16_t)(take() % 64);
    if (kind & 8) len = m->type == NNFP_INFO ? NNFP_INFO_BYTES : m->type == NNFP_COUNTERS ? NNFP_COUNTERS_BYTES : len;
    for (uint16_t i = 0; i < len; i++) pl[i] = (uint8_t)take();
    size_t fl = nnfp_encode(fr, type, seq, take() % 2 ? 0 : take(), pl, len);
    if (fl > max) return 0;
    memcpy(buf, fr, fl);
    return (int)fl;
  }
  case 4:
    return 0;                                      /* nothing came in time */
  default:
    if (take() % 4) return 0;
    snprintf(t->err, sizeof t->err, "fuzz: link gone");
    return NNFDRV_ERR_IO;
  }
}

static void mitm_close(nnfdrv_transport *t) {
  mitm *m = (mitm *)t;
  nnfm_device_destroy(m->dev);
  free(m);
}

int nnfdrv_open_model(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  (void)spec;
  mitm *m = calloc(1, sizeof *m);
  nnfm_device_config cfg = nnfm_device_config_default();
  cfg.engine.act_words = 64;
  cfg.engine.w_words = 64;
  cfg.state_words = 16;
  if (!m || !(m->dev = nnfm_device_create(&cfg))) {
    free(m);
    snprintf(msg, msglen, "fuzz: out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  nnfp_parser_init(&m->req, m->req_pl, sizeof m->req_pl - 1);
  m->t.send = mitm_send;
  m->t.recv = mitm_recv;
  m->t.close = mitm_close;
  *out = &m->t;
  return NNFDRV_OK;
}

static int not_linked(const char *what, char *msg, size_t msglen) {
  snprintf(msg, msglen, "%s: not in the fuzz build", what);
  return NNFDRV_ERR_UNSUPPORTED;
}
int nnfdrv_open_sim(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  (void)spec, (void)out;
  return not_linked("sim", msg, msglen);
}
int nnfdrv_open_serial(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  (void)spec, (void)out;
  return not_linked("serial", msg, msglen);
}
int nnfdrv_open_usb(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  (void)spec, (void)out;
  return not_linked("usb", msg, msglen);
}

/* A driver status: OK, or a documented error with a message. */
static void check_status(const nnfdrv *d, int rc) {
  if (rc == NNFDRV_OK) return;
  if (rc < NNFDRV_ERR_UNSUPPORTED || rc > NNFDRV_ERR_ARG) abort();
  if (d && !nnfdrv_errmsg(d)[0]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  in.p = data;
  in.n = size;
  nnfdrv *d = NULL;
  char err[256] = "";
  int rc = nnfdrv_open("model", &d, err, sizeof err);
  check_status(NULL, rc);
  if (rc != NNFDRV_OK) {
    if (d || !err[0]) abort();
    return 0;
  }
  const nnfdrv_info *i = nnfdrv_get_info(d);
  if (i->proto_version != NNFP_VERSION || i->max_payload < 16 || !i->rows || !i->cols) abort();
  nnfdrv_set_tries(d, 3);
  uint8_t buf[600], prog[64];
  for (size_t k = 0; k < sizeof buf; k++) buf[k] = (uint8_t)(k * 13);
  for (int steps = 0; steps < 12 && in.n; steps++) {
    unsigned op = take();
    uint32_t addr = take();
    size_t len = 1 + take() * 2u;
    switch (op % 9) {
    case 0: rc = nnfdrv_write(d, (int)(op >> 4) % 6, addr, buf, len); break;
    case 1: rc = nnfdrv_read(d, (int)(op >> 4) % 6, addr, buf, len); break;
    case 2: rc = nnfdrv_run(d, addr % 4); break;
    case 3: rc = nnfdrv_wait(d); break;
    case 4: rc = nnfdrv_reset(d, op >> 4 & 3); break;
    case 5: {
      nnfdrv_state st;
      rc = nnfdrv_get_state(d, &st);
      break;
    }
    case 6: {
      nnfdrv_counters c;
      rc = nnfdrv_get_counters(d, &c);
      break;
    }
    case 7: {
      uint16_t got = 0;
      size_t room = take() % 80;
      rc = nnfdrv_transact(d, op & 16 ? -1 : (int)take(), (uint8_t)take(), addr, buf, (uint16_t)(len % 40),
                           buf, room, &got);
      if (rc == NNFDRV_OK && got > room) abort();
      break;
    }
    default:
      memset(prog, 0, sizeof prog);
      nnfp_loop_put_opcode(prog, NNFP_OP_LOOP);
      nnfp_loop_put_count(prog, 2);
      nnfp_loop_put_target(prog, (uint8_t)take());
      rc = nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog);
    }
    check_status(d, rc);
  }
  nnfdrv_close(d);
  return 0;
}
