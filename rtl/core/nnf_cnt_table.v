// nnf_cnt_table: the device's N performance counters (docs/protocol.md,
// COUNTERS), W bits each, kept in block RAM with their snapshot, so that no
// counter is a W-bit register with its own adder and no snapshot a W-bit
// register with its own load / shift multiplexer.
//
// Counter i adds amt[i] (its low AWS[i] bits) in every cycle en[i] is high,
// wraps at 2^W, and is zeroed by rst or clear (a one-cycle pulse; the
// increment of that cycle is dropped), as nnf_counters' would be.
//
// How: each counter has a small pending count p[i] of what it gained since
// it was last visited. One adder visits the counters in turn, two cycles
// each (a round of R = 2 * NS cycles, NS = N rounded up to a power of two):
//
//   c_q = 2k - 1   read live word k (RAM L), or, while k is cleared, a
//                  word above the live ones that is never written and reads
//                  0 (ZERO_INIT): the base, with no multiplexer at the adder
//   c_q = 2k       take: L[k] <= base + p[k], p[k] restarts from this
//                  cycle's increment; k is no longer cleared if the base
//                  was the zero word
//   c_q = 2k + 1   snapshot add: S[k] <= base + q[k] if a snapshot of k is
//                  pending (L's output still holds the word read)
//
// so a counter's value at cycle t is its base + p[k], and p[k] stays below
// R * 2^AWS[k]. A clear in the cycle of k's read or take leaves k cleared
// (the word read was its own): the take writes a word nobody reads (p[k]
// is 0 then), and the next turn starts from the zero word. A snapshot
// (snap, a one-cycle pulse) keeps q[k] = p[k] of that cycle and marks every
// counter; each is written to S at its next turn from a true base, at most
// R + 2 cycles later (busy until then: R + 1 for the low bytes, one more
// for the high ones, below), with the value the counter had in the snap
// cycle. rd is S[ra] the cycle after re. clear while busy is not
// allowed (the snapshot would lose the base).
`default_nettype none

module nnf_cnt_table #(
    parameter integer N  = 7,               // counters, 1..8
    parameter integer W  = 64,              // bits per counter, 8..64 by 8
    parameter integer AW = 1,               // bits of each amt field
    parameter [8*N-1:0] AWS = {N{8'd1}}     // counter i's increment bits (<= AW), byte i
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            clear,
    input  wire [N-1:0]    en,
    input  wire [N*AW-1:0] amt,
    input  wire            snap,
    output wire            busy,
    input  wire            re,
    input  wire [2:0]      ra,
    output wire [W-1:0]    rd
);
    localparam integer SW   = (N <= 1) ? 1 : $clog2(N);   // slot index bits
    localparam integer NS   = 1 << SW;                     // slots per round
    localparam integer PH_W = SW + 1;                      // c_q: slot and half
    localparam integer NB   = W / 8;

    function integer max_aws(input integer dummy);
        integer i, m;
        begin
            m = 1;
            for (i = 0; i < N; i = i + 1)
                if ({24'd0, AWS[8*i +: 8]} > m) m = {24'd0, AWS[8*i +: 8]};
            max_aws = m + dummy;
        end
    endfunction
    localparam integer PWM = max_aws(0) + PH_W;            // the widest pending count

    generate
        if (N < 1 || N > 8 || W < 8 || W > 64 || W % 8 != 0 || max_aws(0) > AW || PWM >= W) begin : g_bad
            nnf_cnt_table_bad_parameter u_bad();
        end
    endgenerate

    // the round: c_q[0] = 0 take, 1 snapshot add; c_q[PH_W-1:1] the counter
    reg  [PH_W-1:0] c_q;
    wire [SW-1:0]   k    = c_q[PH_W-1:1];
    wire            half = c_q[0];
    always @(posedge clk) c_q <= rst ? {PH_W{1'b0}} : c_q + 1'b1;

    wire [NS-1:0]    clr_q;    // counter i reads 0 until its next take
    wire [NS-1:0]    sn_q;     // counter i's snapshot is still to be written
    reg              rz_q;     // the word read is the zero word (the counter was cleared)
    wire [PWM-1:0]   opnd [0:2*NS-1];

    genvar i;
    generate
        for (i = 0; i < NS; i = i + 1) begin : g_cnt
            if (i < N) begin : g_on
                localparam integer A  = {24'd0, AWS[8*i +: 8]};
                localparam integer PW = A + PH_W;
                wire          take = (c_q == 2 * i);
                wire [PW-1:0] inc  = en[i] ? {{PH_W{1'b0}}, amt[AW*i +: A]} : {PW{1'b0}};
                reg  [PW-1:0] p_q, q_q;
                reg           clr_b_q, sn_b_q;
                always @(posedge clk) begin
                    // (a take from a word that is not its base, a cleared
                    // counter's own word read before the clear, has p = 0:
                    // the clear came at the read or the take)
                    if (rst || clear)  p_q <= {PW{1'b0}};
                    else if (take)     p_q <= inc;
                    else               p_q <= p_q + inc;
                    if (snap) q_q <= p_q;
                    if (rst || clear)  clr_b_q <= 1'b1;
                    else if (take && rz_q) clr_b_q <= 1'b0;   // its base was 0
                    if (rst)                        sn_b_q <= 1'b0;
                    else if (snap)                  sn_b_q <= 1'b1;
                    // written, unless from a word that is not its base: then
                    // again at the next turn, from the zero word
                    else if (c_q == 2 * i + 1 && (rz_q || !clr_b_q)) sn_b_q <= 1'b0;
                end
                assign clr_q[i] = clr_b_q;
                assign sn_q[i]  = sn_b_q;
                if (PW < PWM) begin : g_ext
                    assign opnd[2*i]     = {{(PWM-PW){1'b0}}, p_q};
                    assign opnd[2*i + 1] = {{(PWM-PW){1'b0}}, q_q};
                end else begin : g_full
                    assign opnd[2*i]     = p_q;
                    assign opnd[2*i + 1] = q_q;
                end
                if (A < AW) begin : g_unused
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire unused = &{1'b0, amt[AW*i+A +: AW-A]};
                    /* verilator lint_on UNUSEDSIGNAL */
                end
            end else begin : g_off
                assign clr_q[i]      = 1'b0;
                assign sn_q[i]       = 1'b0;
                assign opnd[2*i]     = {PWM{1'b0}};
                assign opnd[2*i + 1] = {PWM{1'b0}};
            end
        end
    endgenerate

    // The one adder: the take's base + p[k], then the snapshot's base +
    // q[k]. It is split: the low LB bytes are added in the cycle (their
    // word read at 2k - 1, as above), the high HB bytes the next cycle with
    // the low half's carry (their word read a cycle later, at 2k, into RAMs
    // of their own; written at 2k + 1 for the take, 2k + 2 for the
    // snapshot), so the carry chain behind the operand multiplexer is half
    // as long. busy covers the last high write.
    localparam integer LB = (NB + 1) / 2;     // low bytes
    localparam integer HB = NB - LB;          // high bytes (none when W = 8)
    localparam integer LW = 8 * LB;
    wire [W-1:0]  op   = {{(W-PWM){1'b0}}, opnd[c_q]};
    wire [LW-1:0] v_lo;                      // L[k]'s low bytes, read at c_q = 2k - 1
    wire [LW:0]   sum_lo = {1'b0, v_lo} + {1'b0, op[LW-1:0]};
    wire          live = ({1'b0, k} < N[SW:0]);
    // the next counter's word, or for a cleared counter a word above the
    // NS live ones that is never written and reads 0 (ZERO_INIT): no
    // multiplexer before the adder
    wire [SW-1:0] kn = k + 1'b1;
    wire          rz = clr_q[kn];
    always @(posedge clk) if (rst) rz_q <= 1'b0; else if (half) rz_q <= rz;

    nnf_ram #(.AW(SW + 1), .NB(LB), .ZERO_INIT(1)) u_live (
        .clk(clk), .we({LB{live && !half}}), .wa({1'b0, k}), .wd(sum_lo[LW-1:0]),
        .re(half), .ra({rz, kn}), .rd(v_lo));
    nnf_ram #(.AW(SW), .NB(LB)) u_snap (
        .clk(clk), .we({LB{half && sn_q[k]}}), .wa(k), .wd(sum_lo[LW-1:0]),
        .re(re), .ra(ra[SW-1:0]), .rd(rd[LW-1:0]));

    generate
        if (HB > 0) begin : g_hi
            localparam integer HW = 8 * HB;
            // the low half's step, a cycle on: its operand's high bits, its
            // carry, whether it wrote L (a take) or S (a snapshot add), k
            reg  [HW-1:0] op_hi_q;
            reg           c_lo_q, l_we_q, s_we_q;
            reg  [SW-1:0] k_q;
            always @(posedge clk) begin
                op_hi_q <= op[W-1:LW];
                c_lo_q  <= sum_lo[LW];
                l_we_q  <= live && !half;
                s_we_q  <= !rst && half && sn_q[k];
                k_q     <= k;
            end
            // L[k]'s high bytes, read at c_q = 2k (the same word as the low
            // half's read: rz_q is that read's rz), held through 2k + 2
            wire [HW-1:0] v_hi;
            wire [HW-1:0] sum_hi = v_hi + op_hi_q + {{(HW-1){1'b0}}, c_lo_q};
            nnf_ram #(.AW(SW + 1), .NB(HB), .ZERO_INIT(1)) u_live_hi (
                .clk(clk), .we({HB{l_we_q}}), .wa({1'b0, k_q}), .wd(sum_hi),
                .re(!half), .ra({rz_q, k}), .rd(v_hi));
            nnf_ram #(.AW(SW), .NB(HB)) u_snap_hi (
                .clk(clk), .we({HB{s_we_q}}), .wa(k_q), .wd(sum_hi),
                .re(re), .ra(ra[SW-1:0]), .rd(rd[W-1:LW]));
            assign busy = |sn_q || s_we_q;
        end else begin : g_lo_only
            assign busy = |sn_q;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_c = sum_lo[LW];           // the counter wraps
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    generate
        if (SW < 3) begin : g_ra_unused
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_ra = &{1'b0, ra[2:SW]};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
endmodule

`default_nettype wire
