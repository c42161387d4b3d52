# W in one single-port RAM: the host's W write is granted even while the
# loader (or the DWCONV unit) reads, two clients on the one port.
s/wire g_hw_w = hp_we \&\& h_w \&\& !g_aw \&\& !(W_SPRAM != 0 \&\& (g_ld || g_xw));/wire g_hw_w = hp_we \&\& h_w \&\& !g_aw;/
