# nnf_frame_rx mutant: the idle timeout never fires (at_tmo_q stays low), so
# a sender that stops inside a frame leaves the receiver busy for ever.
# (A second mutant, reporting a bad payload CRC as good, is in docs/formal.md:
# its counterexample needs a whole frame with a good header CRC, too slow
# for every `make test`.)
s|at_tmo_q <= (idle_q == TIMEOUT\[TW-1:0\] - 1'b1);|at_tmo_q <= 1'b0;   // MUTANT: no timeout|
