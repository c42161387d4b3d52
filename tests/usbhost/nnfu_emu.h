/*
 * nnfu_emu.h - emulated USB devices for the host tests, through umockdev:
 * the driver's real libusb calls (enumeration through sysfs, usbdevfs
 * ioctls: SUBMITURB, REAPURBNDELAY, DISCARDURB, CLAIMINTERFACE, ...) reach
 * an ioctl handler in this process, which plays
 *
 *   NNFU_EMU_NATIVE  the native device, 1209:0001 "nnfpga": one vendor
 *                    interface, bulk OUT 0x01 / IN 0x81 of 64 bytes, the
 *                    functional model (nnfm_device) behind them; IN sends
 *                    what it has (NAK when empty, a ZLP after a full
 *                    transfer that ended on a full packet), OUT NAKs while
 *                    the device holds its input (nnfu_emu_hold_out);
 *   NNFU_EMU_FT2232H an FTDI FT2232H (0403:6010, high speed, 512-byte
 *                    packets) whose channel B UART reaches the same model:
 *                    its vendor control requests accepted, the UART paced
 *                    at the baud rate the driver set, every IN packet led
 *                    by 2 modem-status bytes, sent when 510 data bytes are
 *                    waiting or the latency timer runs out (status alone
 *                    when there is nothing).
 *
 * The program must run under umockdev's preload library (umockdev-wrapper
 * PROGRAM ...). The device node is a FIFO kept full while no URB is ready
 * to reap and empty while one is, so libusb's poll() on it sleeps exactly
 * as on a real usbdevfs node (a regular file would always poll ready and
 * turn libusb's event loop into a spin). docs/usb-host.md has the details.
 */
#ifndef NNFU_EMU_H
#define NNFU_EMU_H

#include <stddef.h>
#include <stdint.h>

typedef enum { NNFU_EMU_NATIVE, NNFU_EMU_FT2232H } nnfu_emu_kind;

typedef struct nnfu_emu nnfu_emu;

/* Start the testbed (once) and plug a device in at bus 1, address devnum.
 * product: the native device's product string (NULL: "nnfpga"). */
nnfu_emu *nnfu_emu_plug(nnfu_emu_kind kind, int devnum, const char *product);
/* Unplug: every URB in flight ends with -ENODEV, later ones fail with
 * ENODEV, and the device leaves sysfs (a udev "remove"). */
void nnfu_emu_unplug(nnfu_emu *e);
/* Unplug by itself once `bytes` more answer bytes have gone to the host. */
void nnfu_emu_unplug_after_in(nnfu_emu *e, long bytes);
/* Hold the next answer the device produces for ms milliseconds (a long
 * RUN): the host's IN transfers are NAKed meanwhile. */
void nnfu_emu_delay_next_answer(nnfu_emu *e, int ms);
/* Native: NAK the next OUT transfer(s) for ms milliseconds (the device
 * holding its input), then take them. */
void nnfu_emu_hold_next_out(nnfu_emu *e, int ms);
/* Queue n answer bytes left over from an earlier session (call before the
 * device's first open). */
void nnfu_emu_stale(nnfu_emu *e, const uint8_t *bytes, size_t n);
/* Free what unplug left (the device must be unplugged, its client gone). */
void nnfu_emu_free(nnfu_emu *e);

typedef struct {
  long submits, reaps, discards, controls, claims, releases, clear_halts, detaches, zlps;
  long in_bytes, out_bytes;
  int latency_ms;          /* FTDI: the latency timer the driver set */
  long latency_sets;       /* FTDI: SET_LATENCY_TIMER requests seen */
  int baud_requests;       /* FTDI: SET_BAUDRATE requests seen */
  long baud;               /* FTDI: the last one, decoded (the UART runs at it) */
  long status_only;        /* FTDI: IN packets with no data */
} nnfu_emu_stats;
nnfu_emu_stats nnfu_emu_get_stats(nnfu_emu *e);

#endif /* NNFU_EMU_H */
