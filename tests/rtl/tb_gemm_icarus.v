// tb_gemm_icarus: runs an operation list (tests/rtl/nnf_ops.h describes the
// format; gen_icarus_case writes it) against nnf_gemm under Icarus Verilog,
// through the same ports the Verilated simulator drives: host-port writes
// (ACT writes held while hp_wait), commands (held valid until taken, so two
// in a row run back to back), host-port reads, waits for idle.
//
//   vvp tb_gemm.vvp +ops=<ops.hex> +out=<out.hex> [+max_cycles=N]
//
// The list is read one word per line as it runs ($fscanf), so its length
// has no limit.
// Every byte read is written to <out.hex> as two hex digits per line, then a
// line "macs <cnt_macs>". At the end it prints "cycles <cnt_cycles> busy
// <cnt_busy> macs <cnt_macs>" (counters from the end of reset), or "ERROR ..."
// and no counters line on a configuration mismatch, a bad op or a timeout.
// The engine's parameters are this testbench's (nnf_gemm's defaults unless
// set with iverilog -Ptb_gemm_icarus.ROWS=4 ...); the ops list starts with
// the configuration it was generated for, checked here.
`default_nettype none

module tb_gemm_icarus #(
    parameter integer ROWS = 8, parameter integer COLS = 8,
    parameter integer ACT_WORDS = 32768, parameter integer W_WORDS = 16384,
    parameter integer P_WORDS = 64, parameter integer ACC_DEPTH = 256,
    parameter integer VEC_SERIAL = 0, parameter integer PE_DSP = 1
);
    reg         clk = 1'b0;
    reg         rst = 1'b1;
    reg         cmd_valid = 1'b0;
    wire        cmd_ready;
    reg  [15:0] cmd_m = 16'd0, cmd_k = 16'd0, cmd_n = 16'd0;
    reg  [31:0] cmd_a_base = 32'd0, cmd_w_base = 32'd0, cmd_p_base = 32'd0, cmd_o_base = 32'd0;
    reg  [7:0]  cmd_zp = 8'd0, cmd_lo = 8'd0, cmd_hi = 8'd0;
    reg         cmd_lut = 1'b0;
    wire        busy, done;
    reg         hp_we = 1'b0, hp_re = 1'b0;
    reg  [1:0]  hp_sel = 2'd0;
    reg  [31:0] hp_addr = 32'd0;
    reg  [7:0]  hp_wdata = 8'd0;
    wire [7:0]  hp_rdata;
    wire        hp_wait;
    reg         cnt_clear = 1'b0;
    wire [63:0] cnt_cycles, cnt_busy, cnt_macs;

    nnf_gemm #(.ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
               .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL),
               .PE_DSP(PE_DSP)) dut (
        .clk(clk), .rst(rst),
        .cmd_valid(cmd_valid), .cmd_ready(cmd_ready),
        .cmd_m(cmd_m), .cmd_k(cmd_k), .cmd_n(cmd_n),
        .cmd_a_base(cmd_a_base), .cmd_w_base(cmd_w_base),
        .cmd_p_base(cmd_p_base), .cmd_o_base(cmd_o_base),
        .cmd_zp(cmd_zp), .cmd_lo(cmd_lo), .cmd_hi(cmd_hi), .cmd_lut(cmd_lut), .cmd_lut_sel(3'd0),
        .cmd_conv(1'b0), .cmd_pool2(1'b0), .cmd_kt(16'd0), .cmd_ct(16'd0), .cmd_h(11'd0), .cmd_w(11'd0),
        .cmd_b(11'd0), .cmd_oh(11'd0), .cmd_ow(11'd0), .cmd_kh(3'd0), .cmd_kw(3'd0),
        .cmd_sh(3'd0), .cmd_sw(3'd0), .cmd_ph(3'd0), .cmd_pw(3'd0), .cmd_wb(32'd0),
        .cmd_hwb(32'd0), .cmd_zp_in(8'd0),
        .busy(busy), .done(done), .cmd_abort(1'b0),
        .chk_start(1'b0), .chk_done(), .chk_ok(),
        .hp_we(hp_we), .hp_re(hp_re), .hp_sel(hp_sel), .hp_addr(hp_addr),
        .hp_wdata(hp_wdata), .hp_rdata(hp_rdata), .hp_wait(hp_wait),
        .lp_re(1'b0), .lp_ra(32'd0), .lp_rd(), .lp_we(1'b0), .lp_wa(32'd0),
        .lp_wd({ROWS{8'd0}}),
        .aw_we(1'b0), .aw_wa({$clog2(W_WORDS){1'b0}}), .aw_wd({(COLS*8){1'b0}}),
        .ap_we(1'b0), .ap_wa({$clog2(P_WORDS){1'b0}}), .ap_wd({(COLS*32){1'b0}}),
        .xw_re(1'b0), .xw_ra({$clog2(W_WORDS){1'b0}}), .xw_rd(),
        .xp_re(1'b0), .xp_ra({$clog2(P_WORDS){1'b0}}), .xp_rd(),
        .cnt_clear(cnt_clear), .cnt_cycles(cnt_cycles), .cnt_busy(cnt_busy),
        .cnt_macs(cnt_macs), .cnt_row(), .cnt_row_macs());

    always #5 clk = !clk;

    reg [1023:0] ops_path, out_path;
    integer     fi, fd, pc, max_cycles, i, len, got;
    reg [63:0]  op, op1, op2, op3;
    reg         taken;

    // The next word of the ops list (an END when the list is exhausted).
    task next_op;
        output [63:0] w;
        begin
            got = $fscanf(fi, "%h\n", w);
            if (got != 1) w = 64'd0;
            pc = pc + 1;
        end
    endtask

    // watchdog
    always @(posedge clk) begin
        if (!rst && cnt_cycles > max_cycles) begin
            $display("ERROR timeout after %0d cycles (pc %0d)", cnt_cycles, pc);
            $finish;
        end
    end

    function integer lg;  // log2 of a power of two
        input integer v;
        integer t;
        begin
            lg = 0;
            for (t = v; t > 1; t = t >> 1) lg = lg + 1;
        end
    endfunction

    // One clock: inputs change 1 time unit after the rising edge.
    task tick;
        begin
            @(posedge clk);
            #1;
        end
    endtask

    task wait_idle;
        begin
            while (busy) tick;
        end
    endtask

    initial begin
        if (!$value$plusargs("ops=%s", ops_path) || !$value$plusargs("out=%s", out_path)) begin
            $display("ERROR usage: vvp tb_gemm.vvp +ops=<ops.hex> +out=<out.hex> [+max_cycles=N]");
            $finish;
        end
        if (!$value$plusargs("max_cycles=%d", max_cycles)) max_cycles = 100000000;
        fi = $fopen(ops_path, "r");
        if (fi == 0) begin
            $display("ERROR cannot open %0s", ops_path);
            $finish;
        end
        fd = $fopen(out_path, "w");
        if (fd == 0) begin
            $display("ERROR cannot open %0s", out_path);
            $finish;
        end
        pc = 0;
        repeat (4) tick;
        rst = 1'b0;
        #0;
        forever begin
            next_op(op);
            case (op[63:60])
            4'd0: begin  // END
                wait_idle;
                $fwrite(fd, "macs %0d\n", cnt_macs);
                $fclose(fd);
                $display("cycles %0d busy %0d macs %0d", cnt_cycles, cnt_busy, cnt_macs);
                $finish;
            end
            4'd1: begin  // CFG
                if (op[47:40] != lg(dut.ROWS) || op[39:32] != lg(dut.COLS) ||
                    op[31:24] != lg(dut.ACT_WORDS) || op[23:16] != lg(dut.W_WORDS) ||
                    op[15:8] != lg(dut.P_WORDS) || op[7:0] != lg(dut.ACC_DEPTH)) begin
                    $display("ERROR the ops list is for another configuration (%h); nnf_gemm has ROWS %0d COLS %0d ACT %0d W %0d P %0d ACC %0d",
                             op, dut.ROWS, dut.COLS, dut.ACT_WORDS, dut.W_WORDS, dut.P_WORDS, dut.ACC_DEPTH);
                    $finish;
                end
            end
            4'd2: begin  // WRITE: ACT writes may run while busy (held while hp_wait)
                if (op[41:40] != 2'd0) wait_idle;
                hp_we = 1'b1;
                hp_sel = op[41:40];
                hp_addr = op[39:8];
                hp_wdata = op[7:0];
                taken = 1'b0;
                while (!taken) begin
                    @(posedge clk);
                    taken = !hp_wait;   // sampled before the edge's updates
                    #1;
                end
                hp_we = 1'b0;
            end
            4'd3: begin  // CMD, plus three words; held valid until taken
                {cmd_m, cmd_k, cmd_n} = op[47:0];
                next_op(op1);
                next_op(op2);
                next_op(op3);
                {cmd_a_base, cmd_w_base} = op1;
                {cmd_p_base, cmd_o_base} = op2;
                {cmd_zp, cmd_lo, cmd_hi} = op3[31:8];
                cmd_lut = op3[0];
                cmd_valid = 1'b1;
                taken = 1'b0;
                while (!taken) begin
                    @(posedge clk);
                    taken = cmd_ready;
                    #1;
                end
                cmd_valid = 1'b0;
            end
            4'd4: begin  // READ sel/addr, next word: length; one byte per cycle
                wait_idle;
                next_op(op1);
                len = op1[31:0];
                hp_re = 1'b1;
                hp_sel = op[41:40];
                for (i = 0; i < len; i = i + 1) begin
                    hp_addr = op[39:8] + i;
                    tick;
                    $fwrite(fd, "%h\n", hp_rdata);
                end
                hp_re = 1'b0;
            end
            4'd5: wait_idle;  // SYNC
            default: begin
                $display("ERROR bad op %h at %0d", op, pc - 1);
                $finish;
            end
            endcase
        end
    end
endmodule

`default_nettype wire
