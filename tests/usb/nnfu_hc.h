/*
 * nnfu_hc.h - a USB full-speed host controller at the transaction level, for
 * simulated devices (docs/usb.md). It runs on the wire model of nnfu_host.h
 * (packets, NRZI, stuffing, 48 MHz samples) and drives the device one 48 MHz
 * clock at a time through a callback, so the same library drives the USB
 * core alone or a whole board device (more clocks inside the callback).
 *
 * The wire, per clock: the host's samples while it transmits, else the
 * device's pins while it drives them (oe), else idle J (the pull-up). Both
 * driving at once is a collision (NNFU_HC_E_COLLISION). The device's
 * packets are decoded with every check (nnfu_mon, sample-exact timing).
 *
 *   step(ctx, dp, dm, host_drives, &dev_dp, &dev_dm, &dev_oe)
 *       one rising edge of the device's 48 MHz clock with the line {dp, dm}
 *       at its pins; it returns the device's pins after the edge (they are
 *       on the wire from the next clock). host_drives says whether the host
 *       transmits in this clock (for a checker; the device must ignore it).
 *       Return 0, or nonzero to abort (the call in progress returns
 *       NNFU_HC_E_STEP).
 *
 * Ownership: nnfu_hc_init fills a caller-owned nnfu_hc (no allocation but
 * the monitor's buffer; nnfu_hc_free releases it). Buffers passed to the
 * calls stay the caller's. Not thread-safe; one device per nnfu_hc.
 *
 * Scheduling as a real host: SOF every 1 ms (48000 clocks) when `sof` is on
 * (from nnfu_hc_init); a transaction is started only if it ends before the
 * next SOF (else the host idles to it); transactions back to back with the
 * host's inter-packet gap (`ipd_bits`, 4 by default); the host waits 18
 * bit times for the device's answer (`timeout_bits`).
 *
 * Return codes: the transaction calls (setup, out, in) return an outcome
 * (> 0, NNFU_HC_*) or a negative error (NNFU_HC_E_*, or NNFU_E_SPACE for a
 * packet too long to render); everything else returns NNFU_OK (0) or a
 * negative error. nnfu_hc_strerror names them all. Statistics accumulate
 * in h->stats; faults in h->faults are consumed as they are used.
 */
#ifndef NNFU_HC_H
#define NNFU_HC_H

#include <stddef.h>
#include <stdint.h>

#include "nnfu_host.h"

/* transaction outcomes */
enum {
  NNFU_HC_ACK = 1,      /* the device ACKed (SETUP, OUT) */
  NNFU_HC_NAK = 2,
  NNFU_HC_STALL = 3,
  NNFU_HC_DATA = 4,     /* IN: data with the expected toggle (ACKed unless dropped by a fault) */
  NNFU_HC_DUP = 5,      /* IN: data with the other toggle: a resend, ACKed and discarded */
  NNFU_HC_TIMEOUT = 6,  /* no answer within timeout_bits */
  NNFU_HC_BAD = 7       /* an answer that failed a check (nnfu_mon / nnfu_pkt_parse), or the wrong type */
};

/* errors */
enum {
  NNFU_HC_E_COLLISION = -101, /* host and device drove the line at once */
  NNFU_HC_E_STEP = -102,      /* the step callback aborted */
  NNFU_HC_E_STALL = -103,     /* a transfer ended with STALL */
  NNFU_HC_E_ERRORS = -104,    /* three errors in a row (time-out / bad answer) */
  NNFU_HC_E_NAKS = -105,      /* more NAKs in a row than nak_limit */
  NNFU_HC_E_PROTO = -106,     /* the device broke the protocol (e.g. more data than asked) */
  NNFU_HC_E_RESET = -107      /* a bus reset was injected (faults.reset_at) */
};
const char *nnfu_hc_strerror(int code);

typedef int (*nnfu_hc_step_fn)(void *ctx, int dp, int dm, int host_drives, int *dev_dp, int *dev_dm,
                               int *dev_oe);

/* Faults for the next packets; each count is decremented as it is used. */
typedef struct {
  int crc;          /* host DATA packets sent with their CRC16 flipped */
  int stuff;        /* host DATA packets sent with a stuffing error */
  int drop_ack;     /* device DATA packets received good but not ACKed (the host retries) */
  int bad_ack;      /* ACKs sent damaged (a stuffing error): the host counts them as sent */
  int lose_hs;      /* the device's handshakes to OUT / SETUP taken as lost (a time-out) */
  long reset_at;    /* >= 0: the bulk transfer calls do a bus reset (10 ms of SE0, 1 ms idle)
                     * instead of their transaction after this many more transactions and
                     * return NNFU_HC_E_RESET (-1: none) */
} nnfu_hc_faults;

typedef struct {
  uint64_t clocks;            /* 48 MHz clocks so far */
  uint64_t sofs, tokens, naks, stalls, timeouts, bad, dups;
  uint64_t data_out, data_in; /* data packets sent / received good (repeats included) */
  uint64_t bytes_out, bytes_in;   /* payload bytes the transfers delivered */
  int gap_min, gap_max;       /* device answers: clocks from the host's EOP (SE0 -> J) to the
                               * device's SYNC (first K); USB: 8..26 (2..6.5 bit times) */
} nnfu_hc_stats;

