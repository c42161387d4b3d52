// nnf_lif: the LIF neuron core. One instruction steps an M x N layer of
// Lava-style CUBA LIF neurons by one time step:
//
//   for every ACT word of the currents (N tile nt outer, row m inner),
//     for every lane j < N - nt*ROWS (neuron n = nt*ROWS + j of row m):
//       state entry e = s_base + m*N + n: (u, v, ref, count) <- step(a)
//     the word of 0/1 spikes (lanes >= N zero) is written to ACT at o_base
//
// The update is nnfm_lif_step (sim/model/nnfm_lif.c, docs/numerics.md "LIF
// neurons"), bit for bit. One datapath, time-multiplexed over the state
// memory: one neuron per cycle, a six-stage pipeline:
//
//   I    state read of entry e; the current a is lane j of the ACT word
//   I+1  state arrives, rotated into lane order (zeroed when clear)
//   I+2  u*(4095-du) and v*(4096-dv)
//   I+3  truncate toward zero (>> 12), u' = .. + (a << 6) and the 24-bit
//        wrap; v partial = decayed v + bias
//   I+4  v' = partial + u', clipped
//   I+5  threshold, reset, refractory, count; state write of entry e; on
//        the word's last lane the spike word is written to ACT
//
// The ACT word of the next neuron group is read in the cycle the current
// word's last lane issues, so words stream back to back; a spike word is
// written after the current word it came from was read, so the spikes may
// overwrite the currents in place (o_base == a_base). Entries of one
// instruction are distinct (M*N <= STATE_WORDS), so the pipeline has no
// read-after-write hazard; the next instruction starts after the last write.
//
// State memory: STATE_WORDS entries of 96 bits, addressed by the host as 16
// bytes per entry (docs/protocol.md, region STATE): u in bits [24:0]
// (stored in the bytes 0..3; bits 31:25 read back as the sign of bit 24), v
// in [55:32] (24 bits), count in [87:56], ref in [91:88].
//
// The instruction's field widths and the STATE record come from
// rtl/core/nnf_proto.vh (generated from proto/nnf_proto.def).
`include "nnf_proto.vh"
`default_nettype none

