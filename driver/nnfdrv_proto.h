/*
 * nnfdrv_proto.h - the link protocol's constants and frame codec
 * (docs/protocol.md). One definition, used by the driver and by the
 * functional model of the device (sim/model/nnfm_device.c).
 */
#ifndef NNFDRV_PROTO_H
#define NNFDRV_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  NNFP_SYNC0 = 0xA5,
  NNFP_SYNC1 = 0x5A,
  NNFP_HDR_BYTES = 14,        /* sync(2) type seq len(2) arg(4) hcrc(4) */
  NNFP_CRC_BYTES = 4,
  NNFP_VERSION = 1,
};

/* Command types (host to device). */
enum {
  NNFP_INFO = 0x01,
  NNFP_WRITE = 0x02,
  NNFP_READ = 0x03,
  NNFP_RUN = 0x04,
  NNFP_WAIT = 0x05,
  NNFP_STATUS = 0x06,
  NNFP_COUNTERS = 0x07,
  NNFP_RESET = 0x08,
};

/* Answer types: NNFP_OK(cmd) or NNFP_ERR. */
#define NNFP_OK(cmd) ((uint8_t)(0x80u | (cmd)))
enum { NNFP_ERR = 0xFF };

/* Device error codes (first byte of an ERR answer). */
enum {
  NNFP_E_BAD_CRC = 1,
  NNFP_E_UNKNOWN = 2,
  NNFP_E_BAD_LEN = 3,
  NNFP_E_RANGE = 4,
  NNFP_E_BAD_PROG = 5,
  NNFP_E_TIMEOUT = 6,
  NNFP_E_BAD_INSN = 7, /* STATUS only: the program stopped at an instruction the device refused */
};

/* Regions (WRITE/READ arg[31:28]). */
enum {
  NNFP_REGION_ACT = 0,
  NNFP_REGION_W = 1,
  NNFP_REGION_P = 2,
  NNFP_REGION_LUT = 3,
  NNFP_REGION_PROG = 4,
  NNFP_REGION_STATE = 5,      /* LIF neuron state, NNFP_STATE_BYTES per entry */
};

/* LIF state entry (host view, little-endian): u int32 (held in 25 bits,
 * bytes 3 reads as the sign of bit 24), v int32 (24 bits), count uint32,
 * ref u8 (4 bits), 3 zero bytes. */
enum { NNFP_STATE_BYTES = 16 };

/* Micro-program. */
enum {
  NNFP_INSN_BYTES = 32,
  NNFP_OP_END = 0,
  NNFP_OP_GEMM = 1,
  NNFP_OP_BARRIER = 2,
  NNFP_OP_LIF = 3,
  NNFP_OP_LOOP = 4,
};
/* LIF instruction flags (byte 1). */
enum { NNFP_LIF_RESET_SUB = 1, NNFP_LIF_COUNT = 2, NNFP_LIF_CLEAR = 4 };

enum { NNFP_INFO_BYTES = 48, NNFP_COUNTERS_BYTES = 56, NNFP_STATUS_BYTES = 4 };

/* CRC-32 (IEEE, zlib): crc = nnfp_crc32(0, p, n) for a whole message, or
 * chained: nnfp_crc32(nnfp_crc32(0, a, na), b, nb). */
uint32_t nnfp_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* Little-endian helpers. */
static inline uint16_t nnfp_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t nnfp_get32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t nnfp_get64(const uint8_t *p) {
  return (uint64_t)nnfp_get32(p) | ((uint64_t)nnfp_get32(p + 4) << 32);
}
static inline void nnfp_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void nnfp_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void nnfp_put64(uint8_t *p, uint64_t v) { nnfp_put32(p, (uint32_t)v); nnfp_put32(p + 4, (uint32_t)(v >> 32)); }

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
  uint8_t hdr[12];
  unsigned hcnt;
  uint32_t pcnt, ccnt;
  uint32_t crc;
  uint8_t rcrc[4];
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
#endif /* NNFDRV_PROTO_H */
