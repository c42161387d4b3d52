# a SYNC found starts the packet without rx_start
s/                        rx_start <= 1'b1;/                        rx_start <= 1'b0;/
