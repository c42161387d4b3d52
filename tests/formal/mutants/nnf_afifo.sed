# nnf_afifo mutant: the reader's binary pointer crosses instead of its Gray
# code; the writer decodes it as Gray, misjudges how full the FIFO is and
# overwrites entries not yet read.
s|            rg1_q <= rgray_q;|            rg1_q <= rbin_q;   // MUTANT: binary across the domains|
