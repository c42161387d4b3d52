/* nnf_proto.c - frame codec of the link protocol (docs/protocol.md). */
#include "nnf_proto.h"

#include <string.h>
#include <zlib.h>

uint32_t nnfp_crc32(uint32_t crc, const uint8_t *p, size_t n) {
  /* zlib takes uInt lengths: feed in chunks. */
  while (n > 0) {
    uInt chunk = n > 0x40000000u ? 0x40000000u : (uInt)n;
    crc = (uint32_t)crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return crc;
}

size_t nnfp_encode(uint8_t *out, uint8_t type, uint8_t seq, uint32_t arg,
                   const uint8_t *payload, uint16_t len) {
  nnfp_hdr_put_sync0(out, NNFP_SYNC0);
  nnfp_hdr_put_sync1(out, NNFP_SYNC1);
  nnfp_hdr_put_type(out, type);
  nnfp_hdr_put_seq(out, seq);
  nnfp_hdr_put_len(out, len);
  nnfp_hdr_put_arg(out, arg);
  nnfp_hdr_put_hcrc(out, nnfp_crc32(0, out + NNFP_HCRC_FROM, NNFP_HCRC_SPAN));
  if (len == 0) return NNFP_HDR_BYTES;
  memcpy(out + NNFP_HDR_BYTES, payload, len);
  nnfp_put32(out + NNFP_HDR_BYTES + len, nnfp_crc32(0, payload, len));
  return nnfp_frame_size(len);
}

enum { ST_HUNT, ST_SYNC, ST_HDR, ST_PAY, ST_PCRC };

void nnfp_parser_init(nnfp_parser *p, uint8_t *payload_buf, uint32_t max_payload) {
  memset(p, 0, sizeof *p);
  p->payload = payload_buf;
  p->max_payload = max_payload;
  p->state = ST_HUNT;
}

void nnfp_parser_reset(nnfp_parser *p) { p->state = ST_HUNT; }

int nnfp_parser_in_frame(const nnfp_parser *p) { return p->state >= ST_HDR; }

int nnfp_parser_in_payload(const nnfp_parser *p) { return p->state >= ST_PAY; }

nnfp_parse_event nnfp_parse_byte(nnfp_parser *p, uint8_t b) {
  switch (p->state) {
  case ST_HUNT:
    if (b == NNFP_SYNC0) p->state = ST_SYNC;
    return NNFP_PARSE_MORE;
  case ST_SYNC:
    if (b == NNFP_SYNC1) {
      p->state = ST_HDR;
      nnfp_hdr_put_sync0(p->hdr, NNFP_SYNC0);
      nnfp_hdr_put_sync1(p->hdr, NNFP_SYNC1);
      p->hcnt = NNFP_SYNC_BYTES;
    } else if (b != NNFP_SYNC0) {
      p->state = ST_HUNT;
    }
    return NNFP_PARSE_MORE;
  case ST_HDR:
    p->hdr[p->hcnt++] = b;
    if (p->hcnt < NNFP_HDR_BYTES) return NNFP_PARSE_MORE;
    p->h.type = (uint8_t)nnfp_hdr_get_type(p->hdr);
    p->h.seq = (uint8_t)nnfp_hdr_get_seq(p->hdr);
    p->h.len = (uint16_t)nnfp_hdr_get_len(p->hdr);
    p->h.arg = nnfp_hdr_get_arg(p->hdr);
    if (nnfp_hdr_get_hcrc(p->hdr) != nnfp_crc32(0, p->hdr + NNFP_HCRC_FROM, NNFP_HCRC_SPAN) ||
        p->h.len > p->max_payload) {
      p->state = ST_HUNT;
      return NNFP_PARSE_BAD_HDR;
    }
    if (p->h.len == 0) {
      p->state = ST_HUNT;
      p->crc_ok = 1;
      return NNFP_PARSE_FRAME;
    }
    p->state = ST_PAY;
    p->pcnt = 0;
    return NNFP_PARSE_MORE;
  case ST_PAY:
    p->payload[p->pcnt++] = b;
    if (p->pcnt == p->h.len) {
      p->state = ST_PCRC;
      p->ccnt = 0;
    }
    return NNFP_PARSE_MORE;
  default: /* ST_PCRC */
    p->rcrc[p->ccnt++] = b;
    if (p->ccnt < NNFP_CRC_BYTES) return NNFP_PARSE_MORE;
    p->state = ST_HUNT;
    p->crc_ok = nnfp_get32(p->rcrc) == nnfp_crc32(0, p->payload, p->h.len);
    return NNFP_PARSE_FRAME;
  }
}
