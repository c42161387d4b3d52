// nnf_usb_pkt_rx: the packet layer, receive side: nnf_usb_rx's bytes to
// tokens, handshakes and data packets, every check done.
//
// The first byte is the PID (type in [3:0], its complement in [7:4]: the
// check nibble). By type (full speed; the others are refused):
//   token      OUT 4'h1, IN 4'h9, SOF 4'h5, SETUP 4'hD: two more bytes,
//              address [6:0] and endpoint [10:7] (SOF: the frame number in
//              [10:0]) and the CRC5 [15:11], checked by nnf_usb_crc5's
//              residue over all 16 bits;
//   handshake  ACK 4'h2, NAK 4'hA, STALL 4'hE, NYET 4'h6: the PID alone;
//   data       DATA0 4'h3, DATA1 4'hB: 0..MAX_PAYLOAD payload bytes, then
//              the CRC16 (low byte first), checked by nnf_usb_crc16's
//              residue over payload and CRC.
// Payload bytes stream out (out_valid with out_data) two bytes behind the
// line, so the two CRC bytes are never handed out; the consumer must keep
// them until end_valid says whether the packet was good.
//
// end_valid pulses once per packet (after its EOP or its line error), with
// end_pid (the type nibble as received), end_ok and end_why:
//   0 good, 1 line (nnf_usb_rx's err: stuffing, cut mid-byte, SE1...),
//   2 PID check nibble wrong, 3 length wrong for the type (no byte at all,
//   a token not 3 bytes, a handshake not 1, a data packet under 3 or over
//   MAX_PAYLOAD + 3), 4 CRC5, 5 CRC16, 6 a PID full speed does not use.
// tok_addr and tok_ep hold the last token's fields (valid with an end_ok
// token; SOF's frame number is {tok_ep, tok_addr}). Registered outputs.
`default_nettype none

module nnf_usb_pkt_rx #(
    parameter integer MAX_PAYLOAD = 64      // data payload bytes, 1..1023
) (
    input  wire       clk,
    input  wire       rst,
    // from nnf_usb_rx
    input  wire       rx_start,
    input  wire       rx_valid,
    input  wire [7:0] rx_data,
    input  wire       rx_end,
    input  wire [2:0] rx_err,
    // payload bytes of data packets
    output reg        out_valid,
    output reg  [7:0] out_data,
    // one strobe per packet
    output reg        end_valid,
    output reg        end_ok,
    output reg  [2:0] end_why,
    output reg  [3:0] end_pid,
    output reg  [6:0] tok_addr,
    output reg  [3:0] tok_ep
);
    localparam [2:0] W_OK = 3'd0, W_LINE = 3'd1, W_PID = 3'd2, W_LEN = 3'd3,
                     W_CRC5 = 3'd4, W_CRC16 = 3'd5, W_UNSUP = 3'd6;
    localparam integer CW = 11;             // byte count, saturating
    localparam [CW-1:0] NMAX = {CW{1'b1}};

    reg  [CW-1:0] n_q;                      // bytes received so far (PID included)
    reg  [3:0]    pid_q;
    reg           pid_good_q;               // check nibble right
    reg  [7:0]    d0_q, d1_q;               // the last two bytes after the PID

    wire       first = (n_q == {CW{1'b0}});
    wire       crc_init = rx_start;
    wire       crc_en   = rx_valid && !first;
    wire [4:0] crc5_unused;
    wire [15:0] crc16_unused;
    wire       crc5_ok, crc16_ok;
    nnf_usb_crc5 #(.W(8)) u_crc5 (
        .clk(clk), .init(crc_init), .en(crc_en), .data(rx_data), .crc(crc5_unused), .ok(crc5_ok));
    nnf_usb_crc16 #(.W(8)) u_crc16 (
        .clk(clk), .init(crc_init), .en(crc_en), .data(rx_data), .crc(crc16_unused), .ok(crc16_ok));

    wire is_token = (pid_q[1:0] == 2'b01);                  // OUT IN SOF SETUP
    wire is_hs    = (pid_q[1:0] == 2'b10);                  // ACK NAK STALL NYET
    wire is_data  = (pid_q == 4'h3) || (pid_q == 4'hB);     // DATA0 DATA1
    // payload bytes so far: n - 3 (PID and the two held back)
    wire pay_ok   = (n_q >= 11'd3) && (n_q - 11'd3 <= MAX_PAYLOAD[CW-1:0]);

    reg [2:0] why;
    always @(*) begin
        if (rx_err != 3'd0)        why = W_LINE;
        else if (first)            why = W_LEN;
        else if (!pid_good_q)      why = W_PID;
        else if (is_token)         why = (n_q != 11'd3) ? W_LEN : (crc5_ok ? W_OK : W_CRC5);
        else if (is_hs)            why = (n_q != 11'd1) ? W_LEN : W_OK;
        else if (is_data)          why = !pay_ok ? W_LEN : (crc16_ok ? W_OK : W_CRC16);
        else                       why = W_UNSUP;
    end

    always @(posedge clk) begin
        out_valid <= 1'b0;
        end_valid <= 1'b0;
        if (rst) begin
            n_q        <= {CW{1'b0}};
            pid_q      <= 4'd0;
            pid_good_q <= 1'b0;
            d0_q       <= 8'd0;
            d1_q       <= 8'd0;
            out_data   <= 8'd0;
            end_ok     <= 1'b0;
            end_why    <= 3'd0;
            end_pid    <= 4'd0;
            tok_addr   <= 7'd0;
            tok_ep     <= 4'd0;
        end else begin
            if (rx_start) n_q <= {CW{1'b0}};
            if (rx_valid) begin
                if (n_q != NMAX) n_q <= n_q + 1'b1;
                if (first) begin
                    pid_q      <= rx_data[3:0];
                    pid_good_q <= (rx_data[7:4] == ~rx_data[3:0]);
                end else begin
                    d0_q <= rx_data;
                    d1_q <= d0_q;
                    if (is_token && n_q == 11'd1) begin
                        tok_addr  <= rx_data[6:0];
                        tok_ep[0] <= rx_data[7];
                    end
                    if (is_token && n_q == 11'd2) tok_ep[3:1] <= rx_data[2:0];
                    // the byte two behind is payload
                    if (is_data && pid_good_q && n_q >= 11'd3 && n_q - 11'd3 < MAX_PAYLOAD[CW-1:0]) begin
                        out_valid <= 1'b1;
                        out_data  <= d1_q;
                    end
                end
            end
            if (rx_end) begin
                end_valid <= 1'b1;
                end_ok    <= (why == W_OK);
                end_why   <= why;
                end_pid   <= first ? 4'd0 : pid_q;
                n_q       <= {CW{1'b0}};
            end
        end
    end

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = ^{crc5_unused, crc16_unused};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
