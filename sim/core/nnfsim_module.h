/* nnfsim_module.h - a board configuration's Verilated nnf_core as a
 * loadable module (libnnfsim_board_<board>.so, sim/core/CMakeLists.txt):
 * every configuration defines the same nnfsim_core_* names, so one process
 * reaches another configuration only through this table, which the module
 * exports as `nnfsim_module_api` (the driver's sim:board=NAME dlopens it,
 * sim:module=PATH any such file).
 *
 * NNFSIM_MODULE_ABI changes with every change of the table: the driver
 * loads only modules of its own. 2: trace_open / trace_close. */
#ifndef NNFSIM_MODULE_H
#define NNFSIM_MODULE_H

#include "nnfsim_core.h"

#define NNFSIM_MODULE_ABI 2

typedef struct {
  unsigned abi;      /* NNFSIM_MODULE_ABI */
  const char *board; /* as scripts/synth.py spells it; "" for the default sim */
  uint32_t clock_hz; /* the board's CLOCK_HZ (0: none) */
  nnfsim_core *(*create)(void);
  void (*destroy)(nnfsim_core *s);
  void (*reset)(nnfsim_core *s, unsigned cycles);
  uint64_t (*run)(nnfsim_core *s, const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out,
                  size_t out_max, size_t *out_len, uint64_t max_cycles, int flags);
  int (*idle)(const nnfsim_core *s);
  uint64_t (*cycles)(const nnfsim_core *s);
  void (*set_pacing)(nnfsim_core *s, unsigned cycles_per_byte);
  /* nnfsim_core_trace_window, nnfsim_core_trace_close */
  int (*trace_open)(nnfsim_core *s, const char *path, uint64_t from, uint64_t to);
  void (*trace_close)(nnfsim_core *s);
} nnfsim_core_api;

#endif
