# nnf_tile_walk mutant: the next m block does not lower the rows left, so a
# command with more rows than ACC_DEPTH walks the same N tile for ever.
s|                    mrem_q <= mrem_q - ACC17;|                    mrem_q <= mrem_q;   // MUTANT: never leaves the N tile|
