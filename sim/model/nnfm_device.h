/*
 * nnfm_device.h - the functional model of the whole device (nnf_core): the
 * link protocol of docs/protocol.md, the command executor and the
 * micro-program sequencer, over the engine model (nnfm_engine). It answers
 * every frame with the same bytes as the RTL.
 *
 * What it does not model: time. A RUN runs the program at once to its end,
 * or to its first BANK acquire of an empty bank, where it waits until the
 * host posts the bank (BPOST resumes it); the counters of
 * cycles, busy cycles and stall cycles read 0. MACs, link bytes and frame
 * errors are counted exactly as the RTL counts them. A GEMM instruction that
 * nnfm_engine_check refuses (the RTL would wrap addresses) stops the program
 * and is counted in nnfm_device_stats; so does a LIF instruction whose
 * current, spike or state range leaves its buffer, or whose current and
 * spike ranges overlap without being equal (docs/protocol.md, LIF).
 *
 * CONV and POOL (docs/protocol.md, docs/conv.md), with cfg.conv: decoded
 * from their records and run by nnfm_engine_conv / nnfm_engine_pool, which
 * check them first; a refused one stops the program as a refused GEMM does
 * (STATUS: last error BAD_INSN, pc = the instruction; nothing written).
 *
 * LIF and LOOP (docs/protocol.md): the LIF update itself is nnfm_lif_step
 * (nnfm_lif.h); this file walks the layout and keeps the state region, whose
 * entries are held as the host wrote them and read back in canonical form
 * (u sign-extended from bit 24, v from bit 23, ref 4 bits), exactly as the
 * RTL's narrower state memory does.
 *
 * Ownership: nnfm_device_create returns a handle owned by the caller
 * (nnfm_device_destroy). Pointer arguments are borrowed for the call.
 */
#ifndef NNFM_DEVICE_H
#define NNFM_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "nnfm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  nnfm_config engine;       /* array and buffer sizes */
  uint32_t prog_words;      /* instructions of 32 bytes, power of two */
  uint32_t max_payload;     /* 16..65535 */
  uint32_t timeout_cycles;  /* reported by INFO */
  uint32_t clock_hz;        /* reported by INFO */
  int vec_serial;           /* reported in the INFO feature bits */
  uint32_t state_words;     /* LIF state entries (region STATE, 16 bytes each);
                               0: no LIF core (LIF stops a program like END) */
  int conv;                 /* 1: CONV (with its fused pooling), POOL and
                               PACK instructions (INFO feature bits
                               FEAT_CONV, FEAT_PACK, FEAT_CONV_POOL); 0: those
                               opcodes stop a program like END, as on an RTL
                               built with HAS_CONV = 0 */
  int ew;                   /* 1: the EW instruction (INFO FEAT_EW); 0: EW
                               stops a program like END (HAS_EW = 0). The
                               LUT count is engine.luts */
  int row;                  /* 1: attention's two instructions, ROW (INFO
                               FEAT_ROW: SOFTMAX over a table in four LUTs)
                               and ACTW (FEAT_ACTW: an ACT tensor into W),
                               where ew is 1 and engine.luts >= 4, as
                               nnf_core's HAS_ROW (they are off otherwise);
                               0: ROW and ACTW stop a program like END
                               (HAS_ROW = 0) */
  int dw;                   /* 1: the DWCONV instruction (INFO FEAT_DW: a
                               depthwise conv on the vector unit), where
                               conv is 1, rows == cols and vec_serial is 0
                               (it reads P entries whole), as nnf_core's
                               HAS_DW; 0: DWCONV stops a program like END */
  uint32_t banks;           /* bank flags (INFO BANKS, FEAT_BANKS; 0..
                               NNFM_BANKS_MAX): BWAIT, BPOST and the BANK
                               instruction (docs/protocol.md, Banks); 0: they
                               are unknown / stop a program like END */
  uint32_t config_id;       /* INFO CONFIG_ID: the configs/ file the device was
                               built from (nnf_core's CONFIG_ID; 0: none) */
  int rel;                  /* 1: relative bases and LOOP's stride (INFO
                               FEAT_REL); 0: the REL flags and the stride
                               are ignored (HAS_REL = 0) */
  int tfl_round;            /* 1: the TFL_ROUND flag of GEMM, CONV and EW
                               chooses TFLite's double rounding (INFO
                               FEAT_TFL_ROUND); 0: the flag is ignored and
                               every requantization rounds once
                               (HAS_TFL_ROUND = 0) */
} nnfm_device_config;

