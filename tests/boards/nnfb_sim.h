/*
 * nnfb_sim.h - the board-level device in Verilator, bit by bit: nnf_dev_uart
 * (rtl/core/nnf_dev_uart.v: UART adapter + nnf_core, as the UART board tops
 * instantiate it), clocked one cycle per call, for a bit-level peer in C.
 * Configuration (compiled in, tests/boards/CMakeLists.txt): NNFB_* below.
 *
 * Ownership: *_create returns a handle owned by the caller (*_destroy).
 */
#ifndef NNFB_SIM_H
#define NNFB_SIM_H

#ifdef __cplusplus
extern "C" {
#endif

/* the configuration the Verilated models are built with (and the model must use) */
enum {
  NNFB_ROWS = 2, NNFB_ACT_WORDS = 256, NNFB_W_WORDS = 256, NNFB_P_WORDS = 16,
  NNFB_ACC_DEPTH = 64, NNFB_VEC_SERIAL = 1, NNFB_PROG_WORDS = 16, NNFB_MAX_PAYLOAD = 1024,
  NNFB_TIMEOUT = 65536, NNFB_STATE_WORDS = 256
};

typedef struct nnfb_uart nnfb_uart;

/* Create, reset, ready; div = clocks per bit. NULL on out of memory. */
nnfb_uart *nnfb_uart_create(unsigned div);
void nnfb_uart_destroy(nnfb_uart *s);
/* One clock: rxd is the line level during this cycle; returns txd after the edge. */
int nnfb_uart_step(nnfb_uart *s, int rxd);
/* Status lights: bit 0 activity, bit 1 error, bit 2 running. */
unsigned nnfb_uart_leds(const nnfb_uart *s);

typedef struct nnfb_ft245 nnfb_ft245;

/* The FT245 synchronous FIFO top (tests/boards/tb_ft245_core.v). */
typedef struct {
  int rxf_n, txe_n;       /* from the bridge */
  unsigned d_in;          /* bus as the bridge drives it (valid when oe_n low) */
} nnfb_ft245_in;
typedef struct {
  int rd_n, wr_n, oe_n;   /* to the bridge */
  unsigned d_out;         /* bus as the FPGA drives it */
  int d_oe;               /* 1: the FPGA drives the bus */
} nnfb_ft245_out;

nnfb_ft245 *nnfb_ft245_create(void);
void nnfb_ft245_destroy(nnfb_ft245 *s);
/* Outputs as they are now (registered: stable between edges). */
nnfb_ft245_out nnfb_ft245_outputs(const nnfb_ft245 *s);
/* One clock edge with these inputs. */
void nnfb_ft245_step(nnfb_ft245 *s, const nnfb_ft245_in *in);

#ifdef __cplusplus
}
#endif
#endif /* NNFB_SIM_H */
