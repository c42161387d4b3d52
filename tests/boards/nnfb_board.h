/*
 * nnfb_board.h - a shipped board's whole top in Verilator (rtl/boards/<board>/:
 * reset synchroniser, nnf_dev_uart with its UART, nnf_core), configured with
 * exactly the parameters its bitstream is built with (scripts/synth.py,
 * tests/boards/CMakeLists.txt nnfb_board_variant). The vendor PLL is
 * vendor_stubs.v's pass-through, so the clock the test steps is the core
 * clock. One variant per executable (every variant defines these names).
 *
 * Ownership: nnfb_board_create returns a handle owned by the caller
 * (nnfb_board_destroy).
 */
#ifndef NNFB_BOARD_H
#define NNFB_BOARD_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nnfb_board nnfb_board;

/* Create, reset through the board's button (held for 8 cycles, then 16
 * cycles for the reset synchroniser), ready; the UART line idle (high).
 * NULL on out of memory. */
nnfb_board *nnfb_board_create(void);
void nnfb_board_destroy(nnfb_board *b);
/* One core clock: rxd is the line into the FPGA during this cycle; returns
 * the FPGA's transmit line after the edge. */
int nnfb_board_step(nnfb_board *b, int rxd);
/* The board's error light (framing error or receive overrun lately), 0/1. */
int nnfb_board_err_led(const nnfb_board *b);

#ifdef __cplusplus
}
#endif
#endif /* NNFB_BOARD_H */
