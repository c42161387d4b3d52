// nnf_fifo: small synchronous byte FIFO, first-word fall-through, valid/ready
// on both sides. DEPTH entries (power of two, 2..256) in a register array,
// read combinationally (LUT RAM on ECP5, flip-flops on iCE40: keep it small).
`default_nettype none

module nnf_fifo #(
    parameter integer DEPTH = 16,
    parameter integer W     = 8
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         in_valid,
    input  wire [W-1:0] in_data,
    output wire         in_ready,
    output wire         out_valid,
    output wire [W-1:0] out_data,
    input  wire         out_ready,
    output wire         full
);
    localparam integer AW = $clog2(DEPTH);

    generate
        if (DEPTH < 2 || DEPTH > 256 || (1 << AW) != DEPTH) begin : g_bad
            nnf_fifo_bad_parameter_DEPTH_must_be_a_power_of_two_2_to_256 u_bad();
        end
    endgenerate

    reg [W-1:0] mem [0:(1 << AW) - 1];  // DEPTH entries (a power of two, checked above)
    reg [AW:0]  wp_q, rp_q;             // one extra bit tells full from empty

    wire empty = (wp_q == rp_q);
    assign full      = (wp_q[AW-1:0] == rp_q[AW-1:0]) && (wp_q[AW] != rp_q[AW]);
    assign in_ready  = !full;
    assign out_valid = !empty;
    assign out_data  = mem[rp_q[AW-1:0]];

    always @(posedge clk) begin
        if (in_valid && !full) mem[wp_q[AW-1:0]] <= in_data;
    end

    always @(posedge clk) begin
        if (rst) begin
            wp_q <= {(AW+1){1'b0}};
            rp_q <= {(AW+1){1'b0}};
        end else begin
            if (in_valid && !full)    wp_q <= wp_q + 1'b1;
            if (out_ready && !empty)  rp_q <= rp_q + 1'b1;
        end
    end
endmodule

`default_nettype wire
