// nnf_afifo: asynchronous byte FIFO between two clock domains (the USB
// device's 48 MHz and the core's clock), first-word fall-through,
// valid/ready on both sides. DEPTH entries (a power of two, 4..256).
//
// Each side keeps a binary pointer with one extra bit (full vs empty) and
// its Gray code in a register of its own; only the Gray registers cross,
// each through two flip-flops in the other domain, so a pointer sampled
// while it changes is read as its old or its new value, never a third.
// The writer sees the reader's pointer two or three of its clocks late and
// the reader the writer's likewise: full is declared early and empty late,
// never the other way, so nothing is overwritten or read twice. The data
// RAM is written in the write domain and read combinationally in the read
// domain at an address the reader only reaches after the write's pointer
// crossed: the entry is stable long before it is read.
//
// Resets: each side has its own synchronous reset (wrst, rrst), both
// asserted together from a common source through per-domain synchronisers
// (nnf_reset_sync), held until each side has seen a clock edge. Nothing
// else crosses. The proof (tests/formal, formal_nnf_afifo) runs with both
// clocks free: any ratio, any phase, edges of either in any order.
`default_nettype none

module nnf_afifo #(
    parameter integer DEPTH = 16,
    parameter integer W     = 8
) (
    input  wire         wclk,
    input  wire         wrst,
    input  wire         in_valid,
    input  wire [W-1:0] in_data,
    output wire         in_ready,

    input  wire         rclk,
    input  wire         rrst,
    output wire         out_valid,
    output wire [W-1:0] out_data,
    input  wire         out_ready
);
    localparam integer AW = $clog2(DEPTH);

    generate
        if (DEPTH < 4 || DEPTH > 256 || (1 << AW) != DEPTH) begin : g_bad
            nnf_afifo_bad_parameter_DEPTH_must_be_a_power_of_two_4_to_256 u_bad();
        end
    endgenerate

    function automatic [AW:0] gray(input [AW:0] b);
        gray = b ^ (b >> 1);
    endfunction
    function automatic [AW:0] ungray(input [AW:0] g);
        integer i;
        begin
            ungray[AW] = g[AW];
            for (i = AW - 1; i >= 0; i = i - 1) ungray[i] = ungray[i + 1] ^ g[i];
        end
    endfunction

    reg [W-1:0] mem [0:(1 << AW) - 1];

    // ---- write domain ----
    reg  [AW:0] wbin_q, wgray_q;      // the writer's pointer, binary and Gray
    reg  [AW:0] rg1_q, rg2_q;         // the reader's Gray pointer, two flops in
    wire [AW:0] rbin_w = ungray(rg2_q);
    wire        full = (wbin_q[AW-1:0] == rbin_w[AW-1:0]) && (wbin_q[AW] != rbin_w[AW]);
    wire        wr   = in_valid && !full;
    wire [AW:0] wbin_n = wbin_q + 1'b1;
    assign in_ready = !full;

    always @(posedge wclk) begin
        if (wr) mem[wbin_q[AW-1:0]] <= in_data;
    end
    always @(posedge wclk) begin
        if (wrst) begin
            wbin_q  <= {(AW+1){1'b0}};
            wgray_q <= {(AW+1){1'b0}};
            rg1_q   <= {(AW+1){1'b0}};
            rg2_q   <= {(AW+1){1'b0}};
        end else begin
            if (wr) begin
                wbin_q  <= wbin_n;
                wgray_q <= gray(wbin_n);
            end
            rg1_q <= rgray_q;
            rg2_q <= rg1_q;
        end
    end

    // ---- read domain ----
    reg  [AW:0] rbin_q, rgray_q;      // the reader's pointer, binary and Gray
    reg  [AW:0] wg1_q, wg2_q;         // the writer's Gray pointer, two flops in
    wire        empty = (rgray_q == wg2_q);
    wire        rd    = out_ready && !empty;
    wire [AW:0] rbin_n = rbin_q + 1'b1;
    assign out_valid = !empty;
    assign out_data  = mem[rbin_q[AW-1:0]];

    always @(posedge rclk) begin
        if (rrst) begin
            rbin_q  <= {(AW+1){1'b0}};
            rgray_q <= {(AW+1){1'b0}};
            wg1_q   <= {(AW+1){1'b0}};
            wg2_q   <= {(AW+1){1'b0}};
        end else begin
            if (rd) begin
                rbin_q  <= rbin_n;
                rgray_q <= gray(rbin_n);
            end
            wg1_q <= wgray_q;
            wg2_q <= wg1_q;
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md; tests/formal, run with
    // --multiclock: clk2fflogic, both clocks free inputs sampled on the
    // solver's global clock). Ghost counters f_wn / f_rn count the two
    // ports' handshakes, so the properties speak of the ports.
    // ------------------------------------------------------------------
    // Reset: the proof starts from the reset state (every pointer and
    // copy zero) with both resets low for good: a reset sets exactly that
    // state, and the boards assert it only at power-up, from one source.
    // The two synchronisers may release apart; a side that runs first sees
    // the other's pointer at zero (its reset value), as it would with both
    // released together, so the state it reaches is one the proof covers.
    initial begin
        wbin_q = 0; wgray_q = 0; rg1_q = 0; rg2_q = 0;
        rbin_q = 0; rgray_q = 0; wg1_q = 0; wg2_q = 0;
    end
    always @(*) assume(!wrst && !rrst);

    wire          f_wr = in_valid && in_ready;
    wire          f_rd = out_valid && out_ready;
    reg  [AW:0]   f_wn = {(AW+1){1'b0}}, f_rn = {(AW+1){1'b0}};
    wire [AW:0]   f_cnt = f_wn - f_rn;
    always @(posedge wclk) if (wrst) f_wn <= {(AW+1){1'b0}}; else if (f_wr) f_wn <= f_wn + 1'b1;
    always @(posedge rclk) if (rrst) f_rn <= {(AW+1){1'b0}}; else if (f_rd) f_rn <= f_rn + 1'b1;

    // distances (mod 2 DEPTH) from the reader's pointer to the writer's
    // copies in the read domain, and from the writer's copies of the
    // reader's pointer in the write domain to the writer's pointer
    wire [AW:0]   f_w2 = ungray(wg2_q) - rbin_q, f_w1 = ungray(wg1_q) - rbin_q;
    wire [AW:0]   f_r1 = ungray(rg1_q) - ungray(rg2_q), f_r0 = rbin_q - ungray(rg2_q);
    wire [AW:0]   f_full = wbin_q - ungray(rg2_q);

    // no overflow, no underflow: never more than DEPTH entries as the ports
    // see them, a byte offered only while there is room, one read only
    // after its write
    always @(*) begin
        assert(f_cnt <= DEPTH);
        if (in_ready) assert(f_cnt < DEPTH);
        if (out_valid) assert(f_cnt != 0);
`ifndef FORMAL_PORTS_ONLY
        // the pointers are the counts; each Gray register is its pointer's
        // code; the copies that crossed lag their source in order
        assert(wbin_q == f_wn && rbin_q == f_rn);
        assert(wgray_q == gray(wbin_q) && rgray_q == gray(rbin_q));
        assert(f_w2 <= f_w1 && f_w1 <= f_cnt);
        assert(f_r1 <= f_r0 && f_r0 <= f_full);
        assert(f_full <= DEPTH);