typedef struct {
  nnfu_hc_step_fn step;
  void *ctx;
  /* options (set after nnfu_hc_init) */
  nnfu_timing timing;         /* the host's bit timing (offset, jitter) */
  int sof;                    /* SOFs every 1 ms */
  int ipd_bits;               /* the host's gap before each packet, bit times (>= 2) */
  int timeout_bits;           /* the host's wait for an answer */
  long nak_limit;             /* NAKs in a row before a transfer gives up (NNFU_HC_E_NAKS) */
  int ep0_max;                /* EP0 packet size for control transfers (64 at first) */
  nnfu_hc_faults faults;
  nnfu_hc_stats stats;
  /* state */
  int toggle[16][2];          /* the host's data toggle per endpoint, [ep][is_in] */
  unsigned frame;
  uint64_t next_sof;
  int dev_dp, dev_dm, dev_oe; /* the device's pins (driven from the next clock) */
  uint64_t quiet_since;       /* the clock the line last went idle */
  nnfu_mon mon;
} nnfu_hc;

/* Set up with defaults (SOFs on, ipd 4, timeout 18, nak_limit 100000, ep0_max 64,
 * exact timing, no faults). NNFU_OK or NNFU_E_SPACE (no memory). */
int nnfu_hc_init(nnfu_hc *h, nnfu_hc_step_fn step, void *ctx);
void nnfu_hc_free(nnfu_hc *h);

/* Idle J for n clocks (SOFs go out on time if on). */
int nnfu_hc_idle(nnfu_hc *h, uint64_t n);
/* Bus reset: SE0 for se0_clocks (>= 120 = 2.5 us; Linux holds 10 ms and more), then
 * idle (SOFs on) for recovery_clocks; all the host's toggles back to DATA0. */
int nnfu_hc_bus_reset(nnfu_hc *h, uint64_t se0_clocks, uint64_t recovery_clocks);

/* ---- transactions (one token, its data, the handshake) ---------------------- */
/* SETUP + DATA0 of 8 bytes: NNFU_HC_ACK, TIMEOUT, BAD (or anything else seen). Sets the
 * host's EP0 toggles to DATA1. */
int nnfu_hc_setup(nnfu_hc *h, unsigned addr, const uint8_t setup[8]);
/* OUT + DATAx (x = the host's toggle for ep OUT) of n bytes: ACK (the toggle flips), NAK,
 * STALL, TIMEOUT, BAD. */
int nnfu_hc_out(nnfu_hc *h, unsigned addr, unsigned ep, const uint8_t *p, size_t n);
/* IN: DATA (the toggle expected: *n bytes to p, cap at most; the host ACKs, the toggle
 * flips), DUP (the other toggle: ACKed and discarded), NAK, STALL, TIMEOUT, BAD.
 * More than cap bytes is BAD. */
int nnfu_hc_in(nnfu_hc *h, unsigned addr, unsigned ep, uint8_t *p, size_t cap, size_t *n);

/* A bare token (pid NNFU_PID_*), nothing awaited: e.g. an OUT whose DATA never comes. */
int nnfu_hc_token(nnfu_hc *h, int pid, unsigned addr, unsigned ep);

/* ---- transfers (retries: NAKs up to nak_limit in a row, three errors in a row) -- */
/* A control transfer: setup; the data stage IN (bmRequestType bit 7) of up to wLength bytes
 * into data (*n: the bytes received) or OUT of wLength bytes from data; the status stage.
 * NNFU_OK, NNFU_HC_E_STALL, or another error. */
int nnfu_hc_control(nnfu_hc *h, unsigned addr, const uint8_t setup[8], uint8_t *data, size_t *n);
/* Bulk OUT of n bytes in packets of maxp, and a zero-length packet after a last full one
 * when zlp is set. NNFU_OK or an error (*sent: the bytes ACKed). */
int nnfu_hc_bulk_out(nnfu_hc *h, unsigned addr, unsigned ep, size_t maxp, const uint8_t *p, size_t n,
                     int zlp, size_t *sent);
/* Bulk IN until a short packet (zero-length included) or cap bytes: *n bytes into p.
 * NNFU_OK, NNFU_HC_E_NAKS (with the bytes received so far), or an error. */
int nnfu_hc_bulk_in(nnfu_hc *h, unsigned addr, unsigned ep, size_t maxp, uint8_t *p, size_t cap,
                    size_t *n);

/* ---- sessions with a device's byte stream (the board tests) ------------------ */
/* Enumerate as a host does before it talks: bus reset, GET_DESCRIPTOR device (wLength
 * 64) at address 0 into dev[18], SET_ADDRESS addr, SET_CONFIGURATION 1. NNFU_OK, or an
 * error (NNFU_HC_E_PROTO: a device descriptor not 18 bytes long). */
int nnfu_hc_configure(nnfu_hc *h, unsigned addr, uint8_t dev[18]);
/* An answer from a byte-stream endpoint: IN transactions of up to maxp bytes until
 * `want` bytes came or h->stats.clocks reaches `deadline`, then `quiet` more IN
 * transactions (what they bring is extra bytes; a zero-length packet after a full
 * one is no byte): *n bytes into p (at most cap). NNFU_OK, NNFU_HC_E_PROTO for more
 * than cap bytes, or the first outcome that is not DATA, DUP or NAK (a STALL, a
 * time-out, a bad packet) as a positive NNFU_HC_* value. */
int nnfu_hc_read_answer(nnfu_hc *h, unsigned addr, unsigned ep, size_t maxp, uint8_t *p, size_t cap,
                        size_t want, uint64_t deadline, int quiet, size_t *n);

/* A standard request's 8 bytes. */
void nnfu_hc_req(uint8_t s[8], int bm, int req, unsigned value, unsigned index, unsigned length);

#endif /* NNFU_HC_H */
