/*
 * nnfu_host.h - a USB full-speed host, at the wire, for the RTL tests of the
 * USB device core (rtl/link/usb/, docs/usb.md).
 *
 * It works at the device's 48 MHz sample rate: four samples per 12 Mbit/s
 * bit. A line state is {D+, D-} as the RTL sees its pins:
 *   NNFU_SE0 0, NNFU_K 1 (D- high), NNFU_J 2 (D+ high, idle), NNFU_SE1 3.
 *
 * Three layers, each usable alone:
 *   packets   bytes of tokens, data packets and handshakes, with their PID
 *             check nibble, CRC5 and CRC16 (nnfu_pkt_*), and the reverse
 *             check (nnfu_pkt_parse);
 *   symbols   bytes -> one line state per bit time: SYNC, bit stuffing,
 *             NRZI, EOP (nnfu_encode), with faults on request (a stuffing
 *             error, a packet cut mid-byte, a short SYNC);
 *   samples   symbols -> line states at 48 MHz with a host clock off by a
 *             given fraction and jittered edges (nnfu_render); and the
 *             monitor that decodes the device's line back into bytes with
 *             every check (NRZI, SYNC, stuffing, byte alignment, EOP and
 *             bit timing: nnfu_decode, nnfu_mon_*).
 *
 * Everything is plain C with no allocation except nnfu_mon's buffer (owned
 * by the monitor: nnfu_mon_free). Return codes: NNFU_OK (0) or a negative
 * NNFU_E_* (nnfu_strerror names them).
 */
#ifndef NNFU_HOST_H
#define NNFU_HOST_H

#include <stddef.h>
#include <stdint.h>

enum { NNFU_SE0 = 0, NNFU_K = 1, NNFU_J = 2, NNFU_SE1 = 3 };

/* PIDs (the type nibble; the byte on the wire is (~pid << 4) | pid) */
enum {
  NNFU_PID_OUT = 0x1, NNFU_PID_IN = 0x9, NNFU_PID_SOF = 0x5, NNFU_PID_SETUP = 0xD,
  NNFU_PID_DATA0 = 0x3, NNFU_PID_DATA1 = 0xB,
  NNFU_PID_ACK = 0x2, NNFU_PID_NAK = 0xA, NNFU_PID_STALL = 0xE, NNFU_PID_NYET = 0x6
};

enum {
  NNFU_OK = 0,
  NNFU_E_PID = -1,      /* check nibble wrong */
  NNFU_E_LEN = -2,      /* length wrong for the type (or no byte) */
  NNFU_E_CRC5 = -3,
  NNFU_E_CRC16 = -4,
  NNFU_E_UNSUP = -5,    /* a PID full speed does not use */
  NNFU_E_SYNC = -6,     /* no (or a wrong) SYNC */
  NNFU_E_STUFF = -7,    /* seven ones, or no stuffed zero where one belongs */
  NNFU_E_ALIGN = -8,    /* EOP not on a byte boundary */
  NNFU_E_EOP = -9,      /* EOP not SE0 for exactly two bits then J */
  NNFU_E_TIMING = -10,  /* a run of samples not a whole number of bits */
  NNFU_E_SE1 = -11,
  NNFU_E_SPACE = -12    /* the caller's buffer is too small */
};
const char *nnfu_strerror(int code);

/* ---- packets ------------------------------------------------------------ */

/* The CRC5 field of a token's 11 bits (address | endpoint << 7, or the
 * frame number), and the CRC16 of a data payload (sent low byte first). */
unsigned nnfu_crc5(unsigned bits11);
unsigned nnfu_crc16(const uint8_t *p, size_t n);

/* Packet bytes (PID first; no SYNC or EOP). Return the byte count. */
size_t nnfu_pkt_token(uint8_t out[3], int pid, unsigned addr, unsigned ep);
size_t nnfu_pkt_sof(uint8_t out[3], unsigned frame);
size_t nnfu_pkt_data(uint8_t *out, int pid, const uint8_t *payload, size_t n);  /* n + 3 */
size_t nnfu_pkt_handshake(uint8_t out[1], int pid);

typedef struct {
  int pid;                  /* type nibble (valid unless NNFU_E_PID / NNFU_E_LEN for 0 bytes) */
  unsigned addr, ep;        /* tokens */
  unsigned frame;           /* SOF */
  const uint8_t *payload;   /* data packets: into the parsed bytes */
  size_t len;
} nnfu_pkt;