`endif
    end

    // what crosses changes one bit per edge of its clock: a synchroniser
    // that samples it mid-change reads the old value or the new one, which
    // is why ideal sampling in this proof stands for the real flops
    reg [AW:0] f_wgray_prev = {(AW+1){1'b0}}, f_rgray_prev = {(AW+1){1'b0}};
    always @(posedge wclk) f_wgray_prev <= wgray_q;
    always @(posedge rclk) f_rgray_prev <= rgray_q;
    wire [AW:0] f_wchg = wgray_q ^ f_wgray_prev, f_rchg = rgray_q ^ f_rgray_prev;
    always @(*) begin
        assert((f_wchg & (f_wchg - 1'b1)) == 0);
        assert((f_rchg & (f_rchg - 1'b1)) == 0);
    end

    // order and integrity: the i-th byte read is the i-th byte written, for
    // any i (f_go picks it) and any value
    reg           f_tracking = 1'b0;
    reg  [AW:0]   f_idx;
    reg  [W-1:0]  f_val;
    wire f_go;                         // undriven: a free input (setundef -expose)
    always @(posedge wclk) begin
        if (wrst) begin
            f_tracking <= 1'b0;
        end else if (!f_tracking && f_wr && f_go) begin
            f_tracking <= 1'b1;
            f_idx      <= f_wn;
            f_val      <= in_data;
        end
    end
    reg f_done = 1'b0;                 // the tagged byte has been read
    always @(posedge rclk) begin
        if (rrst) f_done <= 1'b0;
        else if (f_tracking && f_rd && f_rn == f_idx) f_done <= 1'b1;
    end
    always @(*) if (f_tracking && !f_done) begin
        assert((f_idx - f_rn) < f_cnt);
`ifndef FORMAL_PORTS_ONLY
        assert(mem[f_idx[AW-1:0]] == f_val);
`endif
        if (f_rd && f_rn == f_idx) assert(out_data == f_val);
    end
`endif
endmodule

`default_nettype wire
