// nnf_crc32: one byte of CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320),
// combinational. The running value starts at 0xFFFFFFFF; the CRC of a message
// is the final value XOR 0xFFFFFFFF (zlib's crc32). docs/protocol.md.
`default_nettype none

module nnf_crc32 (
    input  wire [31:0] crc_i,    // running value
    input  wire [7:0]  data,
    output wire [31:0] crc_o
);
    reg [31:0] c;
    integer i;
    always @(*) begin
        c = crc_i ^ {24'd0, data};
        for (i = 0; i < 8; i = i + 1)
            c = c[0] ? ((c >> 1) ^ 32'hEDB88320) : (c >> 1);
    end
    assign crc_o = c;
endmodule

`default_nettype wire
