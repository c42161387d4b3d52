# the stuffed zero comes after seven ones instead of six
s/assign stuffing = (ones_q == 3'd6);/assign stuffing = (ones_q == 3'd7);/
