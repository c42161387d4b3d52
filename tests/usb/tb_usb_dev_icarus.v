// tb_usb_dev_icarus: nnf_usb_dev under Icarus Verilog, replaying a
// recording of test_usb_dev (record): per clock the line and the EP1
// sink / source inputs {dp, dm, out_ready, in_valid, in_data} and what the
// Verilated device answered {dp_o, dn_o, oe after the edge; out_valid,
// in_ready, out_data before it}. The host's line is a function of the
// device's answers, so an identical device gives an identical recording:
// every clock's outputs must match.
`timescale 1ns/1ps
`default_nettype none

module tb_usb_dev_icarus;
    parameter integer N = 1;
    reg         clk = 1'b0;
    reg         rst = 1'b1;
    reg  [27:0] rec [0:N-1];                // {inputs[11:0], 3'b0, outputs[12:0]}
    reg  [11:0] in_w;
    reg  [12:0] want, got;
    reg  [7:0]  pre_out_data;
    reg         pre_out_valid, pre_in_ready;
    integer     i, bad;

    wire dp_o, dn_o, oe, dp_pullup, out_valid, in_ready, configured, bus_reset, activity, error;
    wire [7:0] out_data;
    nnf_usb_dev dut (
        .clk(clk), .rst(rst), .dp_i(in_w[11]), .dn_i(in_w[10]), .dp_o(dp_o), .dn_o(dn_o), .oe(oe),
        .dp_pullup(dp_pullup), .out_valid(out_valid), .out_data(out_data), .out_ready(in_w[9]),
        .in_valid(in_w[8]), .in_data(in_w[7:0]), .in_ready(in_ready), .configured(configured),
        .bus_reset(bus_reset), .activity(activity), .error(error));

    initial begin
        $readmemh("rec.hex", rec);
        bad = 0;
        in_w = 12'h800;                     // idle J
        repeat (2) begin                    // the shim's reset: two edges
            #5 clk = 1'b1;
            #5 clk = 1'b0;
        end
        rst = 1'b0;
        for (i = 0; i < N; i = i + 1) begin
            in_w = rec[i][27:16];
            want = rec[i][12:0];
            #4;
            pre_out_valid = out_valid;
            pre_in_ready  = in_ready;
            pre_out_data  = out_valid ? out_data : 8'd0;
            #1 clk = 1'b1;
            #4;
            got = {dp_o, dn_o, oe, pre_out_valid, pre_in_ready, pre_out_data};
            if (got !== want) begin
                if (bad < 10) $display("clock %0d: device %h, Verilator %h", i, got, want);
                bad = bad + 1;
            end
            #1 clk = 1'b0;
        end
        if (bad == 0) $display("PASS: %0d clocks identical", N);
        else          $display("FAIL: %0d of %0d clocks differ", bad, N);
        $finish;
    end
endmodule

`default_nettype wire
