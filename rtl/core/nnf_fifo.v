// nnf_fifo: small synchronous FIFO, first-word fall-through, valid/ready
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
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md; tests/formal). Proved by
    // k-induction at DEPTH 4, W 8. Ghost counters f_wn / f_rn count the
    // handshakes on the two ports, so the properties speak of the ports, not
    // of the pointers they check.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    wire          f_wr = in_valid && in_ready;     // a write handshake
    wire          f_rd = out_valid && out_ready;   // a read handshake
    reg  [AW:0]   f_wn, f_rn;                      // handshakes so far (mod 2 DEPTH)
    wire [AW:0]   f_cnt = f_wn - f_rn;             // entries, as the ports see them
    always @(posedge clk) begin
        if (rst) begin
            f_wn <= {(AW+1){1'b0}};
            f_rn <= {(AW+1){1'b0}};
        end else begin
            if (f_wr) f_wn <= f_wn + 1'b1;
            if (f_rd) f_rn <= f_rn + 1'b1;
        end
    end

    // count consistent; no overflow (never more than DEPTH entries, never
    // ready when full) and no underflow (valid exactly when not empty)
    always @(*) if (f_past_valid && !rst) begin
        assert(f_cnt <= DEPTH);
        assert(full == (f_cnt == DEPTH));
        assert(in_ready == (f_cnt != DEPTH));
        assert(out_valid == (f_cnt != 0));
`ifndef FORMAL_PORTS_ONLY
        assert(wp_q == f_wn && rp_q == f_rn);       // the pointers are the counts
`endif
    end

    // order and integrity: the i-th byte read is the i-th byte written, for
    // any i (f_go picks it, any time) and any value (the value written then)
    reg           f_tracking;
    reg  [AW:0]   f_idx;        // write number of the tagged entry
    reg  [W-1:0]  f_val;        // its value
    (* anyseq *) wire f_go;
    always @(posedge clk) begin
        if (rst) begin
            f_tracking <= 1'b0;
        end else if (!f_tracking && f_wr && f_go) begin
            f_tracking <= 1'b1;
            f_idx      <= f_wn;
            f_val      <= in_data;
        end else if (f_tracking && f_rd && f_rn == f_idx) begin
            f_tracking <= 1'b0;
        end
    end
    always @(*) if (f_past_valid && !rst && f_tracking) begin
        assert((f_idx - f_rn) < f_cnt);             // still inside
`ifndef FORMAL_PORTS_ONLY
        assert(mem[f_idx[AW-1:0]] == f_val);        // not overwritten
`endif
        if (f_rd && f_rn == f_idx) assert(out_data == f_val);
    end
`endif
endmodule

`default_nettype wire
