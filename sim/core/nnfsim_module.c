/* nnfsim_module.c - the table a board module exports (nnfsim_module.h);
 * NNFSIM_MODULE_BOARD and NNFSIM_MODULE_CLOCK_HZ come from the build. */
#include "nnfsim_module.h"

__attribute__((visibility("default"))) const nnfsim_core_api nnfsim_module_api = {
    NNFSIM_MODULE_ABI,        NNFSIM_MODULE_BOARD,     NNFSIM_MODULE_CLOCK_HZ, nnfsim_core_create,
    nnfsim_core_destroy,      nnfsim_core_reset,       nnfsim_core_run,        nnfsim_core_idle,
    nnfsim_core_cycles,       nnfsim_core_set_pacing,  nnfsim_core_trace_window,
    nnfsim_core_trace_close,
};
