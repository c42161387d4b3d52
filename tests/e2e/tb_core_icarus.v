// tb_core_icarus: nnf_core under Icarus Verilog. Feeds STIM (hex bytes) to
// the receive port, collects what the transmit port sends, and writes it to
// OUT (hex). run_core_icarus.sh compares OUT with the functional model.
`timescale 1ns/1ps
`default_nettype none

module tb_core_icarus;
    parameter integer NSTIM = 1;
    parameter integer NEXP  = 1;
    parameter integer LIF_LANES = 1;
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg [7:0] stim [0:NSTIM-1];
    reg [7:0] outb [0:NEXP-1];
    integer ip = 0, op = 0, cyc = 0, fd, i;

    wire       rx_ready, tx_valid, running, idle;
    wire [7:0] tx_data;
    wire       rx_valid = !rst && (ip < NSTIM);
    wire [7:0] rx_data  = (ip < NSTIM) ? stim[ip] : 8'h00;

    // the model's default device (nnfm_device_config_default): nnf_core's
    // defaults but W, P, the accumulators and the program memory, which
    // configs/sim.json deepens
    nnf_core #(.TIMEOUT(65536), .LIF_LANES(LIF_LANES), .W_WORDS(32768), .P_WORDS(512), .ACC_DEPTH(512),
               .PROG_WORDS(256)) dut (
        .clk(clk), .rst(rst), .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(1'b1), .running(running), .idle(idle));

    always #5 clk = !clk;

    initial begin
        $readmemh("stim.hex", stim);
        repeat (4) @(posedge clk);
        rst <= 1'b0;
    end

    always @(posedge clk) begin
        if (!rst) begin
            cyc <= cyc + 1;
            if (rx_valid && rx_ready) ip <= ip + 1;
            if (tx_valid) begin
                if (op < NEXP) outb[op] = tx_data;
                op = op + 1;
            end
            if ((ip == NSTIM && idle && cyc > 10) || cyc > 5000000) begin
                fd = $fopen("out.hex", "w");
                for (i = 0; i < op && i < NEXP; i = i + 1) $fdisplay(fd, "%02x", outb[i]);
                $fclose(fd);
                $display("icarus: %0d bytes in, %0d bytes out, %0d cycles", ip, op, cyc);
                $finish;
            end
        end
    end
endmodule

`default_nettype wire
