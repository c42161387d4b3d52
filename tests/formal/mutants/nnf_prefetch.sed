# nnf_prefetch mutant: the flag of bytes left is not cleared by the last
# request, so one more byte is requested than the answer has.
s|: req ? (left_q != {{(LEN_W-1){1'b0}}, 1'b1}) : left_nz_q;|: req ? 1'b1 : left_nz_q;   // MUTANT: one request too many|
