# W in one single-port RAM: the host's W write is granted even while the
# loader reads, two clients on the one port.
s/wire g_hw_w = hp_we \&\& h_w \&\& !g_aw \&\& !(W_SPRAM != 0 \&\& g_ld);/wire g_hw_w = hp_we \&\& h_w \&\& !g_aw;/
