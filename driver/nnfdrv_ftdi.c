/* nnfdrv_ftdi.c - the `usb` backend on an FTDI bridge (VID 0403): libftdi1
 * finds, opens and configures the bridge (interface, baud rate, 8N1, no flow
 * control, latency timer, purge); the bytes then move through the
 * asynchronous libusb pipe of nnfdrv_usbio.h on the bridge's own endpoints,
 * IN packets stripped of their two modem-status bytes. libftdi 1.5's
 * ftdi_read_data_submit waits for an exact byte count and its
 * ftdi_transfer_data_done has no time-out, so neither fits a recv() that
 * must return what has come within timeout_ms (docs/usb-host.md). */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfdrv.h"
#include "nnfdrv_transport.h"
#include "nnfdrv_usb_internal.h"

#ifdef NNFDRV_HAVE_FTDI
#include <ftdi.h>

#include "nnfdrv_usbio.h"

typedef struct {
  nnfdrv_transport t;
  struct ftdi_context *ftdi;
  nnfdrv_usbio *io;
  int latency, idle_latency;   /* ms: while talking, and after NNFDRV_FTDI_IDLE_MS of silence */
} ftdi_transport;

/* The bridge sends an empty packet (its two status bytes) every latency
 * period while it has nothing, and each one wakes the host. While the host
 * waits long for an answer (a long RUN), a longer period costs at most that
 * much delay on an answer that took NNFDRV_FTDI_IDLE_MS already. A
 * synchronous control request: libusb runs the pipe's callbacks meanwhile. */
static void ftdi_idle(void *arg, int idle) {
  ftdi_transport *u = arg;
  int ms = idle ? u->idle_latency : u->latency;
  libusb_control_transfer(u->ftdi->usb_dev, FTDI_DEVICE_OUT_REQTYPE, SIO_SET_LATENCY_TIMER_REQUEST,
                          (uint16_t)ms, (uint16_t)u->ftdi->index, NULL, 0, 200);
}

static int ftdi_send(nnfdrv_transport *t, const uint8_t *buf, size_t len) {
  ftdi_transport *u = (ftdi_transport *)t;
  return nnfdrv_usbio_send(u->io, buf, len, t->err, sizeof t->err);
}

static int ftdi_recv(nnfdrv_transport *t, uint8_t *buf, size_t max, int timeout_ms) {
  ftdi_transport *u = (ftdi_transport *)t;
  return nnfdrv_usbio_recv(u->io, buf, max, timeout_ms, t->err, sizeof t->err);
}

static void ftdi_close_t(nnfdrv_transport *t) {
  ftdi_transport *u = (ftdi_transport *)t;
  int leaked = u->io && nnfdrv_usbio_stop(u->io) != 0;
  if (u->ftdi && !leaked) {
    ftdi_usb_close(u->ftdi);
    ftdi_free(u->ftdi);
  }
  free(u);
}

/* A tuning knob for measurements (docs/usb-host.md): the environment
 * variable `name` if set to a number in [lo, hi], else def. */
static int knob(const char *name, int def, int lo, int hi) {
  const char *v = getenv(name);
  if (!v || !*v) return def;
  char *end;
  long x = strtol(v, &end, 10);
  return (*end || x < lo || x > hi) ? def : (int)x;
}

static int try_open(struct ftdi_context *f, unsigned vid, unsigned pid, const char *serial) {
  /* The iCEBreaker's FT2232H has the FPGA's UART on channel B. */
  ftdi_set_interface(f, pid == 0x6010 ? INTERFACE_B : INTERFACE_A);
  return ftdi_usb_open_desc(f, (int)vid, (int)pid, NULL, serial && *serial ? serial : NULL);
}