module nnf_lif #(
    parameter integer ROWS        = 8,
    parameter integer ACT_AW      = 15,
    parameter integer STATE_WORDS = 16384,
    parameter integer LANES       = 8       // neurons per cycle: a power of two, 1..ROWS
) (
    input  wire        clk,
    input  wire        rst,

    // command (sampled with start)
    input  wire        start,
    input  wire        abort,          // stop issuing (the program is aborted)
    input  wire [`NNFP_LIF_M_W-1:0]          c_m,
    input  wire [`NNFP_LIF_N_W-1:0]          c_n,
    input  wire [`NNFP_LIF_A_BASE_W-1:0]     c_a_base,
    input  wire [`NNFP_LIF_O_BASE_W-1:0]     c_o_base,
    input  wire [`NNFP_LIF_S_BASE_W-1:0]     c_s_base,
    input  wire [`NNFP_LIF_DU_W-1:0]         c_du,
    input  wire [`NNFP_LIF_DV_W-1:0]         c_dv,
    input  wire [`NNFP_LIF_VTH_W-1:0]        c_vth,
    input  wire [`NNFP_LIF_BIAS_MANT_W-1:0]  c_bias_mant,
    input  wire [`NNFP_LIF_BIAS_EXP_W-1:0]   c_bias_exp,
    input  wire        c_reset_sub,
    input  wire [`NNFP_LIF_REFRACTORY_W-1:0] c_refractory,
    input  wire        c_count,
    input  wire        c_clear,
    output reg         busy,
    output reg         done,           // one cycle, after the last write
    output wire        update,         // a group of neurons issued this cycle

    // ACT access (through nnf_gemm, which is idle while this runs)
    output wire              act_re,
    output wire [ACT_AW-1:0] act_ra,
    input  wire [ROWS*8-1:0] act_rd,   // valid the cycle after act_re, held until the next
    output wire              act_we,
    output wire [ACT_AW-1:0] act_wa,
    output wire [ROWS*8-1:0] act_wd,

    // host port to the state memory (byte address entry*STATE_BYTES + b), while idle
    input  wire        hp_we,
    input  wire [31:0] hp_waddr,
    input  wire [7:0]  hp_wdata,
    input  wire        hp_re,          // never in the same cycle as hp_we
    input  wire [31:0] hp_raddr,
    output wire [7:0]  hp_rdata        // the cycle after hp_re
);
    localparam integer LOG_R  = $clog2(ROWS);
    localparam integer SAW    = $clog2(STATE_WORDS);
    localparam integer LOG_L  = $clog2(LANES);
    localparam integer LW     = (LOG_L == 0) ? 1 : LOG_L;   // width of a bank number
    localparam integer BAW    = SAW - LOG_L;                // bank address width

    // The host's view of an entry is the STATE record (nnf_proto.vh); the
    // memory packs it into 12 byte lanes (below). A record that no longer
    // matches this packing stops elaboration: change both together.
    localparam integer EB = $clog2(`NNFP_STATE_BYTES);     // byte-in-entry address bits
    generate
        if (`NNFP_STATE_BYTES != 16 || `NNFP_STATE_U_OFS != 0 || `NNFP_STATE_U_W != 25 ||
            `NNFP_STATE_V_OFS != 4 || `NNFP_STATE_V_W != 24 || `NNFP_STATE_COUNT_OFS != 8 ||
            `NNFP_STATE_COUNT_W != 32 || `NNFP_STATE_REF_OFS != 12 ||
            `NNFP_STATE_REF_W != 4) begin : g_bad_record
            nnf_lif_STATE_record_in_nnf_proto_vh_does_not_match_this_packing u_bad();
        end
        if (STATE_WORDS < 2 || (1 << SAW) != STATE_WORDS || SAW > 24) begin : g_bad_state
            nnf_lif_bad_parameter_STATE_WORDS_must_be_a_power_of_two_2_to_2e24 u_bad();
        end
        if (LANES < 1 || (1 << LOG_L) != LANES || LANES > ROWS || STATE_WORDS < 2 * LANES) begin : g_bad_lanes
            nnf_lif_bad_parameter_LANES_must_be_a_power_of_two_1_to_ROWS_and_STATE_WORDS_over_2 u_bad();
        end
    endgenerate

    // ------------------------------------------------------------------
    // Command registers
    // ------------------------------------------------------------------
    reg  [15:0]       r_m;
    reg  [11:0]       r_mu;          // 4096 - (du + 1) = 4095 - du
    reg  [12:0]       r_mv;          // 4096 - dv
    reg  [22:0]       r_th;          // vth << 6
    reg  [19:0]       r_bias;        // bias_mant << bias_exp, signed
    reg               r_reset_sub, r_count, r_clear;
    reg  [3:0]        r_refr;
    reg  [SAW-1:0]    r_n;           // N modulo the state depth (entry stride of a row)

    // walk: current word (tile nt, row w_m), first lane of the group, pointers
    reg               iss;           // issuing: act_rd holds the current word
    reg  [15:0]       w_m;           // row within the tile
    reg  [16:0]       w_nrem;        // N - nt*ROWS
    reg  [LOG_R-1:0]  lane;          // first lane of the current group (a multiple of LANES)
    reg  [ACT_AW-1:0] a_ptr, o_ptr;  // ACT words of the current word
    reg  [SAW-1:0]    e_word;        // entry of lane 0 of the current word
    reg  [SAW-1:0]    e_tile;        // entry of row 0 of the current tile

    wire [16:0] rows17   = ROWS[16:0];
    wire        full_t   = (w_nrem >= rows17);
    wire [LOG_R-1:0] nl_m1 = full_t ? ROWS[LOG_R-1:0] - 1'b1 : w_nrem[LOG_R-1:0] - 1'b1;
    wire [LOG_R-1:0] grp_last = (nl_m1 >> LOG_L) << LOG_L;     // first lane of the last group
    wire        at_last  = (lane == grp_last);
    wire        row_last = (w_m == r_m - 16'd1);
    wire        all_last = at_last && row_last && (w_nrem <= rows17);
    wire        go       = iss && !abort;

    wire [11:0] du_c = c_du;
    wire [12:0] dv_c = {1'b0, c_dv};
    wire [19:0] bias_c = {{7{c_bias_mant[12]}}, c_bias_mant} <<< c_bias_exp;

    reg [4:0] pv_q;                  // pipeline valid: stages 2..6
    wire      start_empty = (c_m == 16'd0) || (c_n == 16'd0);

    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0;
            done <= 1'b0;
            iss  <= 1'b0;
        end else begin
            done <= 1'b0;
            if (start && !busy) begin
                if (start_empty) begin
                    done <= 1'b1;
                end else begin
                    busy <= 1'b1;
                    iss  <= 1'b1;               // word 0 is read this cycle (act_re)
                end
                r_m         <= c_m;
                r_mu        <= 12'd4095 - du_c;
                r_mv        <= 13'd4096 - dv_c;
                r_th        <= {c_vth, 6'd0};
                r_bias      <= bias_c;
                r_reset_sub <= c_reset_sub;
                r_count     <= c_count;
                r_clear     <= c_clear;
                r_refr      <= c_refractory;
                r_n         <= c_n[SAW-1:0];
                w_m         <= 16'd0;
                w_nrem      <= {1'b0, c_n};
                lane        <= {LOG_R{1'b0}};
                a_ptr       <= c_a_base[ACT_AW-1:0];
                o_ptr       <= c_o_base[ACT_AW-1:0];
                e_word      <= c_s_base[SAW-1:0];
                e_tile      <= c_s_base[SAW-1:0];
            end else if (busy) begin
                if (iss && (abort || all_last)) iss <= 1'b0;
                if (go && !all_last) begin
                    if (at_last) begin
                        lane  <= {LOG_R{1'b0}};
                        a_ptr <= a_ptr + 1'b1;
                        o_ptr <= o_ptr + 1'b1;
                        if (row_last) begin
                            w_m    <= 16'd0;
                            w_nrem <= w_nrem - rows17;
                            e_tile <= e_tile + ROWS[SAW-1:0];
                            e_word <= e_tile + ROWS[SAW-1:0];
                        end else begin
                            w_m    <= w_m + 16'd1;
                            e_word <= e_word + r_n;
                        end
                    end else begin
                        lane <= lane + LANES[LOG_R-1:0];
                    end
                end
                if (!iss && pv_q == 5'd0) begin
                    busy <= 1'b0;
                    done <= 1'b1;
                end
            end
        end
    end

    // ACT read: word 0 at start, the next word with the current word's last group
    assign act_re = (start && !busy && !start_empty) || (go && at_last && !all_last);
    assign act_ra = (start && !busy) ? c_a_base[ACT_AW-1:0] : a_ptr + 1'b1;
    assign update = go;

    // ------------------------------------------------------------------
    // State memory: LANES banks
    // ------------------------------------------------------------------
    // the group's first entry e0 = e_word + lane: bank r = e0 mod LANES, row q
    wire [SAW-1:0] e0 = e_word + {{(SAW-LOG_R){1'b0}}, lane};
    wire [LW-1:0]  e_r = (LANES == 1) ? {LW{1'b0}} : e0[LW-1:0];
    wire [BAW-1:0] e_q = e0[SAW-1:LOG_L];

    // host byte b of an entry -> physical byte: 0..3 u, 4..6 v, 8..11 count (7..10), 12 ref (11)
    // (write and read decoded apart: the read address comes straight from the
    // answer path, and must not reach the write enables)
    wire [3:0]     hb = hp_waddr[3:0];
    wire [SAW-1:0] hp_e = hp_waddr[EB +: SAW];
    wire [LW-1:0]  hp_bank = (LANES == 1) ? {LW{1'b0}} : hp_e[LW-1:0];
    wire [BAW-1:0] hp_row = hp_e[SAW-1:LOG_L];
    wire [SAW-1:0] hr_e = hp_raddr[EB +: SAW];
    wire [LW-1:0]  hr_bank = (LANES == 1) ? {LW{1'b0}} : hr_e[LW-1:0];
    wire [BAW-1:0] hr_row = hr_e[SAW-1:LOG_L];
    reg  [11:0]    hp_be;
    always @(*) begin
        hp_be = 12'd0;
        if (hb <= 4'd6)                      hp_be[hb] = 1'b1;
        else if (hb >= 4'd8 && hb <= 4'd12)  hp_be[hb - 4'd1] = 1'b1;
    end
    wire hp_w = hp_we && !busy;
    wire hp_r = hp_re && !busy;

    // stage-6 write, per bank (filled in below from the lanes)
    wire [LANES-1:0]   s_we;
    wire [BAW-1:0]     s_wa [0:LANES-1];
    wire [95:0]        s_wd [0:LANES-1];
    wire [95:0]        bk_rd [0:LANES-1];

    genvar g;
    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_bank
            // the group's entry in bank g is on row q, or q + 1 when g < r
            localparam [LW-1:0] GL = g;
            wire [LW:0]    dr = {1'b0, GL} - {1'b0, e_r};     // negative: g < r
            wire [BAW-1:0] ra = e_q + {{(BAW-1){1'b0}}, dr[LW]};
            wire           hsel = (hp_bank == GL);
            wire           rsel = (hr_bank == GL);
            nnf_ram #(.AW(BAW), .NB(12)) u_state (
                .clk(clk),
                .we(s_we[g] ? 12'hFFF : ((hp_w && hsel) ? hp_be : 12'd0)),
                .wa(s_we[g] ? s_wa[g] : hp_row),
                .wd(s_we[g] ? s_wd[g] : {12{hp_wdata}}),
                .re(go || (hp_r && rsel)),
                .ra(busy ? ra : hr_row),
                .rd(bk_rd[g]));
        end
    endgenerate

    reg [3:0]    hb_q;
    reg [LW-1:0] hbank_q;
    always @(posedge clk) begin
        hb_q    <= hp_raddr[3:0];
        hbank_q <= hr_bank;
    end
    wire [95:0] h_rd = bk_rd[hbank_q];
    reg  [7:0]  hp_byte;
    always @(*) begin
        case (hb_q)
            4'd0:  hp_byte = h_rd[7:0];
            4'd1:  hp_byte = h_rd[15:8];
            4'd2:  hp_byte = h_rd[23:16];
            4'd3:  hp_byte = {8{h_rd[24]}};
            4'd4:  hp_byte = h_rd[39:32];
            4'd5:  hp_byte = h_rd[47:40];
            4'd6:  hp_byte = h_rd[55:48];
            4'd7:  hp_byte = {8{h_rd[55]}};
            4'd8:  hp_byte = h_rd[63:56];
            4'd9:  hp_byte = h_rd[71:64];
            4'd10: hp_byte = h_rd[79:72];
            4'd11: hp_byte = h_rd[87:80];
            4'd12: hp_byte = {4'd0, h_rd[91:88]};
            default: hp_byte = 8'd0;
        endcase
    end
    assign hp_rdata = hp_byte;

    // ------------------------------------------------------------------
    // Group tags through the pipeline (stage 1 = issue)
    // ------------------------------------------------------------------
    wire [7:0] act_arr [0:ROWS-1];
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_a
            assign act_arr[g] = act_rd[8*g +: 8];
        end
    endgenerate

    reg [LOG_R-1:0]  s1_lane, s2_lane, s3_lane, s4_lane, s5_lane;
    reg              s1_end, s2_end, s3_end, s4_end, s5_end;   // last group of its word
    reg [ACT_AW-1:0] s1_o, s2_o, s3_o, s4_o, s5_o;
    reg [LW-1:0]     s1_r, s2_r, s3_r, s4_r, s5_r;
    reg [BAW-1:0]    s1_q, s2_q, s3_q, s4_q, s5_q;

    always @(posedge clk) begin
        if (rst) pv_q <= 5'd0;
        else     pv_q <= {pv_q[3:0], go};
        s1_lane <= lane;
        s1_end  <= at_last;
        s1_o    <= o_ptr;
        s1_r    <= e_r;
        s1_q    <= e_q;
        s2_lane <= s1_lane;
        s2_end  <= s1_end;
        s2_o    <= s1_o;
        s2_r    <= s1_r;
        s2_q    <= s1_q;
        s3_lane <= s2_lane;
        s3_end  <= s2_end;
        s3_o    <= s2_o;
        s3_r    <= s2_r;
        s3_q    <= s2_q;
        s4_lane <= s3_lane;
        s4_end  <= s3_end;
        s4_o    <= s3_o;
        s4_r    <= s3_r;
        s4_q    <= s3_q;
        s5_lane <= s4_lane;
        s5_end  <= s4_end;
        s5_o    <= s4_o;
        s5_r    <= s4_r;
        s5_q    <= s4_q;
    end

    // ------------------------------------------------------------------
    // The datapaths: lane i steps neuron lane + i (valid when <= nl_m1)
    // ------------------------------------------------------------------
    localparam signed [26:0] U_MAX = 27'sd8388608;      // 2^23
    localparam signed [26:0] U_MOD = 27'sd16777216;     // 2^24
    localparam signed [26:0] V_MAX = 27'sd8388607;      // 2^23 - 1
    wire signed [26:0] th = {4'd0, r_th};

    wire [LANES-1:0]  ln_spike;                         // stage 6, valid lanes only
    wire [LANES-1:0]  ln_v3;                            // stage 6 lane valid
    wire [95:0]       ln_wd [0:LANES-1];

    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_ln
            localparam [LW-1:0]  GL = g;
            localparam [LOG_R:0] GR = g;
            // stage 1: current and validity
            wire [LOG_R:0] pos = {1'b0, lane} + GR;
            reg [7:0] s1_a;
            reg       s1_v;
            always @(posedge clk) begin
                s1_a <= act_arr[pos[LOG_R-1:0]];
                s1_v <= (pos <= {1'b0, nl_m1});
            end
            // stage 2: this lane's entry is in bank (r + g) mod LANES; zeroed on clear
            wire [LW-1:0]      bsel   = (LANES == 1) ? {LW{1'b0}} : s1_r + GL;
            wire [95:0]        st_rd  = bk_rd[bsel];
            wire               clr    = r_clear;
            reg signed [24:0] s2_u;
            reg signed [23:0] s2_v;
            reg [31:0]        s2_cnt;
            reg [3:0]         s2_ref;
            reg [7:0]         s2_a;
            reg               s2_v_ok;
            always @(posedge clk) begin
                s2_u    <= clr ? 25'sd0 : st_rd[24:0];
                s2_v    <= clr ? 24'sd0 : st_rd[55:32];
                s2_cnt  <= clr ? 32'd0  : st_rd[87:56];
                s2_ref  <= clr ? 4'd0   : st_rd[91:88];
                s2_a    <= s1_a;
                s2_v_ok <= s1_v;
            end
            // stage 3: the decay products
            wire signed [37:0] pu = s2_u * $signed({1'b0, r_mu});
            wire signed [37:0] pv = s2_v * $signed({1'b0, r_mv});
            reg signed [37:0] s3_pu, s3_pv;
            reg signed [23:0] s3_v;
            reg [31:0]        s3_cnt;
            reg [3:0]         s3_ref;
            reg [7:0]         s3_a;
            reg               s3_v_ok;
            always @(posedge clk) begin
                s3_pu   <= pu;
                s3_pv   <= pv;
                s3_v    <= s2_v;
                s3_cnt  <= s2_cnt;
                s3_ref  <= s2_ref;
                s3_a    <= s2_a;
                s3_v_ok <= s2_v_ok;
            end
            // stage 4: trunc(x / 4096) toward zero = floor((x + 4095) / 4096) for x < 0
            wire signed [37:0] pu_adj = s3_pu + (s3_pu[37] ? 38'sd4095 : 38'sd0);
            wire signed [37:0] pv_adj = s3_pv + (s3_pv[37] ? 38'sd4095 : 38'sd0);
            wire signed [25:0] du_t   = pu_adj[37:12];          // |.| < 2^24
            wire signed [25:0] dv_t   = pv_adj[37:12];          // |.| < 2^23
            wire signed [26:0] u_sum  = {du_t[25], du_t} + {{13{s3_a[7]}}, s3_a, 6'd0};
            wire signed [26:0] u_wrap = (u_sum > U_MAX)  ? u_sum - U_MOD
                                      : (u_sum <= -U_MAX) ? u_sum + U_MOD : u_sum;
            wire signed [26:0] v_part = {dv_t[25], dv_t} + {{7{r_bias[19]}}, r_bias};
            reg signed [24:0] s4_u;
            reg signed [26:0] s4_vp;
            reg signed [23:0] s4_v;
            reg [31:0]        s4_cnt;
            reg [3:0]         s4_ref;
            reg               s4_v_ok;
            always @(posedge clk) begin
                s4_u    <= u_wrap[24:0];
                s4_vp   <= v_part;
                s4_v    <= s3_v;
                s4_cnt  <= s3_cnt;
                s4_ref  <= s3_ref;
                s4_v_ok <= s3_v_ok;
            end
            // stage 5: v' = partial + u', clipped to +-(2^23 - 1)
            wire signed [26:0] v_sum = s4_vp + {{2{s4_u[24]}}, s4_u};
            wire signed [26:0] v_clp = (v_sum > V_MAX) ? V_MAX : (v_sum < -V_MAX) ? -V_MAX : v_sum;
            reg signed [24:0] s5_u;
            reg signed [23:0] s5_vc;
            reg signed [23:0] s5_v;
            reg [31:0]        s5_cnt, s5_cnt1;
            reg [3:0]         s5_ref1;
            reg               s5_v_ok, s5_free;
            always @(posedge clk) begin
                s5_u    <= s4_u;
                s5_vc   <= v_clp[23:0];
                s5_v    <= s4_v;
                s5_cnt  <= s4_cnt;
                s5_cnt1 <= s4_cnt + 32'd1;
                s5_ref1 <= s4_ref - 4'd1;
                s5_free <= (s4_ref == 4'd0);
                s5_v_ok <= s4_v_ok;
            end
            // stage 6: spike, reset, refractory, count
            wire signed [26:0] v_c   = {{3{s5_vc[23]}}, s5_vc};
            wire               spike = s5_free && (v_c > th);
            wire signed [26:0] v_rst = r_reset_sub ? v_c - th : 27'sd0;
            wire signed [23:0] v_new = !s5_free ? s5_v : spike ? v_rst[23:0] : s5_vc;
            wire [3:0]         r_new = !s5_free ? s5_ref1 : spike ? r_refr : 4'd0;
            wire [31:0]        c_new = (r_count && spike) ? s5_cnt1 : s5_cnt;
            assign ln_spike[g] = spike && s5_v_ok;
            assign ln_v3[g]    = s5_v_ok;
            assign ln_wd[g]    = {4'd0, r_new, c_new, v_new, {7{s5_u[24]}}, s5_u};

            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_ln = &{1'b0, st_rd[95:92], st_rd[31:25], pu_adj[11:0], pv_adj[11:0],
                               u_wrap[26:25], v_rst[26:24], v_clp[26:24], bsel};
            /* verilator lint_on UNUSEDSIGNAL */
        end

        // stage-6 writes: bank b takes lane (b - r) mod LANES, on row q (+1 when b < r)
        for (g = 0; g < LANES; g = g + 1) begin : g_wb
            localparam [LW-1:0] GL = g;
            wire [LW-1:0] lsel = (LANES == 1) ? {LW{1'b0}} : GL - s5_r;
            assign s_we[g] = pv_q[4] && ln_v3[lsel];
            wire [LW:0]   dw = {1'b0, GL} - {1'b0, s5_r};
            assign s_wa[g] = s5_q + {{(BAW-1){1'b0}}, dw[LW]};
            assign s_wd[g] = ln_wd[lsel];
        end
    endgenerate

    // spike word: groups of this word so far, then the word on its last group
    reg  [ROWS-1:0] sp_acc;
    wire [ROWS-1:0] ln_ext;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_ext
            if (g < LANES) begin : g_l
                assign ln_ext[g] = ln_spike[g];
            end else begin : g_z
                assign ln_ext[g] = 1'b0;
            end
        end
    endgenerate
    wire [ROWS-1:0] sp_bits = ((s5_lane == {LOG_R{1'b0}}) ? {ROWS{1'b0}} : sp_acc)
                            | (ln_ext << s5_lane);
    always @(posedge clk) if (pv_q[4]) sp_acc <= sp_bits;

    assign act_we = pv_q[4] && s5_end;
    assign act_wa = s5_o;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_o
            assign act_wd[8*g +: 8] = {7'd0, sp_bits[g]};
        end
    endgenerate

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, c_a_base, c_o_base, c_s_base, c_n, hp_waddr[31:4], hp_raddr[31:4], w_nrem[16:LOG_R],
                    e0[LW-1:0], hp_e[LW-1:0], hr_e[LW-1:0], h_rd[95:92], h_rd[31:25]};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
