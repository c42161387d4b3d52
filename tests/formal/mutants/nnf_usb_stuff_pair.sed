# the stuffer sends its stuffed bit as a one
s/assign out_bit  = !stuffing \&\& in_bit;/assign out_bit  = stuffing || in_bit;/
