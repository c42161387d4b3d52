// nnf_usb_xact: the transaction layer of the USB device (docs/usb.md):
// which token is for us, the answer to each, the data toggles, the
// turnaround, the time-outs and the bus reset. Endpoints 0 (control) and 1
// (bulk OUT and IN; answered only once configured); any other endpoint or
// address is not answered.
//
// Per token for our address (nnf_usb_pkt_rx's verdicts):
//   SETUP (EP0)  the DATA packet that follows: 8 bytes good -> ACK (a SETUP
//                is never NAKed or STALLed), `setup_ok`, both EP0 toggles
//                set to DATA1 (the first data / status packet).
//   OUT          the DATA packet that follows: damaged (or none within
//                TIMEOUT clocks) -> no answer; the endpoint halted -> STALL;
//                not ready at the token (EP1 OUT's buffer still full) -> NAK;
//                else ACK, and `out_ok` only when its toggle is the one
//                expected (which then flips): a repeat of a packet whose
//                ACK was lost is ACKed and dropped.
//   IN           halted -> STALL; the endpoint has a packet (`*_in_has`,
//                `*_in_len` bytes, 0 for a zero-length one) -> DATA0/1 with
//                the endpoint's toggle (`tx_begin`, then the bytes pulled at
//                `tx_idx`); else NAK. After a DATA the host's ACK must start
//                within TIMEOUT clocks of the end of our packet: then
//                `in_ack` and the toggle flips; without it nothing changes
//                and the next IN sends the same packet, same toggle.
//   SOF, others  ignored.
// Payload bytes of the DATA after SETUP / OUT come out on `rx_we` with
// `rx_idx` (0..63) while `xf_ep` / `xf_setup` say whose; an endpoint keeps
// them only when `setup_ok` / `out_ok` follows (`rx_len` bytes).
//
// Timing: answers go to nnf_usb_pkt_tx IPD clocks after the end of the
// packet answered (the device's SYNC then starts about 4 bit times after
// the host's EOP: USB asks for 2 to 6.5). The receiver is kept off the
// line while the device transmits (nnf_usb_dev). A bus reset is SE0 on
// `line` for RESET_CLKS clocks (2.5 us): `bus_reset` pulses once, the state
// and the toggles return to reset (the other modules reset on it too).
`default_nettype none

module nnf_usb_xact #(
    parameter integer IPD = 4,              // clocks from a packet's end to our answer's request
    parameter integer TIMEOUT = 72,         // clocks (18 bit times) to wait for the host's packet
    parameter integer RESET_CLKS = 120      // SE0 clocks that make a bus reset (2.5 us)
) (
    input  wire       clk,                  // 48 MHz
    input  wire       rst,
    // the line (nnf_usb_rx)
    input  wire [1:0] line,
    input  wire       rx_active,
    // packets received (nnf_usb_pkt_rx)
    input  wire       pk_valid,             // a payload byte
    input  wire [7:0] pk_data,
    input  wire       end_valid,
    input  wire       end_ok,
    input  wire [3:0] end_pid,
    input  wire [6:0] tok_addr,
    input  wire [3:0] tok_ep,
    // packets sent (nnf_usb_pkt_tx, nnf_usb_tx)
    output reg        send_valid,
    output reg  [3:0] send_pid,
    output reg  [6:0] send_len,
    input  wire       send_ready,
    output wire       pl_valid,
    output wire [7:0] pl_data,
    input  wire       pl_ready,
    input  wire       tx_busy,
    // the device
    input  wire [6:0] addr,
    input  wire       configured,
    output reg        bus_reset,            // one-cycle strobe
    output reg        activity,             // strobe: a token for us
    output reg        error,                // strobe: a damaged packet
    // endpoints: the transaction's
    output reg        xf_ep,                // 0 or 1
    output reg        xf_setup,
    output wire       rx_we,
    output wire [5:0] rx_idx,
    output wire [7:0] rx_data,
    output wire [6:0] rx_len,
    output reg        setup_ok,             // strobe: 8 SETUP bytes, ACKed
    output reg        out_ok,               // strobe: an OUT packet, ACKed, toggle new
    input  wire       ep0_stall,
    input  wire       ep1_out_halt,
    input  wire       ep1_in_halt,
    input  wire       ep1_out_ready,
    input  wire       ep1_out_tog_clr,      // strobes: EP1 toggles back to DATA0
    input  wire       ep1_in_tog_clr,
    input  wire       ep0_in_has,
    input  wire [6:0] ep0_in_len,
    input  wire [7:0] ep0_in_data,
    input  wire       ep1_in_has,
    input  wire [6:0] ep1_in_len,
    input  wire [7:0] ep1_in_data,
    output wire       tx_begin,             // strobe: the token's endpoint's packet goes out (again)
    output wire [6:0] tx_idx,
    output reg        in_ack                // strobe: the host ACKed xf_ep's packet
);
    localparam [3:0] P_OUT = 4'h1, P_IN = 4'h9, P_SETUP = 4'hD, P_DATA0 = 4'h3, P_DATA1 = 4'hB,
                     P_ACK = 4'h2, P_NAK = 4'hA, P_STALL = 4'hE;
    localparam [2:0] S_IDLE = 3'd0, S_DATA = 3'd1, S_IPD = 3'd2, S_SEND = 3'd3, S_BUSY = 3'd4;
    localparam [1:0] L_J = 2'b10, L_SE0 = 2'b00;

    reg  [2:0] st_q;
    reg  [6:0] cnt_q;                       // IPD / time-out clocks
    reg  [6:0] idx_q;                       // payload bytes received / sent
    reg        accept_q;                    // OUT: the endpoint was ready at the token
    reg        is_data_q;                   // the answer is a DATA packet
    reg        await_q;                     // our DATA went out: the host's ACK may come
    reg  [6:0] ack_cnt_q;
    reg  [3:0] tog_q;                       // expected / next toggle: {EP1 IN, EP1 OUT, EP0 IN, EP0 OUT}
    reg  [7:0] se0_q;                       // SE0 clocks (bus reset)

    wire brst = rst || bus_reset;

    // the token just received, if it is for us
    wire tok_ok  = end_valid && end_ok && (end_pid[1:0] == 2'b01) && (end_pid != 4'h5);
    wire ep_ok   = (tok_ep == 4'd0) || (tok_ep == 4'd1 && configured);
    wire for_us  = tok_ok && (tok_addr == addr) && ep_ok;
    wire tok_ep1 = tok_ep[0];
    wire is_dpid = (end_pid == P_DATA0) || (end_pid == P_DATA1);
    wire take_tok = for_us && (st_q == S_IDLE || st_q == S_DATA);

    wire in_halt  = tok_ep1 ? ep1_in_halt : ep0_stall;
    wire in_has   = tok_ep1 ? ep1_in_has  : ep0_in_has;
    wire [6:0] in_len = tok_ep1 ? ep1_in_len : ep0_in_len;
    wire in_tog   = tok_ep1 ? tog_q[3] : tog_q[1];
    wire out_tog  = xf_ep ? tog_q[2] : tog_q[0];

    // an IN answered with data: the endpoint fixes the packet in this very
    // cycle, the one whose length goes into send_len
    assign tx_begin = take_tok && (end_pid == P_IN) && !in_halt && in_has;
    assign rx_we    = (st_q == S_DATA) && pk_valid && accept_q;
    assign rx_idx   = idx_q[5:0];
    assign rx_data  = pk_data;
    assign rx_len   = idx_q;
    assign tx_idx   = idx_q;
    assign pl_valid = (st_q == S_BUSY);
    assign pl_data  = xf_ep ? ep1_in_data : ep0_in_data;

    // bus reset: SE0 held
    always @(posedge clk) begin
        bus_reset <= 1'b0;
        if (rst) begin
            se0_q <= 8'd0;
        end else if (line != L_SE0) begin
            se0_q <= 8'd0;
        end else if (se0_q != RESET_CLKS[7:0]) begin
            se0_q <= se0_q + 8'd1;
            if (se0_q == RESET_CLKS[7:0] - 8'd1) bus_reset <= 1'b1;
        end
    end

    always @(posedge clk) begin
        activity <= 1'b0;
        error    <= 1'b0;
        setup_ok <= 1'b0;
        out_ok   <= 1'b0;
        in_ack   <= 1'b0;
        if (brst) begin
            st_q       <= S_IDLE;
            cnt_q      <= 7'd0;
            idx_q      <= 7'd0;
            accept_q   <= 1'b0;
            is_data_q  <= 1'b0;
            await_q    <= 1'b0;
            ack_cnt_q  <= 7'd0;
            tog_q      <= 4'b0000;
            xf_ep      <= 1'b0;
            xf_setup   <= 1'b0;
            send_valid <= 1'b0;
            send_pid   <= 4'd0;
            send_len   <= 7'd0;
        end else begin
            if (end_valid && !end_ok) error <= 1'b1;
            if (ep1_out_tog_clr) tog_q[2] <= 1'b0;
            if (ep1_in_tog_clr)  tog_q[3] <= 1'b0;
            // the host's ACK of our DATA: its SYNC must start in time
            if (await_q) begin
                if (end_valid) begin
                    await_q <= 1'b0;
                    if (end_ok && end_pid == P_ACK) begin
                        in_ack <= 1'b1;
                        if (xf_ep) tog_q[3] <= !tog_q[3];
                        else       tog_q[1] <= !tog_q[1];
                    end
                end else if (line == L_J && !rx_active && ack_cnt_q != 7'h7F) begin
                    ack_cnt_q <= ack_cnt_q + 7'd1;
                    if (ack_cnt_q == TIMEOUT[6:0]) await_q <= 1'b0;
                end
            end
            case (st_q)
                S_IDLE: ;                       // tokens: below
                S_DATA: begin                   // the DATA after SETUP / OUT
                    if (rx_we) idx_q <= idx_q + 7'd1;
                    if (end_valid) begin
                        st_q      <= S_IDLE;
                        cnt_q     <= 7'd0;
                        is_data_q <= 1'b0;
                        if (end_ok && is_dpid) begin
                            if (xf_setup) begin
                                if (idx_q == 7'd8) begin
                                    st_q     <= S_IPD;
                                    send_pid <= P_ACK;
                                    setup_ok <= 1'b1;
                                    tog_q[1:0] <= 2'b11;
                                end
                            end else begin
                                st_q <= S_IPD;
                                if (xf_ep ? ep1_out_halt : ep0_stall) begin
                                    send_pid <= P_STALL;
                                end else if (!accept_q) begin
                                    send_pid <= P_NAK;
                                end else begin
                                    send_pid <= P_ACK;
                                    if ((end_pid == P_DATA1) == out_tog) begin
                                        out_ok <= 1'b1;
                                        if (xf_ep) tog_q[2] <= !tog_q[2];
                                        else       tog_q[0] <= !tog_q[0];
                                    end
                                end
                            end
                        end
                    end else if (!rx_active && line == L_J) begin
                        cnt_q <= cnt_q + 7'd1;
                        if (cnt_q == TIMEOUT[6:0]) st_q <= S_IDLE;  // no DATA came
                    end
                end
                S_IPD: begin
                    cnt_q <= cnt_q + 7'd1;
                    if (cnt_q == IPD[6:0]) begin
                        st_q       <= S_SEND;
                        send_valid <= 1'b1;
                    end
                end
                S_SEND: if (send_ready) begin   // taken now
                    send_valid <= 1'b0;
                    st_q       <= S_BUSY;
                end
                default: begin                  // S_BUSY: the packet on the line
                    if (pl_ready) idx_q <= idx_q + 7'd1;
                    if (send_ready && !send_valid && !tx_busy) begin
                        st_q      <= S_IDLE;
                        await_q   <= is_data_q;
                        ack_cnt_q <= 7'd0;
                    end
                end
            endcase
            // a token for us, in idle or instead of the DATA awaited after
            // OUT / SETUP (that one was lost: the host has moved on)
            if (take_tok) begin
                activity <= 1'b1;
                xf_ep    <= tok_ep1;
                xf_setup <= (end_pid == P_SETUP);
                idx_q    <= 7'd0;
                cnt_q    <= 7'd0;
                if (end_pid == P_IN) begin
                    st_q      <= S_IPD;
                    is_data_q <= 1'b0;
                    if (in_halt) begin
                        send_pid <= P_STALL;
                    end else if (in_has) begin
                        send_pid  <= in_tog ? P_DATA1 : P_DATA0;
                        send_len  <= in_len;
                        is_data_q <= 1'b1;
                    end else begin
                        send_pid <= P_NAK;
                    end
                end else if (end_pid == P_SETUP && !tok_ep1) begin
                    st_q     <= S_DATA;
                    accept_q <= 1'b1;
                end else if (end_pid == P_OUT) begin
                    st_q     <= S_DATA;
                    accept_q <= !tok_ep1 || (ep1_out_ready && !ep1_out_halt);
                end
            end
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/usb.md). For any packets received: the
    // device asks to transmit only in its answer window, once per packet:
    // send_valid exactly IPD + 1 clocks after a received packet's end,
    // never a second answer to the same packet; in_ack only for the host's
    // good ACK right after a DATA of ours; out_ok / setup_ok only at a
    // good DATA packet's end. The environment: the packet layer is idle
    // (send_ready) unless our packet is going out, and the host is silent
    // from the end of its packet to the end of our answer (it waits for it).
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    always @(*) if (st_q != S_BUSY) assume(send_ready && !tx_busy);
    always @(*) if (st_q == S_IPD || st_q == S_SEND || st_q == S_BUSY) assume(!end_valid && !pk_valid);

    reg [7:0] f_since;                      // clocks since the last packet's end (saturating)
    reg       f_answered;                   // an answer went out since
    reg       f_sent_data;                  // ... and it was a DATA packet
    reg       f_ack_ok, f_data_ok;          // last clock: the host's ACK of our DATA / a good DATA
    always @(posedge clk) begin
        if (rst || end_valid) f_since <= 8'd0;
        else if (f_since != 8'hFF) f_since <= f_since + 8'd1;
        if (rst || end_valid) begin
            f_answered  <= 1'b0;
            f_sent_data <= 1'b0;
        end else if (send_valid && send_ready) begin
            f_answered  <= 1'b1;
            f_sent_data <= (send_pid == P_DATA0 || send_pid == P_DATA1);
        end
        f_ack_ok  <= f_sent_data && end_valid && end_ok && end_pid == P_ACK;
        f_data_ok <= end_valid && end_ok && is_dpid;
    end

    always @(*) if (f_past_valid && !rst) begin
        if (send_valid) assert(f_since == IPD[7:0] + 8'd1 && !f_answered);
        if (in_ack) assert(f_ack_ok);
        if (out_ok || setup_ok) assert(f_data_ok);
`ifndef FORMAL_PORTS_ONLY
        if (!bus_reset) begin
            assert(st_q <= S_BUSY);
            assert(send_valid == (st_q == S_SEND));
            if (st_q == S_IPD) assert(cnt_q <= IPD[6:0] && f_since == {1'b0, cnt_q} && !f_answered);
            if (st_q == S_SEND) assert(f_since == IPD[7:0] + 8'd1 && !f_answered);
            if (st_q == S_BUSY) assert(f_answered && f_sent_data == is_data_q);
            if (st_q == S_IPD || st_q == S_SEND)
                assert(is_data_q == (send_pid == P_DATA0 || send_pid == P_DATA1));
            if (await_q) assert(st_q == S_IDLE && f_answered && f_sent_data);
        end
`endif
    end
`endif
endmodule

`default_nettype wire
