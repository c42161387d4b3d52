/*
 * fuzz_proto.c - libFuzzer target for the frame codec both ends of the link
 * use (proto/nnf_proto.c): the incremental parser nnfp_parse_byte, fed
 * an arbitrary byte stream, against a reference written here from
 * docs/protocol.md alone (scan for A5 5A, take 12 header bytes, check hcrc
 * and len, take the payload and its CRC). Every event must come at the same
 * byte with the same header, payload and CRC verdict; every good frame must
 * re-encode (nnfp_encode) to exactly the bytes it came from; in_frame /
 * in_payload must agree with the reference's position at every byte.
 *
 * Input: 2 bytes of max_payload (taken 0 .. 1023, so that "len > max" is
 * reached), then the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_proto.h"

enum { MAX_PL = 1023 };

/* The reference's view of byte i of the stream. */
enum { R_HUNT, R_HDR, R_PAY };

typedef struct {
  size_t at;          /* index of the byte that completes the event */
  int kind;           /* NNFP_PARSE_FRAME or NNFP_PARSE_BAD_HDR */
  size_t start;       /* index of the A5 of the frame */
} ref_event;

static uint32_t crc_of(const uint8_t *p, size_t n) { return nnfp_crc32(0, p, n); }

/* Walk the stream as docs/protocol.md says; fill where[] (R_* after each
 * byte) and the events. Returns the event count. */
static size_t reference(const uint8_t *s, size_t n, uint32_t max, int *where, ref_event *ev) {
  size_t ne = 0, pos = 0;
  for (size_t i = 0; i < n; i++) where[i] = R_HUNT;
  while (pos < n) {
    size_t i = pos;
    while (i + 1 < n && !(s[i] == NNFP_SYNC0 && s[i + 1] == NNFP_SYNC1)) i++;
    if (i + 1 >= n) break;                          /* no sync (a lone A5 at the end is hunting) */
    const uint8_t *h = s + i + 2;
    size_t hdr_end = i + 13;                        /* last hcrc byte */
    for (size_t k = i + 1; k < n && k < hdr_end; k++) where[k] = R_HDR;
    if (hdr_end >= n) break;
    uint16_t len = nnfp_get16(h + 2);
    if (nnfp_get32(h + 8) != crc_of(h, 8) || len > max) {
      ev[ne++] = (ref_event){hdr_end, NNFP_PARSE_BAD_HDR, i};
      pos = hdr_end + 1;
      continue;
    }
    size_t end = len ? hdr_end + len + 4 : hdr_end;
    for (size_t k = hdr_end; k < n && k < end; k++) where[k] = R_PAY;
    if (end >= n) break;
    ev[ne++] = (ref_event){end, NNFP_PARSE_FRAME, i};
    pos = end + 1;
  }
  return ne;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  uint32_t max = nnfp_get16(data) % (MAX_PL + 1);
  const uint8_t *s = data + 2;
  size_t n = size - 2;
  int *where = malloc((n ? n : 1) * sizeof *where);
  ref_event *ev = malloc((n / 14 + 1) * sizeof *ev);
  uint8_t payload[MAX_PL + 1], frame[NNFP_HDR_BYTES + MAX_PL + NNFP_CRC_BYTES];
  if (!where || !ev) abort();
  size_t ne = reference(s, n, max, where, ev), k = 0;

  nnfp_parser p;
  nnfp_parser_init(&p, payload, max);
  for (size_t i = 0; i < n; i++) {
    nnfp_parse_event e = nnfp_parse_byte(&p, s[i]);
    if (e == NNFP_PARSE_MORE) {
      if (k < ne && ev[k].at == i) abort();          /* the reference has an event here */
    } else {
      if (k >= ne || ev[k].at != i || ev[k].kind != (int)e) abort();
      if (e == NNFP_PARSE_FRAME) {
        const uint8_t *h = s + ev[k].start + 2;
        if (p.h.type != h[0] || p.h.seq != h[1] || p.h.len != nnfp_get16(h + 2) ||
            p.h.arg != nnfp_get32(h + 4))
          abort();
        const uint8_t *pl = h + 12;
        int good = p.h.len == 0 || nnfp_get32(pl + p.h.len) == crc_of(pl, p.h.len);
        if (p.crc_ok != good) abort();
        if (p.h.len && memcmp(payload, pl, p.h.len)) abort();
        if (good) {   /* a good frame is what the encoder makes of its fields */
          size_t fl = nnfp_encode(frame, p.h.type, p.h.seq, p.h.arg, payload, p.h.len);
          if (fl != nnfp_frame_size(p.h.len) || fl != i + 1 - ev[k].start ||
              memcmp(frame, s + ev[k].start, fl))
            abort();
        }
      }
      k++;
    }
    /* inside a frame after the sync; inside the payload after a good header */
    if (nnfp_parser_in_frame(&p) != (where[i] != R_HUNT && !(k > 0 && ev[k - 1].at == i))) abort();
    if (nnfp_parser_in_payload(&p) != (where[i] == R_PAY && !(k > 0 && ev[k - 1].at == i))) abort();
  }
  if (k != ne) abort();
  free(where);
  free(ev);
  return 0;
}
