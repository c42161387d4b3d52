# nnf_prefetch mutant: the flag of bytes left is not cleared by the last
# request, so one more byte is requested than the answer has.
s|else if (req)   left_nz_q <= (left_q != {{(LEN_W-1){1'b0}}, 1'b1});|else if (req)   left_nz_q <= 1'b1;   // MUTANT: one request too many|
