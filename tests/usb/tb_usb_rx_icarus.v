// tb_usb_rx_icarus: nnfu_dut's receive side under Icarus Verilog. Plays
// STIM (one line state {D+, D-} per 48 MHz clock, from test_usb_phy --gen)
// into the pins and logs both layers' events to OUT in test_usb_phy's
// format; run_usb_icarus.sh compares them with the reference receiver's.
`timescale 1ns/1ps
`default_nettype none

module tb_usb_rx_icarus;
    parameter integer NSTIM = 1;
    parameter OUT = "events.txt";
    reg        clk = 1'b0;
    reg        rst = 1'b1;
    reg  [1:0] line = 2'b10;
    reg  [1:0] stim [0:NSTIM-1];
    integer    i, fd;

    wire       rx_active, rx_start, rx_valid, rx_end, out_valid, end_valid, end_ok;
    wire [7:0] rx_data, out_data;
    wire [2:0] rx_err, end_why;
    wire [3:0] end_pid, tok_ep;
    wire [6:0] tok_addr;
    wire       send_ready, pl_ready, dp_o, dm_o, oe, tx_busy, underrun;

    nnfu_dut dut (
        .clk(clk), .rst(rst), .dp(line[1]), .dm(line[0]),
        .rx_active(rx_active), .rx_start(rx_start), .rx_valid(rx_valid), .rx_data(rx_data),
        .rx_end(rx_end), .rx_err(rx_err), .out_valid(out_valid), .out_data(out_data),
        .end_valid(end_valid), .end_ok(end_ok), .end_why(end_why), .end_pid(end_pid),
        .tok_addr(tok_addr), .tok_ep(tok_ep),
        .send_valid(1'b0), .send_pid(4'd0), .send_len(7'd0), .send_ready(send_ready),
        .pl_valid(1'b0), .pl_data(8'd0), .pl_ready(pl_ready),
        .dp_o(dp_o), .dm_o(dm_o), .oe(oe), .tx_busy(tx_busy), .underrun(underrun));

    always #10 clk = !clk;

    // the events of each clock, as test_usb_phy's log_rx writes them
    always @(posedge clk) if (!rst) begin
        #1;
        if (rx_start)  $fwrite(fd, "S\n");
        if (rx_valid)  $fwrite(fd, "B %h\n", rx_data);
        if (rx_end)    $fwrite(fd, "E %0d\n", rx_err);
        if (out_valid) $fwrite(fd, "P %h\n", out_data);
        if (end_valid) begin
            if (end_ok && end_pid[1:0] == 2'b01)
                $fwrite(fd, "K %h %0d %0d %h %h\n", end_pid, end_ok, end_why, {1'b0, tok_addr}, tok_ep);
            else
                $fwrite(fd, "K %h %0d %0d\n", end_pid, end_ok, end_why);
        end
    end

    initial begin
        $readmemh("stim.hex", stim);
        fd = $fopen(OUT, "w");
        repeat (4) @(posedge clk);
        rst <= 1'b0;
        for (i = 0; i < NSTIM; i = i + 1) begin
            @(posedge clk);
            line <= stim[i];
        end
        repeat (8) @(posedge clk);
        $fclose(fd);
        $finish;
    end
endmodule

`default_nettype wire
