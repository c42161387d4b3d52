/*
 * nnfdrv_usbio.h - internal: the asynchronous libusb-1.0 byte pipe under the
 * `usb` backend (docs/usb-host.md). One bulk OUT and one bulk IN endpoint of
 * an open, claimed interface become an nnfdrv_transport:
 *
 * - IN: NNFDRV_USBIO_IN_XFERS transfers of in_size bytes are always posted;
 *   each completion's bytes are queued in order and the transfer goes back
 *   at once. With strip = 2 (FTDI bridges) the first two bytes of every
 *   max-packet-size packet (the modem status) are dropped.
 * - OUT: send() copies the bytes into transfers of out_chunk bytes and
 *   submits them all (several in flight, in order on the endpoint); it never
 *   waits for the device, so a device that NAKs (holds its input while a
 *   program runs) costs nothing until recv() waits for the answer. Beyond
 *   NNFDRV_USBIO_OUT_MAX bytes in flight it waits for the oldest to finish.
 * - recv() blocks in libusb_handle_events_timeout_completed() until bytes
 *   are queued, the device is gone or timeout_ms has passed: no polling.
 * - Any transfer ending in NO_DEVICE / ERROR / STALL / OVERFLOW, or a
 *   submission failing, marks the pipe dead: every later send() and recv()
 *   returns NNFDRV_ERR_IO with the reason ("device unplugged" for a device
 *   that went away).
 * - close: every transfer in flight is cancelled and reaped before anything
 *   is freed (bounded; see nnfdrv_usbio_stop).
 */
#ifndef NNFDRV_USBIO_H
#define NNFDRV_USBIO_H

#include <libusb.h>

#include "nnfdrv_transport.h"

enum {
  NNFDRV_USBIO_IN_XFERS = 4,          /* IN transfers always posted */
  NNFDRV_USBIO_OUT_MAX = 1 << 20,     /* bytes in flight before send() waits */
};

typedef struct nnfdrv_usbio nnfdrv_usbio;

typedef struct {
  libusb_context *ctx;
  libusb_device_handle *h;
  unsigned char ep_in, ep_out;
  int packet;         /* wMaxPacketSize of the IN endpoint */
  int strip;          /* bytes to drop at the start of each IN packet (FTDI: 2) */
  int in_size;        /* bytes per IN transfer (a multiple of packet) */
  int out_chunk;      /* bytes per OUT transfer */
  const char *name;   /* "usb" or "usb (FTDI)": message prefix */
  /* Optional: called with 1 when recv() has waited idle_ms with nothing
   * received, and with 0 when bytes come again (FTDI: a longer latency
   * timer while a long RUN runs, so the bridge's empty packets wake the
   * host less often). */
  void (*idle)(void *arg, int idle);
  void *idle_arg;
  int idle_ms;
} nnfdrv_usbio_cfg;

/* Post the IN transfers. NULL on failure (message in msg). */
nnfdrv_usbio *nnfdrv_usbio_start(const nnfdrv_usbio_cfg *cfg, char *msg, size_t msglen);
/* Discard what arrives until the line has been quiet for quiet_ms (at most
 * max_ms): stale bytes of an earlier session. Returns bytes dropped or < 0. */
long nnfdrv_usbio_drain(nnfdrv_usbio *io, int quiet_ms, int max_ms);
/* The transport operations; err is the transport's message buffer. */
int nnfdrv_usbio_send(nnfdrv_usbio *io, const uint8_t *buf, size_t len, char *err, size_t errlen);
int nnfdrv_usbio_recv(nnfdrv_usbio *io, uint8_t *buf, size_t max, int timeout_ms, char *err, size_t errlen);
/* Cancel and reap every transfer, then free. Returns 0, or -1 when some
 * transfer never came back within the bound (it is then leaked, not freed
 * under libusb's feet, and the caller must not close the handle). */
int nnfdrv_usbio_stop(nnfdrv_usbio *io);

/* Counters for tests and figures. */
typedef struct {
  unsigned long long in_completions, in_bytes, out_submits, out_bytes, zlp;
  unsigned long long event_calls;     /* libusb_handle_events_* calls */
} nnfdrv_usbio_stats;
nnfdrv_usbio_stats nnfdrv_usbio_get_stats(const nnfdrv_usbio *io);

#endif /* NNFDRV_USBIO_H */
