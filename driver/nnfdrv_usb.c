/* nnfdrv_usb.c - the "usb" backend's URI (docs/usb-host.md):
 *
 *   usb[:VID:PID[:SERIAL]][@BAUD]
 *
 * VID and PID are 1 to 4 hex digits; SERIAL is the device's serial-number
 * string (not empty, no '@'); BAUD, decimal, only for FTDI bridges. VID 0403
 * is an FTDI bridge (nnfdrv_ftdi.c); any other VID the native device
 * (nnfdrv_libusb.c). Plain `usb` tries the native 1209:0001 whose product
 * string is "nnfpga", then the known FTDI bridges (0403:6010, 0403:6015,
 * 0403:6014); `usb@BAUD` only the bridges. Every malformed URI is
 * NNFDRV_ERR_URI with a message naming what was expected. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfdrv.h"
#include "nnfdrv_transport.h"
#include "nnfdrv_usb_internal.h"

#define USB_GRAMMAR "usb[:VID:PID[:SERIAL]][@BAUD]"

enum { NATIVE_VID = 0x1209, NATIVE_PID = 0x0001, FTDI_VID = 0x0403 };

/* 1..4 hex digits, the whole of [p, p + n). */
static int hex16(const char *p, size_t n, unsigned *out) {
  if (n < 1 || n > 4) return 0;
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isxdigit((unsigned char)p[i])) return 0;
    v = v * 16 + (unsigned)(isdigit((unsigned char)p[i]) ? p[i] - '0' : (tolower((unsigned char)p[i]) - 'a' + 10));
  }
  *out = v;
  return 1;
}

typedef struct {
  unsigned vid, pid;      /* 0: not given */
  char serial[128];
  long baud;              /* 0: not given */
} usb_uri;

/* rest: what follows "usb" in the URI ("", ":...", "@..."). */
static int parse(const char *rest, usb_uri *u, char *msg, size_t msglen) {
  memset(u, 0, sizeof *u);
  const char *at = strchr(rest, '@');
  size_t body = at ? (size_t)(at - rest) : strlen(rest);
  if (at) {
    const char *b = at + 1;
    char *end;
    long v = 0;
    int ok = *b && isdigit((unsigned char)*b);
    if (ok) v = strtol(b, &end, 10);
    if (!ok || *end || v < 300 || v > 12000000) {
      snprintf(msg, msglen, "usb: bad baud rate \"%s\" in \"usb%s\" (expected @BAUD, a decimal number of "
               "bits per second from 300 to 12000000, e.g. usb:0403:6010@3000000; grammar " USB_GRAMMAR ")", b, rest);
      return 0;
    }
    u->baud = v;
  }
  if (body == 0) return 1;
  if (rest[0] != ':' || body == 1) {
    snprintf(msg, msglen, "usb: expected \":VID:PID\" after \"usb\" in \"usb%s\" (grammar " USB_GRAMMAR
             ", VID and PID in hex, e.g. usb:1209:0001)", rest);
    return 0;
  }
  const char *p = rest + 1, *end = rest + body;
  const char *c1 = memchr(p, ':', (size_t)(end - p));
  if (!c1 || !hex16(p, (size_t)(c1 - p), &u->vid)) {
    snprintf(msg, msglen, "usb: expected VID:PID (1 to 4 hex digits each) in \"usb%s\", got \"%.*s\" (grammar "
             USB_GRAMMAR ", e.g. usb:1209:0001)", rest, (int)(end - p), p);
    return 0;
  }
  const char *q = c1 + 1;
  const char *c2 = memchr(q, ':', (size_t)(end - q));
  const char *pe = c2 ? c2 : end;
  if (!hex16(q, (size_t)(pe - q), &u->pid)) {
    snprintf(msg, msglen, "usb: expected a PID of 1 to 4 hex digits after \"%.*s:\" in \"usb%s\", got \"%.*s\" "
             "(grammar " USB_GRAMMAR ")", (int)(c1 - p), p, rest, (int)(pe - q), q);
    return 0;
  }
  if (c2) {
    size_t sl = (size_t)(end - c2 - 1);
    if (sl == 0 || sl >= sizeof u->serial) {
      snprintf(msg, msglen, "usb: expected a SERIAL of 1 to %zu characters after the last ':' in \"usb%s\" (grammar "
               USB_GRAMMAR ")", sizeof u->serial - 1, rest);
      return 0;
    }
    memcpy(u->serial, c2 + 1, sl);
    u->serial[sl] = '\0';
    for (size_t i = 0; i < sl; i++)
      if (!isprint((unsigned char)u->serial[i])) {
        snprintf(msg, msglen, "usb: the SERIAL in \"usb%s\" has a character that is not printable (grammar "
                 USB_GRAMMAR ")", rest);
        return 0;
      }
  }
  if (u->vid == 0 || u->pid == 0) {
    snprintf(msg, msglen, "usb: VID and PID must not be 0000 in \"usb%s\" (grammar " USB_GRAMMAR ")", rest);
    return 0;
  }
  if (u->baud && u->vid != FTDI_VID) {
    snprintf(msg, msglen, "usb: @BAUD applies to FTDI bridges (VID 0403) only; %04x:%04x is a native USB "
             "device with no baud rate: drop \"@%ld\"", u->vid, u->pid, u->baud);
    return 0;
  }
  return 1;
}

int nnfdrv_open_usb(const char *rest, nnfdrv_transport **out, char *msg, size_t msglen) {
  usb_uri u;
  if (!parse(rest ? rest : "", &u, msg, msglen)) return NNFDRV_ERR_URI;
  long baud = u.baud ? u.baud : NNFDRV_FTDI_BAUD;
  if (u.vid == FTDI_VID) return nnfdrv_open_ftdi(u.vid, u.pid, u.serial, baud, out, msg, msglen);
  if (u.vid) {
    /* the pid.codes test PID is shared: also match the product string */
    const char *product = (u.vid == NATIVE_VID && u.pid == NATIVE_PID) ? "nnfpga" : NULL;
    return nnfdrv_open_libusb(u.vid, u.pid, u.serial, product, out, msg, msglen);
  }
  /* plain usb: the native device first, then the bridges */
  char m1[512] = "";
  int rc = NNFDRV_ERR_NO_DEVICE;
  if (!u.baud) {
    rc = nnfdrv_open_libusb(NATIVE_VID, NATIVE_PID, NULL, "nnfpga", out, m1, sizeof m1);
    if (rc != NNFDRV_ERR_NO_DEVICE) {
      snprintf(msg, msglen, "%s", m1);
      return rc;
    }
  }
  char m2[512] = "";
  rc = nnfdrv_open_ftdi(FTDI_VID, 0, NULL, baud, out, m2, sizeof m2);
  if (rc == NNFDRV_ERR_NO_DEVICE) {
    const char *why = strstr(m1, "; ");   /* a native candidate that was refused, and why */
    snprintf(msg, msglen, "usb: no board found (tried %s0403:6010, 0403:6015, 0403:6014)%s",
             u.baud ? "" : "the native 1209:0001 \"nnfpga\", ", why ? why : "");
  }
  else if (rc != NNFDRV_OK)
    snprintf(msg, msglen, "%s", m2);
  return rc;
}
