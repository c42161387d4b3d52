// nnf_usb_crc5: the USB token CRC (x^5 + x^2 + 1), W bits per step, LSB
// first, in the reflected form: register all ones at `init`, each bit b
// shifts it right and xors 5'b10100 when (crc[0] ^ b) is 1.
//
// Generator: after the token's 11 bits (address then endpoint, or the frame
// number) `crc` is the field to send, least significant bit first (the
// register inverted). Checker: after the 11 bits and the 5 received CRC
// bits the register holds the residue 5'b00110 exactly when they match
// (`ok`), so a receiver never needs to know where the CRC starts: a token's
// two bytes after the PID are 16 bits, two steps of W = 8.
//
// `init` wins over `en` (both in one cycle: the register restarts and the
// data is not counted). Registered: `crc` and `ok` follow the register one
// cycle after the step.
`default_nettype none

module nnf_usb_crc5 #(
    parameter integer W = 8                 // bits per step, 1..16
) (
    input  wire         clk,
    input  wire         init,               // restart (all ones)
    input  wire         en,                 // one step over data[W-1:0]
    input  wire [W-1:0] data,               // data[0] first on the wire
    output wire [4:0]   crc,                // the CRC field to send
    output wire         ok                  // residue reached: CRC good
);
    localparam [4:0] POLY    = 5'b10100;    // x^5 + x^2 + 1, reflected
    localparam [4:0] RESIDUE = 5'b00110;

    reg  [4:0] c_q;
    reg  [4:0] c_d;
    integer    i;

    always @(*) begin
        c_d = c_q;
        for (i = 0; i < W; i = i + 1)
            c_d = (c_d[0] ^ data[i]) ? ((c_d >> 1) ^ POLY) : (c_d >> 1);
    end

    always @(posedge clk) begin
        if (init)    c_q <= 5'h1F;
        else if (en) c_q <= c_d;
    end

    assign crc = ~c_q;
    assign ok  = (c_q == RESIDUE);
endmodule

`default_nettype wire
