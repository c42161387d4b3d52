// nnf_led_stretch: holds N status lights on for at least STRETCH clock
// cycles after the last cycle their event was high, so a human can see a
// one-cycle event. Light i is high in the cycle after event_in[i] and stays
// high while events keep coming, then for STRETCH - 1 more cycles, or up to
// 2^PW more (PW below): the lights count down in ticks of 2^PW cycles from
// one free-running prescaler they share, so each keeps a counter of a few
// bits instead of one of log2(STRETCH). A STRETCH of 16 or less counts
// cycles (no prescaler): then exactly STRETCH - 1 more. Synchronous reset:
// dark.
`default_nettype none

module nnf_led_stretch #(
    parameter integer STRETCH = 1 << 20,      // >= 1
    parameter integer N       = 1             // lights
) (
    input  wire         clk,
    input  wire         rst,
    input  wire [N-1:0] event_in,
    output wire [N-1:0] led
);
    localparam integer PW = (STRETCH > 16) ? $clog2(STRETCH) - 3 : 0;   // tick: 2^PW cycles
    // ticks to count: the first may come in the next cycle, so one more
    localparam integer T  = (PW == 0) ? STRETCH : (STRETCH + (1 << PW) - 1) / (1 << PW) + 1;
    localparam integer TW = $clog2(T + 1);

    wire tick;
    generate
        if (PW == 0) begin : g_cycles
            assign tick = 1'b1;
        end else begin : g_pre
            reg [PW-1:0] pre_q;
            always @(posedge clk) pre_q <= rst ? {PW{1'b0}} : pre_q + 1'b1;
            assign tick = &pre_q;
        end
    endgenerate

    genvar i;
    generate
        for (i = 0; i < N; i = i + 1) begin : g_led
            reg [TW-1:0] left_q;                  // ticks the light stays on
            always @(posedge clk) begin
                if (rst)                         left_q <= {TW{1'b0}};
                else if (event_in[i])            left_q <= T[TW-1:0];
                else if (tick && left_q != 0)    left_q <= left_q - 1'b1;
            end
            assign led[i] = (left_q != 0);
        end
    endgenerate
endmodule

`default_nettype wire
