// tb_vec_fab: nnf_vec's fabric requantizer (VEC_SERIAL = 2: Booth steps,
// no DSP) against the DSP one (VEC_SERIAL = 1, nnf_requant) on the same
// rows: random accumulators, multipliers, shifts, zero points and clamps,
// the extremes of each, and rows arriving as close together as the
// streamer lets them (COLS * 17 cycles); zero point and clamp change
// between commands, with nothing in flight, as nnf_gemm holds them, and so
// does the rounding (rnd: single or TFLite's double rounding, TFL_ROUND = 1
// in both units; tb_requant checks nnf_requant against the model). The
// two units read each lane's m0 and shift themselves (from pm_mem here,
// each through a read port of its own, as from nnf_bufs' P_SPLIT RAM: a
// registered read), at a random P entry: the DSP one a lane a cycle, the
// fabric one a lane every 17. The fabric one also reads each lane's bias
// (pm_bias, from the same P_SPLIT = 2 word) and adds it to the lane's sum
// itself, so it gets the sums without their biases and the DSP one the
// sums with them (mod 2^32, as nnf_accum would have started from the bias).
// The fabric one reads each lane's sum, too, from a RAM of them (fin_mem
// here, nnf_accum's FIN_RAM), with its P word; the DSP one has them all
// on fin_acc.
`timescale 1ns / 1ps
`default_nettype none
module tb_vec_fab;
    localparam integer COLS = 4;
    localparam integer GAP  = COLS * 17;
    localparam integer PW   = 16;             // P entries
    reg [5:0] pent = 6'd0;
    wire       pm_re;
    wire [5:0] pm_ra;                          // entry * COLS + lane
    reg [71:0] pm_mem [0:PW*COLS-1];           // {shift, m0, bias}: nnf_bufs' P_SPLIT = 2 word
    reg [71:0] pl_rd = 72'd0;
    always @(posedge clk) if (pm_re) pl_rd <= pm_mem[pm_ra];
    wire [39:0] pm_rd = pl_rd[71:32];
    wire [31:0] pb_rd = pl_rd[31:0];
    wire       pm_re_s;
    wire [5:0] pm_ra_s;
    reg [71:0] pl_rd_s = 72'd0;
    always @(posedge clk) if (pm_re_s) pl_rd_s <= pm_mem[pm_ra_s];
    wire [39:0] pm_rd_s = pl_rd_s[71:32];
    reg clk = 1'b0, rst = 1'b1;
    wire       fin_re;
    wire [1:0] fin_ra;
    reg [31:0] fin_rd = 32'd0;
    reg fin_load = 1'b0;
    reg [COLS*32-1:0] accb = 0;                // the sums with their biases (the DSP unit's)
    reg [COLS*32-1:0] acc = 0;                 // without them (the fabric unit's)
    reg [COLS*31-1:0] m0 = 0;
    reg [COLS*8-1:0]  sh = 0;
    reg [7:0] zp = 0, lo = 8'h80, hi = 8'h7f;
    reg rnd = 1'b0;
    wire [7:0] ra_s, ra_f;
    wire [COLS*8-1:0] row_s, row_f;
    wire we_s, we_f, idle_s, idle_f;
    // LUT off (lut = 0): the requantized bytes themselves
    nnf_vec #(.COLS(COLS), .VEC_SERIAL(1), .P_WORDS(PW), .TFL_ROUND(1)) u_s (
        .clk(clk), .rst(rst), .fin_load(fin_load), .fin_acc(accb), .fin_m0(m0), .fin_sh(sh),
        .fin_pent(pent[3:0]), .fin_re(), .fin_ra(), .fin_rd(32'd0), .pm_re(pm_re_s), .pm_ra(pm_ra_s), .pm_rd(pm_rd_s), .pm_bias(32'd0),
        .zp(zp), .lo(lo), .hi(hi), .rnd(rnd), .lut(1'b0), .lut_ra(ra_s), .lut_rd(8'd0),
        .o_row(row_s), .o_we(we_s), .idle(idle_s));
    nnf_vec #(.COLS(COLS), .VEC_SERIAL(2), .P_WORDS(PW), .TFL_ROUND(1)) u_f (
        .clk(clk), .rst(rst), .fin_load(fin_load), .fin_acc({(COLS*32){1'b0}}), .fin_m0({(COLS*31){1'b0}}), .fin_sh({(COLS*8){1'b0}}),
        .fin_pent(pent[3:0]), .fin_re(fin_re), .fin_ra(fin_ra), .fin_rd(fin_rd), .pm_re(pm_re), .pm_ra(pm_ra), .pm_rd(pm_rd), .pm_bias(pb_rd),
        .zp(zp), .lo(lo), .hi(hi), .rnd(rnd), .lut(1'b0), .lut_ra(ra_f), .lut_rd(8'd0),
        .o_row(row_f), .o_we(we_f), .idle(idle_f));
    always #5 clk = !clk;
    // the fabric unit's sums: nnf_accum's RAM of them, a registered read
    always @(posedge clk) if (fin_re) fin_rd <= acc[32*fin_ra +: 32];

    // the serial unit's rows, in order, to compare with the fabric's
    reg [COLS*8-1:0] exp_q [0:4095];
    integer n_s = 0, n_f = 0, errors = 0;
    always @(posedge clk) begin
        if (we_s) begin exp_q[n_s % 4096] <= row_s; n_s <= n_s + 1; end
        if (we_f) begin
            if (n_f >= n_s && !we_s) begin
                errors = errors + 1; $display("FAIL fabric row %0d before the DSP one", n_f);
            end
            n_f <= n_f + 1;
        end
    end
    // compare one cycle later (exp_q written with <=)
    reg we_f_d = 1'b0; reg [COLS*8-1:0] row_f_d; integer idx_d;
    always @(posedge clk) begin
        we_f_d <= we_f; row_f_d <= row_f; idx_d <= n_f;
        if (we_f_d && exp_q[idx_d % 4096] !== row_f_d) begin
            errors = errors + 1;
            if (errors < 10) $display("FAIL row %0d: fabric %h, DSP %h", idx_d, row_f_d, exp_q[idx_d % 4096]);
        end
    end

    function [31:0] pick_acc(input integer r);
        case (r % 8)
            0: pick_acc = 32'h80000000;
            1: pick_acc = 32'h7fffffff;
            2: pick_acc = $random & 32'h000fffff;
            3: pick_acc = -($random & 32'h00ffffff);
            4: pick_acc = 32'd0;
            default: pick_acc = $random;
        endcase
    endfunction
    function [30:0] pick_m0(input integer r);
        case (r % 6)
            0: pick_m0 = 31'h7fffffff;
            1: pick_m0 = 31'd0;
            2: pick_m0 = 31'h40000000 | ($random & 31'h3fffffff);
            default: pick_m0 = $random;
        endcase
    endfunction
    integer row, c, gap, s;
    reg [31:0] bias, sum;
    // the lanes are built here and then given to the units whole: Verilator
    // (5.006, --timing) did not pass part-select writes made in this process
    // on to the units' inputs, so its run compared zero sums with zero sums
    reg [COLS*32-1:0] acc_n, accb_n;
    reg [7:0] a, b;
    initial begin
        repeat (4) @(posedge clk);
        rst = 1'b0;
        for (row = 0; row < 3000; row = row + 1) begin
            @(negedge clk);
            pent = $random & (PW - 1);
            for (c = 0; c < COLS; c = c + 1) begin
                sum  = pick_acc($random & 255);
                bias = (c == 0) ? pick_acc($random & 255) : $random;
                if (row % 7 == 0) bias = 32'd0;
                accb_n[32*c +: 32] = sum;
                acc_n[32*c +: 32]  = sum - bias;    // + bias wraps back to sum

                m0[31*c +: 31]  = pick_m0($random & 255);
                s = ($random & 63) - 31;                 // -31..32: 30 the largest valid
                if (s > 30) s = 30;
                sh[8*c +: 8] = s;
                pm_mem[pent * COLS + c] = {sh[8*c +: 8], 1'b0, m0[31*c +: 31], bias};
            end
            acc  = acc_n;
            accb = accb_n;
            if (row % 50 == 0) begin
                // zp, lo, hi are a command's: held while anything is in flight
                while (!idle_s || !idle_f) @(negedge clk);
                a = $random; b = $random;
                zp = $random;
                rnd = $random;
                if ($signed(a) <= $signed(b)) begin lo = a; hi = b; end else begin lo = b; hi = a; end
                if (row % 250 == 0) begin lo = 8'h80; hi = 8'h7f; end
            end
            fin_load = 1'b1;
            @(negedge clk);
            fin_load = 1'b0;
            gap = GAP - 1 + ((row % 3 == 0) ? ($random & 7) : 0);
            repeat (gap) @(negedge clk);
        end
        repeat (200) @(negedge clk);
        if (errors == 0 && n_s == 3000 && n_f == 3000 && idle_f)
            $display("PASS 3000 rows of %0d lanes: the fabric requantizer equals nnf_requant", COLS);
        else
            $display("FAIL errors %0d, rows %0d / %0d, idle %0d", errors, n_s, n_f, idle_f);
        $finish;
    end
endmodule
`default_nettype wire
