/*
 * nnfsim_core.h - the cycle-accurate simulator of the whole device: the
 * Verilated nnf_core (rtl/core/nnf_core.v) behind a C API. The driver's
 * "sim" backend runs on it; tests and benches can drive it directly.
 *
 * Ownership: nnfsim_core_create returns a handle owned by the caller,
 * released by nnfsim_core_destroy. Buffers are borrowed for the call.
 */
#ifndef NNFSIM_CORE_H
#define NNFSIM_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nnfsim_core nnfsim_core;

/* Create the simulator (compiled-in configuration), reset and ready.
 * NULL on out of memory. */
nnfsim_core *nnfsim_core_create(void);
void nnfsim_core_destroy(nnfsim_core *s);

/* Hold reset for `cycles` (>= 1) cycles. */
void nnfsim_core_reset(nnfsim_core *s, unsigned cycles);

enum {
  NNFSIM_RUN_UNTIL_OUTPUT = 1,  /* stop after the first cycle that produced a byte */
  NNFSIM_RUN_UNTIL_QUIET = 2,   /* stop when all input is taken and the device is idle */
  NNFSIM_RUN_UNTIL_TAKEN = 4,   /* stop after the cycle that took the last input byte */
};

/* Run at most max_cycles cycles. Input bytes in[*in_used .. in_len) are
 * offered on the receive port (valid/ready), *in_used advancing as the
 * device takes them; bytes the device sends are stored in out (at most
 * out_max; the transmit port is held not-ready when out is full), *out_len
 * counting them. Returns the number of cycles run. */
uint64_t nnfsim_core_run(nnfsim_core *s, const uint8_t *in, size_t in_len, size_t *in_used,
                         uint8_t *out, size_t out_max, size_t *out_len, uint64_t max_cycles,
                         int flags);

/* Pace the link (a slow UART or USB link seen from the core): from now on
 * every byte spends `cycles_per_byte` cycles on the link. An input byte is
 * offered on the receive port only after it has waited cycles_per_byte - 1
 * cycles (counted from when it became pending or the previous byte was
 * taken); the transmit port is held not-ready until the device has offered
 * its byte for cycles_per_byte - 1 cycles. So each byte, in or out, costs
 * the core at least cycles_per_byte - 1 cycles more than at full speed.
 * The count carries across calls. 0 or 1: a byte a cycle, the default. */
void nnfsim_core_set_pacing(nnfsim_core *s, unsigned cycles_per_byte);

/* 1 when no frame, answer or program is in progress. */
int nnfsim_core_idle(const nnfsim_core *s);
/* Cycles simulated since creation. */
uint64_t nnfsim_core_cycles(const nnfsim_core *s);

/* FST waveform of the whole core (every signal of nnf_core) into path,
 * overwritten, of the cycles in the window [from, to) only: from and to
 * count cycles as nnfsim_core_cycles() does (since create, its reset
 * included); to = NNFSIM_TRACE_NO_END for no end. The trace's times are the
 * simulated time, two steps a cycle, whatever the window: cycle c is time
 * step 2c (clk low, the cycle's inputs driven: what its rising edge
 * samples) and 2c + 1 (after its rising edge). The trace starts at cycle
 * max(from, cycles now), its first step holding every signal's value, and
 * ends with step 2e, clk low again, e = min(to, cycles when it closes): so
 * it shows cycles [start, e), (last - first) / 2 of them. A window that
 * ends before it begins writes a valid FST without time steps. A trace
 * open already is closed first. 0, or -1 with errno set (the file cannot
 * be written: the FST writer does not say so itself; from > to: EINVAL). */
#define NNFSIM_TRACE_NO_END UINT64_MAX
int nnfsim_core_trace_window(nnfsim_core *s, const char *path, uint64_t from, uint64_t to);
/* The same for every cycle from now on: the window [0, NNFSIM_TRACE_NO_END). */
int nnfsim_core_trace_open(nnfsim_core *s, const char *path);
/* Write the trace's last step (above) and close the file (complete only
 * then). Without a trace open: nothing. nnfsim_core_destroy closes it too. */
void nnfsim_core_trace_close(nnfsim_core *s);

#ifdef __cplusplus
}
#endif
#endif /* NNFSIM_CORE_H */
