// nnf_vec: the vector stage (docs/engine.md, "Dataflow"; docs/numerics.md).
// Per lane: requantize the final sum (nnf_requant: multiply by m0, round,
// shift, add the output zero point, clamp to lo..hi), then, when the command
// asks for it, the 256-entry activation LUT (its copies live in nnf_bufs:
// lut_ra in, lut_rd the next cycle).
//   VEC_SERIAL = 0: one nnf_requant per lane and a LUT copy each; a row per
//                   cycle; o_we 7 cycles after fin_load (PIPE_CUTS: 8, o_row
//                   from a register, not from the LUT's block RAM).
//   VEC_SERIAL = 1: VEC_LANES shared nnf_requants and LUT copies visit the
//                   lanes a group of VEC_LANES at a time (the streamer spaces
//                   last-K-tile rows G = COLS / VEC_LANES cycles apart);
//                   o_we 7 + G cycles after fin_load (PIPE_CUTS: 8 + G, the
//                   group's operands registered after the mux). It reads
//                   each group's m0 and shift itself as VEC_SERIAL = 2 does
//                   (P_SPLIT; VEC_LANES words at once, nnf_bufs PM_LANES),
//                   a group a cycle: group 0's in the fin_load cycle, group
//                   N+1's in group N's.
//   VEC_SERIAL = 2: no DSP: one requantizer in the fabric visits the lanes,
//                   FAB_STEPS (17) cycles each: the product acc * m0 by
//                   sixteen radix-4 Booth steps (a 35-bit add of 0, +-acc
//                   or +-2acc a cycle, the partial product shifting right
//                   two bits; radix 8 took 5 fewer cycles but its 3 * acc
//                   about 120 more iCE40 LCs), then nnf_requant_tail as in
//                   nnf_requant; the streamer spaces last-K-tile rows
//                   COLS * FAB_STEPS cycles apart; o_we 5 + COLS * FAB_STEPS
//                   cycles after fin_load. It reads each lane's bias, m0
//                   and shift itself (P_SPLIT = 2 in nnf_bufs: entry
//                   fin_pent, pm_re / pm_ra, data on pm_rd and pm_bias the
//                   next cycle): lane 0's in the fin_load cycle, lane
//                   L+1's in lane L's last step, so each arrives for its
//                   lane's step 0, where the bias is added to the lane's
//                   sum (the accumulators start from 0: nnf_accum BIAS = 0).
//                   It reads each lane's final sum the same way, from
//                   nnf_accum's RAM of them (FIN_RAM: fin_re / fin_ra,
//                   data on fin_rd the next cycle), not from fin_acc.
// With VEC_SERIAL != 0, fin_m0 / fin_sh are not used.
// fin_* are held from the cycle after fin_load until the next fin_load;
// zp / lo / hi / rnd / lut are the command's, held while the engine is busy.
`default_nettype none

module nnf_vec #(
    parameter integer COLS       = 8,
    parameter integer VEC_SERIAL = 0,
    parameter integer VEC_LANES  = 1,          // VEC_SERIAL = 1: lanes requantized a cycle (1, 2, 4, ...,
                                               // fewer than COLS): COLS / VEC_LANES cycles a row
    parameter integer FAB_STEPS  = 17,         // VEC_SERIAL = 2: cycles per lane (nnf_gemm's spacing)
    parameter integer P_WORDS    = 64,         // VEC_SERIAL != 0: P entries (the width of fin_pent)
    parameter integer TFL_ROUND  = 0,          // 1: rnd chooses TFLite's double rounding
    parameter integer PIPE_CUTS  = 0           // 1: VEC_SERIAL = 0: the LUT's output registered
                                               // before o_row; 1: the lane's operands registered
                                               // (o_we a cycle later, both)
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        fin_load,
    input  wire [COLS*32-1:0] fin_acc,
    input  wire [COLS*31-1:0] fin_m0,
    input  wire [COLS*8-1:0]  fin_sh,
    input  wire [$clog2(P_WORDS)-1:0] fin_pent,  // VEC_SERIAL != 0: the row's P entry, with fin_load
    output wire        fin_re,                   // VEC_SERIAL = 2: lane fin_ra's final sum read
    output wire [$clog2(COLS)-1:0] fin_ra,
    input  wire [31:0] fin_rd,                   // ... on fin_rd the next cycle
    output wire        pm_re,                    // VEC_SERIAL != 0: m0 / shift reads (else 0)
    output wire [$clog2(P_WORDS)+$clog2(COLS)-1:0] pm_ra,
    input  wire [(VEC_SERIAL == 1 ? VEC_LANES : 1)*40-1:0] pm_rd,  // lane j's of the group at 40*j
    input  wire [31:0] pm_bias,                 // VEC_SERIAL = 2: the lane's bias, with pm_rd
    input  wire [7:0]  zp,
    input  wire [7:0]  lo,
    input  wire [7:0]  hi,
    input  wire        rnd,                    // TFLite's double rounding (TFL_ROUND = 1)
    input  wire        lut,
    output wire [(VEC_SERIAL == 1 ? VEC_LANES : VEC_SERIAL != 0 ? 1 : COLS)*8-1:0] lut_ra,
    input  wire [(VEC_SERIAL == 1 ? VEC_LANES : VEC_SERIAL != 0 ? 1 : COLS)*8-1:0] lut_rd,
    output wire [COLS*8-1:0] o_row,            // int8 results, with o_we
    output wire        o_we,
    output wire        idle                    // nothing in flight
);
    localparam integer LOG_C = $clog2(COLS);
    localparam integer VLAT  = 7;              // fin_load -> o_we (parallel)
    localparam integer P_AW  = $clog2(P_WORDS);
    localparam integer PM_AW = P_AW + LOG_C;

    genvar g;
    // per-lane values as arrays (the serial stages): a lane chosen at run
    // time is a mux
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] acc_arr [0:COLS-1];
    /* verilator lint_on UNUSEDSIGNAL */
    // The serial requantizers' m0 / shift reads (VEC_SERIAL != 0): lane 0
    // of the row's entry with fin_load, then lane pm_lane of the entry
    // latched then; each serial branch drives pm_re and pm_lane.
    reg  [P_AW-1:0]  pent_q;
    wire [LOG_C-1:0] pm_lane;
    always @(posedge clk) if (fin_load) pent_q <= fin_pent;
    wire [PM_AW-1:0] pm_ra_ser = fin_load ? {fin_pent, {LOG_C{1'b0}}} : {pent_q, pm_lane};
    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_arr
            assign acc_arr[g] = fin_acc[32*g +: 32];
        end
        if (VEC_SERIAL == 0) begin : g_par
            // vl_q[i] is valid at fin_load + 1 + i
            localparam integer VL = VLAT + ((PIPE_CUTS != 0) ? 1 : 0);
            reg  [VL-1:0]     vl_q;
            wire [COLS*8-1:0] q_all;
            reg  [COLS*8-1:0] req_q;
            wire [COLS*8-1:0] row = lut ? lut_rd : req_q;
            always @(posedge clk) begin
                if (rst) vl_q <= {VL{1'b0}};
                else     vl_q <= {vl_q[VL-2:0], fin_load};
                req_q <= q_all;
            end
            nnf_cut #(.W(COLS*8), .ON(PIPE_CUTS)) u_row_cut (
                .clk(clk), .rst(rst), .d(row), .q(o_row));
            for (g = 0; g < COLS; g = g + 1) begin : g_lane
                nnf_requant #(.TFL_ROUND(TFL_ROUND)) u_rq (
                    .clk(clk), .acc(fin_acc[32*g +: 32]), .m0(fin_m0[31*g +: 31]),
                    .shift(fin_sh[8*g +: 8]), .rnd(rnd), .zp(zp), .lo(lo), .hi(hi),
                    .q(q_all[8*g +: 8]));
            end
            assign lut_ra = q_all;
            assign o_we   = vl_q[VL-1];
            assign idle   = (vl_q == {VL{1'b0}});
            assign pm_re   = 1'b0;
            assign pm_ra   = {(PM_AW){1'b0}};
            assign pm_lane = {LOG_C{1'b0}};
            assign fin_re  = 1'b0;
            assign fin_ra  = {LOG_C{1'b0}};
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_pm = &{1'b0, pm_rd, pm_ra_ser, pm_bias, fin_rd};
            /* verilator lint_on UNUSEDSIGNAL */
        end else if (VEC_SERIAL == 1) begin : g_ser
            // VEC_LANES lanes a cycle, each through its own nnf_requant and
            // LUT copy: ser_lane_q is the group's first lane (COLS = idle),
            // stepping by VEC_LANES; a group's m0 / shift words come
            // together (nnf_bufs PM_LANES), lane first + j's on pm_rd[40*j]
            localparam integer L     = VEC_LANES;
            localparam integer G     = COLS / VEC_LANES;   // groups, one a cycle
            localparam integer LOG_G = $clog2(G);
            localparam integer LOG_L = $clog2(VEC_LANES);
            localparam integer     LAST_I = COLS - VEC_LANES;
            localparam [LOG_C:0]   LSTEP = VEC_LANES[LOG_C:0];
            localparam [LOG_C-1:0] LASTG = LAST_I[LOG_C-1:0];  // the last group's first lane
            reg  [LOG_C:0]    ser_lane_q;
            // group's first lane and valid, delayed to the LUT output (6 cycles)
            reg  [LOG_C-1:0]  sl_q [0:5];
            reg  [5:0]        sv_q;
            reg  [COLS*8-1:0] row_q;
            reg               we_q;
            wire              ser_on = !ser_lane_q[LOG_C];
            wire [LOG_C-1:0]  lane   = ser_lane_q[LOG_C-1:0];
            wire [LOG_C-1:0]  gi_c   = lane >> LOG_L;      // the group's number
            wire [LOG_G-1:0]  gi     = gi_c[LOG_G-1:0];
            wire [L*8-1:0]    q;
            reg  [L*8-1:0]    req_q;
            integer i;
            wire              rq_on;             // the group at the requantizers' inputs
            wire [LOG_C-1:0]  rq_lane;
            wire [L*32-1:0]   op_acc, rq_acc;
            wire [L*31-1:0]   op_m0, rq_m0;
            wire [L*8-1:0]    op_sh, rq_sh;
            // m0 / shift reads: group 0's with fin_load, group G+1's in group
            // G's cycle: pm_rd holds the group's in its cycle
            assign pm_re   = fin_load || (ser_on && lane != LASTG);
            assign pm_lane = lane + LSTEP[LOG_C-1:0];
            assign pm_ra   = pm_ra_ser;
            always @(posedge clk) begin
                if (rst) begin
                    ser_lane_q <= COLS[LOG_C:0];
                    sv_q       <= 6'd0;
                    we_q       <= 1'b0;
                end else begin
                    if (fin_load)    ser_lane_q <= {(LOG_C+1){1'b0}};
                    else if (ser_on) ser_lane_q <= ser_lane_q + LSTEP;
                    sv_q <= {sv_q[4:0], rq_on};
                    we_q <= sv_q[5] && (sl_q[5] == LASTG);
                end
                sl_q[0] <= rq_lane;
                for (i = 1; i < 6; i = i + 1) sl_q[i] <= sl_q[i-1];
                req_q <= q;
            end
            for (g = 0; g < L; g = g + 1) begin : g_sl
                // lane first + g of the group: its final sum by the group mux
                wire [31:0] acc_g [0:G-1];
                genvar h;
                for (h = 0; h < G; h = h + 1) begin : g_ag
                    assign acc_g[h] = acc_arr[h*L + g];
                end
                assign op_acc[32*g +: 32] = acc_g[gi];
                assign op_m0[31*g +: 31]  = pm_rd[40*g +: 31];
                assign op_sh[8*g +: 8]    = pm_rd[40*g+32 +: 8];
                nnf_requant #(.TFL_ROUND(TFL_ROUND)) u_rq (
                    .clk(clk), .acc(rq_acc[32*g +: 32]), .m0(rq_m0[31*g +: 31]),
                    .shift(rq_sh[8*g +: 8]), .rnd(rnd), .zp(zp), .lo(lo), .hi(hi),
                    .q(q[8*g +: 8]));
            end
            // output lane g: lane g mod L of group g / L (its first lane g - g mod L)
            for (g = 0; g < COLS; g = g + 1) begin : g_ow
                localparam integer     J  = g % L;
                localparam integer     F  = g - J;
                localparam [LOG_C-1:0] FL = F[LOG_C-1:0];
                always @(posedge clk)
                    if (sv_q[5] && sl_q[5] == FL) row_q[8*g +: 8] <= lut ? lut_rd[8*J +: 8] : req_q[8*J +: 8];
            end
            // the group's operands into the requantizers: chosen by the group
            // mux, or with PIPE_CUTS registered after it (a cycle later, the
            // mux then not on the multipliers' paths)
            nnf_cut #(.W(1 + LOG_C + L*(32 + 31 + 8)), .ON(PIPE_CUTS), .RV(1)) u_op_cut (
                .clk(clk), .rst(rst), .d({ser_on, lane, op_acc, op_m0, op_sh}),
                .q({rq_on, rq_lane, rq_acc, rq_m0, rq_sh}));
            assign lut_ra = q;
            assign o_row  = row_q;
            assign o_we   = we_q;
            assign idle   = !ser_on && !rq_on && (sv_q == 6'd0) && !we_q;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_pm = &{1'b0, pm_rd, fin_m0, fin_sh, pm_bias, fin_rd, gi_c};
            /* verilator lint_on UNUSEDSIGNAL */
            assign fin_re = 1'b0;
            assign fin_ra = {LOG_C{1'b0}};
        end else if (VEC_SERIAL == 2) begin : g_fab
            if (FAB_STEPS != 17) begin : g_bad
                nnf_vec_bad_parameter_FAB_STEPS_must_be_17 u_bad();
            end
            localparam integer HW = 35;             // partial product, high part
            localparam integer LW = 32;             // its low part: 16 steps of 2 bits
            reg  [LOG_C:0]    lane_q;               // the lane multiplied (COLS: none)
            reg  [4:0]        step_q;               // 0: load it, 1..16: Booth steps
            wire              run  = !lane_q[LOG_C];
            wire [LOG_C-1:0]  lane = lane_q[LOG_C-1:0];
            wire              last_step = (step_q == 5'd16);
            // the lane's operand, taken at step 0
            reg  signed [33:0] acc_q;
            reg  [32:0]       mx_q;                 // {0, m0, 0} >> 2 per step: the digit is mx_q[2:0]
            reg  [5:0]        km1_q;                // k - 1 = 30 - shift (mod 64)
            reg  [HW-1:0]     h_q;
            reg  [LW-1:0]     l_q;
            reg               pv_q;                 // a product is ready: to the tail now
            reg  [LOG_C-1:0]  pl_q;                 // its lane
            // m0 / shift reads: lane 0's with fin_load, lane L+1's in lane
            // L's last step; the data is on pm_rd at the lane's step 0
            wire              last_lane = (lane == COLS[LOG_C-1:0] - 1'b1);
            assign pm_re   = fin_load || (run && last_step && !last_lane);
            assign pm_lane = lane + 1'b1;
            assign pm_ra   = pm_ra_ser;
            // the lane's final sum: read with its P word, on fin_rd at its step 0
            assign fin_re  = pm_re;
            assign fin_ra  = pm_ra_ser[LOG_C-1:0];
            // digit d = -2*b2 + b1 + b0 of mx_q[2:0]: 0, +-1 or +-2
            wire [2:0]        dg   = mx_q[2:0];
            wire              neg  = dg[2] && (dg != 3'b111);
            wire              two  = (dg == 3'b011) || (dg == 3'b100);
            wire              one  = dg[0] ^ dg[1];
            wire [HW-1:0]     mult = two ? {acc_q, 1'b0} : one ? {acc_q[33], acc_q} : {HW{1'b0}};
            // h + d * acc: the subtraction as the complement plus a carry in
            wire [HW-1:0]     h_new = h_q + (mult ^ {HW{neg}}) + {{(HW-1){1'b0}}, neg};
            // the final sum: the accumulators start from 0 (nnf_accum BIAS =
            // 0), the bias is added here, mod 2^32 as the model's sums
            wire [31:0]       acc_b = fin_rd + pm_bias;
            wire signed [31:0] acc_l = acc_b;
            always @(posedge clk) begin
                if (rst) begin
                    lane_q <= COLS[LOG_C:0];
                    step_q <= 5'd0;
                    pv_q   <= 1'b0;
                end else begin
                    pv_q <= run && last_step;
                    if (fin_load) begin
                        lane_q <= {(LOG_C+1){1'b0}};
                        step_q <= 5'd0;
                    end else if (run) begin
                        step_q <= last_step ? 5'd0 : step_q + 5'd1;
                        if (last_step) lane_q <= lane_q + 1'b1;
                    end
                end
                if (run && last_step) pl_q <= lane;
                if (run && step_q == 5'd0) begin
                    acc_q  <= {{2{acc_l[31]}}, acc_l};
                    mx_q   <= {1'b0, pm_rd[30:0], 1'b0};
                    km1_q  <= 6'd30 - pm_rd[37:32];
                    h_q    <= {HW{1'b0}};
                    l_q    <= {LW{1'b0}};
                end else if (run) begin
                    h_q  <= {{2{h_new[HW-1]}}, h_new[HW-1:2]};
                    l_q  <= {h_new[1:0], l_q[LW-1:2]};
                    mx_q <= mx_q >> 2;
                end
            end
            // the tail: the product {h, l} (exact in its low 64 bits) in the
            // cycle after the last step, q 3 cycles later
            wire [7:0] q;
            nnf_requant_tail #(.TFL_ROUND(TFL_ROUND)) u_tail (
                .clk(clk), .prod({h_q[63-LW:0], l_q}), .km1(km1_q), .rnd(rnd), .zp(zp), .lo(lo), .hi(hi), .q(q));
            reg  [3:0]        v_q;                  // v_q[i]: tail stage i+1 holds a lane's value
            reg  [LOG_C-1:0]  vl_q [0:3];
            reg  [7:0]        req_q;
            reg  [COLS*8-1:0] row_q;
            reg               we_q;
            integer i;
            always @(posedge clk) begin
                if (rst) begin
                    v_q  <= 4'd0;
                    we_q <= 1'b0;
                end else begin
                    v_q  <= {v_q[2:0], pv_q};
                    we_q <= v_q[3] && (vl_q[3] == COLS[LOG_C-1:0] - 1'b1);
                end
                vl_q[0] <= pl_q;
                for (i = 1; i < 4; i = i + 1) vl_q[i] <= vl_q[i-1];
                req_q <= q;
                if (v_q[3]) row_q[8*vl_q[3] +: 8] <= lut ? lut_rd : req_q;
            end
            assign lut_ra = q;
            assign o_row  = row_q;
            assign o_we   = we_q;
            assign idle   = !run && !pv_q && (v_q == 4'd0) && !we_q;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_fab = &{1'b0, h_q[HW-1:64-LW], pm_rd[39:38], pm_rd[31], fin_acc, fin_m0, fin_sh};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
endmodule

`default_nettype wire
