# the packet's length taken one byte late: a byte arriving at `begin` joins it
# (the host got len bytes, the ACK would release len + 1)
s/                lock_len_q <= count_q;/                lock_len_q <= count_q + {6'd0, push};/
