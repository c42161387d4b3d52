# The host's ACT write is granted even while the output writer writes ACT:
# two writers on one port.
s/wire g_hw_act = hp_we \&\& h_act \&\& !g_ow \&\& !g_lpw;/wire g_hw_act = hp_we \&\& h_act \&\& !g_lpw;/
