// nnf_led_stretch: holds a status light on for STRETCH clock cycles after
// the last cycle its event was high, so a human can see a one-cycle event.
// `led` is high in the cycle after `event` and stays high while events keep
// coming, then for STRETCH - 1 more cycles. Synchronous reset: dark.
`default_nettype none

module nnf_led_stretch #(
    parameter integer STRETCH = 1 << 20       // >= 1
) (
    input  wire clk,
    input  wire rst,
    input  wire event_in,
    output wire led
);
    localparam integer SW = $clog2(STRETCH + 1);

    reg [SW-1:0] left_q;                      // cycles the light stays on
    always @(posedge clk) begin
        if (rst)                 left_q <= {SW{1'b0}};
        else if (event_in)       left_q <= STRETCH[SW-1:0];
        else if (left_q != 0)    left_q <= left_q - 1'b1;
    end
    assign led = (left_q != 0);
endmodule

`default_nettype wire
