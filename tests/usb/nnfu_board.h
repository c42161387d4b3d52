/*
 * nnfu_board.h - the whole device behind the native USB link
 * (rtl/boards/common/nnf_dev_usb.v: nnf_usb_dev, an asynchronous FIFO each
 * way, nnf_core) in Verilator, with its two clocks: the USB device's 48 MHz
 * and the core's own, at any ratio. nnfu_board_step is an nnfu_hc step
 * callback: one rising edge of the 48 MHz clock per call, and every edge of
 * the core clock that falls in that 48 MHz period, in the order of their
 * times. Configuration: that of tests/boards' nnfb_sim.h (NNFB_*), so the
 * functional model's configuration is nnfb_model_config().
 *
 * Ownership: nnfu_board_create returns a handle owned by the caller
 * (nnfu_board_destroy).
 */
#ifndef NNFU_BOARD_H
#define NNFU_BOARD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nnfu_board nnfu_board;

/* Create and reset both domains; core_hz: the core clock (any rate, e.g.
 * 84e6; 48e6 gives the same rate as USB, phase_ns its offset); the core's
 * edges come at phase + k / core_hz. NULL on out of memory or a rate <= 0. */
nnfu_board *nnfu_board_create(double core_hz, double phase_ns);
void nnfu_board_destroy(nnfu_board *b);
/* nnfu_hc_step_fn: ctx is the nnfu_board. */
int nnfu_board_step(void *ctx, int dp, int dm, int host_drives, int *dev_dp, int *dev_dm, int *dev_oe);
/* Core clock edges so far, and the status lights (bit 0 activity, 1 error, 2 running). */
uint64_t nnfu_board_core_cycles(const nnfu_board *b);
unsigned nnfu_board_leds(const nnfu_board *b);
/* The D+ pull-up (1: attached). */
int nnfu_board_pullup(const nnfu_board *b);

#ifdef __cplusplus
}
#endif
#endif /* NNFU_BOARD_H */
