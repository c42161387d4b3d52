// nnf_usb_crc16: the USB data CRC (x^16 + x^15 + x^2 + 1), W bits per step,
// LSB first, in the reflected form: register all ones at `init`, each bit b
// shifts it right and xors 16'hA001 when (crc[0] ^ b) is 1.
//
// Generator: after the payload `crc` is the field to send, low byte first
// (the register inverted; CRC-16/USB: "123456789" gives 16'hB4C8).
// Checker: run on over the two received CRC bytes; the register holds the
// residue 16'hB001 exactly when they match (`ok`), so the receiver checks a
// data packet without knowing where its payload ends.
//
// `init` wins over `en`. Registered: `crc` and `ok` follow one cycle after
// the step.
`default_nettype none

module nnf_usb_crc16 #(
    parameter integer W = 8                 // bits per step, 1..16
) (
    input  wire         clk,
    input  wire         init,               // restart (all ones)
    input  wire         en,                 // one step over data[W-1:0]
    input  wire [W-1:0] data,               // data[0] first on the wire
    output wire [15:0]  crc,                // the CRC field to send
    output wire         ok                  // residue reached: CRC good
);
    localparam [15:0] POLY    = 16'hA001;   // reflected 16'h8005
    localparam [15:0] RESIDUE = 16'hB001;

    reg  [15:0] c_q;
    reg  [15:0] c_d;
    integer     i;

    always @(*) begin
        c_d = c_q;
        for (i = 0; i < W; i = i + 1)
            c_d = (c_d[0] ^ data[i]) ? ((c_d >> 1) ^ POLY) : (c_d >> 1);
    end

    always @(posedge clk) begin
        if (init)    c_q <= 16'hFFFF;
        else if (en) c_q <= c_d;
    end

    assign crc = ~c_q;
    assign ok  = (c_q == RESIDUE);
endmodule

`default_nettype wire
