// nnf_usb_rx_sample: full-speed line sampling with clock recovery. The
// clock is 48 MHz, four samples per 12 Mbit/s bit.
//
// D+ and D- pass two flip-flops each (the pins are asynchronous). Every
// change of the synchronised line state {D+, D-} marks the first sample of
// a new bit (the recovered clock resynchronises on every transition), and
// the bit is taken SAMPLE_AT samples later, then every four samples while
// the line stays put. The sample lies 1..2 samples after the true edge
// (SAMPLE_AT = 1, the default): a bit may come early or late by up to one
// sample, about 1/4 bit, and still be taken once. NRZI and bit stuffing
// guarantee a transition at least every 7 bits (28 samples), so a host
// 0.25 % off in rate drifts by 0.07 samples between resynchronisations.
//
// sym_valid: one-cycle strobe per recovered bit time, with sym = {D+, D-}
// at its sample (J = 2'b10, K = 2'b01, SE0 = 2'b00, SE1 = 2'b11).
// line: the synchronised line state at every clock (bus reset detection
// times SE0 on it). Registered outputs.
`default_nettype none

module nnf_usb_rx_sample #(
    parameter integer SAMPLE_AT = 1         // sample index within the bit, 0..3
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       dp,                   // asynchronous pins
    input  wire       dm,
    output reg        sym_valid,
    output reg  [1:0] sym,
    output wire [1:0] line
);
    reg  [1:0] s1_q, s2_q, s3_q;            // synchroniser, then the previous sample
    reg  [1:0] ph_q;                        // index within the bit of the next sample

    wire       edge_now = (s2_q != s3_q);   // this sample starts a bit
    wire [1:0] idx      = edge_now ? 2'd0 : ph_q;

    assign line = s2_q;

    always @(posedge clk) begin
        if (rst) begin
            s1_q      <= 2'b10;             // idle J (D+ pulled up)
            s2_q      <= 2'b10;
            s3_q      <= 2'b10;
            ph_q      <= 2'd0;
            sym_valid <= 1'b0;
            sym       <= 2'b10;
        end else begin
            s1_q      <= {dp, dm};
            s2_q      <= s1_q;
            s3_q      <= s2_q;
            ph_q      <= idx + 2'd1;
            sym_valid <= (idx == SAMPLE_AT[1:0]);
            sym       <= s2_q;
        end
    end
endmodule

`default_nettype wire
