// nnf_usb_stuff_pair: the USB bit stuffer feeding the unstuffer, one line
// bit per clock (formal only: tests/formal, docs/formal.md). For any data
// bits and packet starts (clear on both sides, as nnf_usb_tx and nnf_usb_rx
// clear them between packets): the unstuffer never reports a stuffing
// error on the stuffer's line, it hands out exactly the bits the stuffer
// took, in order (it drops exactly the stuffed zeros), and the line never
// carries seven ones in a row.
`default_nettype none

module nnf_usb_stuff_pair (
    input  wire clk,
    input  wire rst,
    input  wire clear,
    input  wire in_bit,
    output wire out_valid,
    output wire out_bit
);
    wire take, line_bit, stuffing, err;
    nnf_usb_stuff u_stuff (
        .clk(clk), .rst(rst), .clear(clear), .tick(1'b1), .in_bit(in_bit),
        .in_take(take), .out_bit(line_bit), .stuffing(stuffing));
    nnf_usb_unstuff u_unstuff (
        .clk(clk), .rst(rst), .clear(clear), .in_valid(1'b1), .in_bit(line_bit),
        .out_valid(out_valid), .out_bit(out_bit), .err(err));
`ifdef FORMAL
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);
    reg [3:0] f_run;                // ones in a row on the line
    always @(posedge clk)
        if (rst || clear) f_run <= 4'd0;
        else              f_run <= line_bit ? f_run + 4'd1 : 4'd0;
    always @(*) if (f_past_valid && !rst) begin
        assert(!err);
        assert(out_valid == take);              // a data bit through, or a stuffed zero dropped
        if (out_valid) assert(out_bit == in_bit);
        assert(f_run <= 4'd6);
        assert(stuffing == (f_run == 4'd6));
    end
`endif
endmodule

`default_nettype wire
