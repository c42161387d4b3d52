// nnf_gemm_synth_top: a few-pin wrapper to synthesise the GEMM engine
// (nnf_gemm) alone, for utilisation and fmax reports (scripts/synth.py,
// docs/synthesis.md). Not a board top: it has no link and no protocol.
//
// The engine has about 250 ports; an iCE40UP5K-SG48 has 39 IOs. Here every
// command field and every host-port input comes from one serial shift
// register, and every engine output reaches a pin, so Yosys can remove no
// engine logic: results land in the ACT buffer, which hp_rdata reads; the W,
// P and LUT buffers are readable through hp_rdata too; the three 64-bit
// counters are folded into one parity pin.
//
// Pins (13 in, 13 out is the whole interface; all clocked by clk):
//   sdi, sen      while sen is high, sdi shifts into the field register
//                 (MSB first: the last bit shifted is bit 0 of hp_wdata)
//   cmd_valid_i, hp_we_i, hp_re_i, cnt_clear_i
//                 the engine's strobes, registered once
//   rst_i         synchronous reset, registered once
//   outputs       cmd_ready, busy, done, hp_wait, hp_rdata, cnt_par:
//                 registered once (so no pin lies on a reg-to-reg path)
//
// Field register, from its MSB to bit 0 (widths follow the parameters: an
// address field is only as wide as the engine uses, since addresses wrap
// modulo the buffer depth, docs/engine.md):
//   the CONV geometry (cmd_pool2 1, cmd_conv 1, cmd_zp_in 8, cmd_kt 16, cmd_ct 16,
//   cmd_h, cmd_w, cmd_b, cmd_oh, cmd_ow 11 each, cmd_kh, cmd_kw, cmd_sh,
//   cmd_sw, cmd_ph, cmd_pw 3 each, cmd_wb, cmd_hwb ACT_AW each),
//   cmd_m 16, cmd_k 16, cmd_n 16, cmd_a_base ACT_AW, cmd_w_base W_AW,
//   cmd_p_base P_AW, cmd_o_base ACT_AW, cmd_zp 8, cmd_lo 8, cmd_hi 8,
//   cmd_lut 1, hp_sel 2, hp_addr HP_AW, hp_wdata 8
// The wrapper itself costs the field register, 24 more flip-flops and the parity tree (158 FFs
// and 64 LUTs around a 4x4 engine on iCE40); docs/synthesis.md.
`default_nettype none

module nnf_gemm_synth_top #(
    parameter integer ROWS       = 8,
    parameter integer COLS       = 8,
    parameter integer ACT_WORDS  = 32768,
    parameter integer W_WORDS    = 16384,
    parameter integer P_WORDS    = 64,
    parameter integer ACC_DEPTH  = 256,
    parameter integer VEC_SERIAL = 0,
    parameter integer PE_DSP     = 1,
    parameter integer HAS_CONV   = 1     // 0: the engine without CONV (the iCE40 targets)
) (
    input  wire       clk,
    input  wire       rst_i,
    input  wire       sdi,
    input  wire       sen,
    input  wire       cmd_valid_i,
    input  wire       hp_we_i,
    input  wire       hp_re_i,
    input  wire       cnt_clear_i,
    output reg        cmd_ready_o,
    output reg        busy_o,
    output reg        done_o,
    output reg        hp_wait_o,
    output reg  [7:0] hp_rdata_o,
    output reg        cnt_par_o
);
    localparam integer LOG_R  = $clog2(ROWS);
    localparam integer LOG_C  = $clog2(COLS);
    localparam integer ACT_AW = $clog2(ACT_WORDS);
    localparam integer W_AW   = $clog2(W_WORDS);
    localparam integer P_AW   = $clog2(P_WORDS);
    // host byte address bits the engine decodes, per region (engine.md)
    localparam integer HA_ACT = LOG_R + ACT_AW;
    localparam integer HA_W   = LOG_C + W_AW;
    localparam integer HA_P   = 4 + LOG_C + P_AW;
    localparam integer HA_01  = (HA_ACT > HA_W) ? HA_ACT : HA_W;
    localparam integer HA_P8  = (HA_P > 8) ? HA_P : 8;
    localparam integer HP_AW  = (HA_01 > HA_P8) ? HA_01 : HA_P8;

    // field offsets in the shift register, from bit 0 up
    localparam integer O_WDATA = 0;
    localparam integer O_ADDR  = O_WDATA + 8;
    localparam integer O_SEL   = O_ADDR + HP_AW;
    localparam integer O_LUT   = O_SEL + 2;
    localparam integer O_HI    = O_LUT + 1;
    localparam integer O_LO    = O_HI + 8;
    localparam integer O_ZP    = O_LO + 8;
    localparam integer O_OBASE = O_ZP + 8;
    localparam integer O_PBASE = O_OBASE + ACT_AW;
    localparam integer O_WBASE = O_PBASE + P_AW;
    localparam integer O_ABASE = O_WBASE + W_AW;
    localparam integer O_N     = O_ABASE + ACT_AW;
    localparam integer O_K     = O_N + 16;
    localparam integer O_M     = O_K + 16;
    localparam integer O_HWB   = O_M + 16;
    localparam integer O_WB    = O_HWB + ACT_AW;
    localparam integer O_GEO3  = O_WB + ACT_AW;     // kh, kw, sh, sw, ph, pw: 3 bits each
    localparam integer O_GEO11 = O_GEO3 + 18;       // h, w, b, oh, ow: 11 bits each
    localparam integer O_CT    = O_GEO11 + 55;
    localparam integer O_KT    = O_CT + 16;
    localparam integer O_ZPIN  = O_KT + 16;
    localparam integer O_CONV  = O_ZPIN + 8;
    localparam integer O_POOL2 = O_CONV + 1;
    localparam integer SR_W    = O_POOL2 + 1;

    // ------------------------------------------------------------------
    // Inputs: registered once, then the field shift register
    // ------------------------------------------------------------------
    reg            rst_q, sdi_q, sen_q, cmd_valid_q, hp_we_q, hp_re_q, cnt_clear_q;
    reg [SR_W-1:0] sr_q;

    always @(posedge clk) begin
        rst_q       <= rst_i;
        sdi_q       <= sdi;
        sen_q       <= sen;
        cmd_valid_q <= cmd_valid_i;
        hp_we_q     <= hp_we_i;
        hp_re_q     <= hp_re_i;
        cnt_clear_q <= cnt_clear_i;
        if (sen_q) sr_q <= {sr_q[SR_W-2:0], sdi_q};
    end

    // Address fields padded to the engine's 32-bit ports (upper bits unused
    // by the engine: addresses wrap modulo the buffer depths).
    wire [31:0] a_base = {{(32-ACT_AW){1'b0}}, sr_q[O_ABASE +: ACT_AW]};
    wire [31:0] w_base = {{(32-W_AW){1'b0}},   sr_q[O_WBASE +: W_AW]};
    wire [31:0] p_base = {{(32-P_AW){1'b0}},   sr_q[O_PBASE +: P_AW]};
    wire [31:0] o_base = {{(32-ACT_AW){1'b0}}, sr_q[O_OBASE +: ACT_AW]};
    wire [31:0] h_addr = {{(32-HP_AW){1'b0}},  sr_q[O_ADDR +: HP_AW]};

    // ------------------------------------------------------------------
    // The engine
    // ------------------------------------------------------------------
    wire        cmd_ready, busy, done, hp_wait;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [ROWS*8-1:0] lp_rd_nc;       // the LIF core's ACT port: not used here
    wire [COLS*8-1:0]  xw_rd_nc;      // DWCONV's W port: not used here
    wire [COLS*72-1:0] xp_rd_nc;      // LAYERNORM's P port: not used here
    /* verilator lint_on UNUSEDSIGNAL */
    wire [7:0]  hp_rdata;
    wire [63:0] cnt_cycles, cnt_busy, cnt_macs;
    /* verilator lint_off UNUSEDSIGNAL */
    wire        chk_done_nc, chk_ok_nc;   // the parameter check is the core's (not used here)
    wire        row_nc;                   // the row increments of nnf_core's counter table ...
    wire [15:0] row_macs_nc;              // ... (this top counts with the engine's own)
    /* verilator lint_on UNUSEDSIGNAL */

    nnf_gemm #(
        .ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
        .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL),
        .PE_DSP(PE_DSP), .HAS_CONV(HAS_CONV)
    ) u_gemm (
        .clk(clk), .rst(rst_q),
        .cmd_valid(cmd_valid_q), .cmd_ready(cmd_ready),
        .cmd_m(sr_q[O_M +: 16]), .cmd_k(sr_q[O_K +: 16]), .cmd_n(sr_q[O_N +: 16]),
        .cmd_a_base(a_base), .cmd_w_base(w_base), .cmd_p_base(p_base),
        .cmd_o_base(o_base),
        .cmd_zp(sr_q[O_ZP +: 8]), .cmd_lo(sr_q[O_LO +: 8]), .cmd_hi(sr_q[O_HI +: 8]),
        .cmd_lut(sr_q[O_LUT]), .cmd_lut_sel(3'd0), .cmd_rnd(1'b0),
        .cmd_conv(sr_q[O_CONV]), .cmd_pool2(sr_q[O_POOL2]), .cmd_kt(sr_q[O_KT +: 16]), .cmd_ct(sr_q[O_CT +: 16]),
        .cmd_h(sr_q[O_GEO11 +: 11]), .cmd_w(sr_q[O_GEO11 + 11 +: 11]),
        .cmd_b(sr_q[O_GEO11 + 22 +: 11]), .cmd_oh(sr_q[O_GEO11 + 33 +: 11]),
        .cmd_ow(sr_q[O_GEO11 + 44 +: 11]),
        .cmd_kh(sr_q[O_GEO3 +: 3]), .cmd_kw(sr_q[O_GEO3 + 3 +: 3]), .cmd_sh(sr_q[O_GEO3 + 6 +: 3]),
        .cmd_sw(sr_q[O_GEO3 + 9 +: 3]), .cmd_ph(sr_q[O_GEO3 + 12 +: 3]),
        .cmd_pw(sr_q[O_GEO3 + 15 +: 3]),
        .cmd_wb({{(32-ACT_AW){1'b0}}, sr_q[O_WB +: ACT_AW]}),
        .cmd_hwb({{(32-ACT_AW){1'b0}}, sr_q[O_HWB +: ACT_AW]}),
        .cmd_zp_in(sr_q[O_ZPIN +: 8]),
        .busy(busy), .done(done), .cmd_abort(1'b0),
        .chk_start(1'b0), .chk_done(chk_done_nc), .chk_ok(chk_ok_nc),
        .hp_we(hp_we_q), .hp_re(hp_re_q), .hp_sel(sr_q[O_SEL +: 2]),
        .hp_addr(h_addr), .hp_wdata(sr_q[O_WDATA +: 8]),
        .hp_rdata(hp_rdata), .hp_wait(hp_wait),
        .lp_re(1'b0), .lp_ra(32'd0), .lp_rd(lp_rd_nc), .lp_we(1'b0), .lp_wa(32'd0),
        .lp_wd({(ROWS*8){1'b0}}),
        .aw_we(1'b0), .aw_wa({$clog2(W_WORDS){1'b0}}), .aw_wd({(COLS*8){1'b0}}),
        .ap_we(1'b0), .ap_wa({$clog2(P_WORDS){1'b0}}), .ap_wd({(COLS*32){1'b0}}),
        .xw_re(1'b0), .xw_ra({$clog2(W_WORDS){1'b0}}), .xw_rd(xw_rd_nc),
        .xp_re(1'b0), .xp_ra({$clog2(P_WORDS){1'b0}}), .xp_rd(xp_rd_nc),
        .cnt_clear(cnt_clear_q),
        .cnt_cycles(cnt_cycles), .cnt_busy(cnt_busy), .cnt_macs(cnt_macs), .cnt_row(row_nc), .cnt_row_macs(row_macs_nc));

    // ------------------------------------------------------------------
    // Outputs: registered; the counters folded to one parity bit in two
    // registered stages (each counter bit changes the pin, so no counter
    // logic can be removed, and the tree stays off the critical path).
    // ------------------------------------------------------------------
    reg [2:0] par_q;
    always @(posedge clk) begin
        par_q       <= {^cnt_cycles, ^cnt_busy, ^cnt_macs};
        cnt_par_o   <= ^par_q;
        cmd_ready_o <= cmd_ready;
        busy_o      <= busy;
        done_o      <= done;
        hp_wait_o   <= hp_wait;
        hp_rdata_o  <= hp_rdata;
    end
endmodule

`default_nettype wire
