# the answer requested two clocks early (inside the host's packet's end)
s/                    if (cnt_q == IPD\[6:0\]) begin/                    if (cnt_q == IPD[6:0] - 7'd2) begin/
