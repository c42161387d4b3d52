# nnf_fifo mutant: ready while full, so a byte offered to a full FIFO is
# taken by the handshake and then dropped (the write enable still checks full).
s|assign in_ready  = !full;|assign in_ready  = 1'b1;   // MUTANT: drops a byte when full|
