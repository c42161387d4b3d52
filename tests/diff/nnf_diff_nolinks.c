/*
 * nnf_diff_nolinks.c - the board-link entry points (tests/boards/nnfb_sim.h)
 * for a fuzzer binary built on a core alone (the shipped board
 * configurations, nnfsim_core_<board>): creating a UART or FT245 device
 * fails, so `--link uart|ft245` reports that the device cannot be created;
 * the stream link is unaffected.
 */
#include <stddef.h>

#include "nnfb_sim.h"

nnfb_uart *nnfb_uart_create(unsigned div) {
  (void)div;
  return NULL;
}
void nnfb_uart_destroy(nnfb_uart *s) { (void)s; }
int nnfb_uart_step(nnfb_uart *s, int rxd) {
  (void)s;
  (void)rxd;
  return 1; /* an idle line */
}
unsigned nnfb_uart_leds(const nnfb_uart *s) {
  (void)s;
  return 0;
}
nnfb_ft245 *nnfb_ft245_create(void) { return NULL; }
void nnfb_ft245_destroy(nnfb_ft245 *s) { (void)s; }
nnfb_ft245_out nnfb_ft245_outputs(const nnfb_ft245 *s) {
  nnfb_ft245_out o = {1, 1, 1, 0, 0};
  (void)s;
  return o;
}
void nnfb_ft245_step(nnfb_ft245 *s, const nnfb_ft245_in *in) {
  (void)s;
  (void)in;
}
