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

/* "model" or "model:conv=0" (CONV and POOL off, FEAT_CONV clear: a device
 * built with HAS_CONV = 0, such as the iCEBreaker's, which a host must
 * refuse a CNN on). */
int nnfdrv_open_model(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  int conv = 1; /* CONV and POOL (FEAT_CONV), as the RTL's default */
  if (spec && *spec) {
    if (strcmp(spec, "conv=0") && strcmp(spec, "conv=1")) {
      snprintf(msg, msglen, "model: the only option is conv=0 or conv=1 (got \"%s\")", spec);
      return NNFDRV_ERR_URI;
    }
    conv = spec[5] == '1';
  }
  model_transport *m = calloc(1, sizeof *m);
  nnfm_device_config cfg = nnfm_device_config_default();
  cfg.conv = conv;
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
