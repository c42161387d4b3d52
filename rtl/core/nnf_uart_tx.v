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
endmodule

`default_nettype wire
