# nnf_cut mutant (ON = 0): the wire inverts a bit, so the "no cut" build
# would not be the design it claims to be.
s|            assign q = d;|            assign q = d ^ {{(W-1){1'b0}}, 1'b1};   // MUTANT: not a wire|
