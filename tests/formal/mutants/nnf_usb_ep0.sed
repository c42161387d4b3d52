# SET_ADDRESS takes effect at once, before its status stage
s/                        set_addr_q <= 1'b1;/                        set_addr_q <= 1'b1; addr <= w_val_l[6:0];/
