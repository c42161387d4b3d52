/*
 * nnf_proto.h - the link protocol's frame codec (docs/protocol.md): CRC,
 * frame encoder and the incremental frame parser, used by the driver and by
 * the functional model of the device (sim/model/nnfm_device.c). Library
 * `nnfproto` (proto/CMakeLists.txt).
 *
 * The constants and record layouts come from nnf_proto_gen.h, generated from
 * the table proto/nnf_proto.def (run python3 proto/gen_proto.py after
 * editing it); the RTL reads the same table as rtl/core/nnf_proto.vh.
 */
#ifndef NNF_PROTO_H
#define NNF_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "nnf_proto_gen.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CRC-32 (IEEE, zlib): crc = nnfp_crc32(0, p, n) for a whole message, or
 * chained: nnfp_crc32(nnfp_crc32(0, a, na), b, nb). */
uint32_t nnfp_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* Size of a frame with a payload of len bytes. */
static inline size_t nnfp_frame_size(size_t len) {
  return NNFP_HDR_BYTES + len + (len ? NNFP_CRC_BYTES : 0);
}

/* Encode a frame into out (nnfp_frame_size(len) bytes). Returns that size. */
size_t nnfp_encode(uint8_t *out, uint8_t type, uint8_t seq, uint32_t arg,
                   const uint8_t *payload, uint16_t len);

/* A decoded frame header. */
typedef struct {
  uint8_t type, seq;
  uint16_t len;
  uint32_t arg;
} nnfp_header;

/* Incremental frame parser (the receiver of docs/protocol.md, without
 * timeouts: the caller owns time). Feed bytes; it reports complete frames. */
typedef enum {
  NNFP_PARSE_MORE = 0,     /* need more bytes */
  NNFP_PARSE_FRAME = 1,    /* a frame is complete: header + payload, crc_ok set */
  NNFP_PARSE_BAD_HDR = 2,  /* a header failed its CRC or length check (hunting again) */
} nnfp_parse_event;

typedef struct {
  int state;               /* internal */
  uint32_t max_payload;
  uint8_t hdr[NNFP_HDR_BYTES]; /* the header as received (HDR record) */
  unsigned hcnt;
  uint32_t pcnt, ccnt;
  uint32_t crc;
  uint8_t rcrc[NNFP_CRC_BYTES];
  nnfp_header h;
  uint8_t *payload;        /* caller-provided buffer of max_payload bytes */
  int crc_ok;              /* with NNFP_PARSE_FRAME: payload CRC good */
} nnfp_parser;

void nnfp_parser_init(nnfp_parser *p, uint8_t *payload_buf, uint32_t max_payload);
/* Feed one byte. */
nnfp_parse_event nnfp_parse_byte(nnfp_parser *p, uint8_t b);
/* 1 while inside a frame (after the sync), 0 while hunting. */
int nnfp_parser_in_frame(const nnfp_parser *p);
/* 1 when inside the payload or its CRC (the header was good). */
int nnfp_parser_in_payload(const nnfp_parser *p);
/* Abandon the current frame (a timeout) and hunt again. */
void nnfp_parser_reset(nnfp_parser *p);

#ifdef __cplusplus
}
#endif
#endif /* NNF_PROTO_H */