#define NNFM_BANKS_MAX 8

/* The default simulation configuration (configs/sim.json, the simulator's:
 * CONV and POOL included, W of 32768 words (256 KiB), P of 512 entries, 512
 * accumulator rows and 256 program words; its INFO
 * is the RTL's byte for byte). */
nnfm_device_config nnfm_device_config_default(void);

typedef struct nnfm_device nnfm_device;

/* NULL on a bad configuration or out of memory. */
nnfm_device *nnfm_device_create(const nnfm_device_config *cfg);
void nnfm_device_destroy(nnfm_device *d);

/* Bytes arriving at the device's receiver, in order. Answers they cause are
 * queued for nnfm_device_tx. */
void nnfm_device_rx(nnfm_device *d, const uint8_t *buf, size_t len);

/* The sender has been quiet for more than timeout_cycles: a partial frame is
 * abandoned (a frame error; answered ERR TIMEOUT when its header was good). */
void nnfm_device_idle_timeout(nnfm_device *d);

/* 1 when a partial frame is waiting for more bytes. */
int nnfm_device_in_frame(const nnfm_device *d);

/* Take up to max queued answer bytes; returns how many. */
size_t nnfm_device_tx(nnfm_device *d, uint8_t *buf, size_t max);
size_t nnfm_device_tx_pending(const nnfm_device *d);

/* The engine model inside (buffers), for tests. */
nnfm_engine *nnfm_device_engine(nnfm_device *d);

typedef struct {
  uint64_t frames_ok;        /* frames executed */
  uint64_t frame_errors;     /* as the COUNTERS record counts them */
  uint64_t refused_gemms;    /* program GEMMs nnfm_engine_check refused */
  uint64_t refused_lifs;     /* program LIFs out of range (see above) */
  uint64_t refused_convs;    /* program CONVs nnfm_engine_conv_check refused */
  uint64_t refused_pools;    /* program POOLs nnfm_engine_pool_check refused */
  uint64_t convs, pools;     /* CONV and POOL instructions executed */
  uint64_t refused_packs;    /* program PACKs nnfm_engine_pack_check refused */
  uint64_t packs;            /* PACK instructions executed */
  uint64_t refused_ews;      /* program EWs nnfm_engine_ew_check refused */
  uint64_t ews;              /* EW instructions executed */
  uint64_t ew_words;         /* and the output words they wrote (for time bounds) */
  uint64_t refused_rows;     /* program ROWs nnfm_engine_row_check refused */
  uint64_t rows;             /* ROW instructions executed */
  uint64_t row_words;        /* and the output words they wrote */
  uint64_t refused_actws;    /* program ACTWs nnfm_engine_actw_check refused */
  uint64_t actws;            /* ACTW instructions executed */
  uint64_t actw_words;       /* and the W words they wrote */
  uint64_t refused_dwconvs;  /* program DWCONVs refused (nnfm_engine_dwconv_check, or N != C) */
  uint64_t dwconvs;          /* DWCONV instructions executed */
  uint64_t dw_words;         /* and the output words they wrote */
  /* Why the last refused GEMM, CONV or POOL was refused: the engine check's
   * nnfm_status (NNFM_ERR_RANGE: a field; NNFM_ERR_SHAPE: an extent); a
   * refused LIF sets NNFM_ERR_SHAPE (its refusals are all extents). 0 while
   * nothing has been refused. The link reports only BAD_INSN. */
  int last_refusal;
  uint64_t lif_updates;      /* neuron updates done by LIF instructions */
  /* The work of the programs run, for bounds on the device's time (the
   * differential fuzzer's hang bound): instructions reached (refused ones
   * included), and per executed GEMM or CONV its streamed rows (NT * KT *
   * M) and weight tiles (NT * KT); the rows GEMMs and CONVs requantize in
   * the vector stage (NT * M), which a serial vector stage spaces apart. */
  uint64_t insns;
  uint64_t gemm_rows;
  uint64_t gemm_tiles;
  uint64_t vec_rows;
  uint64_t refused_banks;    /* BANK instructions naming a bank >= banks */
  uint64_t bank_waits;       /* times a program was suspended at a BANK acquire */
} nnfm_device_stats;
nnfm_device_stats nnfm_device_get_stats(const nnfm_device *d);

#ifdef __cplusplus
}
#endif
#endif /* NNFM_DEVICE_H */
