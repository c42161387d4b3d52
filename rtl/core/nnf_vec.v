// nnf_vec: the vector stage (docs/engine.md, "Dataflow"; docs/numerics.md).
// Per lane: requantize the final sum (nnf_requant: multiply by m0, round,
// shift, add the output zero point, clamp to lo..hi), then, when the command
// asks for it, the 256-entry activation LUT (its copies live in nnf_bufs:
// lut_ra in, lut_rd the next cycle).
//   VEC_SERIAL = 0: one nnf_requant per lane and a LUT copy each; a row per
//                   cycle; o_we 7 cycles after fin_load.
//   VEC_SERIAL = 1: one shared nnf_requant and LUT copy visit the lanes in
//                   turn (the streamer spaces last-K-tile rows COLS cycles
//                   apart); o_we 7 + COLS cycles after fin_load.
// fin_* are held from the cycle after fin_load until the next fin_load;
// zp / lo / hi / lut are the command's, held while the engine is busy.
`default_nettype none

module nnf_vec #(
    parameter integer COLS       = 8,
    parameter integer VEC_SERIAL = 0
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        fin_load,
    input  wire [COLS*32-1:0] fin_acc,
    input  wire [COLS*31-1:0] fin_m0,
    input  wire [COLS*8-1:0]  fin_sh,
    input  wire [7:0]  zp,
    input  wire [7:0]  lo,
    input  wire [7:0]  hi,
    input  wire        lut,
    output wire [(VEC_SERIAL != 0 ? 1 : COLS)*8-1:0] lut_ra,
    input  wire [(VEC_SERIAL != 0 ? 1 : COLS)*8-1:0] lut_rd,
    output wire [COLS*8-1:0] o_row,            // int8 results, with o_we
    output wire        o_we,
    output wire        idle                    // nothing in flight
);
    localparam integer LOG_C = $clog2(COLS);
    localparam integer VLAT  = 7;              // fin_load -> o_we (parallel)

    genvar g;
    generate
        if (VEC_SERIAL == 0) begin : g_par
            // vl_q[i] is valid at fin_load + 1 + i
            reg  [VLAT-1:0]   vl_q;
            wire [COLS*8-1:0] q_all;
            reg  [COLS*8-1:0] req_q;
            always @(posedge clk) begin
                if (rst) vl_q <= {VLAT{1'b0}};
                else     vl_q <= {vl_q[VLAT-2:0], fin_load};
                req_q <= q_all;
            end
            for (g = 0; g < COLS; g = g + 1) begin : g_lane
                nnf_requant u_rq (
                    .clk(clk), .acc(fin_acc[32*g +: 32]), .m0(fin_m0[31*g +: 31]),
                    .shift(fin_sh[8*g +: 8]), .zp(zp), .lo(lo), .hi(hi),
                    .q(q_all[8*g +: 8]));
            end
            assign lut_ra = q_all;
            assign o_row  = lut ? lut_rd : req_q;
            assign o_we   = vl_q[VLAT-1];
            assign idle   = (vl_q == {VLAT{1'b0}});
        end else begin : g_ser
            // ser_lane_q: the lane entering nnf_requant (COLS = idle)
            reg  [LOG_C:0]    ser_lane_q;
            // lane number and valid, delayed to the LUT output (6 cycles)
            reg  [LOG_C-1:0]  sl_q [0:5];
            reg  [5:0]        sv_q;
            reg  [COLS*8-1:0] row_q;
            reg               we_q;
            wire              ser_on = !ser_lane_q[LOG_C];
            wire [LOG_C-1:0]  lane   = ser_lane_q[LOG_C-1:0];
            wire [7:0]        q;
            reg  [7:0]        req_q;
            integer i;
            // per-lane values as arrays: a lane chosen at run time is a mux
            wire [31:0] acc_arr [0:COLS-1];
            wire [30:0] m0_arr  [0:COLS-1];
            wire [7:0]  sh_arr  [0:COLS-1];
            for (g = 0; g < COLS; g = g + 1) begin : g_arr
                assign acc_arr[g] = fin_acc[32*g +: 32];
                assign m0_arr[g]  = fin_m0[31*g +: 31];
                assign sh_arr[g]  = fin_sh[8*g +: 8];
            end
            always @(posedge clk) begin
                if (rst) begin
                    ser_lane_q <= COLS[LOG_C:0];
                    sv_q       <= 6'd0;
                    we_q       <= 1'b0;
                end else begin
                    if (fin_load)    ser_lane_q <= {(LOG_C+1){1'b0}};
                    else if (ser_on) ser_lane_q <= ser_lane_q + 1'b1;
                    sv_q <= {sv_q[4:0], ser_on};
                    we_q <= sv_q[5] && (sl_q[5] == COLS[LOG_C-1:0] - 1'b1);
                end
                sl_q[0] <= lane;
                for (i = 1; i < 6; i = i + 1) sl_q[i] <= sl_q[i-1];
                req_q <= q;
                if (sv_q[5]) row_q[8*sl_q[5] +: 8] <= lut ? lut_rd : req_q;
            end
            nnf_requant u_rq (
                .clk(clk), .acc(acc_arr[lane]), .m0(m0_arr[lane]),
                .shift(sh_arr[lane]), .zp(zp), .lo(lo), .hi(hi), .q(q));
            assign lut_ra = q;
            assign o_row  = row_q;
            assign o_we   = we_q;
            assign idle   = !ser_on && (sv_q == 6'd0) && !we_q;
        end
    endgenerate
endmodule

`default_nettype wire
