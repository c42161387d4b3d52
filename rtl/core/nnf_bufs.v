// nnf_bufs: the engine's buffers (ACT, W, P, LUT; docs/engine.md, "Buffers
// and their layouts") and the one arbiter in front of them.
//
// Clients, and what each may do:
//   engine (busy)   streamer ACT reads (sr_*), output writer ACT writes
//                   (ow_*), loader W reads (ld_*), accumulator P reads
//                   (pa_*), LUT lookups (lut_*); with P_SPLIT the vector
//                   stage's m0 / shift reads (pm_*).
//   (P_SPLIT: P is two RAMs: the biases, one per lane, read a row at a time
//   by the accumulator; m0 and shift of every lane in one RAM at entry *
//   COLS + lane, read a lane at a time by the serial vector stage and the P
//   check. P_SPLIT = 2 (the fabric requantizer, which adds the bias
//   itself): one RAM of whole 9-byte entries at entry * COLS + lane, read a
//   lane at a time (pm_rd with its bias on pb_rd); the accumulators read no
//   P, and there is no ACTW unit to write a row of biases. The host's byte
//   addresses are the same.) Fixed-latency pipelines: the
//                   arbiter grants them whenever they ask, and they ask only
//                   while busy (the engine owns the buffers then).
//   LIF core        ACT word reads and writes (lp_*), while the engine is
//                   idle; always granted then.
//   P check         P reads (pc_*), while the engine is idle; always granted.
//   ACTW unit       (nnf_vu_actw) whole W words (aw_*) and a P entry's
//                   biases, every lane at once (ap_*), while the engine is
//                   idle; always granted then.
//   DWCONV unit     (nnf_vu_dw) whole W word reads (xw_*, data on w_rd),
//                   while the engine is idle; always granted then.
//   host            one byte-wide port (hp_*). A request not granted in a
//                   cycle is answered with hp_wait high: the requester holds
//                   it (valid held until taken; nothing is dropped). Grants:
//                     ACT write  every cycle neither the output writer nor
//                                the LIF core writes ACT (so the next
//                                batch streams in while a GEMM runs)
//                     ACT read   while idle and the LIF core does not read
//                     W, P write every cycle the ACTW unit does not write
//                                the RAM (the engine never writes them: so
//                                the next bank's weights stream in while a
//                                program computes from the last one,
//                                docs/protocol.md, Banks); with W_SPRAM, a
//                                W write every cycle the loader does not
//                                read either
//                                (W_SPRAM: W is single-ported, nnf_spram)
//                     W, P read, LUT  while idle (P: and the P check does not read;
//                                W: and the DWCONV unit does not read)
//
// Read data is valid the cycle after a granted read, from the RAM's output
// register (a RAM not read keeps its output); with PIPE_CUTS the host's byte
// the cycle after that (each RAM's byte chosen and registered, then the
// region's: a block RAM's output is late in its cycle on ECP5). Priorities per RAM port:
//   ACT write: output writer > LIF > host      ACT read: streamer > LIF > host
//   P read: accumulator > P check > host       W read: loader > DWCONV unit > host
//   LUT: engine > host        W write: ACTW > host      P write: ACTW > host
//   W with W_SPRAM (one port): loader read > DWCONV read > ACTW write > host write > host read
// Every port has at most one writer per cycle (the `ifdef FORMAL` block).
`default_nettype none

module nnf_bufs #(
    parameter integer ROWS      = 8,
    parameter integer COLS      = 8,
    parameter integer ACT_WORDS = 32768,
    parameter integer W_WORDS   = 16384,
    parameter integer P_WORDS   = 64,
    parameter integer LUTS      = 8,       // LUT copies (one per lane, or 1 when shared)
    parameter integer LUT_COUNT = 1,       // resident tables per copy (1, 2, 4, 8; region LUT: 256 each)
    parameter integer W_SPRAM   = 0,       // 1: W in a single-port RAM (nnf_spram: the iCE40UP5K's SPRAMs)
    parameter integer PM_LANES  = 1,       // P_SPLIT = 1: m0 / shift words read at once (pm_rdl)
    parameter integer P_SPLIT   = 0,       // 1: P as biases per lane + m0 / shift lane by lane;
                                           // 2: whole entries lane by lane (above)
    parameter integer PIPE_CUTS   = 0        // 1: host read data two cycles after the read (below)
) (
    input  wire        clk,
    input  wire        busy,                         // the engine owns the buffers
    // host byte port
    input  wire        hp_we,
    input  wire        hp_re,
    input  wire [1:0]  hp_sel,                       // 0 ACT, 1 W, 2 P, 3 LUT
    input  wire [31:0] hp_addr,
    input  wire [7:0]  hp_wdata,
    output wire [7:0]  hp_rdata,
    output wire        hp_wait,
    // LIF core: ACT words
    input  wire        lp_re,
    input  wire [$clog2(ACT_WORDS)-1:0] lp_ra,
    input  wire        lp_we,
    input  wire [$clog2(ACT_WORDS)-1:0] lp_wa,
    input  wire [ROWS*8-1:0] lp_wd,
    output wire [ROWS*8-1:0] act_rd,                 // the ACT read port's output (LIF, streamer)
    // ACTW unit: a W word, a P entry's biases (lane c at [32c +: 32])
    input  wire        aw_we,
    input  wire [$clog2(W_WORDS)-1:0] aw_wa,
    input  wire [COLS*8-1:0] aw_wd,
    input  wire        ap_we,
    input  wire [$clog2(P_WORDS)-1:0] ap_wa,
    input  wire [COLS*32-1:0] ap_wd,
    // DWCONV unit: W word reads (the data on w_rd)
    input  wire        xw_re,
    input  wire [$clog2(W_WORDS)-1:0] xw_ra,
    // engine: streamer, output writer, loader, accumulator, LUT lookups
    input  wire        sr_re,
    input  wire [$clog2(ACT_WORDS)-1:0] sr_ra,
    input  wire        ow_we,
    input  wire [$clog2(ACT_WORDS)-1:0] ow_wa,
    input  wire [COLS*8-1:0] ow_wd,
    input  wire        ld_re,
    input  wire [$clog2(W_WORDS)-1:0] ld_ra,
    output wire [COLS*8-1:0] w_rd,
    input  wire        pa_re,
    input  wire [$clog2(P_WORDS)-1:0] pa_ra,
    input  wire        pc_re,                         // the P check (P_SPLIT: of m0 / shift, lane by lane)
    input  wire [$clog2(P_WORDS)+(P_SPLIT != 0 ? $clog2(COLS) : 0)-1:0] pc_ra,
    output wire [COLS*72-1:0] p_rd,                   // per lane: bias[31:0], m0[63:32], shift[71:64]
                                                      // (P_SPLIT: the biases only, the rest 0)
    input  wire        pm_re,                         // P_SPLIT: m0 / shift of entry * COLS + lane
    input  wire [$clog2(P_WORDS)+$clog2(COLS)-1:0] pm_ra,
    output wire [39:0] pm_rd,                         // m0[31:0], shift[39:32] (P_SPLIT; else 0)
    output wire [PM_LANES*40-1:0] pm_rdl,             // PM_LANES > 1: lanes pm_ra.. pm_ra + PM_LANES - 1
                                                      // (pm_ra a multiple of PM_LANES); else pm_rd
    output wire [31:0] pb_rd,                         // P_SPLIT = 2: that lane's bias (else 0)
    input  wire [LUTS*8-1:0] lut_ra,
    input  wire [2:0]  lut_sel,                      // the table (held while busy)
    output wire [LUTS*8-1:0] lut_rd
);
    localparam integer LOG_R  = $clog2(ROWS);
    localparam integer LOG_C  = $clog2(COLS);
    localparam integer ACT_AW = $clog2(ACT_WORDS);
    localparam integer W_AW   = $clog2(W_WORDS);
    localparam integer P_AW   = $clog2(P_WORDS);
    localparam integer PM_AW  = P_AW + LOG_C;          // P_SPLIT: m0 / shift, entry * COLS + lane

    // ------------------------------------------------------------------
    // The arbiter: grants per RAM port
    // ------------------------------------------------------------------
    wire h_act = (hp_sel == 2'd0), h_w = (hp_sel == 2'd1), h_p = (hp_sel == 2'd2),
         h_lut = (hp_sel == 2'd3);
    wire g_ow   = busy && ow_we;                       // ACT write
    wire g_lpw  = !busy && lp_we;
    wire g_hw_act = hp_we && h_act && !g_ow && !g_lpw;
    wire g_sr   = busy && sr_re;                       // ACT read
    wire g_lpr  = !busy && lp_re;
    wire g_hr_act = hp_re && h_act && !busy && !g_lpr;
    wire g_ld   = busy && ld_re;                       // W
    wire g_aw   = !busy && aw_we;
    wire g_xw   = !busy && xw_re;
    wire g_hw_w = hp_we && h_w && !g_aw && !(W_SPRAM != 0 && (g_ld || g_xw));
    wire g_hr_w = hp_re && h_w && !busy && !g_xw;
    wire g_pc   = !busy && pc_re;                      // P
    wire g_ap   = !busy && ap_we;
    wire g_hw_p = hp_we && h_p && !g_ap;
    wire g_hr_p = hp_re && h_p && !busy && !g_pc;
    wire g_hw_lut = hp_we && h_lut && !busy;           // LUT
    wire g_hr_lut = hp_re && h_lut && !busy;
    wire h_granted = (hp_we && (g_hw_act || g_hw_w || g_hw_p || g_hw_lut))
                  || (hp_re && (g_hr_act || g_hr_w || g_hr_p || g_hr_lut));
    assign hp_wait = (hp_we || hp_re) && !h_granted;

    wire [LOG_R-1:0] hp_abyte = hp_addr[LOG_R-1:0];
    wire [LOG_C-1:0] hp_wbyte = hp_addr[LOG_C-1:0];
    wire [3:0]       hp_pb    = hp_addr[3:0];        // P: ((entry * COLS + lane) * 16 + b)
    wire [LOG_C-1:0] hp_plane = hp_addr[4 +: LOG_C];
    wire [P_AW-1:0]  hp_pent  = hp_addr[4+LOG_C +: P_AW];

    genvar g;

    // ------------------------------------------------------------------
    // ACT: ACT_WORDS words of ROWS bytes
    // ------------------------------------------------------------------
    wire [ROWS-1:0] act_we;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_act_we
            assign act_we[g] = g_ow || g_lpw || (g_hw_act && hp_abyte == g);
        end
    endgenerate

    wire [ACT_AW-1:0] act_wa = g_ow ? ow_wa : g_lpw ? lp_wa : hp_addr[LOG_R +: ACT_AW];
    wire [ROWS*8-1:0] act_wd = g_ow ? ow_wd : g_lpw ? lp_wd : {ROWS{hp_wdata}};
    wire              act_re = g_sr || g_lpr || g_hr_act;
    wire [ACT_AW-1:0] act_ra = busy ? sr_ra : lp_re ? lp_ra : hp_addr[LOG_R +: ACT_AW];
    nnf_ram #(.AW(ACT_AW), .NB(ROWS)) u_act (
        .clk(clk), .we(act_we), .wa(act_wa), .wd(act_wd), .re(act_re), .ra(act_ra),
        .rd(act_rd));

    // ------------------------------------------------------------------
    // W: W_WORDS words of COLS bytes
    // ------------------------------------------------------------------
    wire [COLS-1:0] w_we;
    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_w_we
            assign w_we[g] = g_aw || (g_hw_w && hp_wbyte == g);
        end
    endgenerate
    wire [W_AW-1:0]   w_wa = g_aw ? aw_wa : hp_addr[LOG_C +: W_AW];
    wire [COLS*8-1:0] w_wd = g_aw ? aw_wd : {COLS{hp_wdata}};

    // dual port: the read port; single port (W_SPRAM): the one port, the
    // loader's read, else the host's write or read
    wire            w_re = busy ? ld_re : (g_xw || g_hr_w);
    wire [W_AW-1:0] w_ra = busy ? ld_ra : g_xw ? xw_ra : hp_addr[LOG_C +: W_AW];
    wire            w_en   = g_ld || g_xw || g_aw || g_hw_w || g_hr_w;
    wire [W_AW-1:0] w_addr = g_ld ? ld_ra : g_xw ? xw_ra : w_wa;
    generate
        if (W_SPRAM != 0) begin : g_w_sp
            nnf_spram #(.AW(W_AW), .NB(COLS)) u_w (
                .clk(clk), .en(w_en), .we(w_we), .addr(w_addr), .wd(w_wd),
                .rd(w_rd));
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_w = &{1'b0, w_re, w_ra};
            /* verilator lint_on UNUSEDSIGNAL */
        end else begin : g_w_dp
            nnf_ram #(.AW(W_AW), .NB(COLS)) u_w (
                .clk(clk), .we(w_we), .wa(w_wa), .wd(w_wd),
                .re(w_re), .ra(w_ra), .rd(w_rd));
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_w = &{1'b0, w_en, w_addr};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    // ------------------------------------------------------------------
    // P: per lane, P_WORDS entries of 9 bytes (bias, m0, shift); P_SPLIT:
    // per lane the 4 bias bytes, and one RAM of the 5 m0 / shift bytes
    // ------------------------------------------------------------------
    generate
        if (P_SPLIT == 2) begin : g_plane
            wire [8:0] pl_we;
            genvar pb;
            for (pb = 0; pb < 9; pb = pb + 1) begin : g_plwe
                assign pl_we[pb] = g_hw_p && hp_pb == pb;
            end
            wire [PM_AW-1:0] hp_pm = hp_addr[4 +: PM_AW];
            wire [71:0]      pl_rd;
            nnf_ram #(.AW(PM_AW), .NB(9)) u_pl (
                .clk(clk), .we(pl_we), .wa(hp_pm), .wd({9{hp_wdata}}),
                .re(busy ? pm_re : (pc_re || g_hr_p)),
                .ra(busy ? pm_ra : pc_re ? pc_ra : hp_pm),
                .rd(pl_rd));
            assign pm_rd = pl_rd[71:32];
            assign pm_rdl = pl_rd[32 +: PM_LANES*40];
            assign pb_rd = pl_rd[31:0];
            // the host's bias bytes: the lane it addressed is the one read
            for (g = 0; g < COLS; g = g + 1) begin : g_pb
                assign p_rd[72*g +: 72] = {40'd0, pl_rd[31:0]};
            end
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_pa = &{1'b0, pa_re, pa_ra, ap_wa, ap_wd, ap_we, hp_pent};
            /* verilator lint_on UNUSEDSIGNAL */
        end else if (P_SPLIT != 0) begin : g_psplit
            for (g = 0; g < COLS; g = g + 1) begin : g_pb
                wire [3:0] pb_we;
                genvar pb;
                for (pb = 0; pb < 4; pb = pb + 1) begin : g_pwe
                    assign pb_we[pb] = g_ap || (g_hw_p && hp_plane == g && hp_pb == pb);
                end
                nnf_ram #(.AW(P_AW), .NB(4)) u_pb (
                    .clk(clk), .we(pb_we), .wa(g_ap ? ap_wa : hp_pent),
                    .wd(g_ap ? ap_wd[32*g +: 32] : {4{hp_wdata}}),
                    .re(busy ? pa_re : g_hr_p), .ra(busy ? pa_ra : hp_pent),
                    .rd(p_rd[72*g +: 32]));
                assign p_rd[72*g+32 +: 40] = 40'd0;
            end
            wire [4:0] pm_we;
            genvar pmb;
            for (pmb = 0; pmb < 5; pmb = pmb + 1) begin : g_pmwe
                assign pm_we[pmb] = g_hw_p && hp_pb == pmb + 4;
            end
            wire [PM_AW-1:0] hp_pm = hp_addr[4 +: PM_AW];
            if (PM_LANES == 1) begin : g_pm1
                nnf_ram #(.AW(PM_AW), .NB(5)) u_pm (
                    .clk(clk), .we(pm_we), .wa(hp_pm), .wd({5{hp_wdata}}),
                    .re(busy ? pm_re : (pc_re || g_hr_p)),
                    .ra(busy ? pm_ra : pc_re ? pc_ra : hp_pm),
                    .rd(pm_rd));
                assign pm_rdl = pm_rd;
            end else begin : g_pmn
                // lane l's words in RAM l mod PM_LANES at entry * COLS + l
                // over PM_LANES: a group's in one read; the P check and the
                // host read a lane, chosen by its low bits
                localparam integer LOG_PL = $clog2(PM_LANES);
                wire             pm_r = busy ? pm_re : (pc_re || g_hr_p);
                wire [PM_AW-1:0] pm_a = busy ? pm_ra : pc_re ? pc_ra : hp_pm;
                reg  [LOG_PL-1:0] pm_sel_q;
                always @(posedge clk) if (pm_r) pm_sel_q <= pm_a[LOG_PL-1:0];
                wire [39:0] pm_arr [0:PM_LANES-1];
                genvar pl;
                for (pl = 0; pl < PM_LANES; pl = pl + 1) begin : g_pml
                    localparam [LOG_PL-1:0] PL = pl;
                    nnf_ram #(.AW(PM_AW - LOG_PL), .NB(5)) u_pm (
                        .clk(clk), .we(pm_we & {5{hp_pm[LOG_PL-1:0] == PL}}),
                        .wa(hp_pm[PM_AW-1:LOG_PL]), .wd({5{hp_wdata}}),
                        .re(pm_r), .ra(pm_a[PM_AW-1:LOG_PL]), .rd(pm_rdl[40*pl +: 40]));
                    assign pm_arr[pl] = pm_rdl[40*pl +: 40];
                end
                assign pm_rd = pm_arr[pm_sel_q];
            end
            assign pb_rd = 32'd0;
        end else begin : g_pfull
        assign pm_rd = 40'd0;
        assign pm_rdl = {(PM_LANES*40){1'b0}};
        assign pb_rd = 32'd0;
        /* verilator lint_off UNUSEDSIGNAL */
        wire unused_pm = &{1'b0, pm_re, pm_ra};
        /* verilator lint_on UNUSEDSIGNAL */
        for (g = 0; g < COLS; g = g + 1) begin : g_p
            wire [8:0] p_we;
            genvar pb;
            for (pb = 0; pb < 9; pb = pb + 1) begin : g_pwe
                assign p_we[pb] = (g_ap && pb < 4) || (g_hw_p && hp_plane == g && hp_pb == pb);
            end
            nnf_ram #(.AW(P_AW), .NB(9)) u_p (
                .clk(clk), .we(p_we), .wa(g_ap ? ap_wa : hp_pent),
                .wd(g_ap ? {40'd0, ap_wd[32*g +: 32]} : {9{hp_wdata}}),
                .re(busy ? pa_re : (pc_re || g_hr_p)),
                .ra(busy ? pa_ra : pc_re ? pc_ra : hp_pent),
                .rd(p_rd[72*g +: 72]));
        end
        end
    endgenerate

    // ------------------------------------------------------------------
    // LUT: LUTS copies of LUT_COUNT tables of 256 bytes (table t at byte
    // 256*t), written together; copy 0 answers the host
    // ------------------------------------------------------------------
    localparam integer LUT_AW = 8 + ((LUT_COUNT > 1) ? $clog2(LUT_COUNT) : 0);
    wire [10:0] lut_hsel = hp_addr[10:0];
    generate
        for (g = 0; g < LUTS; g = g + 1) begin : g_lut
            wire [10:0] ra_e = {lut_sel, lut_ra[8*g +: 8]};
            nnf_ram #(.AW(LUT_AW), .NB(1)) u_lut (
                .clk(clk), .we(g_hw_lut), .wa(lut_hsel[LUT_AW-1:0]), .wd(hp_wdata),
                .re(busy ? 1'b1 : g_hr_lut),
                .ra(busy ? ra_e[LUT_AW-1:0] : lut_hsel[LUT_AW-1:0]),
                .rd(lut_rd[8*g +: 8]));
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_ra = &{1'b0, ra_e, lut_hsel};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    // ------------------------------------------------------------------
    // Host read data: selected by the registered region and byte
    // ------------------------------------------------------------------
    reg [1:0]       rd_sel_q;
    reg [5:0]       rd_byte_q;
    reg [LOG_C-1:0] rd_lane_q;
    always @(posedge clk) begin
        rd_sel_q  <= hp_sel;
        rd_byte_q <= h_act ? {{(6-LOG_R){1'b0}}, hp_abyte}
                   : h_w   ? {{(6-LOG_C){1'b0}}, hp_wbyte}
                   : {2'b00, hp_pb};
        rd_lane_q <= hp_plane;
    end

    // per-lane entries as an array: the lane chosen at run time is a mux (a
    // variable part-select of the flat vector would become a wide shifter)
    wire [71:0] p_rd_arr [0:COLS-1];
    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_p_arr
            assign p_rd_arr[g] = p_rd[72*g +: 72];
        end
    endgenerate
    wire [71:0] p_rd_sel = p_rd_arr[rd_lane_q];
    wire [7:0]  act_byte = act_rd[8*rd_byte_q[LOG_R-1:0] +: 8];
    wire [7:0]  w_byte   = w_rd[8*rd_byte_q[LOG_C-1:0] +: 8];

    // P's byte: the lane's entry (P_SPLIT: the bias, then m0 / shift)
    wire [7:0]  p_byte = (rd_byte_q < 6'd4 || (P_SPLIT == 0 && rd_byte_q < 6'd9))
                         ? p_rd_sel[8*rd_byte_q +: 8]
                         : (P_SPLIT != 0 && rd_byte_q < 6'd9) ? pm_rd[8*(rd_byte_q-6'd4) +: 8]
                         : 8'd0;

    // PIPE_CUTS: each RAM's byte registered, then the region's
    wire [1:0]  o_sel;
    wire [7:0]  o_act, o_w, o_p, o_lut;
    nnf_cut #(.W(2 + 4*8), .ON(PIPE_CUTS)) u_rd_cut (
        .clk(clk), .rst(1'b0), .d({rd_sel_q, act_byte, w_byte, p_byte, lut_rd[7:0]}),
        .q({o_sel, o_act, o_w, o_p, o_lut}));
    assign hp_rdata = (o_sel == 2'd0) ? o_act
                    : (o_sel == 2'd1) ? o_w
                    : (o_sel == 2'd2) ? o_p
                    : o_lut;

    /* verilator lint_off UNUSEDSIGNAL */
    // Address bits above the buffer depths are ignored (addresses wrap).
    wire unused = &{1'b0, hp_addr};
    /* verilator lint_on UNUSEDSIGNAL */
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Properties (docs/formal.md). The environment: the engine's clients ask
    // only while busy, the LIF core and the P check only while idle; the
    // host holds a request while hp_wait (valid held until taken). Fairness,
    // the documented priorities' premise: no higher-priority client keeps a
    // port for more than FAIR_MAX cycles in a row, and no GEMM runs longer.
    // ------------------------------------------------------------------
    localparam integer FAIR_MAX = 4;
    reg f_past = 1'b0;
    always @(posedge clk) f_past <= 1'b1;

    always @(*) begin
        if (!busy) assume(!sr_re && !ow_we && !ld_re && !pa_re);
        if (busy)  assume(!lp_re && !lp_we && !pc_re && !aw_we && !ap_we && !xw_re);
        if (!busy) assume(!pm_re);
        assume(!(hp_we && hp_re));
    end
    always @(posedge clk) if (f_past && $past(hp_wait)) begin
        assume(hp_we == $past(hp_we) && hp_re == $past(hp_re) && hp_sel == $past(hp_sel)
               && hp_addr == $past(hp_addr) && hp_wdata == $past(hp_wdata));
    end
    reg [3:0] f_busy_run = 4'd0, f_actw_run = 4'd0, f_actr_run = 4'd0, f_pr_run = 4'd0;
    reg [3:0] f_ww_run = 4'd0, f_pw_run = 4'd0;
    always @(posedge clk) begin
        f_busy_run <= busy ? f_busy_run + 4'd1 : 4'd0;
        f_actw_run <= (g_ow || g_lpw) ? f_actw_run + 4'd1 : 4'd0;
        f_actr_run <= (busy || lp_re) ? f_actr_run + 4'd1 : 4'd0;
        f_pr_run   <= (busy || pc_re) ? f_pr_run + 4'd1 : 4'd0;
        f_ww_run   <= (busy || aw_we || xw_re) ? f_ww_run + 4'd1 : 4'd0;
        f_pw_run   <= ap_we ? f_pw_run + 4'd1 : 4'd0;
    end
    always @(*) begin
        assume(f_busy_run <= FAIR_MAX && f_actw_run <= FAIR_MAX && f_actr_run <= FAIR_MAX
               && f_pr_run <= FAIR_MAX && f_ww_run <= FAIR_MAX && f_pw_run <= FAIR_MAX);
    end

    // no two writers of one RAM port in one cycle; each write goes where its
    // client asked
    always @(*) begin
        assert({1'b0, g_ow} + {1'b0, g_lpw} + {1'b0, g_hw_act} <= 2'd1);
        if (g_ow)  assert(act_we == {ROWS{1'b1}} && act_wa == ow_wa && act_wd == ow_wd);
        if (g_lpw) assert(act_we == {ROWS{1'b1}} && act_wa == lp_wa && act_wd == lp_wd);
        if (g_hw_act) assert(act_we == ({{(ROWS-1){1'b0}}, 1'b1} << hp_abyte));
        if (!g_ow && !g_lpw && !g_hw_act) assert(act_we == {ROWS{1'b0}});
        assert(!(g_aw && g_hw_w) && !(g_ap && g_hw_p));
        if (!g_hw_w && !g_aw) assert(w_we == {COLS{1'b0}});
        if (g_hw_w)  assert(w_we == ({{(COLS-1){1'b0}}, 1'b1} << hp_wbyte) && w_wa == hp_addr[LOG_C +: W_AW]);
        if (g_aw)    assert(w_we == {COLS{1'b1}} && w_wa == aw_wa && w_wd == aw_wd);
        // the engine's and the LIF core's reads are always served, at their address
        if (busy && sr_re) assert(act_re && act_ra == sr_ra);
        if (g_lpr)         assert(act_re && act_ra == lp_ra);
        if (busy && ld_re) assert(w_re && w_ra == ld_ra);
        // a host request is taken exactly when hp_wait is low, and waits only
        // while a client before it in priority has the port
        if (hp_we || hp_re) assert(hp_wait == !h_granted);
        if (!hp_we && !hp_re) assert(!hp_wait);
        if (hp_wait && hp_we && h_act) assert(g_ow || g_lpw);
        if (hp_wait && hp_re && h_act) assert(busy || g_lpr);
        if (hp_wait && hp_re && h_p)   assert(busy || g_pc);
        // W and P writes wait only for the ACTW unit's writes (and with
        // W_SPRAM a W write for the loader's read, which goes to the port);
        // W reads and LUT accesses wait only while busy
        if (hp_we && h_p) assert(hp_wait == g_ap);
        if (hp_we && h_w && W_SPRAM == 0) assert(hp_wait == g_aw);
        if (hp_we && h_w && W_SPRAM != 0) assert(hp_wait == (g_ld || g_aw || g_xw));
        if (W_SPRAM != 0 && g_ld) assert(w_en && w_addr == ld_ra && w_we == {COLS{1'b0}});
        if (W_SPRAM != 0 && g_hw_w) assert(w_en && w_addr == hp_addr[LOG_C +: W_AW]);
        if (hp_wait && h_lut) assert(busy);
        if (hp_wait && hp_re && h_w) assert(busy || g_xw);
        if (g_xw) assert(w_re && w_ra == xw_ra);
    end

    // every host request is served: a held request waits at most as long as
    // the clients before it keep the port (FAIR_MAX), plus one cycle
    reg [3:0] f_wait = 4'd0;
    always @(posedge clk) f_wait <= hp_wait ? f_wait + 4'd1 : 4'd0;
    always @(*) assert(f_wait <= FAIR_MAX + 1);
`endif
endmodule

`default_nettype wire
