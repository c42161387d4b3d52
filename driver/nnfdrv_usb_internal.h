/*
 * nnfdrv_usb_internal.h - internal: the two halves of the `usb` backend
 * (docs/usb-host.md). nnfdrv_usb.c parses the URI and picks one:
 *
 *   nnfdrv_open_libusb  the native device (libusb-1.0 directly): the first
 *                       VID:PID device whose product string is `product`
 *                       (NULL: any) and serial `serial` (NULL or "": any)
 *   nnfdrv_open_ftdi    a board behind an FTDI bridge (libftdi1 opens and
 *                       configures it, the libusb pipe of nnfdrv_usbio.h moves
 *                       the bytes); pid 0: try the known bridges in turn
 *
 * Both return NNFDRV_ERR_NO_DEVICE when nothing matched (message in msg).
 */
#ifndef NNFDRV_USB_INTERNAL_H
#define NNFDRV_USB_INTERNAL_H

#include <stddef.h>

#include "nnfdrv_transport.h"

/* The native device: transfer sizes (docs/usb-host.md, "Transfers"). */
enum { NNFDRV_USB_IN_SIZE = 4096, NNFDRV_USB_OUT_CHUNK = 4096 };
/* FTDI bridges: default baud rate, latency timer (ms) and transfer sizes,
 * chosen by measurement (docs/usb-host.md, "FTDI figures"). */
enum {
  NNFDRV_FTDI_BAUD = 3000000,
  NNFDRV_FTDI_LATENCY_MS = 2,
  NNFDRV_FTDI_IDLE_MS = 200,          /* silence before the idle latency */
  NNFDRV_FTDI_IDLE_LATENCY_MS = 32,
  NNFDRV_FTDI_IN_SIZE = 4096,
  NNFDRV_FTDI_OUT_CHUNK = 4096,
};

int nnfdrv_open_libusb(unsigned vid, unsigned pid, const char *serial, const char *product,
                       nnfdrv_transport **out, char *msg, size_t msglen);
int nnfdrv_open_ftdi(unsigned vid, unsigned pid, const char *serial, long baud,
                     nnfdrv_transport **out, char *msg, size_t msglen);

#endif /* NNFDRV_USB_INTERNAL_H */
