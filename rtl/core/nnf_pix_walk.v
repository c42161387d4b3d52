// nnf_pix_walk: the ACT address generator of a window walk (docs/conv.md).
//
// A feature map of B images, channel tiles ct, H x W pixels lives in ACT at
//
//     word  base + ((ct*H + y)*W + x)*B + b
//
// and a walk visits output rows m = (oy*OW + ox)*B + b (b fastest) and, for
// each, taps t = (ky*KW + kx)*CT + ct (ct fastest). For row (oy, ox, b) and
// tap (ky, kx, ct) the input pixel is
//
//     iy = oy*SH - PH + ky,   ix = ox*SW - PW + kx
//
// and this module gives its word offset from the map's base (ofs) and
// whether it is inside the map (in_map; otherwise the tap is padding and
// ofs means nothing). Everything is kept by additions of constants made
// once per command (no multiplier):
//
//     row:  rowoff = (iy0*W + ix0)*B + b     (iy0 = oy*SH - PH, ix0 = ox*SW - PW)
//     tap:  tapoff = (ct*H*W + ky*W + kx)*B
//     ofs = tapoff + rowoff  (mod 2^AW)
//
// A GEMM is the walk with H = W = KH = KW = 1, B = m and CT = K tiles:
// ofs = kt*m + m_row, its A layout.
//
// pool2 (a CONV with fused 2x2 max pooling): the rows go in the order
// (py, px, b, wy, wx) with oy = 2*py + wy, ox = 2*px + wx, py < OH, px < OW
// (oh, ow are then the pooled sizes), so that the four rows of a pooling
// window come one after the other:
//
//     wx 0 -> 1:   ix0 += SW,            rowoff += SW*B
//     wy 0 -> 1:   ix0 -= SW, iy0 += SH, rowoff += SH*W*B - SW*B
//     next b:      back to the window's (wy, wx) = (0, 0): the group's
//                  iy0, ix0, rowoff + 1
//     next px:     the group's ix0 + 2*SW, rowoff of (px, b = 0) + 2*SW*B
//     next py:     the group's iy0 + 2*SH, ix0 of column 0, the row start
//                  + 2*SH*W*B
//
// Row operations (row_op; 0 none), one per cycle:
//   NEXT       the next row
//   BACK       back to the marked row (a block of rows re-streamed per tile)
//   NEXT_MARK  the next row, and mark it (the next block starts there)
//   FIRST      row 0, marked
// Tap operations (tap_op; 0 none): NEXT (ct, then kx, then ky), FIRST (tap 0).
// The consumers own the counts (the tile walker, the pooling engine);
// row_last / tap_last say when the current row / tap is the last.
//
// start latches the geometry; the constants take two more cycles: ready
// rises the third cycle after start (row 0, tap 0), and no operation may be
// given before it.
`default_nettype none

module nnf_pix_walk #(
    parameter integer AW   = 15,       // ACT address bits
    parameter integer CONV = 1,        // 0: GEMM walks only (H = W = KH = KW = 1, no
                                       // padding or pool2; the geometry inputs other than
                                       // b, ct_n and hwb are ignored): two counters
    parameter integer HOLD = 0         // CONV = 0: hwb is held from start to the walk's end and
                                       // b_m1 / ct_m1 give b - 1, ct_n - 1 (from the cycle
                                       // after start): none of them is latched here
) (
    input  wire          clk,
    input  wire          start,
    input  wire [10:0]   h, w,         // input map 1..1024 (a GEMM: 1)
    input  wire [15:0]   b,            // images 1..1024 (a GEMM: its m rows, any)
    input  wire [10:0]   kh, kw,       // kernel as walked 1..1024 (global pooling: H, W)
    input  wire [2:0]    sh, sw,       // stride 1..4
    input  wire [2:0]    ph, pw,       // padding above / left 0..7
    input  wire [10:0]   oh, ow,       // output size >= 1
    input  wire [15:0]   ct_n,         // channel tiles per tap (>= 1; pooling: 1)
    input  wire          pool2,        // rows in 2x2 pooling windows (above)
    input  wire [AW-1:0] wb, hwb,      // W*B, H*W*B (mod 2^AW)
    input  wire [15:0]   b_m1, ct_m1,  // HOLD: b - 1, ct_n - 1 (above)
    input  wire [2:0]    row_op,
    input  wire [1:0]    tap_op,
    output reg           ready,
    output wire [AW-1:0] ofs,
    output wire          in_map,
    output wire          row_last,
    output wire          tap_last
);
    generate
        if (CONV == 0) begin : g_gemm
            // The GEMM walk: row b of m (rowoff = b), tap ct of kt_n
            // (tapoff = ct*m, hwb = m), the same timing as the full walk
            // (ready the third cycle after start).
            localparam [2:0] G_NEXT = 3'd1, G_BACK = 3'd2, G_NEXT_MARK = 3'd3, G_FIRST = 3'd4;
            localparam [1:0] G_TNEXT = 2'd1, G_TFIRST = 2'd2;
            reg  [15:0]   rb_q, mb_q, ct_q;
            reg  [AW-1:0] roff_q, moff_q, toff_q;
            reg  [1:0]    prep_q;
            wire [15:0]   b_last, ct_last;     // b - 1, ct_n - 1
            wire [AW-1:0] hwb_h;               // hwb
            if (HOLD != 0) begin : g_hold
                assign b_last  = b_m1;
                assign ct_last = ct_m1;
                assign hwb_h   = hwb;
                /* verilator lint_off UNUSEDSIGNAL */
                wire unused_h = &{1'b0, b, ct_n};
                /* verilator lint_on UNUSEDSIGNAL */
            end else begin : g_latch
                reg  [15:0]   b_q, ctn_q;
                reg  [AW-1:0] hwb_q;
                always @(posedge clk) if (start) begin
                    b_q <= b; ctn_q <= ct_n; hwb_q <= hwb;
                end
                assign b_last  = b_q - 16'd1;
                assign ct_last = ctn_q - 16'd1;
                assign hwb_h   = hwb_q;
                /* verilator lint_off UNUSEDSIGNAL */
                wire unused_h = &{1'b0, b_m1, ct_m1};
                /* verilator lint_on UNUSEDSIGNAL */
            end
            wire          go     = (prep_q == 2'd0);
            wire          b_end  = (rb_q == b_last);
            wire          ct_end = (ct_q == ct_last);
            wire [15:0]   nb     = b_end ? 16'd0 : rb_q + 16'd1;
            wire [AW-1:0] noff   = roff_q + {{(AW-1){1'b0}}, 1'b1};
            always @(posedge clk) begin
                if (start) begin
                    prep_q <= 2'd2;
                    ready  <= 1'b0;
                end else if (prep_q != 2'd0) begin
                    prep_q <= prep_q - 2'd1;
                    if (prep_q == 2'd1) ready <= 1'b1;
                end
                if (prep_q == 2'd1 || (go && row_op == G_FIRST)) begin
                    rb_q <= 16'd0; mb_q <= 16'd0;
                    roff_q <= {AW{1'b0}}; moff_q <= {AW{1'b0}};
                end else if (go) begin
                    case (row_op)
                        G_NEXT:      begin rb_q <= nb; roff_q <= noff; end
                        G_BACK:      begin rb_q <= mb_q; roff_q <= moff_q; end
                        G_NEXT_MARK: begin
                            rb_q <= nb; roff_q <= noff; mb_q <= nb; moff_q <= noff;
                        end
                        default: ;
                    endcase
                end
                if (prep_q == 2'd1 || (go && tap_op == G_TFIRST)) begin
                    ct_q <= 16'd0; toff_q <= {AW{1'b0}};
                end else if (go && tap_op == G_TNEXT) begin
                    ct_q   <= ct_end ? 16'd0 : ct_q + 16'd1;
                    toff_q <= toff_q + hwb_h;
                end
            end
            assign ofs      = toff_q + roff_q;
            assign in_map   = 1'b1;
            assign row_last = b_end;
            assign tap_last = ct_end;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused = &{1'b0, h, w, kh, kw, sh, sw, ph, pw, oh, ow, pool2, wb};
            /* verilator lint_on UNUSEDSIGNAL */
        end else begin : g_conv
        localparam [2:0] R_NEXT = 3'd1, R_BACK = 3'd2, R_NEXT_MARK = 3'd3, R_FIRST = 3'd4;
        localparam [1:0] T_NEXT = 2'd1, T_FIRST = 2'd2;
        localparam integer SW_ = 13;       // signed pixel coordinates

        // ---- geometry, latched at start ----
        reg  [10:0]   h_q, w_q, kh_q, kw_q, oh_q, ow_q;
        reg  [15:0]   b_q, ctn_q;
        reg  [2:0]    sh_q, sw_q, ph_q, pw_q;
        reg  [AW-1:0] wb_q, hwb_q;
        reg           p2_q;
        // ---- constants (two cycles after start) ----
        reg  [AW-1:0] bstep_q;     // (SW-1)*B + 1: rowoff step to the next pixel of a row
        reg  [AW-1:0] rstep_q;     // SH*W*B:       row start step to the next output row
        reg  [AW-1:0] phwb_q, pwb_q;  // PH*W*B, PW*B
        reg  [AW-1:0] row0_q;      // -(PH*W + PW)*B: rowoff of row 0
        reg  [AW-1:0] swb_q;       // SW*B (pool2)
        reg  [AW-1:0] dstep_q;     // SH*W*B - SW*B (pool2: wy 0 -> 1)
        reg  [1:0]    prep_q;      // 2: constants stage 1, 1: stage 2, 0: done
        // The "last b, ox, oy, ct, kx, ky" tests are flops (*_end_q), set with
        // the counter they describe: from the compare with the last value but
        // one (*m2_q) when it counts up, from the one-value flags (*1_q)
        // when it restarts at 0, from the marked row's copy on BACK. So
        // row_last and tap_last, which the streamer's step reads, are ANDs
        // of flops, and no compare sits after a counter's adder.
        reg  [15:0]   bm2_q, ctnm2_q;              // the last value but one
        reg  [10:0]   owm2_q, ohm2_q, kwm2_q, khm2_q;
        reg           b1_q, ctn1_q, ow1_q, oh1_q, kw1_q, kh1_q;   // B, CT_N, ... == 1
        // row 0's offset: made in stage 2, kept in row0_q for later FIRSTs
        wire [AW-1:0] row0_d = (prep_q == 2'd1) ? ({AW{1'b0}} - phwb_q - pwb_q) : row0_q;

        /* verilator lint_off UNUSEDSIGNAL */
        wire [AW+15:0] b_ext = {{AW{1'b0}}, b_q};
        /* verilator lint_on UNUSEDSIGNAL */
        wire [AW-1:0] bb   = b_ext[AW-1:0];               // B (mod 2^AW)
        function [AW-1:0] mul7(input [2:0] f, input [AW-1:0] x);   // f * x, f in 0..7
            mul7 = (f[0] ? x : {AW{1'b0}}) + (f[1] ? (x << 1) : {AW{1'b0}})
                 + (f[2] ? (x << 2) : {AW{1'b0}});
        endfunction

        always @(posedge clk) begin
            if (start) begin
                h_q <= h; w_q <= w; kh_q <= kh; kw_q <= kw; oh_q <= oh; ow_q <= ow;
                b_q <= b; ctn_q <= ct_n;
                sh_q <= sh; sw_q <= sw; ph_q <= ph; pw_q <= pw;
                wb_q <= wb; hwb_q <= hwb;
                p2_q <= pool2;
                prep_q <= 2'd2;
            end else if (prep_q == 2'd2) begin
                bstep_q <= mul7(sw_q - 3'd1, bb) + {{(AW-1){1'b0}}, 1'b1};
                rstep_q <= mul7(sh_q, wb_q);
                phwb_q  <= mul7(ph_q, wb_q);
                pwb_q   <= mul7(pw_q, bb);
                swb_q   <= mul7(sw_q, bb);
                bm2_q   <= b_q - 16'd2;
                ctnm2_q <= ctn_q - 16'd2;
                owm2_q  <= ow_q - 11'd2;
                ohm2_q  <= oh_q - 11'd2;
                kwm2_q  <= kw_q - 11'd2;
                khm2_q  <= kh_q - 11'd2;
                b1_q    <= (b_q == 16'd1);
                ctn1_q  <= (ctn_q == 16'd1);
                ow1_q   <= (ow_q == 11'd1);
                oh1_q   <= (oh_q == 11'd1);
                kw1_q   <= (kw_q == 11'd1);
                kh1_q   <= (kh_q == 11'd1);
                prep_q  <= 2'd1;
            end else if (prep_q == 2'd1) begin
                row0_q  <= row0_d;
                dstep_q <= rstep_q - swb_q;
                prep_q  <= 2'd0;
            end
        end

        // ---- the row: current and marked ----
        reg  [15:0]          rb_q, mb_q;          // b
        reg  [10:0]          rox_q, mox_q;        // ox
        reg  [10:0]          roy_q, moy_q;        // oy
        reg  signed [SW_-1:0] riy_q, miy_q;       // iy0
        reg  signed [SW_-1:0] rix_q, mix_q;       // ix0
        reg  [AW-1:0]        roff_q, moff_q;      // rowoff
        reg  [AW-1:0]        rst_q, mst_q;        // rowoff of (oy, ox = 0, b = 0)
        // pool2: the window's position, and its group's (wy = wx = 0) iy0, ix0,
        // rowoff, and the rowoff of (py, px, b = 0)
        reg                  rwx_q, mwx_q, rwy_q, mwy_q;
        reg                  rbe_q, mbe_q, rxe_q, mxe_q, rye_q, mye_q;  // b, ox, oy last
        reg  signed [SW_-1:0] giy_q, mgiy_q, gix_q, mgix_q;
        reg  [AW-1:0]        goff_q, mgoff_q, gpoff_q, mgpoff_q;

        wire signed [SW_-1:0] iy_init = -$signed({{(SW_-3){1'b0}}, ph_q});
        wire signed [SW_-1:0] ix_init = -$signed({{(SW_-3){1'b0}}, pw_q});
        wire signed [SW_-1:0] sh_s = $signed({{(SW_-3){1'b0}}, sh_q});
        wire signed [SW_-1:0] sw_s = $signed({{(SW_-3){1'b0}}, sw_q});

        // the next row of the current one
        wire b_end  = rbe_q;
        wire ox_end = rxe_q;
        // the flags of b + 1, ox + 1, oy + 1
        wire b_up = (rb_q == bm2_q), ox_up = (rox_q == owm2_q), oy_up = (roy_q == ohm2_q);
        reg  [15:0]          nb;
        reg  [10:0]          nox, noy;
        reg  signed [SW_-1:0] niy, nix, ngiy, ngix;
        reg  [AW-1:0]        noff, nst, ngoff, ngpoff;
        reg                  nwx, nwy, nbe, nxe, nye;
        always @(*) begin
            nb = rb_q; nox = rox_q; noy = roy_q; niy = riy_q; nix = rix_q; noff = roff_q; nst = rst_q;
            nwx = rwx_q; nwy = rwy_q; ngiy = giy_q; ngix = gix_q; ngoff = goff_q; ngpoff = gpoff_q;
            nbe = rbe_q; nxe = rxe_q; nye = rye_q;
            if (!p2_q) begin
                nb   = rb_q + 16'd1;
                nbe  = b_up;
                noff = roff_q + {{(AW-1){1'b0}}, 1'b1};
                if (b_end) begin
                    nb  = 16'd0;
                    nbe = b1_q;
                    if (!ox_end) begin
                        nox  = rox_q + 11'd1;
                        nxe  = ox_up;
                        nix  = rix_q + sw_s;
                        noff = roff_q + bstep_q;
                    end else begin
                        nox  = 11'd0;
                        nxe  = ow1_q;
                        nix  = ix_init;
                        noy  = roy_q + 11'd1;
                        nye  = oy_up;
                        niy  = riy_q + sh_s;
                        nst  = rst_q + rstep_q;
                        noff = rst_q + rstep_q;
                    end
                end
            end else if (!rwx_q) begin                      // (wy, 0) -> (wy, 1)
                nwx  = 1'b1;
                nix  = rix_q + sw_s;
                noff = roff_q + swb_q;
            end else if (!rwy_q) begin                      // (0, 1) -> (1, 0)
                nwx  = 1'b0;
                nwy  = 1'b1;
                nix  = rix_q - sw_s;
                niy  = riy_q + sh_s;
                noff = roff_q + dstep_q;
            end else begin                                  // the next window
                nwx = 1'b0;
                nwy = 1'b0;
                if (!b_end) begin
                    nb    = rb_q + 16'd1;
                    nbe   = b_up;
                    niy   = giy_q;
                    nix   = gix_q;
                    noff  = goff_q + {{(AW-1){1'b0}}, 1'b1};
                    ngoff = noff;
                end else if (!ox_end) begin
                    nb     = 16'd0;
                    nbe    = b1_q;
                    nox    = rox_q + 11'd1;
                    nxe    = ox_up;
                    niy    = giy_q;
                    nix    = gix_q + (sw_s <<< 1);
                    ngix   = nix;
                    noff   = gpoff_q + (swb_q << 1);
                    ngoff  = noff;
                    ngpoff = noff;
                end else begin
                    nb     = 16'd0;
                    nbe    = b1_q;
                    nox    = 11'd0;
                    nxe    = ow1_q;
                    noy    = roy_q + 11'd1;
                    nye    = oy_up;
                    niy    = giy_q + (sh_s <<< 1);
                    ngiy   = niy;
                    nix    = ix_init;
                    ngix   = ix_init;
                    nst    = rst_q + (rstep_q << 1);
                    noff   = nst;
                    ngoff  = nst;
                    ngpoff = nst;
                end
            end
        end

        wire go = (prep_q == 2'd0);
        always @(posedge clk) begin
            if (start) ready <= 1'b0;
            else if (prep_q == 2'd1) ready <= 1'b1;
            if (prep_q == 2'd1 || (go && row_op == R_FIRST)) begin   // row 0, marked
                rb_q <= 16'd0; rox_q <= 11'd0; roy_q <= 11'd0; riy_q <= iy_init; rix_q <= ix_init;
                roff_q <= row0_d; rst_q <= row0_d;
                mb_q <= 16'd0; mox_q <= 11'd0; moy_q <= 11'd0; miy_q <= iy_init; mix_q <= ix_init;
                moff_q <= row0_d; mst_q <= row0_d;
                rwx_q <= 1'b0; rwy_q <= 1'b0; giy_q <= iy_init; gix_q <= ix_init;
                goff_q <= row0_d; gpoff_q <= row0_d;
                mwx_q <= 1'b0; mwy_q <= 1'b0; mgiy_q <= iy_init; mgix_q <= ix_init;
                mgoff_q <= row0_d; mgpoff_q <= row0_d;
                rbe_q <= b1_q; rxe_q <= ow1_q; rye_q <= oh1_q;
                mbe_q <= b1_q; mxe_q <= ow1_q; mye_q <= oh1_q;
            end else if (go) begin
                case (row_op)
                    R_NEXT: begin
                        rb_q <= nb; rox_q <= nox; roy_q <= noy; riy_q <= niy; rix_q <= nix;
                        roff_q <= noff; rst_q <= nst;
                        rwx_q <= nwx; rwy_q <= nwy; giy_q <= ngiy; gix_q <= ngix;
                        goff_q <= ngoff; gpoff_q <= ngpoff;
                        rbe_q <= nbe; rxe_q <= nxe; rye_q <= nye;
                    end
                    R_BACK: begin
                        rb_q <= mb_q; rox_q <= mox_q; roy_q <= moy_q; riy_q <= miy_q; rix_q <= mix_q;
                        roff_q <= moff_q; rst_q <= mst_q;
                        rwx_q <= mwx_q; rwy_q <= mwy_q; giy_q <= mgiy_q; gix_q <= mgix_q;
                        goff_q <= mgoff_q; gpoff_q <= mgpoff_q;
                        rbe_q <= mbe_q; rxe_q <= mxe_q; rye_q <= mye_q;
                    end
                    R_NEXT_MARK: begin
                        rb_q <= nb; rox_q <= nox; roy_q <= noy; riy_q <= niy; rix_q <= nix;
                        roff_q <= noff; rst_q <= nst;
                        rwx_q <= nwx; rwy_q <= nwy; giy_q <= ngiy; gix_q <= ngix;
                        goff_q <= ngoff; gpoff_q <= ngpoff;
                        mb_q <= nb; mox_q <= nox; moy_q <= noy; miy_q <= niy; mix_q <= nix;
                        moff_q <= noff; mst_q <= nst;
                        mwx_q <= nwx; mwy_q <= nwy; mgiy_q <= ngiy; mgix_q <= ngix;
                        mgoff_q <= ngoff; mgpoff_q <= ngpoff;
                        rbe_q <= nbe; rxe_q <= nxe; rye_q <= nye;
                        mbe_q <= nbe; mxe_q <= nxe; mye_q <= nye;
                    end
                    default: ;
                endcase
            end
        end

        // ---- the tap ----
        reg  [15:0]   ct_q;
        reg  [10:0]   kx_q, ky_q;
        reg  [AW-1:0] toff_q;      // (ct*H*W + ky*W + kx)*B
        reg  [AW-1:0] kxb_q;       // (ky*W + kx)*B
        reg  [AW-1:0] kyb_q;       // ky*W*B
        reg           cte_q, kxe_q, kye_q;   // ct, kx, ky last
        wire ct_end = cte_q;
        wire kx_end = kxe_q;
        always @(posedge clk) begin
            if (prep_q == 2'd1 || (go && tap_op == T_FIRST)) begin
                ct_q <= 16'd0; kx_q <= 11'd0; ky_q <= 11'd0;
                cte_q <= ctn1_q; kxe_q <= kw1_q; kye_q <= kh1_q;
                toff_q <= {AW{1'b0}}; kxb_q <= {AW{1'b0}}; kyb_q <= {AW{1'b0}};
            end else if (go && tap_op == T_NEXT) begin
                if (!ct_end) begin
                    ct_q   <= ct_q + 16'd1;
                    cte_q  <= (ct_q == ctnm2_q);
                    toff_q <= toff_q + hwb_q;
                end else if (!kx_end) begin
                    ct_q   <= 16'd0;
                    cte_q  <= ctn1_q;
                    kx_q   <= kx_q + 11'd1;
                    kxe_q  <= (kx_q == kwm2_q);
                    kxb_q  <= kxb_q + bb;
                    toff_q <= kxb_q + bb;
                end else begin
                    ct_q   <= 16'd0;
                    cte_q  <= ctn1_q;
                    kx_q   <= 11'd0;
                    kxe_q  <= kw1_q;
                    ky_q   <= ky_q + 11'd1;
                    kye_q  <= (ky_q == khm2_q);
                    kyb_q  <= kyb_q + wb_q;
                    kxb_q  <= kyb_q + wb_q;
                    toff_q <= kyb_q + wb_q;
                end
            end
        end

        // ---- outputs ----
        assign ofs = toff_q + roff_q;
        wire signed [SW_-1:0] iy = riy_q + $signed({2'b00, ky_q});
        wire signed [SW_-1:0] ix = rix_q + $signed({2'b00, kx_q});
        assign in_map = (iy >= 0) && (iy < $signed({2'b00, h_q})) &&
                        (ix >= 0) && (ix < $signed({2'b00, w_q}));
        assign row_last = b_end && ox_end && rye_q && (!p2_q || (rwx_q && rwy_q));
        assign tap_last = ct_end && kx_end && kye_q;
        /* verilator lint_off UNUSEDSIGNAL */
        wire unused_h = &{1'b0, b_m1, ct_m1};   // HOLD: GEMM walks only
        /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
endmodule

`default_nettype wire