int nnfdrv_open_ftdi(unsigned vid, unsigned pid, const char *serial, long baud, nnfdrv_transport **out, char *msg,
                     size_t msglen) {
  ftdi_transport *u = calloc(1, sizeof *u);
  if (!u) {
    snprintf(msg, msglen, "usb: out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  if (!(u->ftdi = ftdi_new())) {   /* its libusb_init failed (or memory ran out) */
    free(u);
    snprintf(msg, msglen, "usb: libftdi cannot start libusb (no USB on this machine?)");
    return NNFDRV_ERR_NO_DEVICE;
  }
  static const unsigned known[][2] = {{0x0403, 0x6010}, {0x0403, 0x6015}, {0x0403, 0x6014}};
  int rc = -3;
  if (pid) {
    rc = try_open(u->ftdi, vid, pid, serial);
  } else {
    for (size_t i = 0; i < sizeof known / sizeof known[0] && rc < 0; i++)
      rc = try_open(u->ftdi, known[i][0], known[i][1], NULL);
  }
  if (rc < 0) {
    if (pid)
      snprintf(msg, msglen, "usb: no FTDI bridge at %04x:%04x%s%s: %s", vid, pid, serial && *serial ? " serial " : "",
               serial && *serial ? serial : "", ftdi_get_error_string(u->ftdi));
    else
      snprintf(msg, msglen, "usb: no FTDI bridge found (tried 0403:6010, 0403:6015, 0403:6014): %s",
               ftdi_get_error_string(u->ftdi));
    if (rc == -8)
      snprintf(msg + strlen(msg), msglen - strlen(msg), " (install the udev rule: docs/usb-host.md)");
    ftdi_free(u->ftdi);
    free(u);
    /* -8: "inappropriate permissions on device" (libusb_open: ACCESS) */
    return rc == -8 ? NNFDRV_ERR_IO : NNFDRV_ERR_NO_DEVICE;
  }
  if (ftdi_set_baudrate(u->ftdi, (int)baud) < 0) {
    snprintf(msg, msglen, "usb: the FTDI bridge cannot run at %ld baud: %s", baud, ftdi_get_error_string(u->ftdi));
    ftdi_close_t(&u->t);
    return NNFDRV_ERR_URI;
  }
  int latency = knob("NNFDRV_FTDI_LATENCY", NNFDRV_FTDI_LATENCY_MS, 1, 255);
  u->latency = latency;
  u->idle_latency = knob("NNFDRV_FTDI_IDLE_LATENCY", NNFDRV_FTDI_IDLE_LATENCY_MS, 0, 255);   /* 0: off */
  if (ftdi_set_line_property(u->ftdi, BITS_8, STOP_BIT_1, NONE) < 0 ||
      ftdi_setflowctrl(u->ftdi, SIO_DISABLE_FLOW_CTRL) < 0 || ftdi_set_latency_timer(u->ftdi, (unsigned char)latency) < 0 ||
      ftdi_tcioflush(u->ftdi) < 0) {
    snprintf(msg, msglen, "usb: cannot configure the FTDI bridge: %s", ftdi_get_error_string(u->ftdi));
    ftdi_close_t(&u->t);
    return NNFDRV_ERR_IO;
  }
  int packet = (int)u->ftdi->max_packet_size;
  int in_size = knob("NNFDRV_FTDI_IN_SIZE", NNFDRV_FTDI_IN_SIZE, packet, 1 << 16);
  in_size -= in_size % packet;   /* whole packets, so each starts with its status bytes */
  nnfdrv_usbio_cfg cfg = {u->ftdi->usb_ctx, u->ftdi->usb_dev, (unsigned char)u->ftdi->out_ep,
                          (unsigned char)u->ftdi->in_ep, packet, 2, in_size,
                          knob("NNFDRV_FTDI_OUT_CHUNK", NNFDRV_FTDI_OUT_CHUNK, 64, 1 << 16), "usb (FTDI)",
                          u->idle_latency > latency ? ftdi_idle : NULL, u, NNFDRV_FTDI_IDLE_MS};
  if (!(u->io = nnfdrv_usbio_start(&cfg, msg, msglen))) {
    ftdi_close_t(&u->t);
    return NNFDRV_ERR_IO;
  }
  if (nnfdrv_usbio_drain(u->io, 20, 500) < 0) {
    snprintf(msg, msglen, "usb (FTDI): the bridge failed while flushing (device unplugged?)");
    ftdi_close_t(&u->t);
    return NNFDRV_ERR_IO;
  }
  u->t.send = ftdi_send;
  u->t.recv = ftdi_recv;
  u->t.close = ftdi_close_t;
  u->t.no_flow_control = 1;   /* a UART behind the bridge: see nnfdrv_transport.h */
  *out = &u->t;
  return NNFDRV_OK;
}

#else

int nnfdrv_open_ftdi(unsigned vid, unsigned pid, const char *serial, long baud, nnfdrv_transport **out, char *msg,
                     size_t msglen) {
  (void)vid, (void)pid, (void)serial, (void)baud, (void)out;
  snprintf(msg, msglen, "usb: this build has no libftdi1 (install libftdi1-dev and rebuild)");
  return NNFDRV_ERR_UNSUPPORTED;
}

#endif
