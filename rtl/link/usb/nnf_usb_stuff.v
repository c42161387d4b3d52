// nnf_usb_stuff: USB bit stuffing, transmit side. After six ones in a row
// on the line the next bit is a stuffed zero, which takes no data bit.
//
// One bit leaves per `tick`: `out_bit` is the bit to send in it, `in_take`
// says whether it was the data bit `in_bit` (taken) or a stuffed zero (the
// data bit waits for the next tick). `stuffing` (a stuffed zero is due)
// lets the transmitter hold its end of packet until that zero has gone out:
// a packet whose last six bits are ones ends with a stuffed zero before EOP.
// `clear` starts a packet (no ones yet; USB stuffs from the first SYNC bit
// on, and SYNC ends in one 1, which its own tick counts). Combinational
// outputs from one 3-bit register.
`default_nettype none

module nnf_usb_stuff (
    input  wire clk,
    input  wire rst,
    input  wire clear,          // packet start: no ones counted
    input  wire tick,           // one bit leaves now
    input  wire in_bit,         // the next data bit
    output wire in_take,        // ... leaves in this tick
    output wire out_bit,        // the bit on the line in this tick
    output wire stuffing        // the next bit out is a stuffed zero
);
    reg [2:0] ones_q;           // ones in a row on the line, 0..6

    assign stuffing = (ones_q == 3'd6);
    assign out_bit  = !stuffing && in_bit;
    assign in_take  = tick && !stuffing;

    always @(posedge clk) begin
        if (rst || clear)  ones_q <= 3'd0;
        else if (tick)     ones_q <= out_bit ? ones_q + 3'd1 : 3'd0;
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md, docs/usb.md). For any data bits
    // and ticks: the line never carries seven ones in a row; a data bit is
    // refused (a stuffed zero sent) only right after six ones.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    reg [3:0] f_run;            // ones in a row on the line since clear
    always @(posedge clk)
        if (rst || clear) f_run <= 4'd0;
        else if (tick)    f_run <= out_bit ? f_run + 4'd1 : 4'd0;
    always @(*) if (f_past_valid && !rst) begin
        assert(f_run <= 4'd6);
        if (tick && !in_take) assert(f_run == 4'd6 && !out_bit);
        if (tick && f_run == 4'd6) assert(!out_bit);
`ifndef FORMAL_PORTS_ONLY
        assert(f_run == {1'b0, ones_q});
`endif
    end
`endif
endmodule

`default_nettype wire
