# nnf_cut mutant: the valid flags not cleared by rst, so a flag registered
# in a reset cycle (a write, a read's valid) survives the reset.
s|always @(posedge clk) q_q <= rst ? (d \& ~VMASK) : d;|always @(posedge clk) q_q <= d;   // MUTANT: flags survive rst|
