// nnf_accum: the accumulators (docs/engine.md, "Dataflow"). Per column an
// int32 memory of ACC_DEPTH rows; each de-skewed column-sum row from the
// array is added to the bias (first K tile) or to the row's partial sum, and
// on the last K tile the final sum goes, with the lane's m0 and shift, to
// the vector stage (fin_*) instead of back to the memory. With FIN_PARAMS
// = 0 (P_SPLIT: the serial vector stage reads m0 and shift itself) only the
// sums are held, fin_m0 / fin_sh are 0, and fin_pent names the entry.
//
// Timing (X: the cycle a row's sums leave the array, sum_row):
//   X-1  tp_v with the row's tags: read its partial sums and, through the
//        P read port (p_re / p_ra, data on p_rd in X), its parameters
//   X    tx_v: add; write back, or (tx_last) load fin_* (fin_load)
// BIAS = 0 (the fabric requantizer adds each lane's bias itself, nnf_vec):
// a first K tile's row reads a word above the ACC_DEPTH rows that is never
// written and holds 0 (ZERO_INIT), so its sums start from 0 with no
// multiplexer in front of the adds, and P is not read here (p_re low).
// A row never reads the word the row in the cycle before it writes (the
// streamer leaves a cycle between them, nnf_gemm's hz_q), so the write has
// landed before the read and the RAMs need no read-during-write rule.
// RD_EARLY = 1 (nnf_gemm's PIPE_CUTS): the reads move to X-2 (tpp_v and its
// tags) and both block RAMs' outputs are registered in X-1, so the add in
// X starts from registers. A row then reads two cycles before it writes:
// the streamer keeps a word's rows three cycles apart (two waits, hz_q).
`default_nettype none

module nnf_accum #(
    parameter integer COLS      = 8,
    parameter integer P_WORDS   = 64,
    parameter integer ACC_DEPTH = 256,
    parameter integer PSUM_W    = 20,
    parameter integer FIN_PARAMS = 1,           // hold m0 / shift with the final sums
    parameter integer BIAS       = 1,           // 0: start a first K tile from 0 (above)
    parameter integer RD_EARLY   = 0            // 1: read at X-2, outputs registered (above)
) (
    input  wire        clk,
    input  wire        start,                   // a command is accepted
    input  wire [$clog2(P_WORDS)-1:0] p_base,   // its first P entry
    // the row at X-2 (tpp_*: RD_EARLY), at X-1 (tp_*) and at X (tx_*)
    input  wire        tpp_v,
    input  wire        tpp_row0,
    input  wire        tpp_nth,
    input  wire        tpp_first,
    input  wire        tp_v,
    input  wire        tp_row0,                 // first row of an M block
    input  wire        tp_nth,                  // ... of a new N tile: the next P entry
    input  wire        tp_first,                // first K tile
    input  wire        tx_v,
    input  wire        tx_first,                // first K tile: start from the bias
    input  wire        tx_last,                 // last K tile: to the vector stage
    input  wire [COLS*PSUM_W-1:0] sum_row,
    // P read port (nnf_bufs)
    output wire        p_re,
    output wire [$clog2(P_WORDS)-1:0] p_ra,
    input  wire [COLS*72-1:0] p_rd,
    // to the vector stage
    output wire        fin_load,                // fin_* load this cycle (valid from the next)
    output wire [COLS*32-1:0] fin_acc,
    output wire [COLS*31-1:0] fin_m0,
    output wire [COLS*8-1:0]  fin_sh,
    output wire [$clog2(P_WORDS)-1:0] fin_pent  // the P entry of the row at X (with fin_load)
);
    localparam integer ACC_AW = $clog2(ACC_DEPTH);
    localparam integer P_AW   = $clog2(P_WORDS);

    // the row whose words are read this cycle: at X-1, or X-2 (RD_EARLY)
    wire r_v    = (RD_EARLY != 0) ? tpp_v    : tp_v;
    wire r_row0 = (RD_EARLY != 0) ? tpp_row0 : tp_row0;
    wire r_nth  = (RD_EARLY != 0) ? tpp_nth  : tp_nth;
    wire r_first = (RD_EARLY != 0) ? tpp_first : tp_first;

    reg  [ACC_AW-1:0] acc_ctr_q;             // next row within the tile
    reg  [ACC_AW-1:0] x_ra_q;                // accumulator address of the row at X
    reg  [P_AW-1:0]   p_ptr_q;               // parameter entry of the row read last
    wire [ACC_AW-1:0] acc_ra = r_row0 ? {ACC_AW{1'b0}} : acc_ctr_q;
    assign p_ra = r_nth ? p_ptr_q + 1'b1 : p_ptr_q;
    assign p_re = r_v && (BIAS != 0);
    // the word read: BIAS = 0 and a first K tile: the zero word (ZW = 1)
    localparam integer ZW = (BIAS == 0) ? 1 : 0;
    wire [ACC_AW+ZW-1:0] acc_rra, x_wa;

    always @(posedge clk) begin
        if (start) begin
            p_ptr_q <= p_base;
        end else if (r_v) begin
            acc_ctr_q <= acc_ra + 1'b1;
            p_ptr_q   <= p_ra;
        end
    end

    wire acc_we = tx_v && !tx_last;
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_first = &{1'b0, tx_first && (BIAS == 0)};   // BIAS = 0: the read chose the zero word
    /* verilator lint_on UNUSEDSIGNAL */

    assign fin_load = tx_v && tx_last;
    generate
        if (RD_EARLY != 0) begin : g_early
            reg [ACC_AW-1:0] ra_q;           // accumulator address read last cycle
            reg [P_AW-1:0]   pent_q;
            always @(posedge clk) begin
                ra_q   <= acc_ra;
                x_ra_q <= ra_q;
                pent_q <= p_ptr_q;
            end
            assign fin_pent = pent_q;           // the entry of the row at X
        end else begin : g_late
            always @(posedge clk) x_ra_q <= acc_ra;
            assign fin_pent = p_ptr_q;          // updated at X-1 with the row's tags
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_e = &{1'b0, tpp_v, tpp_row0, tpp_nth, tpp_first};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    generate
        if (BIAS == 0) begin : g_zw
            assign acc_rra = {r_first, r_first ? {ACC_AW{1'b0}} : acc_ra};
            assign x_wa    = {1'b0, x_ra_q};
        end else begin : g_bias
            assign acc_rra = acc_ra;
            assign x_wa    = x_ra_q;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_f = &{1'b0, r_first};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    genvar g;
    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_lane
            wire [71:0]       p;
            wire [31:0]       acc_rd, acc_x;
            wire [PSUM_W-1:0] col  = sum_row[PSUM_W*g +: PSUM_W];
            wire [31:0]       init = (BIAS != 0 && tx_first) ? p[31:0] : acc_x;
            wire [31:0]       sum  = init + {{(32-PSUM_W){col[PSUM_W-1]}}, col};
            nnf_ram #(.AW(ACC_AW + ZW), .NB(4), .ZERO_INIT(ZW)) u_acc (
                .clk(clk), .we({4{acc_we}}), .wa(x_wa), .wd(sum),
                .re(r_v), .ra(acc_rra), .rd(acc_rd));
            // the outputs read in X-1, registered for X (RD_EARLY)
            nnf_cut #(.W(32 + 72), .ON(RD_EARLY)) u_rd_cut (
                .clk(clk), .rst(1'b0), .d({acc_rd, p_rd[72*g +: 72]}), .q({acc_x, p}));

            // the final sum and its parameters, held for the vector stage
            reg [31:0] fin_acc_q;
            always @(posedge clk) if (fin_load) fin_acc_q <= sum;
            assign fin_acc[32*g +: 32] = fin_acc_q;
            if (FIN_PARAMS != 0) begin : g_fin_p
                reg [30:0] fin_m0_q;
                reg [7:0]  fin_sh_q;
                always @(posedge clk) begin
                    if (fin_load) begin
                        fin_m0_q  <= p[62:32];
                        fin_sh_q  <= p[71:64];
                    end
                end
                assign fin_m0[31*g +: 31]  = fin_m0_q;
                assign fin_sh[8*g +: 8]    = fin_sh_q;
            end else begin : g_fin_nop
                assign fin_m0[31*g +: 31]  = 31'd0;
                assign fin_sh[8*g +: 8]    = 8'd0;
            end
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused = &{1'b0, p[71:32], p[31:0] & {32{BIAS == 0}}};  // m0, shift: FIN_PARAMS; bias: BIAS
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
endmodule

`default_nettype wire
