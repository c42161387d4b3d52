# the receiver drops the bit after five ones (and errs on a one there)
s/wire stuffed = (ones_q == 3'd6);/wire stuffed = (ones_q == 3'd5);/
