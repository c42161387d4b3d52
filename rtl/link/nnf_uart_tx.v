// nnf_uart_tx: UART transmitter, 8N1, LSB first, `div` clocks per bit
// (hold it steady while busy). Byte input with valid/ready; txd is a register
// (no glitches on the pin), high when idle and in reset.
`default_nettype none

module nnf_uart_tx #(
    parameter integer DIV_W = 16
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [DIV_W-1:0] div,
    input  wire             in_valid,
    input  wire [7:0]       in_data,
    output wire             in_ready,
    output reg              txd,
    output wire             busy
);
    reg  [8:0]       sh_q;              // data bits then the stop bit
    reg  [3:0]       left_q;            // bits still to send after this one
    reg [DIV_W-1:0]  cnt_q;
    reg              act_q;

    assign in_ready = !act_q;
    assign busy     = act_q;

    always @(posedge clk) begin
        if (rst) begin
            txd    <= 1'b1;
            act_q  <= 1'b0;
            sh_q   <= 9'h1FF;
            left_q <= 4'd0;
            cnt_q  <= {DIV_W{1'b0}};
        end else if (!act_q) begin
            if (in_valid) begin                  // start bit now
                txd    <= 1'b0;
                sh_q   <= {1'b1, in_data};
                left_q <= 4'd9;
                cnt_q  <= {DIV_W{1'b0}};
                act_q  <= 1'b1;
            end
        end else if (cnt_q == div - 1'b1) begin
            cnt_q <= {DIV_W{1'b0}};
            if (left_q == 4'd0) begin
                act_q <= 1'b0;                   // stop bit done
            end else begin
                txd    <= sh_q[0];
                sh_q   <= {1'b1, sh_q[8:1]};
                left_q <= left_q - 4'd1;
            end
        end else begin
            cnt_q <= cnt_q + 1'b1;
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md; tests/formal). Proved by
    // k-induction at DIV_W 4 (every div 1..15, held constant). A reference
    // transmitter (f_*) follows each byte taken: the line is exactly the
    // start bit, the 8 data bits LSB first and the stop bit, div cycles each;
    // no byte is taken (in_ready low, busy high) until the stop bit is done;
    // txd is high whenever idle.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);
    always @(*) assume(div != {DIV_W{1'b0}});
    reg [DIV_W-1:0] f_div_q;          // div is a constant (a board ties it)
    always @(posedge clk) f_div_q <= div;
    always @(*) if (f_past_valid) assume(div == f_div_q);

    reg             f_act;            // a character on the line
    reg  [7:0]      f_byte;           // the byte taken
    reg  [3:0]      f_bit;            // 0 start, 1..8 data, 9 stop
    reg [DIV_W-1:0] f_cyc;            // cycle within the bit
    always @(posedge clk) begin
        if (rst) begin
            f_act <= 1'b0;
        end else if (!f_act) begin
            if (in_valid && in_ready) begin
                f_act  <= 1'b1;
                f_byte <= in_data;
                f_bit  <= 4'd0;
                f_cyc  <= {DIV_W{1'b0}};
            end
        end else if (f_cyc == div - 1'b1) begin
            f_cyc <= {DIV_W{1'b0}};
            if (f_bit == 4'd9) f_act <= 1'b0;
            else               f_bit <= f_bit + 4'd1;
        end else begin
            f_cyc <= f_cyc + 1'b1;
        end
    end
    wire [17:0] f_sh = {9'h1FF, 1'b1, f_byte} >> f_bit;   // sh_q after f_bit shifts
    wire        f_line = (f_bit == 4'd0) ? 1'b0
                       : (f_bit == 4'd9) ? 1'b1
                       : f_byte[f_bit - 4'd1];
    always @(*) if (f_past_valid && !rst) begin
        assert(busy == f_act);
        assert(in_ready == !f_act);             // nothing taken mid-character
        if (f_act) begin
            assert(txd == f_line);
            assert(f_bit <= 4'd9);
            assert(f_cyc < div);
`ifndef FORMAL_PORTS_ONLY
            // strengthening for the induction: the registers are the
            // reference's state
            assert(cnt_q == f_cyc);
            assert(left_q == 4'd9 - f_bit);
            assert(sh_q == f_sh[8:0]);
`endif
        end else begin
            assert(txd);
        end
    end
`endif
endmodule

`default_nettype wire
