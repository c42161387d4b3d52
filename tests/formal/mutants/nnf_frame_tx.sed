# nnf_frame_tx mutant: the header advances whenever a byte is offered, taken
# or not, so a stalled link sees tx_data change (and loses the byte).
s|                S_HDR: if (fire) begin|                S_HDR: if (tx_valid) begin   // MUTANT: advances without tx_ready|
