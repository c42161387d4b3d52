// nnf_usb_pkt_tx: the packet layer, transmit side: handshakes and data
// packets as bytes for nnf_usb_tx.
//
// A packet starts with send_valid (taken when send_ready, i.e. idle): its
// type send_pid and, for DATA0 / DATA1, send_len payload bytes, which are
// then pulled on pl_valid / pl_data / pl_ready (pl_ready is the byte taken)
// and followed by their CRC16, low byte first (nnf_usb_crc16). Any other
// type is sent as its PID byte alone (ACK, NAK, STALL: the device sends no
// tokens). The PID byte carries its check nibble. Bytes go out on tx_valid
// / tx_data / tx_last / tx_ready, the last one flagged. `drop` (nnf_usb_tx's
// underrun: the payload came too late and the packet was spoiled) drops the
// packet: back to idle, the rest of the payload is not pulled.
`default_nettype none

module nnf_usb_pkt_tx #(
    parameter integer LEN_W = 7             // send_len width: payloads up to 2^LEN_W - 1
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             drop,           // nnf_usb_tx's underrun: drop the packet
    input  wire             send_valid,
    input  wire [3:0]       send_pid,
    input  wire [LEN_W-1:0] send_len,
    output wire             send_ready,
    // payload source
    input  wire             pl_valid,
    input  wire [7:0]       pl_data,
    output wire             pl_ready,
    // to nnf_usb_tx
    output reg              tx_valid,
    output reg  [7:0]       tx_data,
    output reg              tx_last,
    input  wire             tx_ready
);
    localparam [2:0] S_IDLE = 3'd0, S_PID = 3'd1, S_PAY = 3'd2, S_CRC0 = 3'd3, S_CRC1 = 3'd4;

    reg  [2:0]       st_q;
    reg  [3:0]       pid_q;
    reg  [LEN_W-1:0] left_q;                // payload bytes still to send

    wire is_data = (pid_q == 4'h3) || (pid_q == 4'hB);
    wire pl_take = (st_q == S_PAY) && pl_valid && tx_ready;
    wire [15:0] crc;
    wire        crc_ok_unused;
    nnf_usb_crc16 #(.W(8)) u_crc16 (
        .clk(clk), .init(send_valid && send_ready), .en(pl_take), .data(pl_data), .crc(crc),
        .ok(crc_ok_unused));

    assign send_ready = (st_q == S_IDLE);
    assign pl_ready   = pl_take;

    always @(*) begin
        tx_valid = 1'b0;
        tx_data  = 8'd0;
        tx_last  = 1'b0;
        case (st_q)
            S_PID: begin
                tx_valid = 1'b1;
                tx_data  = {~pid_q, pid_q};
                tx_last  = !is_data;
            end
            S_PAY: begin
                tx_valid = pl_valid;
                tx_data  = pl_data;
            end
            S_CRC0: begin
                tx_valid = 1'b1;
                tx_data  = crc[7:0];
            end
            S_CRC1: begin
                tx_valid = 1'b1;
                tx_data  = crc[15:8];
                tx_last  = 1'b1;
            end
            default: ;
        endcase
    end

    always @(posedge clk) begin
        if (rst || drop) begin
            st_q   <= S_IDLE;
            pid_q  <= 4'd0;
            left_q <= {LEN_W{1'b0}};
        end else begin
            case (st_q)
                S_IDLE: if (send_valid) begin
                    st_q   <= S_PID;
                    pid_q  <= send_pid;
                    left_q <= send_len;
                end
                S_PID: if (tx_ready) begin
                    if (!is_data)                      st_q <= S_IDLE;
                    else if (left_q == {LEN_W{1'b0}}) st_q <= S_CRC0;
                    else                               st_q <= S_PAY;
                end
                S_PAY: if (pl_take) begin
                    left_q <= left_q - 1'b1;
                    if (left_q == {{(LEN_W-1){1'b0}}, 1'b1}) st_q <= S_CRC0;
                end
                S_CRC0: if (tx_ready) st_q <= S_CRC1;
                default: if (tx_ready) st_q <= S_IDLE;  // S_CRC1
            endcase
        end
    end

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = crc_ok_unused;
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
