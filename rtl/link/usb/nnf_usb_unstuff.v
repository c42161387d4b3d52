// nnf_usb_unstuff: USB bit unstuffing, receive side. The bit after six
// ones in a row is a stuffed zero and is dropped; a one there is a bit
// stuffing error (seven ones: the packet is bad, or the line idles).
//
// Per received bit (`in_valid` with `in_bit`, after NRZI decoding):
// `out_valid` is high unless it is the stuffed position, `err` is high when
// the stuffed position holds a one. `clear` starts a packet (the receiver
// feeds the SYNC through too: stuffing counts from its final 1).
// Combinational outputs from one 3-bit register.
`default_nettype none

module nnf_usb_unstuff (
    input  wire clk,
    input  wire rst,
    input  wire clear,          // packet start: no ones counted
    input  wire in_valid,       // one received bit
    input  wire in_bit,
    output wire out_valid,      // ... is a data bit
    output wire out_bit,
    output wire err             // ... is a one where a stuffed zero belongs
);
    reg [2:0] ones_q;           // ones in a row received, 0..6

    wire stuffed = (ones_q == 3'd6);
    assign out_valid = in_valid && !stuffed;
    assign out_bit   = in_bit;
    assign err       = in_valid && stuffed && in_bit;

    always @(posedge clk) begin
        if (rst || clear)  ones_q <= 3'd0;
        else if (in_valid) ones_q <= (in_bit && !stuffed) ? ones_q + 3'd1 : 3'd0;
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md, docs/usb.md). For any bits: `err`
    // exactly when a one follows six ones in a row (seven ones); a bit is
    // dropped exactly after six ones in a row, and only then.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    reg [2:0] f_run;            // ones in a row since clear or the last drop
    always @(posedge clk)
        if (rst || clear) f_run <= 3'd0;
        else if (in_valid) f_run <= (f_run == 3'd6) ? 3'd0 : (in_bit ? f_run + 3'd1 : 3'd0);
    always @(*) if (f_past_valid && !rst) begin
        assert(err == (in_valid && in_bit && f_run == 3'd6));
        assert(out_valid == (in_valid && f_run != 3'd6));
`ifndef FORMAL_PORTS_ONLY
        assert(f_run == ones_q);
`endif
    end
`endif
endmodule

`default_nettype wire
