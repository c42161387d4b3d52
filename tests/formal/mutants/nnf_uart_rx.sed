# nnf_uart_rx mutant: a character starts on a HIGH sample, so an idle line
# keeps the receiver busy (false start after false start) for ever.
s|S_IDLE: if (!s2_q) begin           // first low sample of a start bit|S_IDLE: if (s2_q) begin   // MUTANT: starts on a high sample|
