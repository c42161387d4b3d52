# D- driven with the NRZI level instead of its complement (J becomes SE1)
s/                        dm_o  <= !(lvl_q ^ !out_bit);/                        dm_o  <= (lvl_q ^ !out_bit);/
