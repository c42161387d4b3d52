# nnf_uart_tx mutant: one bit short (no stop bit); the transmitter is
# ready for the next byte while the last data bit is still on the line.
s|left_q <= 4'd9;|left_q <= 4'd8;   // MUTANT: no stop bit|
