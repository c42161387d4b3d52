// nnf_accum: the accumulators (docs/engine.md, "Dataflow"). Per column an
// int32 memory of ACC_DEPTH rows; each column sum from the array is added to
// the bias (first K tile) or to the row's partial sum, and on the last K
// tile the final sum goes, with the lane's m0 and shift, to the vector
// stage (fin_*) instead of back to the memory. With FIN_PARAMS = 0
// (P_SPLIT: the serial vector stage reads m0 and shift itself) only the
// sums are held, fin_m0 / fin_sh are 0, and fin_pent names the entry.
//
// Timing (X_g: the cycle lane g's sum of a row leaves the array, sum_row):
//   X_g-1  r_v[g]: lane g reads the row's partial sum
//   X_g    x_v[g] (with x_last[g]): add; write back, or (x_last) load
//          lane g's fin_* register
// SKEW = 0: the array de-skews its columns (nnf_systolic DESKEW = 1), every
// X_g is the row's X, and the P entry (p_re / p_ra, data on p_rd in X) is
// read with the row at X-1. SKEW = 1: the columns leave the array as they
// come, X_g = X - (COLS-1-g), and each lane's accesses are as late as its
// sums: the row's accumulator address is formed at lane 0's read (a_*
// tags) and passed lane to lane a cycle apart, in place of COLS-1-g cycles
// of delay for each column's 20-bit sum. fin_load (to the vector stage) is
// the last lane's, so every lane's fin_acc is loaded by then; a lane's is
// loaded again at the next row's X_g, which the streamer's spacing of
// last-K-tile rows keeps after the serial vector stage took it.
// The P pointer (p_* tags) follows the last lane: fin_pent is the entry of
// the row at its X.
// BIAS = 0 (the fabric requantizer adds each lane's bias itself, nnf_vec):
// a first K tile's row reads a word above the ACC_DEPTH rows that is never
// written and holds 0 (ZERO_INIT), so its sums start from 0 with no
// multiplexer in front of the adds, and P is not read here (p_re low).
// SKEW = 1 needs BIAS = 0 (the bias comes with the P entry, for all lanes).
// A row never reads the word the row in the cycle before it writes (the
// streamer leaves a cycle between them, nnf_gemm's hz_q), so the write has
// landed before the read and the RAMs need no read-during-write rule.
// FIN_RAM = 1 (the serial vector stage, SKEW = 1): the final sums are not
// held in a 32-bit register per lane but written to a small RAM of COLS
// words (block RAM: no flip-flops), lane g's at X_g into word g, one lane
// a cycle (the lanes of a row leave at distinct cycles, and last-K-tile
// rows are spaced); the vector stage reads word fin_ra in a cycle of
// fin_re and has it on fin_rd the next, as it reads its P words. fin_acc
// is then 0.
// RD_EARLY = 1 (nnf_gemm's PIPE_CUTS): the reads move to X_g-2 (the r_v, a_*
// and p_* tags a cycle earlier) and both block RAMs' outputs are
// registered in X_g-1, so the add in X_g starts from registers. A row then
// reads two cycles before it writes: the streamer keeps a word's rows three
// cycles apart (two waits, hz_q).
`default_nettype none

module nnf_accum #(
    parameter integer COLS      = 8,
    parameter integer P_WORDS   = 64,
    parameter integer ACC_DEPTH = 256,
    parameter integer PSUM_W    = 20,
    parameter integer FIN_PARAMS = 1,           // hold m0 / shift with the final sums
    parameter integer BIAS       = 1,           // 0: start a first K tile from 0 (above)
    parameter integer RD_EARLY   = 0,           // 1: read at X-2, outputs registered (above)
    parameter integer SKEW       = 0,           // 1: each lane at its own X_g (above)
    parameter integer FIN_RAM    = 0            // 1: the final sums in a RAM (above; needs SKEW)
) (
    input  wire        clk,
    input  wire        start,                   // a command is accepted
    input  wire [$clog2(P_WORDS)-1:0] p_base,   // its first P entry
    // the row read by lane 0 this cycle: its address
    input  wire        a_v,
    input  wire        a_row0,                  // first row of an M block
    input  wire        a_first,                 // first K tile
    // the row read by the last lane this cycle: its P entry
    input  wire        p_v,
    input  wire        p_nth,                   // first row of a new N tile: the next P entry
    // each lane's row: read (X_g-1, RD_EARLY X_g-2), add (X_g)
    input  wire [COLS-1:0] r_v,
    input  wire [COLS-1:0] x_v,
    input  wire [COLS-1:0] x_first,             // first K tile: start from the bias
    input  wire [COLS-1:0] x_last,              // last K tile: to the vector stage
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
    output wire [$clog2(P_WORDS)-1:0] fin_pent, // the P entry of the row at X (with fin_load)
    input  wire        fin_re,                  // FIN_RAM: read lane fin_ra's final sum
    input  wire [$clog2(COLS)-1:0] fin_ra,
    output wire [31:0] fin_rd                   // FIN_RAM: the sum read, the cycle after fin_re
);
    genvar g;
    localparam integer ACC_AW = $clog2(ACC_DEPTH);
    localparam integer P_AW   = $clog2(P_WORDS);
    // the word read: BIAS = 0 and a first K tile: the zero word (ZW = 1)
    localparam integer ZW     = (BIAS == 0) ? 1 : 0;
    localparam integer AD_W   = ACC_AW + ZW;
    // the address line: lane g reads at stage g*SKEW, writes 1 + RD_EARLY later
    localparam integer AD_N   = (COLS - 1) * SKEW + 1 + RD_EARLY;
    localparam [AD_W-1:0] WA_MASK = (1 << ACC_AW) - 1;   // writes: never the zero word

    generate
        if (SKEW != 0 && BIAS != 0) begin : g_bad
            nnf_accum_SKEW_needs_BIAS_0 u_bad();
        end
        if (FIN_RAM != 0 && (SKEW == 0 || FIN_PARAMS != 0)) begin : g_bad_fin
            nnf_accum_FIN_RAM_needs_SKEW_and_no_FIN_PARAMS u_bad();
        end
    endgenerate

    reg  [ACC_AW-1:0] acc_ctr_q;             // next row within the tile
    reg  [P_AW-1:0]   p_ptr_q;               // parameter entry of the row read last
    wire [ACC_AW-1:0] acc_ra = a_row0 ? {ACC_AW{1'b0}} : acc_ctr_q;
    assign p_ra = p_nth ? p_ptr_q + 1'b1 : p_ptr_q;
    assign p_re = p_v && (BIAS != 0);

    always @(posedge clk) begin
        if (start) p_ptr_q <= p_base;
        else if (p_v) p_ptr_q <= p_ra;
        if (a_v) acc_ctr_q <= acc_ra + 1'b1;
    end

    // the rows' addresses, lane 0's read first: a word with the top bit set
    // (BIAS = 0: a first K tile) is never written and reads 0, whatever the
    // bits below it
    wire [AD_W-1:0] ad [0:AD_N];
    generate
        if (BIAS == 0) begin : g_zw
            assign ad[0] = {a_first, acc_ra};
        end else begin : g_bias
            assign ad[0] = acc_ra;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_f = &{1'b0, a_first};
            /* verilator lint_on UNUSEDSIGNAL */
        end
        for (g = 1; g <= AD_N; g = g + 1) begin : g_ad
            reg [AD_W-1:0] ad_q;
            always @(posedge clk) ad_q <= ad[g-1];
            assign ad[g] = ad_q;
        end
    endgenerate

    assign fin_load = x_v[COLS-1] && x_last[COLS-1];
    generate
        if (RD_EARLY != 0) begin : g_early
            reg [P_AW-1:0] pent_q;
            always @(posedge clk) pent_q <= p_ptr_q;
            assign fin_pent = pent_q;           // the entry of the row at X
        end else begin : g_late
            assign fin_pent = p_ptr_q;          // updated at X-1 with the row's tags
        end
    endgenerate

    localparam integer LOG_C = $clog2(COLS);
    wire [COLS*32-1:0] sum_l;                   // each lane's sum, and whether it is final
    wire [COLS-1:0]    fin_l;
    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_lane
            wire [71:0]       p;
            wire [31:0]       acc_rd, acc_x;
            wire [PSUM_W-1:0] col  = sum_row[PSUM_W*g +: PSUM_W];
            wire [31:0]       init = (BIAS != 0 && x_first[g]) ? p[31:0] : acc_x;
            wire [31:0]       sum  = init + {{(32-PSUM_W){col[PSUM_W-1]}}, col};
            wire              fin  = x_v[g] && x_last[g];
            wire [AD_W-1:0]   wa   = ad[g*SKEW + 1 + RD_EARLY] & WA_MASK;
            nnf_ram #(.AW(AD_W), .NB(4), .ZERO_INIT(ZW)) u_acc (
                .clk(clk), .we({4{x_v[g] && !x_last[g]}}), .wa(wa), .wd(sum),
                .re(r_v[g]), .ra(ad[g*SKEW]), .rd(acc_rd));
            // the outputs read in X_g-1, registered for X_g (RD_EARLY)
            nnf_cut #(.W(32 + 72), .ON(RD_EARLY)) u_rd_cut (
                .clk(clk), .rst(1'b0), .d({acc_rd, p_rd[72*g +: 72]}), .q({acc_x, p}));
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_l = &{1'b0, x_first[g] && (BIAS == 0)};  // BIAS = 0: the read chose the zero word
            /* verilator lint_on UNUSEDSIGNAL */

            assign sum_l[32*g +: 32] = sum;
            assign fin_l[g]          = fin;
            // the final sum and its parameters, held for the vector stage
            if (FIN_RAM == 0) begin : g_fin_q
                reg [31:0] fin_acc_q;
                always @(posedge clk) if (fin) fin_acc_q <= sum;
                assign fin_acc[32*g +: 32] = fin_acc_q;
            end else begin : g_fin_z
                assign fin_acc[32*g +: 32] = 32'd0;
            end
            if (FIN_PARAMS != 0) begin : g_fin_p
                reg [30:0] fin_m0_q;
                reg [7:0]  fin_sh_q;
                always @(posedge clk) begin
                    if (fin) begin
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

        // FIN_RAM: the lane finishing this cycle (one at most) writes its
        // word, chosen by its index (a multiplexer by index is two iCE40
        // LUTs a bit, an AND-OR of the lanes by their flags took five);
        // otherwise fin_rd is unused
        if (FIN_RAM != 0) begin : g_fin_ram
            reg [31:0]      fw_d;
            reg [LOG_C-1:0] fw_a;
            integer j;
            always @(*) begin
                fw_a = {LOG_C{1'b0}};
                for (j = 0; j < COLS; j = j + 1)
                    if (fin_l[j]) fw_a = fw_a | j[LOG_C-1:0];
                fw_d = sum_l[32*fw_a +: 32];
            end
            nnf_ram #(.AW(LOG_C), .NB(4), .STYLE("block")) u_fin (
                .clk(clk), .we({4{|fin_l}}), .wa(fw_a), .wd(fw_d),
                .re(fin_re), .ra(fin_ra), .rd(fin_rd));
        end else begin : g_fin_nr
            assign fin_rd = 32'd0;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_fr = &{1'b0, fin_re, fin_ra, sum_l, fin_l};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
endmodule

`default_nettype wire
