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

/* "model" or "model:OPTS", OPTS comma-separated: conv=0 (CONV and POOL
 * off, FEAT_CONV clear: a device built with HAS_CONV = 0, such as the
 * iCEBreaker's, which a host must refuse a CNN on), ew=0 (EW, relative
 * bases and LOOP's stride off: FEAT_EW and FEAT_REL clear, as on a board
 * built with HAS_EW = 0), luts=N (N resident LUTs, 1..8). */
int nnfdrv_open_model(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  int conv = 1, ew = -1, luts = 0; /* CONV and POOL (FEAT_CONV), as the RTL's default; EW and LUTS: the model's */
  char opts[128];
  snprintf(opts, sizeof opts, "%s", spec ? spec : "");
  for (char *tok = opts, *next; tok && *tok; tok = next) {
    next = strchr(tok, ',');
    if (next) *next++ = 0;
    char *end = NULL;
    long v = -1;
    if (!strncmp(tok, "luts=", 5)) v = strtol(tok + 5, &end, 10);
    if (!strcmp(tok, "conv=0") || !strcmp(tok, "conv=1")) conv = tok[5] == '1';
    else if (!strcmp(tok, "ew=0") || !strcmp(tok, "ew=1")) ew = tok[3] == '1';
    else if (end && !*end && v >= 1 && v <= NNFM_LUTS_MAX) luts = (int)v;
    else {
      if (!strncmp(tok, "conv=", 5)) snprintf(msg, msglen, "model: the only option is conv=0 or conv=1 (got \"%s\")", tok);
      else snprintf(msg, msglen, "model: the options are conv=0|1, ew=0|1 and luts=1..%d (got \"%s\")", NNFM_LUTS_MAX, tok);
      return NNFDRV_ERR_URI;
    }
  }
  model_transport *m = calloc(1, sizeof *m);
  nnfm_device_config cfg = nnfm_device_config_default();
  cfg.conv = conv;
  if (ew >= 0) cfg.ew = ew;
  if (luts) cfg.engine.luts = (uint32_t)luts;
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