/* Check a packet's bytes as the device must (max_payload: a longer data
 * packet is NNFU_E_LEN). NNFU_OK or the first error, in the RTL's order:
 * no byte (LEN), check nibble (PID), then per type length, then CRC. */
int nnfu_pkt_parse(const uint8_t *b, size_t n, size_t max_payload, nnfu_pkt *p);

/* ---- symbols (one line state per bit time) ------------------------------ */

typedef struct {
  int sync_bits;            /* SYNC length, 8 normally (a hub may eat some): >= 2 */
  long ones_at;             /* >= 0: after this many data bits, seven ones unstuffed (a stuffing error) */
  long cut_bits;            /* >= 0: the EOP comes after this many data bits (mid-byte cut) */
  int eop_se0;              /* SE0 bit times of the EOP, 2 normally */
} nnfu_enc_opts;

/* The normal options (8-bit SYNC, no fault, 2-bit EOP). */
nnfu_enc_opts nnfu_enc_default(void);

/* SYNC, the bytes LSB first with stuffing (from the SYNC's final one, a
 * stuffed zero before the EOP too), NRZI from idle J, the EOP (SE0 bits,
 * then one J). Returns the symbol count, or 0 when cap is too small. */
size_t nnfu_encode(const uint8_t *bytes, size_t n, const nnfu_enc_opts *o, uint8_t *sym, size_t cap);

/* ---- samples at 48 MHz --------------------------------------------------- */

typedef struct {
  double offset;            /* host rate error: +0.0025 = 0.25 % slow bits (longer) */
  double jitter;            /* each edge moves by a uniform amount in [-jitter, +jitter] samples */
  double phase;             /* first edge's position inside its sample, [0, 1) */
  uint64_t rng;             /* state of the jitter's generator (splitmix64) */
  double glitch;            /* probability that a J <-> K edge passes through SE0 or SE1 for
                             * one sample (D+ and D- crossing apart), 0 for none */
} nnfu_timing;

/* Symbols -> samples: symbol k lasts from 4k(1 + offset) + phase + jitter_k
 * to the next edge; sample i takes the symbol in force at time i (with
 * probability `glitch` the first sample of a J <-> K change is SE0 or SE1
 * instead). The last symbol (EOP's J) is held one bit. Returns the sample
 * count, 0 if cap is too small. */
size_t nnfu_render(nnfu_timing *t, const uint8_t *sym, size_t n, uint8_t *samp, size_t cap);

/* ---- decoding the device's line ----------------------------------------- */

typedef struct {
  size_t nbytes;            /* bytes decoded (before the error, if any) */
  size_t nsamples;          /* samples from the SYNC's first K to the EOP's J */
  long err_sample;          /* the sample index of the error, -1 if none */
} nnfu_dec_info;

/* One packet from samples starting at idle J: every run of samples must be
 * a whole number of bits within tol samples (0 for a device clocked with
 * the sampler), SYNC exactly 0x80, stuffing exact (a stuffed zero after
 * every six ones, no seven ones), whole bytes, EOP SE0 for two bits then at
 * least one bit of J. */
int nnfu_decode(const uint8_t *samp, size_t n, int tol, uint8_t *bytes, size_t cap,
                nnfu_dec_info *info);

/* A monitor on a line sample by sample: it collects from the first non-J
 * sample to one bit of J after an SE0 and then decodes (nnfu_decode). */
typedef struct {
  int tol;
  uint8_t *buf;
  size_t n, cap;
  int in_pkt, se0_seen, j_run;
  /* the last packet (after nnfu_mon_feed returned 1) */
  int status;
  uint8_t bytes[1100];
  nnfu_dec_info info;
} nnfu_mon;

int nnfu_mon_init(nnfu_mon *m, int tol);   /* NNFU_OK or NNFU_E_SPACE (no memory) */
void nnfu_mon_free(nnfu_mon *m);
/* Feed one sample; 1 when a packet just ended (m->status, m->bytes,
 * m->info), 0 otherwise. A packet longer than the buffer ends with
 * NNFU_E_SPACE. */
int nnfu_mon_feed(nnfu_mon *m, int line);

#endif /* NNFU_HOST_H */
