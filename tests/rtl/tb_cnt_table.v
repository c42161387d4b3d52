// tb_cnt_table: nnf_cnt_table (the counters in block RAM, read through a
// snapshot) against plain W-bit registers counting the same increments,
// cycle by cycle: random enables and amounts (often the largest, so the
// pending counts reach their bound), clears and snapshots at every phase of
// the round, back to back where allowed (a snapshot as soon as the last is
// written, a clear in the cycle after), and with W = 16 the counters wrap
// many times over long runs. After each snapshot the testbench waits for busy to fall
// (and checks it does within R + 2 cycles), reads every counter at random
// moments and compares it with the registers' values of the snap cycle.
// Also checked: busy rises with the snapshot. Parameters: -DTB_W=bits.
`timescale 1ns / 1ps
`default_nettype none
module tb_cnt_table;
`ifdef TB_W
    localparam integer W = `TB_W;
`else
    localparam integer W = 32;
`endif
    localparam integer N  = 7;
    localparam integer AW = 5;
    localparam [8*N-1:0] AWS = {8'd1, 8'd1, 8'd1, 8'd1, 8'd5, 8'd1, 8'd1};   // counter 2: 5 bits
    localparam integer R  = 16;          // 2 * 8 slots

    reg clk = 1'b0, rst = 1'b1, clear = 1'b0, snap = 1'b0, re = 1'b0;
    reg [N-1:0] en = 0;
    reg [N*AW-1:0] amt = 0;
    reg [2:0] ra = 3'd0;
    wire busy;
    wire [W-1:0] rd;
    nnf_cnt_table #(.N(N), .W(W), .AW(AW), .AWS(AWS)) dut (
        .clk(clk), .rst(rst), .clear(clear), .en(en), .amt(amt), .snap(snap), .busy(busy),
        .re(re), .ra(ra), .rd(rd));

    // the reference: registers, as nnf_counters counts
    reg [W-1:0] ref_q [0:N-1];
    reg [W-1:0] shot [0:N-1];
    integer i;
    always @(posedge clk)
        for (i = 0; i < N; i = i + 1)
            if (rst || clear) ref_q[i] <= {W{1'b0}};
            else if (en[i])   ref_q[i] <= ref_q[i] + amt[AW*i +: AW];

    always #5 clk = !clk;

    integer errors = 0, snaps = 0, clears = 0, reads = 0, t, j, wait_c, seed = 20261206;
    integer mode;
    reg [31:0] r;

    // drive random increments on every edge (the counters see them the
    // same way), the largest amounts in bursts
    always @(negedge clk) if (!rst) begin
        r = $random(seed);
        en = 0;
        amt = 0;
        for (i = 0; i < N; i = i + 1) begin
            en[i] = (mode == 1) ? 1'b1 : $random(seed) & 1;
            if (i == 2) amt[AW*i +: AW] = (mode == 1) ? 5'd31 : $random(seed);
            else        amt[AW*i +: AW] = 1;
        end
    end

    task check_snapshot;
        integer q;
        begin
            // busy at once, down within R + 2 cycles (also when a clear came
            // in the cycle before: a counter whose word was read before the
            // clear then writes its snapshot a round later, from the zero
            // word, but that counter's turn is the snapshot's cycle)
            if (!busy) begin
                errors = errors + 1;
                $display("FAIL busy not set after snap");
            end
            wait_c = 0;
            while (busy && wait_c <= R + 2) begin
                @(posedge clk); #1;
                wait_c = wait_c + 1;
            end
            if (busy) begin
                errors = errors + 1;
                $display("FAIL busy for more than %0d cycles", R + 2);
            end
            // read every counter, in random order, with random gaps
            for (q = 0; q < N; q = q + 1) begin
                t = $random(seed) & 7;
                for (j = 0; j < t; j = j + 1) @(negedge clk);
                @(negedge clk);
                ra = (q + snaps) % N;
                re = 1'b1;
                @(negedge clk);
                re = 1'b0;
                reads = reads + 1;
                if (rd !== shot[ra]) begin
                    errors = errors + 1;
                    if (errors < 10)
                        $display("FAIL snapshot %0d counter %0d: %h, expected %h", snaps, ra, rd, shot[ra]);
                end
            end
        end
    endtask

    integer it;
    initial begin
        mode = 0;
        repeat (3) @(negedge clk);
        rst = 1'b0;
        for (it = 0; it < 4000; it = it + 1) begin
            mode = (it % 7 == 3) ? 1 : 0;
            // a random number of cycles (any phase of the round); now and
            // then a long run of the largest increments (W = 16 wraps)
            t = $random(seed) & 63;
            if (it % 11 == 5) t = 0;
            if (it % 500 == 250) begin
                mode = 1;
                t = 20000 + ($random(seed) & 255);
            end
            for (j = 0; j < t; j = j + 1) @(negedge clk);
            r = $random(seed);
            if (r[3:0] == 4'd0) begin
                clear = 1'b1;
                @(negedge clk);
                clear = 1'b0;
                clears = clears + 1;
            end
            if (r[6:4] == 3'd0) begin          // a clear right before the snapshot
                clear = 1'b1;
                @(negedge clk);
                clear = 1'b0;
                clears = clears + 1;
            end
            // snapshot in this cycle: the registers' values now
            snap = 1'b1;
            for (i = 0; i < N; i = i + 1) shot[i] = ref_q[i];
            @(posedge clk); #1;
            snap = 1'b0;
            snaps = snaps + 1;
            check_snapshot;
            if (r[17:10] == 8'd0) begin          // a reset now and then
                @(negedge clk);
                rst = 1'b1;
                @(negedge clk);
                rst = 1'b0;
            end
        end
        if (errors == 0 && reads == snaps * N)
            $display("PASS tb_cnt_table W=%0d: %0d snapshots, %0d clears, %0d reads", W, snaps, clears, reads);
        else
            $display("FAIL tb_cnt_table W=%0d: %0d errors", W, errors);
        $finish;
    end
endmodule

`default_nettype wire
