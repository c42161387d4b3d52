// tb_pix_walk: nnf_pix_walk against the address rule written with
// multiplications (docs/conv.md), on random geometries walked the way the
// conv streamer walks them: per N tile, per block of D rows, per tap
// (ct fastest), every row of the block; the block re-streamed (BACK) for each
// tap but the last, then NEXT_MARK into the next block, FIRST after the last
// row; half of the commands in the pool2 order (where OH, OW >= 2) (rows (py, px, b, wy, wx)).
// Self-checking: prints "PASS <n>" or stops at the first mismatch with
// "FAIL ...". Runs under Icarus and Verilator --binary alike.
`timescale 1ns / 1ps
`default_nettype none

module tb_pix_walk;
    localparam integer AW = 15;
    reg clk = 1'b0;
    always #5 clk = !clk;

    reg          start = 1'b0;
    reg  [10:0]  h, w, kh, kw, oh, ow;
    reg  [15:0]  b, ct_n;
    reg  [2:0]   sh, sw, ph, pw;
    reg  [AW-1:0] wb, hwb;
    reg          pool2 = 1'b0;
    reg  [2:0]   row_op = 3'd0;
    reg  [1:0]   tap_op = 2'd0;
    wire         ready, in_map, row_last, tap_last;
    wire [AW-1:0] ofs;

    nnf_pix_walk #(.AW(AW)) dut (
        .clk(clk), .start(start), .h(h), .w(w), .b(b), .kh(kh), .kw(kw), .sh(sh), .sw(sw),
        .ph(ph), .pw(pw), .oh(oh), .ow(ow), .ct_n(ct_n), .pool2(pool2), .wb(wb), .hwb(hwb),
        .b_m1(16'd0), .ct_m1(16'd0),
        .row_op(row_op), .tap_op(tap_op), .ready(ready), .ofs(ofs), .in_map(in_map),
        .row_last(row_last), .tap_last(tap_last));

    integer seed, cmd, nt, nts, m0, m, t, M, KT, D, rows, eh, ew;
    integer checks = 0, npool2 = 0;
    integer oy, ox, bi, ky, kx, ct, iy, ix, exp_ofs, exp_in, wq, grp;

    task check_here;
        begin
            if (pool2) begin                      // m = (((py*OW + px)*B + b)*2 + wy)*2 + wx
                wq = m % 4; grp = m / 4;
                bi = grp % b; ox = 2 * ((grp / b) % ow) + wq % 2; oy = 2 * (grp / (b * ow)) + wq / 2;
            end else begin
                bi = m % b; ox = (m / b) % ow; oy = m / (b * ow);
            end
            ct = t % ct_n; kx = (t / ct_n) % kw; ky = t / (ct_n * kw);
            iy = oy * sh - ph + ky; ix = ox * sw - pw + kx;
            exp_in = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? 1 : 0;
            exp_ofs = ((ct * h * w + iy * w + ix) * b + bi) & ((1 << AW) - 1);
            if (in_map !== exp_in[0] || (exp_in != 0 && ofs !== exp_ofs[AW-1:0]) ||
                row_last !== (m == M - 1) || tap_last !== (t == KT - 1)) begin
                $display("FAIL cmd %0d (pool2 %0d): H %0d W %0d B %0d K %0dx%0d S %0d,%0d P %0d,%0d CT %0d D %0d m %0d t %0d: ofs %0d in %0d rl %0d tl %0d, want %0d %0d %0d %0d",
                         cmd, pool2, h, w, b, kh, kw, sh, sw, ph, pw, ct_n, D, m, t, ofs, in_map,
                         row_last, tap_last, exp_ofs, exp_in, m == M - 1, t == KT - 1);
                $finish;
            end
        end
    endtask

    initial begin
        seed = 7;
        for (cmd = 0; cmd < 400; cmd = cmd + 1) begin
            h  = 1 + ($urandom(seed) % 9);  seed = seed + 1;
            w  = 1 + ($urandom % 9);
            b  = 1 + ($urandom % 4);
            ph = $urandom % 4; pw = $urandom % 4;
            eh = $urandom % 2; ew = $urandom % 2;
            sh = 1 + ($urandom % 4); sw = 1 + ($urandom % 4);
            kh = 1 + ($urandom % (((h + 2 * ph + eh) < 7) ? (h + 2 * ph + eh) : 7));
            kw = 1 + ($urandom % (((w + 2 * pw + ew) < 7) ? (w + 2 * pw + ew) : 7));
            ct_n = 1 + ($urandom % 3);
            oh = (h + 2 * ph + eh - kh) / sh + 1;
            ow = (w + 2 * pw + ew - kw) / sw + 1;
            wb = w * b; hwb = h * w * b;
            if (cmd % 5 == 0) begin               // a GEMM: H = W = K = 1, B = m rows
                h = 1; w = 1; kh = 1; kw = 1; sh = 1; sw = 1; ph = 0; pw = 0; oh = 1; ow = 1;
                b = 1 + ($urandom % 40); wb = b; hwb = b; ct_n = 1 + ($urandom % 4);
            end
            pool2 = 1'b0;
            if (cmd % 2 == 1 && oh >= 2 && ow >= 2) begin   // pooled sizes
                pool2 = 1'b1; oh = oh / 2; ow = ow / 2; npool2 = npool2 + 1;
            end
            M = oh * ow * b * (pool2 ? 4 : 1); KT = kh * kw * ct_n;
            D = 1 + ($urandom % 6);
            nts = 1 + ($urandom % 2);
            @(negedge clk); start = 1'b1;
            @(negedge clk); start = 1'b0;
            while (!ready) @(negedge clk);
            for (nt = 0; nt < nts; nt = nt + 1) begin
                for (m0 = 0; m0 < M; m0 = m0 + D) begin
                    rows = (M - m0 < D) ? (M - m0) : D;
                    for (t = 0; t < KT; t = t + 1) begin
                        for (m = m0; m < m0 + rows; m = m + 1) begin
                            check_here;
                            checks = checks + 1;
                            tap_op = 2'd0;
                            if (m == m0 + rows - 1) begin
                                row_op = (t != KT - 1) ? 3'd2 : (m == M - 1) ? 3'd4 : 3'd3;
                                tap_op = (t == KT - 1) ? 2'd2 : 2'd1;
                            end else begin
                                row_op = 3'd1;
                            end
                            @(negedge clk);
                            row_op = 3'd0; tap_op = 2'd0;
                        end
                    end
                end
            end
        end
        $display("PASS %0d checks, %0d of 400 commands in the pool2 order", checks, npool2);
        $finish;
    end
endmodule

`default_nettype wire
