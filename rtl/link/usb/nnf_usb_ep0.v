// nnf_usb_ep0: endpoint 0, the control endpoint: the standard requests,
// the device's address and configuration, EP1's halt features
// (docs/usb.md).
//
// A SETUP's 8 bytes are kept as they come (rx_we while xf_setup) and
// decoded when nnf_usb_xact ACKs them (setup_ok):
//   GET_DESCRIPTOR       device, configuration, string 0..3 (nnf_usb_desc):
//                        a data stage of min(wLength, length) bytes in
//                        packets of EP0_MAX, a zero-length one after a
//                        full last packet when the descriptor is shorter
//                        than wLength; anything else (e.g. the device
//                        qualifier) STALLs
//   SET_ADDRESS          the address, used from the end of the status stage
//   SET_CONFIGURATION    0 or 1 (else STALL): `configured`; EP1's toggles
//                        back to DATA0 and its halts cleared
//   GET_CONFIGURATION    one byte
//   GET_STATUS           device (bus powered, no remote wake-up: 0),
//                        interface 0 (0), endpoint 0x00 / 0x80 (0), 0x01 /
//                        0x81 (the halt bit): two bytes
//   CLEAR_FEATURE / SET_FEATURE ENDPOINT_HALT on 0x01 / 0x81 (clearing
//                        also puts the toggle back to DATA0; EP0's own
//                        halt: nothing to clear, SET STALLs)
//   anything else        STALL: the data and status stages are STALLed
//                        until the next SETUP.
// The stages: IN packets while `in_has` (data stage, then the host's OUT
// status packet; or, without a data stage, a zero-length IN status packet).
// A bus reset (rst) returns address 0, configuration 0, no halt.
`default_nettype none

module nnf_usb_ep0 #(
    parameter [15:0] VID = 16'h1209,
    parameter [15:0] PID = 16'h0001,
    parameter [15:0] BCD_DEVICE = 16'h0100,
    parameter [15:0] SERIAL = 16'h0001,
    parameter integer EP0_MAX = 64          // 8, 16, 32 or 64
) (
    input  wire       clk,
    input  wire       rst,                  // reset or bus reset
    // from nnf_usb_xact
    input  wire       xf_ep,
    input  wire       xf_setup,
    input  wire       rx_we,
    input  wire [5:0] rx_idx,
    input  wire [7:0] rx_data,
    input  wire       setup_ok,
    input  wire       out_ok,
    input  wire       in_ack,
    input  wire [6:0] tx_idx,
    output wire       stall,
    output wire       in_has,
    output wire [6:0] in_len,
    output wire [7:0] in_data,
    // the device
    output reg  [6:0] addr,
    output reg        configured,
    output reg        ep1_out_halt,
    output reg        ep1_in_halt,
    output reg        ep1_out_tog_clr,      // strobes
    output reg        ep1_in_tog_clr
);
    localparam [2:0] S_IDLE = 3'd0, S_DATA_IN = 3'd1, S_STATUS_OUT = 3'd2, S_STATUS_IN = 3'd3,
                     S_STALL = 3'd4;
    localparam [6:0] MAXP = EP0_MAX[6:0];

    reg  [7:0] s_q [0:7];                   // the SETUP packet
    reg  [2:0] st_q;
    reg        rom_q;                       // the data come from the ROM (else reply_q)
    reg  [6:0] ptr_q;                       // ROM address of this packet's first byte
    reg        first_q;                     // no packet of the data stage ACKed yet
    reg  [6:0] rem_q;                       // bytes still to send
    reg        short_q;                     // less than wLength: end with a short packet
    reg  [7:0] reply_q;                     // the first byte of a GET_STATUS / GET_CONFIGURATION
    reg        set_addr_q;                  // the status stage of a SET_ADDRESS
    reg  [6:0] new_addr_q;

    integer i;
    always @(posedge clk)
        if (rst) begin
            for (i = 0; i < 8; i = i + 1) s_q[i] <= 8'd0;
        end else if (rx_we && xf_setup && !xf_ep && !rx_idx[5] && !rx_idx[4] && !rx_idx[3]) begin
            s_q[rx_idx[2:0]] <= rx_data;
        end

    wire [7:0]  bm_req  = s_q[0];
    wire [7:0]  b_req   = s_q[1];
    wire [7:0]  w_val_l = s_q[2];
    wire [7:0]  w_val_h = s_q[3];
    wire [15:0] w_idx   = {s_q[5], s_q[4]};
    wire [15:0] w_len   = {s_q[7], s_q[6]};
    wire        w_val_0 = (w_val_h == 8'd0) && (w_val_l == 8'd0);

    // the descriptor ROM: lookup for the request, bytes for the data stage
    wire       d_found;
    wire [6:0] d_base, d_len;
    wire [6:0] rom_addr = ptr_q + tx_idx;
    wire [7:0] rom_data;
    nnf_usb_desc #(.VID(VID), .PID(PID), .BCD_DEVICE(BCD_DEVICE), .SERIAL(SERIAL),
                   .EP0_MAX(EP0_MAX)) u_desc (
        .type_i(w_val_h), .index_i(w_val_l), .found(d_found), .base(d_base), .len(d_len),
        .addr(rom_addr), .data(rom_data));

    // the request's answer
    localparam [1:0] A_STALL = 2'd0, A_DATA = 2'd1, A_NODATA = 2'd2;
    reg  [1:0] ans;
    reg  [6:0] a_len;                       // data stage length before wLength
    reg        a_rom;
    reg  [7:0] a_reply;
    reg        ep_is_out1, ep_is_in1, ep_is_0;
    always @(*) begin
        ans     = A_STALL;
        a_len   = 7'd0;
        a_rom   = 1'b0;
        a_reply = 8'd0;
        ep_is_out1 = (w_idx == 16'h0001) && configured;
        ep_is_in1  = (w_idx == 16'h0081) && configured;
        ep_is_0    = (w_idx == 16'h0000) || (w_idx == 16'h0080);
        case ({bm_req, b_req})
            16'h8006: if (d_found) begin                    // GET_DESCRIPTOR
                ans   = A_DATA;
                a_len = d_len;
                a_rom = 1'b1;
            end
            16'h0005: if (w_val_h == 8'd0 && !w_val_l[7]) ans = A_NODATA;   // SET_ADDRESS
            16'h0009: if (w_val_h == 8'd0 && w_val_l[7:1] == 7'd0) ans = A_NODATA; // SET_CONFIGURATION
            16'h8008: begin                                 // GET_CONFIGURATION
                ans     = A_DATA;
                a_len   = 7'd1;
                a_reply = {7'd0, configured};
            end
            16'h8000, 16'h8100: if (bm_req == 8'h80 || w_idx == 16'd0) begin // GET_STATUS device / interface
                ans   = A_DATA;
                a_len = 7'd2;
            end
            16'h8200: if (ep_is_0 || ep_is_out1 || ep_is_in1) begin  // GET_STATUS endpoint
                ans     = A_DATA;
                a_len   = 7'd2;
                a_reply = {7'd0, (ep_is_out1 && ep1_out_halt) || (ep_is_in1 && ep1_in_halt)};
            end
            16'h0201: if (w_val_0 && (ep_is_0 || ep_is_out1 || ep_is_in1)) ans = A_NODATA; // CLEAR_FEATURE halt
            16'h0203: if (w_val_0 && (ep_is_out1 || ep_is_in1)) ans = A_NODATA;           // SET_FEATURE halt
            default: ;
        endcase
    end
    // the data stage: min(wLength, a_len)
    wire       len_lt  = {9'd0, a_len} < w_len;
    wire [6:0] d_total = len_lt ? a_len : w_len[6:0];

    // this IN packet: min(rem, EP0_MAX)
    wire [6:0] pkt_len = (rem_q > MAXP) ? MAXP : rem_q;
    assign in_has  = (st_q == S_DATA_IN) || (st_q == S_STATUS_IN);
    assign in_len  = (st_q == S_DATA_IN) ? pkt_len : 7'd0;
    assign stall   = (st_q == S_STALL);
    assign in_data = rom_q ? rom_data : ((first_q && tx_idx == 7'd0) ? reply_q : 8'd0);

    always @(posedge clk) begin
        ep1_out_tog_clr <= 1'b0;
        ep1_in_tog_clr  <= 1'b0;
        if (rst) begin
            st_q         <= S_IDLE;
            rom_q        <= 1'b0;
            ptr_q        <= 7'd0;
            first_q      <= 1'b0;
            rem_q        <= 7'd0;
            short_q      <= 1'b0;
            reply_q      <= 8'd0;
            set_addr_q   <= 1'b0;
            new_addr_q   <= 7'd0;
            addr         <= 7'd0;
            configured   <= 1'b0;
            ep1_out_halt <= 1'b0;
            ep1_in_halt  <= 1'b0;
        end else if (setup_ok) begin
            rom_q      <= a_rom;
            ptr_q      <= d_base;
            first_q    <= 1'b1;
            rem_q      <= d_total;
            short_q    <= len_lt;
            reply_q    <= a_reply;
            set_addr_q <= 1'b0;
            case (ans)
                A_DATA:   st_q <= S_DATA_IN;
                A_NODATA: st_q <= S_STATUS_IN;
                default:  st_q <= S_STALL;
            endcase
            if (ans == A_NODATA) begin
                case (b_req)
                    8'h05: begin
                        set_addr_q <= 1'b1;
                        new_addr_q <= w_val_l[6:0];
                    end
                    8'h09: begin
                        configured      <= w_val_l[0];
                        ep1_out_halt    <= 1'b0;
                        ep1_in_halt     <= 1'b0;
                        ep1_out_tog_clr <= 1'b1;
                        ep1_in_tog_clr  <= 1'b1;
                    end
                    8'h01: begin                // CLEAR_FEATURE halt
                        if (ep_is_out1) begin
                            ep1_out_halt    <= 1'b0;
                            ep1_out_tog_clr <= 1'b1;
                        end
                        if (ep_is_in1) begin
                            ep1_in_halt    <= 1'b0;
                            ep1_in_tog_clr <= 1'b1;
                        end
                    end
                    default: begin              // SET_FEATURE halt
                        if (ep_is_out1) ep1_out_halt <= 1'b1;
                        if (ep_is_in1)  ep1_in_halt  <= 1'b1;
                    end
                endcase
            end
        end else if (in_ack && !xf_ep) begin
            if (st_q == S_DATA_IN) begin
                ptr_q   <= ptr_q + pkt_len;
                first_q <= 1'b0;
                rem_q <= rem_q - pkt_len;
                // done after a short packet, or after the last full one when
                // it was all the host asked for
                if (pkt_len != MAXP || (rem_q == pkt_len && !short_q)) st_q <= S_STATUS_OUT;
            end else if (st_q == S_STATUS_IN) begin
                st_q <= S_IDLE;
                if (set_addr_q) addr <= new_addr_q;
            end
        end else if (out_ok && !xf_ep) begin
            // the host's status packet (it may end the data stage early)
            if (st_q == S_DATA_IN || st_q == S_STATUS_OUT) st_q <= S_IDLE;
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/usb.md), for any packets and strobes from
    // nnf_usb_xact: the address changes only when the host ACKs the status
    // stage of a SET_ADDRESS (USB: not before), and only to that request's
    // value; the configuration and EP1's halts change only at a SETUP (or
    // a reset); EP0 offers an IN packet only inside a control transfer and
    // never more than EP0_MAX bytes; a STALL lasts until the next SETUP.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);
    // nnf_usb_xact: one strobe at a time
    always @(*) assume(!(setup_ok && (in_ack || out_ok)) && !(in_ack && out_ok));

    reg        f_setaddr;                   // the last SETUP was SET_ADDRESS, ACKed
    reg  [6:0] f_addr;                      // its value
    always @(posedge clk)
        if (rst) f_setaddr <= 1'b0;
        else if (setup_ok) begin
            f_setaddr <= ({bm_req, b_req} == 16'h0005) && w_val_h == 8'd0 && !w_val_l[7];
            f_addr    <= w_val_l[6:0];
        end
    always @(posedge clk) if (f_past_valid && !$past(rst) && !rst) begin
        if (addr != $past(addr))
            assert($past(in_ack && !xf_ep && in_has && in_len == 7'd0) && $past(f_setaddr) &&
                   addr == $past(f_addr));
        if (configured != $past(configured) || ep1_in_halt != $past(ep1_in_halt) ||
            ep1_out_halt != $past(ep1_out_halt))
            assert($past(setup_ok));
        if ($past(stall) && !$past(setup_ok)) assert(stall);
    end
    always @(*) if (f_past_valid && !rst) begin
        if (in_has) assert(in_len <= MAXP && !stall);
`ifndef FORMAL_PORTS_ONLY
        assert(st_q <= S_STALL);
        if (set_addr_q) assert(f_setaddr && new_addr_q == f_addr);
        if (st_q == S_STATUS_IN && set_addr_q) assert(in_len == 7'd0);
`endif
    end
`endif
endmodule

`default_nettype wire
