// nnf_insn_check: the micro-program's instruction limits, checked before an
// instruction has any side effect (docs/protocol.md, "Refused
// instructions"). The definition is the functional model's:
//   GEMM  nnfm_engine_check   (sim/model/nnfm_engine.c): lo <= hi; then,
//         unless m = 0 or n = 0, every word of A, O, W and P inside its
//         buffer and A, O disjoint. (The per-lane m0/shift check needs the
//         P buffer: nnf_gemm does it, chk_start.)
//   LIF   run_lif             (sim/model/nnfm_device.c): unless m = 0 or
//         n = 0, the currents, the spikes (NT*m ACT words each, NT =
//         ceil(n / ROWS)) and the state entries s_base .. s_base + m*n - 1
//         inside their buffers, and currents and spikes equal or disjoint.
//   CONV  nnfm_engine_conv_check (nnfm_engine.c), without its P-lane check
//         (nnf_gemm's, as for GEMM): Cin, N, KH, KW not 0, lo <= hi, the
//         kernel no larger than the padded input (KH <= H + 2*PH + EH, KW
//         likewise); M = OH*OW*B and KT = KH*KW*CT at most 65535
//         (NNFM_WALK_MAX); the input (a_base, CT*H*W*B words) and the output
//         (o_base, NT*M words) inside ACT and disjoint, W (w_base,
//         NT*KT*ROWS words) inside W, P (p_base, NT entries) inside P.
//   POOL  nnfm_engine_pool_check: C not 0, lo <= hi; GLOBAL: KH, KW,
//         SH-1, SW-1, PH, PW, EH, EW all 0 and the window is H x W;
//         otherwise KH, KW not 0, the kernel no larger than the padded
//         input and no window without an in-bounds tap (KH > PH and
//         PH + EH < KH + (H + 2*PH + EH - KH) mod SH, W likewise); M <= 65535;
//         input (CT*H*W*B) and output (CT*M words) inside ACT and disjoint.
//         With POOL2 (c_pool2): also OH, OW >= 2, M = (OH/2)*(OW/2)*B
//         (the output), 4*M <= 65535 (the rows walked).
//   DWCONV (c_dw, kind CONV) nnfm_engine_dwconv_check without its P-lane
//         check (nnf_gemm's, n = C): as CONV, and N = C, KH, KW <= 3, no
//         window without an in-bounds tap (as POOL); W is w_base,
//         KT = KH*KW*CT words (not times NT*ROWS, and not limited to
//         65535: the last product is not made), P p_base, CT entries.
//   PACK  nnfm_engine_pack_check, given as POOL with C = C' = KW*Cin, KH =
//         SH = 1, PH = EH = 0 (c_pack), Cin in 1..ROWS by the caller
//         (c_xok): as POOL, except that the input is the dense bytes'
//         ceil(H*W*B*Cin / ROWS) words (the third product by Cin, rounded
//         up to words at the range step).
//   with CT = ceil(Cin / ROWS), NT = ceil(N / ROWS) (POOL: NT = CT) and
//   OH = (H + 2*PH + EH - KH) / SH + 1, OW likewise.
//
// Protocol: `kind` and the fields are held stable from `start` (a one-cycle
// pulse) until `done` (a one-cycle pulse) with `ok` valid in the same cycle.
// `done` comes, with CW = 2 + log2 of the largest of ACT_WORDS, W_WORDS,
// P_WORDS, STATE_WORDS, YB = min(CW, 17), NS = min(11, YB),
// NT' = min(17 - log2(ROWS), YB), NK = min(3, YB):
//   GEMM, LIF  3*YB + 8 cycles after start      (59 at the simulator's sizes
//              and the iCEBreaker's, 50 with 4096-word buffers)
//   CONV       4*NS + 3*NT' + 2*NK + 8          (91, 100)
//   DWCONV     4*NS + 2*NT' + 2*NK + 8
//   POOL       4*NS + 2*NT' + 8                 (74, 80)
// (CONV / POOL wait for the stride divider if 2*NS + NT' < 12, i.e. only
// when no buffer has more than 4 words.)
// The sizes of an accepted CONV / POOL (s_*) are registered: valid from
// `done` (when ok) and held until the next `start`:
//   s_oh, s_ow  OH, OW              s_kh, s_kw  the walked kernel (GLOBAL: H, W)
//   s_m         OH*OW*B             s_ct        CT
//   s_kt        KH*KW*CT (CONV; POOL: not defined)
//   s_wb, s_hwb W*B and H*W*B modulo ACT_WORDS (exact unless the one
//               channel tile fills ACT, where they read 0 = ACT_WORDS)
//
// One CW+2-bit adder does every sum, a step per cycle (small parts have no
// room for more): the products by shift-and-add, most significant
// multiplier bit first, each visiting only as many bits as its multiplier
// can have (saturating: "big" once >= 2^CW, which no buffer holds, and a
// big factor refuses the instruction), then each range's end (base +
// words) against its buffer's size, then the two comparisons of the
// A/O overlap (each step's sum judged the cycle after it). The products:
//   GEMM  m*kt (A), m*nt (O), kt*nt (W tiles)
//   LIF   m*nt (currents), m*nt (spikes), m*n (state entries)
//   CONV  W*B, *H, *CT (input), OH*OW, *B (M), *NT (output),
//         CT*KW, *KH (KT), *NT (W tiles)
//   POOL  the first six of CONV's, with NT = CT
// OH, OW come from two 2-bit-remainder restoring dividers (one dividend bit
// per cycle, 11 cycles from start, beside the products): the dividend is
// H + 2*PH + EH - KH + SH, so the quotient is OH itself.
`default_nettype none

module nnf_insn_check #(
    parameter integer ROWS        = 8,
    parameter integer ACT_WORDS   = 32768,
    parameter integer W_WORDS     = 16384,
    parameter integer P_WORDS     = 64,
    parameter integer STATE_WORDS = 16384,   // 0: no LIF core (LIF is never checked)
    parameter integer HAS_CONV    = 1        // 0: CONV / POOL are never checked (kind 2, 3
                                             // read as GEMM: the caller never starts them)
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire [1:0]  kind,        // 0 GEMM, 1 LIF, 2 CONV, 3 POOL
    input  wire [15:0] m,           // GEMM, LIF
    input  wire [15:0] k,           // GEMM only
    input  wire [15:0] n,           // GEMM, LIF, CONV (N)
    input  wire [31:0] a_base,
    input  wire [31:0] w_base,      // GEMM, CONV
    input  wire [31:0] p_base,      // GEMM, CONV: P entry; LIF: s_base (first STATE entry)
    input  wire [31:0] o_base,
    input  wire [7:0]  lo,          // GEMM, CONV, POOL, int8
    input  wire [7:0]  hi,
    input  wire [15:0] c_cin,       // CONV Cin, POOL C
    input  wire [2:0]  c_kh,        // CONV, POOL: the record's fields
    input  wire [2:0]  c_kw,
    input  wire [1:0]  c_sh_m1,
    input  wire [1:0]  c_sw_m1,
    input  wire [2:0]  c_ph,
    input  wire [2:0]  c_pw,
    input  wire [9:0]  c_h_m1,
    input  wire [9:0]  c_w_m1,
    input  wire [9:0]  c_b_m1,
    input  wire        c_eh,
    input  wire        c_ew,
    input  wire        c_global,    // POOL only (ignored for CONV)
    input  wire        c_pool2,     // CONV: fused 2x2 max pooling (OH, OW >= 2; M = OH/2*OW/2*B, 4*M walked)
    input  wire        c_dw,        // CONV: a DWCONV (above)
    input  wire        c_pack,      // POOL: a PACK (its input: ceil(H*W*B*Cin / ROWS) words)
    input  wire [15:0] c_pcin,      // PACK: Cin (checked <= ROWS by the caller: c_xok)
    input  wire        c_xok,       // CONV, POOL: the fields' other checks passed
    output reg         done,
    output reg         ok,
    output wire [10:0] s_oh,        // registered (the dividers' quotients)
    output wire [10:0] s_ow,
    output reg  [10:0] s_kh,        // registered
    output reg  [10:0] s_kw,
    output reg  [15:0] s_m,
    output wire [15:0] s_ct,        // registered (the CT register)
    output reg  [15:0] s_kt,
    output reg  [$clog2(ACT_WORDS)-1:0] s_wb,
    output reg  [$clog2(ACT_WORDS)-1:0] s_hwb
);
    localparam integer LOG_R  = $clog2(ROWS);
    localparam integer ACT_AW = $clog2(ACT_WORDS);
    localparam integer W_AW   = $clog2(W_WORDS);
    localparam integer P_AW   = $clog2(P_WORDS);
    localparam integer S_AW   = (STATE_WORDS > 1) ? $clog2(STATE_WORDS) : 1;
    localparam integer DW0    = (ACT_AW > W_AW) ? ACT_AW : W_AW;
    localparam integer DW1    = (DW0 > S_AW) ? DW0 : S_AW;
    localparam integer DW     = (DW1 > P_AW) ? DW1 : P_AW;
    localparam integer CW     = DW + 2;                        // >= 2^CW: "big"
    localparam integer AW     = CW + 2;                        // adder width
    localparam integer XW     = (CW > 17) ? CW : 17;           // operands, extended
    localparam integer YB     = (CW < 17) ? CW : 17;           // multiplier bits to visit
    // multiplier bits a product visits, by the multiplier's kind:
    localparam integer TW     = 17 - LOG_R;                    // a tile count (<= ceil(65535 / ROWS))
    localparam integer NB_S   = (YB < 11) ? YB : 11;           // a size: H, W, B, OH, OW <= 1039
    localparam integer NB_T   = (YB < TW) ? YB : TW;
    localparam integer NB_K   = (YB < 3) ? YB : 3;             // a kernel field, 0..7

    wire is_lif  = (STATE_WORDS > 1) && (kind == 2'd1);
    wire is_cv   = (HAS_CONV != 0) && kind[1];          // CONV or POOL
    wire is_pool = (HAS_CONV != 0) && (kind == 2'd3);
    wire glob    = is_pool && c_global;

    // ---- operands of the products, saturated to CW bits + a big flag ----
    // GEMM / LIF: kt = max(1, ceil(k / ROWS)), nt = ceil(n / ROWS);
    // CONV / POOL: kt = CT = ceil(Cin / ROWS), nt = NT (POOL: CT)
    wire [15:0] kk = is_cv ? c_cin : k;
    wire [15:0] nn = is_pool ? c_cin : n;
    wire [15:0] k_hi = kk >> LOG_R, n_hi = nn >> LOG_R;
    wire        k_rem = (kk & (ROWS[15:0] - 16'd1)) != 16'd0;
    wire        n_rem = (nn & (ROWS[15:0] - 16'd1)) != 16'd0;
    // registered at start (off the adder's path; the fields are held)
    wire [16:0] kt17_d = (!is_cv && k == 16'd0) ? 17'd1 : {1'b0, k_hi} + {16'd0, k_rem};
    wire [16:0] nt17_d = {1'b0, n_hi} + {16'd0, n_rem};
    reg  [16:0] kt17_q, nt17_q;
    reg         empty_q;
    always @(posedge clk) begin
        if (start) begin
            kt17_q  <= kt17_d;
            nt17_q  <= nt17_d;
            empty_q <= !is_cv && ((m == 16'd0) || (n == 16'd0));
        end
    end
    assign s_ct = kt17_q[15:0];

    // sizes 1..1024 from their fields
    wire [16:0] h17 = {7'd0, c_h_m1} + 17'd1;
    wire [16:0] w17 = {7'd0, c_w_m1} + 17'd1;
    wire [16:0] b17 = {7'd0, c_b_m1} + 17'd1;

    // ---- OH, OW: the stride dividers ----
    // dividend H + 2*PH + EH - KH + SH (-5 .. 1043; GLOBAL: 1 = SH), so that
    // the quotient is OH = (H + 2*PH + EH - KH) / SH + 1 and the remainder
    // (H + 2*PH + EH - KH) mod SH; the kernel fits iff the dividend >= SH,
    // i.e. iff it is not negative and the quotient is not 0.
    wire [5:0]  dsm_h = {2'b00, c_ph, c_eh} + {4'd0, c_sh_m1} + 6'd2 - {3'd0, c_kh};
    wire [5:0]  dsm_w = {2'b00, c_pw, c_ew} + {4'd0, c_sw_m1} + 6'd2 - {3'd0, c_kw};
    wire [11:0] dd_h  = glob ? 12'd1 : {2'b00, c_h_m1} + {{6{dsm_h[5]}}, dsm_h};
    wire [11:0] dd_w  = glob ? 12'd1 : {2'b00, c_w_m1} + {{6{dsm_w[5]}}, dsm_w};
    wire [2:0]  sh3 = {1'b0, c_sh_m1} + 3'd1, sw3 = {1'b0, c_sw_m1} + 3'd1;
    reg  [10:0] dq_h_q, dq_w_q;       // dividend bits (leaving at the top), quotient bits (entering below)
    reg  [1:0]  dr_h_q, dr_w_q;       // remainder (< stride <= 4)
    reg         dneg_h_q, dneg_w_q;   // negative dividend: the kernel does not fit
    reg  [3:0]  dcnt_q;               // dividend bits left
    wire [2:0]  dt_h = {dr_h_q, dq_h_q[10]}, dt_w = {dr_w_q, dq_w_q[10]};
    wire        dge_h = dt_h >= sh3, dge_w = dt_w >= sw3;
    wire [1:0]  ddf_h = dt_h[1:0] - sh3[1:0], ddf_w = dt_w[1:0] - sw3[1:0];   // mod 4: the remainder is < 4
    always @(posedge clk) begin
        if (rst) begin
            dcnt_q <= 4'd0;
        end else if (start) begin
            dq_h_q   <= dd_h[10:0];
            dq_w_q   <= dd_w[10:0];
            dneg_h_q <= dd_h[11];
            dneg_w_q <= dd_w[11];
            dr_h_q   <= 2'd0;
            dr_w_q   <= 2'd0;
            dcnt_q   <= 4'd11;
        end else if (dcnt_q != 4'd0) begin
            dq_h_q <= {dq_h_q[9:0], dge_h};
            dq_w_q <= {dq_w_q[9:0], dge_w};
            dr_h_q <= dge_h ? ddf_h : dt_h[1:0];
            dr_w_q <= dge_w ? ddf_w : dt_w[1:0];
            dcnt_q <= dcnt_q - 4'd1;
        end
    end
    assign s_oh = dq_h_q;
    assign s_ow = dq_w_q;

    // the walked kernel
    always @(posedge clk) begin
        if (start) begin
            s_kh <= glob ? h17[10:0] : {8'd0, c_kh};
            s_kw <= glob ? w17[10:0] : {8'd0, c_kw};
        end
    end

    // ---- the products ----
    //   phase  GEMM         LIF          CONV               POOL
    //   0      m * kt  (A)  m * nt  (A)  W * B              as CONV
    //   1      m * nt  (O)  m * nt  (O)  (W*B) * H          as CONV
    //   2      kt * nt (W)  m * n   (S)  (H*W*B) * CT  (A)  as CONV
    //   3                                OH * OW            as CONV
    //   4                                (OH*OW) * B (M)    as CONV
    //   5                                M * NT       (O)   M * CT (O), last
    //   6                                CT * KW
    //   7                                (CT*KW) * KH (KT)
    //   8                                KT * NT      (W)
    // The operands of the product about to start are loaded into x_q / y_q
    // when it starts so that no operand mux sits on the adder's path: y_q
    // shifts left, its top bit is the multiplier bit of this step; a
    // multiplier of fewer bits than YB is loaded aligned to the top.
    // A "chained" multiplicand is the product just made (with its big flag).
    reg           prod_q;             // making a product (else: the range steps)
    reg  [3:0]    ph_q;               // the product being made
    wire [3:0]    np = start ? 4'd0 : ph_q + 4'd1;   // the product to start next
    // a multiplier of nb bits, aligned to the top of y_q (wiring only; bits
    // of v at and above YB make it big, big17 below)
    /* verilator lint_off UNUSEDSIGNAL */
    function automatic [YB-1:0] yal(input [16:0] v, input integer nb);
        yal = v[YB-1:0] << (YB - nb);
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    // an operand >= 2^CW
    function automatic big17(input [16:0] v);
        big17 = ({{(XW-17){1'b0}}, v} >> CW) != {XW{1'b0}};
    endfunction
    reg  [16:0]   xo;                 // the multiplicand (unless chained)
    reg           xch;                // chained: the product just made
    reg  [YB-1:0] y_al;               // the multiplier, aligned
    reg           y_big;
    reg  [4:0]    nb_m1;              // its bits to visit, minus 1
    always @(*) begin
        xo    = {1'b0, m};
        xch   = 1'b0;
        y_al  = yal(nt17_q, YB);
        y_big = big17(nt17_q);
        nb_m1 = YB[4:0] - 5'd1;
        if (!is_cv) begin
            case (np)
                4'd0: begin                                    // at start
                    y_al  = is_lif ? yal(nt17_d, YB) : yal(kt17_d, YB);
                    y_big = is_lif ? big17(nt17_d) : big17(kt17_d);
                end
                4'd1: ;
                default: begin
                    xo    = is_lif ? {1'b0, m} : kt17_q;
                    y_al  = is_lif ? yal({1'b0, n}, YB) : yal(nt17_q, YB);
                    y_big = is_lif ? big17({1'b0, n}) : big17(nt17_q);
                end
            endcase
        end else begin
            case (np)
                4'd0, 4'd4: begin                              // W * B, (OH*OW) * B
                    xo    = w17;
                    xch   = (np == 4'd4);
                    y_al  = yal(b17, NB_S);
                    y_big = big17(b17);
                    nb_m1 = NB_S[4:0] - 5'd1;
                end
                4'd1: begin                                    // (W*B) * H
                    xch   = 1'b1;
                    y_al  = yal(h17, NB_S);
                    y_big = big17(h17);
                    nb_m1 = NB_S[4:0] - 5'd1;
                end
                4'd3: begin                                    // OH * OW (pool2: OH/2 * OW/2)
                    xo    = c_pool2 ? {7'd0, dq_h_q[10:1]} : {6'd0, dq_h_q};
                    y_al  = c_pool2 ? yal({7'd0, dq_w_q[10:1]}, NB_S) : yal({6'd0, dq_w_q}, NB_S);
                    y_big = c_pool2 ? big17({7'd0, dq_w_q[10:1]}) : big17({6'd0, dq_w_q});
                    nb_m1 = NB_S[4:0] - 5'd1;
                end
                4'd2: begin                                    // (H*W*B) * CT (PACK: * Cin, bytes)
                    xch   = 1'b1;
                    y_al  = c_pack ? yal({1'b0, c_pcin}, NB_T) : yal(kt17_q, NB_T);
                    y_big = c_pack ? big17({1'b0, c_pcin}) : big17(kt17_q);
                    nb_m1 = NB_T[4:0] - 5'd1;
                end
                4'd6, 4'd7: begin                              // CT * KW, (CT*KW) * KH
                    xo    = kt17_q;
                    xch   = (np == 4'd7);
                    y_al  = (np == 4'd7) ? yal({14'd0, c_kh}, NB_K) : yal({14'd0, c_kw}, NB_K);
                    y_big = 1'b0;                              // CW >= 3
                    nb_m1 = NB_K[4:0] - 5'd1;
                end
                default: begin                                 // M * NT, KT * NT
                    xch   = 1'b1;
                    y_al  = yal(nt17_q, NB_T);
                    y_big = big17(nt17_q);
                    nb_m1 = NB_T[4:0] - 5'd1;
                end
            endcase
        end
    end
    wire [XW-1:0] x_ext = {{(XW-17){1'b0}}, xo};
    wire          x_big = (x_ext >> CW) != {XW{1'b0}};
    wire [XW-1:0] nt_ext = {{(XW-17){1'b0}}, nt17_q};
    wire          nt_big = (nt_ext >> CW) != {XW{1'b0}};
    reg  [CW-1:0] x_q;                // multiplicand (low CW bits)
    reg  [YB-1:0] y_q;                // multiplier bits not yet visited, next at the top
    reg           xy_big_q;           // an operand >= 2^CW

    // ---- the sequence ----
    reg           run_q;
    reg  [4:0]    st_q;               // bit (products) or step (the rest)
    reg  [CW-1:0] acc_q, p_a_q, p_o_q;    // product; A end; O end
    reg           big_q, big_a_q, big_o_q;
    reg           r_ok_q;             // every range so far inside its buffer
    reg           a_lt_q;             // a_base < o_end
    reg           walk_ok_q;          // CONV / POOL: M and KT <= 65535

    // the current product's role
    wire ph_a    = is_cv ? (ph_q == 4'd2) : (ph_q == 4'd0);
    wire ph_o    = is_cv ? (ph_q == 4'd5) : (ph_q == 4'd1);
    wire ph_last = is_cv ? (ph_q == (is_pool ? 4'd5 : c_dw ? 4'd7 : 4'd8)) : (ph_q == 4'd2);
    // OH, OW not final yet (only when the first three products are short)
    wire hold    = is_cv && (ph_q == 4'd2) && (dcnt_q != 4'd0);

    // bases: all 32 bits count
    wire a_in = (a_base >> ACT_AW) == 32'd0;
    wire o_in = (o_base >> ACT_AW) == 32'd0;
    wire w_in = (w_base >> W_AW) == 32'd0;
    wire p_in = (p_base >> P_AW) == 32'd0;
    wire s_in = ((p_base >> S_AW) == 32'd0) && (STATE_WORDS > 1);
    wire [AW-1:0] a_lo = {{(AW-ACT_AW){1'b0}}, a_base[ACT_AW-1:0]};
    wire [AW-1:0] o_lo = {{(AW-ACT_AW){1'b0}}, o_base[ACT_AW-1:0]};
    wire [AW-1:0] w_lo = {{(AW-W_AW){1'b0}}, w_base[W_AW-1:0]};
    wire [AW-1:0] p_lo = {{(AW-P_AW){1'b0}}, p_base[P_AW-1:0]};
    wire [AW-1:0] s_lo = {{(AW-S_AW){1'b0}}, p_base[S_AW-1:0]};

    // steps after the products:
    localparam [4:0] S_AEND = 5'd0, S_OEND = 5'd1, S_WS = 5'd2, S_P = 5'd3,
                     S_ALT = 5'd4, S_OLT = 5'd5, S_FIN = 5'd6;
    // W words = tiles * ROWS: the shift may make the count big
    wire          w_sh_big = (acc_q >> (CW - LOG_R)) != {CW{1'b0}};
    wire [AW-1:0] acc_w    = {{(AW-CW){1'b0}}, acc_q << LOG_R};
    // The range steps' operands, registered a step ahead (ra_q, rb_q) so
    // that no step decode sits on the adder's path. Each step's inputs are
    // final a step before it: p_a_q / p_o_q after their products (and
    // S_AEND / S_OEND, which S_OLT / S_ALT read), acc_q after the last one.
    // The next step, st_q + 1, kept as a register of its own (rn_q): no
    // increment's carry between st_q and the operands' multiplexer.
    reg  [2:0]    rn_q;
    wire [4:0]    r_next = prod_q ? S_AEND : {2'b00, rn_q};
    // PACK: the dense bytes' words, ceil(H*W*B*Cin / ROWS) (p_a_q is final
    // from the input product on, long before S_AEND reads this)
    localparam integer  RM1 = ROWS - 1;
    wire [AW-1:0] pk_sum   = {2'b00, p_a_q} + RM1[AW-1:0];
    wire [AW-1:0] pk_words = pk_sum >> LOG_R;
    reg  [AW-1:0] r_opa, r_opb;
    always @(*) begin
        case (r_next)
            S_AEND:  begin r_opa = c_pack ? pk_words : {2'b00, p_a_q};  r_opb = a_lo; end
            S_OEND:  begin r_opa = {2'b00, p_o_q};  r_opb = o_lo; end
            S_WS:    begin r_opa = (is_lif || c_dw) ? {2'b00, acc_q} : acc_w; r_opb = is_lif ? s_lo : w_lo; end
            S_P:     begin r_opa = {2'b00, nt_ext[CW-1:0]}; r_opb = p_lo; end
            S_ALT:   begin r_opa = {2'b00, p_o_q};  r_opb = ~a_lo; end      // o_end - a_base - 1
            default: begin r_opa = {2'b00, p_a_q};  r_opb = ~o_lo; end      // a_end - o_base - 1
        endcase
    end
    reg  [AW-1:0] ra_q, rb_q;
    always @(posedge clk) begin
        ra_q <= r_opa;
        rb_q <= r_opb;
    end

    // products: acc = 2*acc + (bit ? x : 0); range steps: the registered pair
    wire [AW-1:0] opa = prod_q ? {{(AW-CW-1){1'b0}}, acc_q, 1'b0} : ra_q;
    wire [AW-1:0] opb = prod_q ? (y_q[YB-1] ? {{(AW-CW){1'b0}}, x_q} : {AW{1'b0}}) : rb_q;
    wire [AW-1:0] sum = opa + opb;
    // a range step's sum, registered: its verdict is taken the next cycle
    // (no compare behind the adder's carry on the path into r_ok_q / ok)
    reg  [AW-1:0] sum_q;
    always @(posedge clk) sum_q <= sum;
    wire          sum_big = (sum >> CW) != {AW{1'b0}};
    wire          fin_big = big_q || sum_big || xy_big_q;    // the product so far
    wire [CW+15:0] sum_z  = {16'd0, sum[CW-1:0]};
    wire          sum_64k = (sum_z >> 16) != {(CW+16){1'b0}};  // >= 65536 (NNFM_WALK_MAX)
    wire          sum_16k = (sum_z >> 14) != {(CW+16){1'b0}};  // >= 16384

    // s <= 2^bits (a range's end inside a buffer of 2^bits words), bits < AW
    function automatic fits(input [AW-1:0] s, input integer bits);
        reg [AW-1:0] top, low;
        begin
            top  = s >> bits;
            low  = s << (AW - bits);
            fits = (top == {AW{1'b0}}) ||
                   ((top == {{(AW-1){1'b0}}, 1'b1}) && (low == {AW{1'b0}}));
        end
    endfunction

    // CONV / POOL fields (held; the dividers are done by the last step)
    wire lohi_ok  = $signed(lo) <= $signed(hi);
    wire fit_h    = !dneg_h_q && (dq_h_q != 11'd0);      // kernel <= padded input
    wire fit_w    = !dneg_w_q && (dq_w_q != 11'd0);
    wire k_nz     = (c_kh != 3'd0) && (c_kw != 3'd0);
    // no window without an in-bounds tap: the first (KH > PH) and the last
    // ((OH-1)*SH - PH < H, i.e. PH + EH < KH + remainder)
    wire taps_ok  = (c_kh > c_ph) && (c_kw > c_pw) &&
                    ({1'b0, c_ph} + {3'd0, c_eh} < {1'b0, c_kh} + {2'd0, dr_h_q}) &&
                    ({1'b0, c_pw} + {3'd0, c_ew} < {1'b0, c_kw} + {2'd0, dr_w_q});
    wire g_zero   = (c_kh == 3'd0) && (c_kw == 3'd0) && (c_sh_m1 == 2'd0) && (c_sw_m1 == 2'd0) &&
                    (c_ph == 3'd0) && (c_pw == 3'd0) && !c_eh && !c_ew;
    wire cv_ok    = c_xok && (c_cin != 16'd0) && lohi_ok && fit_h && fit_w && walk_ok_q &&
                    (is_pool ? (glob ? g_zero : (k_nz && taps_ok))
                             : ((n != 16'd0) && k_nz && (!c_pool2 || (dq_h_q > 11'd1 && dq_w_q > 11'd1)) &&
                                (!c_dw || (n == c_cin && c_kh <= 3'd3 && c_kw <= 3'd3 && taps_ok))));

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            run_q <= 1'b0;
            ok    <= 1'b0;
        end else if (start) begin
            run_q     <= 1'b1;
            prod_q    <= 1'b1;
            ph_q      <= 4'd0;
            st_q      <= nb_m1;
            acc_q     <= {CW{1'b0}};
            big_q     <= 1'b0;
            r_ok_q    <= 1'b1;
            walk_ok_q <= 1'b1;
            x_q       <= x_ext[CW-1:0];
            y_q       <= y_al;
            xy_big_q  <= x_big || y_big;
        end else if (run_q) begin
            if (prod_q) begin                                 // one product bit
                if (st_q != 5'd0) begin
                    acc_q <= sum[CW-1:0];
                    big_q <= fin_big;
                    y_q   <= y_q << 1;
                    st_q  <= st_q - 5'd1;
                end else if (!hold) begin                     // the product's last bit
                    acc_q <= sum[CW-1:0];
                    big_q <= fin_big;
                    if (ph_a) begin p_a_q <= sum[CW-1:0]; big_a_q <= fin_big; end
                    if (ph_o) begin p_o_q <= sum[CW-1:0]; big_o_q <= fin_big; end
                    if (is_cv) begin
                        if (ph_q == 4'd0) s_wb  <= sum[ACT_AW-1:0];
                        if (ph_q == 4'd1) s_hwb <= sum[ACT_AW-1:0];
                        if (ph_q == 4'd4) s_m   <= sum_z[15:0];
                        if (ph_q == 4'd7) s_kt  <= sum_z[15:0];
                        if ((ph_q == 4'd4) || (ph_q == 4'd7 && !c_dw))  // pool2: 4*M walked
                            walk_ok_q <= walk_ok_q && !sum_64k && !(c_pool2 && ph_q == 4'd4 && sum_16k);
                    end
                    if (ph_last) begin
                        prod_q <= 1'b0;
                        st_q   <= S_AEND;
                        rn_q   <= S_OEND[2:0];
                    end else begin
                        ph_q     <= np;
                        st_q     <= nb_m1;
                        acc_q    <= {CW{1'b0}};
                        big_q    <= 1'b0;
                        x_q      <= xch ? sum[CW-1:0] : x_ext[CW-1:0];
                        y_q      <= y_al;
                        xy_big_q <= (xch ? fin_big : x_big) || y_big;
                    end
                end
            end else begin
                // each step's sum is judged the next cycle, from sum_q
                st_q <= st_q + 5'd1;
                rn_q <= rn_q + 3'd1;
                case (st_q)
                    S_AEND: p_a_q <= sum[CW-1:0];
                    S_OEND: begin
                        p_o_q  <= sum[CW-1:0];
                        r_ok_q <= r_ok_q && a_in && !big_a_q && fits(sum_q, ACT_AW);   // A's end
                    end
                    S_WS:   r_ok_q <= r_ok_q && o_in && !big_o_q && fits(sum_q, ACT_AW); // O's end
                    S_P:    r_ok_q <= r_ok_q && (is_pool || (!big_q &&                   // W's or S's
                                                 (is_lif ? (s_in && fits(sum_q, S_AW))
                                                         : (w_in && (c_dw || !w_sh_big) && fits(sum_q, W_AW)))));
                    S_ALT:  r_ok_q <= r_ok_q && (is_lif || is_pool || (p_in && !nt_big && fits(sum_q, P_AW)));
                    S_OLT:  a_lt_q <= !sum_q[AW-1];                                      // a_base < o_end
                    S_FIN: begin                                                         // a_end > o_base
                        run_q <= 1'b0;
                        done  <= 1'b1;
                        if (is_cv)
                            ok <= cv_ok && r_ok_q && !(a_lt_q && !sum_q[AW-1]);
                        else
                            ok <= (is_lif || lohi_ok) &&
                                  (empty_q || (r_ok_q && (!(a_lt_q && !sum_q[AW-1]) ||
                                                      (is_lif && a_base[ACT_AW-1:0] == o_base[ACT_AW-1:0]))));
                    end
                    default: ;
                endcase
            end
        end
    end
endmodule

`default_nettype wire
