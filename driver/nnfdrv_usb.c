/* nnfdrv_usb.c - the "usb" backend: usb[:VID:PID[:SERIAL]], a board behind an
 * FTDI USB bridge, through libftdi1 (on libusb-1.0). Without VID:PID it tries
 * the bridges of the supported boards: FT2232H 0403:6010 (iCEBreaker, UART on
 * channel B), FT231X 0403:6015 (ULX3S), FT232H 0403:6014. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnfdrv.h"
#include "nnfdrv_transport.h"

#ifdef NNFDRV_HAVE_FTDI
#include <ftdi.h>

typedef struct {
  nnfdrv_transport t;
  struct ftdi_context *ftdi;
} usb_transport;

static int usb_send(nnfdrv_transport *t, const uint8_t *buf, size_t len) {
  usb_transport *u = (usb_transport *)t;
  while (len > 0) {
    int chunk = len > 4096 ? 4096 : (int)len;
    int n = ftdi_write_data(u->ftdi, buf, chunk);
    if (n < 0) {
      snprintf(t->err, sizeof t->err, "usb write: %s (device unplugged?)", ftdi_get_error_string(u->ftdi));
      return NNFDRV_ERR_IO;
    }
    buf += n;
    len -= (size_t)n;
  }
  return NNFDRV_OK;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int usb_recv(nnfdrv_transport *t, uint8_t *buf, size_t max, int timeout_ms) {
  usb_transport *u = (usb_transport *)t;
  double end = now_ms() + timeout_ms;
  for (;;) {
    int n = ftdi_read_data(u->ftdi, buf, (int)(max > 65536 ? 65536 : max));
    if (n < 0) {
      snprintf(t->err, sizeof t->err, "usb read: %s (device unplugged?)", ftdi_get_error_string(u->ftdi));
      return NNFDRV_ERR_IO;
    }
    if (n > 0) return n;
    if (now_ms() >= end) return 0;
  }
}

static void usb_close(nnfdrv_transport *t) {
  usb_transport *u = (usb_transport *)t;
  if (u->ftdi) {
    ftdi_usb_close(u->ftdi);
    ftdi_free(u->ftdi);
  }
  free(u);
}

static int try_open(struct ftdi_context *f, int vid, int pid, const char *serial) {
  ftdi_set_interface(f, pid == 0x6010 ? INTERFACE_B : INTERFACE_A);
  return ftdi_usb_open_desc(f, vid, pid, NULL, serial);
}

int nnfdrv_open_usb(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  unsigned vid = 0, pid = 0;
  char serial[128] = "";
  if (*spec) {
    int consumed = 0;
    if (sscanf(spec, "%x:%x%n", &vid, &pid, &consumed) != 2 || vid > 0xFFFF || pid > 0xFFFF ||
        (spec[consumed] != '\0' && spec[consumed] != ':')) {
      snprintf(msg, msglen, "usb: expected usb[:VID:PID[:SERIAL]] in hex, got \"usb:%s\"", spec);
      return NNFDRV_ERR_URI;
    }
    if (spec[consumed] == ':') snprintf(serial, sizeof serial, "%s", spec + consumed + 1);
  }
  usb_transport *u = calloc(1, sizeof *u);
  if (!u || !(u->ftdi = ftdi_new())) {
    free(u);
    snprintf(msg, msglen, "usb: out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  static const unsigned known[][2] = {{0x0403, 0x6010}, {0x0403, 0x6015}, {0x0403, 0x6014}};
  int rc = -3;
  if (vid) {
    rc = try_open(u->ftdi, (int)vid, (int)pid, *serial ? serial : NULL);
  } else {
    for (size_t i = 0; i < sizeof known / sizeof known[0] && rc < 0; i++)
      rc = try_open(u->ftdi, (int)known[i][0], (int)known[i][1], NULL);
  }
  if (rc < 0) {
    if (vid)
      snprintf(msg, msglen, "usb: no board at %04x:%04x%s%s: %s", vid, pid, *serial ? " serial " : "", serial,
               ftdi_get_error_string(u->ftdi));
    else
      snprintf(msg, msglen, "usb: no board found (tried 0403:6010, 0403:6015, 0403:6014): %s",
               ftdi_get_error_string(u->ftdi));
    usb_close(&u->t);
    return NNFDRV_ERR_NO_DEVICE;
  }
  if (ftdi_set_baudrate(u->ftdi, 3000000) < 0 || ftdi_set_line_property(u->ftdi, BITS_8, STOP_BIT_1, NONE) < 0 ||
      ftdi_set_latency_timer(u->ftdi, 1) < 0) {
    snprintf(msg, msglen, "usb: cannot configure the bridge: %s", ftdi_get_error_string(u->ftdi));
    usb_close(&u->t);
    return NNFDRV_ERR_IO;
  }
  ftdi_tcioflush(u->ftdi);
  u->t.send = usb_send;
  u->t.no_flow_control = 1;   /* a UART: see nnfdrv_transport.h */
  u->t.recv = usb_recv;
  u->t.close = usb_close;
  *out = &u->t;
  return NNFDRV_OK;
}

#else

int nnfdrv_open_usb(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  (void)spec;
  (void)out;
  snprintf(msg, msglen, "usb: this build has no libftdi1 (install libftdi1-dev and rebuild)");
  return NNFDRV_ERR_UNSUPPORTED;
}

#endif
