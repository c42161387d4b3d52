/*
 * nnfb_board_config.h - the functional model's configuration for one shipped
 * board, from the parameters its bitstream is built with. CMake passes every
 * top parameter scripts/synth.py sets for the board as a compile definition
 * NNFB_P_<NAME>=<value> (nnf_board_definitions() in sim/core/CMakeLists.txt,
 * with NNFB_BOARD="<board>"), from the board's configs/<board>.json. For any test linked with nnfsim_core_<board>
 * or nnfb_board_<board>.
 */
#ifndef NNFB_BOARD_CONFIG_H
#define NNFB_BOARD_CONFIG_H

#include "nnfm_device.h"

#if !defined(NNFB_P_ROWS) || !defined(NNFB_P_CLOCK_HZ) || !defined(NNFB_P_STATE_WORDS)
#error "NNFB_P_* (the board's top parameters): nnf_board_definitions() in sim/core/CMakeLists.txt"
#endif
#ifndef NNFB_P_CNT_W
#define NNFB_P_CNT_W 64 /* nnf_dev_uart's default: the tops that do not set it */
#endif
#ifndef NNFB_P_LIF_LANES
#define NNFB_P_LIF_LANES 1
#endif
#ifndef NNFB_P_HAS_EW
#define NNFB_P_HAS_EW 0 /* the board tops' (no EW unit yet: docs/rnn.md) */
#endif
#ifndef NNFB_P_HAS_DW
#define NNFB_P_HAS_DW 0 /* the board tops' (no depthwise unit on a board yet: docs/conv.md) */
#endif
#ifndef NNFB_P_HAS_ROW
#define NNFB_P_HAS_ROW 0 /* the board tops' (no ROW unit: docs/attention.md) */
#endif
#ifndef NNFB_P_HAS_DW
#define NNFB_P_HAS_DW 0 /* the board tops' (no depthwise unit: docs/conv.md) */
#endif
#ifndef NNFB_P_LUT_COUNT
#define NNFB_P_LUT_COUNT 1
#endif
#ifndef NNFB_P_HAS_REL
#define NNFB_P_HAS_REL 1
#endif
#ifndef NNFB_P_CONFIG_ID
#error "NNFB_P_CONFIG_ID: the board's configuration id (scripts/nnfconfig.py boards)"
#endif
#ifndef NNFB_P_HAS_TFL_ROUND
#define NNFB_P_HAS_TFL_ROUND 1 /* the board tops' default */
#endif

/* The model's configuration: the board's top parameters. */
static inline nnfm_device_config nnfb_board_config(void) {
  nnfm_device_config c = nnfm_device_config_default();
  c.engine.rows = NNFB_P_ROWS;
  c.engine.cols = NNFB_P_COLS;
  c.engine.act_words = NNFB_P_ACT_WORDS;
  c.engine.w_words = NNFB_P_W_WORDS;
  c.engine.p_words = NNFB_P_P_WORDS;
  c.engine.acc_depth = NNFB_P_ACC_DEPTH;
  c.prog_words = NNFB_P_PROG_WORDS;
  c.state_words = NNFB_P_STATE_WORDS;
  c.max_payload = NNFB_P_MAX_PAYLOAD;
  c.timeout_cycles = NNFB_P_TIMEOUT;
  c.clock_hz = NNFB_P_CLOCK_HZ;
  c.vec_serial = NNFB_P_VEC_SERIAL;
#ifdef NNFB_P_HAS_CONV
  c.conv = NNFB_P_HAS_CONV;
#endif
  c.ew = NNFB_P_HAS_EW;
  c.row = NNFB_P_HAS_ROW;
  c.dw = NNFB_P_HAS_DW;
  c.dw = NNFB_P_HAS_DW;
  c.rel = NNFB_P_HAS_REL;
  c.tfl_round = NNFB_P_HAS_TFL_ROUND;
  c.engine.luts = NNFB_P_LUT_COUNT;
  c.config_id = NNFB_P_CONFIG_ID;
  return c;
}

#endif /* NNFB_BOARD_CONFIG_H */
