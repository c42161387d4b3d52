/* nnfdrv_model.c - the "model" backend: the functional model of the device
 * (sim/model/nnfm_device.c) in process, behind the same frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfdrv.h"
#include "nnfdrv_transport.h"
#include "nnfm_device.h"

typedef struct {
  nnfdrv_transport t;
  nnfm_device *dev;
} model_transport;

static int model_send(nnfdrv_transport *t, const uint8_t *buf, size_t len) {
  nnfm_device_rx(((model_transport *)t)->dev, buf, len);
  return NNFDRV_OK;
}

static int model_recv(nnfdrv_transport *t, uint8_t *buf, size_t max, int timeout_ms) {
  (void)timeout_ms;
  nnfm_device *dev = ((model_transport *)t)->dev;
  /* Nothing queued: the host is waiting, so the device's frame timeout runs
   * out (a partial frame may then be answered ERR TIMEOUT). */
  if (nnfm_device_tx_pending(dev) == 0) nnfm_device_idle_timeout(dev);
  return (int)nnfm_device_tx(dev, buf, max);
}

static void model_close(nnfdrv_transport *t) {
  model_transport *m = (model_transport *)t;
  nnfm_device_destroy(m->dev);
  free(m);
}

/* "model" or "model:OPTS", OPTS comma-separated: conv=0|1 (CONV and POOL
 * off, FEAT_CONV clear: a device built with HAS_CONV = 0, such as the
 * iCEBreaker's, which a host must refuse a CNN on), ew=0|1 (the EW
 * instruction: FEAT_EW), row=0|1 (attention's ROW and ACTW instructions,
 * FEAT_ROW and FEAT_ACTW, where ew=1 and luts >= 4), dw=0|1 (the DWCONV
 * instruction, FEAT_DW, where conv=1), rel=0|1 (relative bases and LOOP's stride:
 * FEAT_REL), tfl_round=0|1 (TFLite's double rounding: FEAT_TFL_ROUND) and
 * luts=1|2|4|8 (resident LUTs): `model:ew=0,dw=0,luts=1` answers as the ECP5
 * boards do (`model:ew=0,rel=0,luts=1,conv=0,tfl_round=0` as the
 * iCEBreaker); banks=0..8 (bank flags, FEAT_BANKS; default 4); w_words=N,
 * p_words=N, act_words=N (buffer depths, powers of two; P at most 2^16):
 * e.g. a board's sizes, or W too small for a network, to stream it. */
/* A buffer depth option's value: a decimal power of two, 2..2^24. */
static int words_opt(const char *v, uint32_t *out) {
  char *end;
  unsigned long x = strtoul(v, &end, 10);
  if (end == v || *end || x < 2 || x > (1ul << 24) || (x & (x - 1))) return 0;
  *out = (uint32_t)x;
  return 1;
}

int nnfdrv_open_model(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  nnfm_device_config cfg = nnfm_device_config_default();
  const char *p = spec ? spec : "";
  while (*p) {
    size_t n = strcspn(p, ",");
    char opt[32];
    int ok = n < sizeof opt;
    if (ok) {
      memcpy(opt, p, n);
      opt[n] = 0;
      if (!strcmp(opt, "conv=0") || !strcmp(opt, "conv=1")) cfg.conv = opt[5] == '1';
      else if (!strcmp(opt, "ew=0") || !strcmp(opt, "ew=1")) cfg.ew = opt[3] == '1';
      else if (!strcmp(opt, "row=0") || !strcmp(opt, "row=1")) cfg.row = opt[4] == '1';
      else if (!strcmp(opt, "dw=0") || !strcmp(opt, "dw=1")) cfg.dw = opt[3] == '1';
      else if (!strcmp(opt, "rel=0") || !strcmp(opt, "rel=1")) cfg.rel = opt[4] == '1';
      else if (!strcmp(opt, "tfl_round=0") || !strcmp(opt, "tfl_round=1")) cfg.tfl_round = opt[10] == '1';
      else if (!strcmp(opt, "luts=1") || !strcmp(opt, "luts=2") || !strcmp(opt, "luts=4") || !strcmp(opt, "luts=8"))
        cfg.engine.luts = (uint32_t)(opt[5] - '0');
      else if (!strncmp(opt, "banks=", 6) && opt[6] >= '0' && opt[6] <= '8' && !opt[7])
        cfg.banks = (uint32_t)(opt[6] - '0');
      else if (!strncmp(opt, "w_words=", 8)) ok = words_opt(opt + 8, &cfg.engine.w_words);
      else if (!strncmp(opt, "p_words=", 8)) ok = words_opt(opt + 8, &cfg.engine.p_words);
      else if (!strncmp(opt, "act_words=", 10)) ok = words_opt(opt + 10, &cfg.engine.act_words);
      else ok = 0;
    }
    if (!ok) {
      snprintf(msg, msglen, "model: unknown option \"%.*s\" (options, comma-separated: conv=0|1, ew=0|1, row=0|1, dw=0|1, "
               "luts=1|2|4|8, rel=0|1, tfl_round=0|1, banks=0..8, w_words=N, p_words=N, act_words=N: powers of two)", (int)(n < 64 ? n : 64), p);
      return NNFDRV_ERR_URI;
    }
    p += n;
    if (*p == ',') p++;
  }
  if (nnfm_config_check(&cfg.engine) != NNFM_OK) {
    snprintf(msg, msglen, "model: buffer depths out of range (p_words at most 65536)");
    return NNFDRV_ERR_URI;
  }
  model_transport *m = calloc(1, sizeof *m);
  if (!m || !(m->dev = nnfm_device_create(&cfg))) {
    free(m);
    snprintf(msg, msglen, "model: out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  m->t.send = model_send;
  m->t.recv = model_recv;
  m->t.close = model_close;
  *out = &m->t;
  return NNFDRV_OK;
}
