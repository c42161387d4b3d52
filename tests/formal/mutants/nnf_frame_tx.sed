# nnf_frame_tx mutant: a payload byte is popped whenever it is offered, taken
# or not, so a stalled link sees tx_data change (and loses the byte).
s|wire pop  = fire \&\& (state == S_PAY);|wire pop  = tx_valid \&\& (state == S_PAY);   // MUTANT: pops without tx_ready|
