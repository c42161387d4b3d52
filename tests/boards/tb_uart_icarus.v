// tb_uart_icarus: nnf_dev_uart under Icarus Verilog with a bit-level UART
// sender and receiver written in Verilog. Sends STIM (9-bit hex: bit 8 set =
// a new frame: wait until the previous one's answer came and ended), records what
// the device's txd carries in OUT (hex); run_uart_icarus.sh compares it with
// the functional model's answers.
`timescale 1ns/1ps
`default_nettype none

module tb_uart_icarus;
    parameter integer NSTIM = 1;
    parameter integer NEXP  = 1;
    localparam integer DIV = 8;
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg rxd = 1'b1;
    wire txd, led_act, led_err, led_run;
    reg [8:0] stim [0:NSTIM-1];
    reg [7:0] outb [0:NEXP-1];
    integer op = 0, op_sent = 0, i, b, fd, quiet = 0;

    nnf_dev_uart #(.ROWS(2), .COLS(2), .ACT_WORDS(256), .W_WORDS(256), .P_WORDS(16),
                   .ACC_DEPTH(64), .VEC_SERIAL(1), .PROG_WORDS(16), .STATE_WORDS(256),
                   .MAX_PAYLOAD(1024), .TIMEOUT(65536), .STRETCH(4096)) dut (
        .clk(clk), .rst(rst), .baud_div(DIV[15:0]), .rxd(rxd), .txd(txd),
        .led_act(led_act), .led_err(led_err), .led_run(led_run));

    always #5 clk = !clk;

    // receiver: sample in the middle of each bit
    always @(posedge clk) quiet <= txd ? quiet + 1 : 0;
    initial begin : rx
        reg [7:0] sh;
        integer k;
        forever begin
            @(negedge txd);
            repeat (DIV / 2) @(posedge clk);
            for (k = 0; k < 8; k = k + 1) begin
                repeat (DIV) @(posedge clk);
                sh = {txd, sh[7:1]};
            end
            repeat (DIV) @(posedge clk);
            if (!txd) $display("icarus: framing error from the device");
            if (op < NEXP) outb[op] = sh;
            op = op + 1;
        end
    end

    task send(input [7:0] v);
        integer k;
        begin
            rxd <= 1'b0;
            repeat (DIV) @(posedge clk);
            for (k = 0; k < 8; k = k + 1) begin
                rxd <= v[k];
                repeat (DIV) @(posedge clk);
            end
            rxd <= 1'b1;
            repeat (DIV) @(posedge clk);
        end
    endtask

    initial begin
        $readmemh("stim.hex", stim);
        repeat (4) @(posedge clk);
        rst <= 1'b0;
        repeat (4 * DIV) @(posedge clk);
        for (i = 0; i < NSTIM; i = i + 1) begin
            if (stim[i][8] && i > 0) begin           // the answer started, then ended
                while (op == op_sent) @(posedge clk);
                @(posedge clk);
                while (quiet < 40 * DIV) @(posedge clk);
            end
            op_sent = op;
            send(stim[i][7:0]);
        end
        while (op == op_sent && quiet < 100000) @(posedge clk);
        @(posedge clk);
        while (quiet < 200 * DIV) @(posedge clk);
        fd = $fopen("out.hex", "w");
        for (b = 0; b < op && b < NEXP; b = b + 1) $fdisplay(fd, "%02x", outb[b]);
        $fclose(fd);
        $display("icarus: %0d bytes sent, %0d received, led_err %0d", NSTIM, op, led_err);
        $finish;
    end
endmodule

`default_nettype wire
