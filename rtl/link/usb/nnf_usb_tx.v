// nnf_usb_tx: the full-speed transmitter, from bytes to the pins.
//
// A packet is the bytes offered on in_valid / in_data (in_ready takes one),
// the last one flagged in_last. The line carries the SYNC (8'h80), the bytes
// LSB first through nnf_usb_stuff (a zero after six ones, counted from the
// SYNC's final one, including one before the EOP when the packet ends in
// six ones), NRZI encoded (a zero toggles J/K), then the EOP: SE0 for two
// bit times and J for one, after which the pins are released (oe low; the
// pull-up holds J). One bit time is four clocks at 48 MHz.
//
// The first byte is taken in idle and the packet starts the next cycle; the
// next byte is taken into a holding register while the previous one is on
// the line, so the source has a whole byte time (32 clocks) per byte (one
// offered in the very cycle it is needed goes straight out). If it
// has none when one is needed (an underrun), `underrun` pulses and the
// packet is spoiled on purpose, as USB asks: eight ones without stuffing
// (a stuffing error at every receiver), then the EOP; no byte is taken
// from the underrun to the end of that EOP (the source starts over:
// nnf_usb_pkt_tx's `drop`).
//
// busy: a packet is on the line (oe) or about to be. dp_o, dm_o and oe are
// registered (no glitches on the pins); J (dp_o high) while idle.
`default_nettype none

module nnf_usb_tx (
    input  wire       clk,                  // 48 MHz
    input  wire       rst,
    input  wire       in_valid,
    input  wire [7:0] in_data,
    input  wire       in_last,
    output wire       in_ready,
    output reg        dp_o,
    output reg        dm_o,
    output reg        oe,
    output wire       busy,
    output reg        underrun              // one-cycle strobe
);
    localparam [2:0] S_IDLE = 3'd0, S_DATA = 3'd1, S_EOP1 = 3'd2, S_EOP2 = 3'd3,
                     S_J = 3'd4, S_ABORT = 3'd5, S_EOP0 = 3'd6;

    reg  [2:0] st_q;
    reg  [1:0] cnt_q;                       // clocks into the bit time
    reg  [7:0] sh_q;                        // the byte on the line, next bit in [0]
    reg  [2:0] nbit_q;                      // its bits already sent
    reg        last_q;                      // it is the packet's last byte
    reg        done_q;                      // every data bit has gone out
    reg  [7:0] hold_q;                      // the next byte
    reg        hold_last_q;
    reg        hold_v_q;
    reg        lvl_q;                       // NRZI level: 1 J, 0 K
    reg        ab_q;                        // spoiling a packet after an underrun

    wire tick = (st_q != S_IDLE) && (cnt_q == 2'd0);

    // bit stuffing over the data bits (SYNC included)
    wire st_tick = tick && (st_q == S_DATA) && (stuffing || !done_q);
    wire take, out_bit, stuffing;
    wire st_clear = (st_q == S_IDLE);
    nnf_usb_stuff u_stuff (
        .clk(clk), .rst(rst), .clear(st_clear), .tick(st_tick), .in_bit(sh_q[0]),
        .in_take(take), .out_bit(out_bit), .stuffing(stuffing));

    // the next byte is due now and the holding register is empty: a byte
    // offered in this cycle goes straight to the shift register
    wire due = st_tick && take && (nbit_q == 3'd7) && !last_q && !hold_v_q;

    assign in_ready = !hold_v_q && !ab_q;
    assign busy     = (st_q != S_IDLE) || hold_v_q;

    always @(posedge clk) begin
        underrun <= 1'b0;
        if (rst) begin
            st_q        <= S_IDLE;
            cnt_q       <= 2'd0;
            sh_q        <= 8'd0;
            nbit_q      <= 3'd0;
            last_q      <= 1'b0;
            done_q      <= 1'b0;
            hold_q      <= 8'd0;
            hold_last_q <= 1'b0;
            hold_v_q    <= 1'b0;
            lvl_q       <= 1'b1;
            ab_q        <= 1'b0;
            dp_o        <= 1'b1;
            dm_o        <= 1'b0;
            oe          <= 1'b0;
        end else begin
            if (in_valid && in_ready && !due) begin
                hold_q      <= in_data;
                hold_last_q <= in_last;
                hold_v_q    <= 1'b1;
            end
            if (st_q != S_IDLE) cnt_q <= cnt_q + 2'd1;
            case (st_q)
                S_IDLE: if (hold_v_q) begin     // a packet: SYNC first
                    st_q   <= S_DATA;
                    cnt_q  <= 2'd0;
                    sh_q   <= 8'h80;
                    nbit_q <= 3'd0;
                    last_q <= 1'b0;
                    done_q <= 1'b0;
                    lvl_q  <= 1'b1;
                end
                S_DATA: if (tick) begin
                    if (stuffing || !done_q) begin      // a data or stuffed bit
                        oe    <= 1'b1;
                        lvl_q <= lvl_q ^ !out_bit;
                        dp_o  <= lvl_q ^ !out_bit;
                        dm_o  <= !(lvl_q ^ !out_bit);
                    end else begin                      // EOP, first SE0
                        dp_o <= 1'b0;
                        dm_o <= 1'b0;
                        st_q <= S_EOP1;
                    end
                    if (st_tick && take) begin
                        sh_q   <= sh_q >> 1;
                        nbit_q <= nbit_q + 3'd1;
                        if (nbit_q == 3'd7) begin
                            if (last_q) begin
                                done_q <= 1'b1;
                            end else if (hold_v_q) begin
                                sh_q     <= hold_q;
                                last_q   <= hold_last_q;
                                hold_v_q <= 1'b0;
                            end else if (in_valid) begin    // just in time
                                sh_q     <= in_data;
                                last_q   <= in_last;
                            end else begin      // underrun: spoil the packet
                                underrun <= 1'b1;
                                ab_q     <= 1'b1;
                                nbit_q   <= 3'd0;
                                st_q     <= S_ABORT;
                            end
                        end
                    end
                end
                S_ABORT: if (tick) begin        // eight ones, no stuffing
                    nbit_q <= nbit_q + 3'd1;
                    if (nbit_q == 3'd7) st_q <= S_EOP0;
                end
                S_EOP0: if (tick) begin         // after an abort: first SE0
                    dp_o <= 1'b0;
                    dm_o <= 1'b0;
                    st_q <= S_EOP1;
                end
                S_EOP1: if (tick) begin         // second SE0 bit time
                    dp_o <= 1'b0;
                    dm_o <= 1'b0;
                    st_q <= S_EOP2;
                end
                S_EOP2: if (tick) begin         // J for one bit time
                    dp_o <= 1'b1;
                    dm_o <= 1'b0;
                    st_q <= S_J;
                end
                default: if (tick) begin        // S_J: release the pins
                    oe   <= 1'b0;
                    ab_q <= 1'b0;
                    st_q <= S_IDLE;
                end
            endcase
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md, docs/usb.md). For any byte source:
    // the pins never show SE1; released (oe low) they are J; they are
    // released only after J (the EOP's last bit); no byte is taken from an
    // underrun to the release of the pins. (The line's run lengths, i.e. the
    // stuffing seen through NRZI, are nnf_usb_stuff's proof and rtl_usb_tx's
    // sample-exact decoding: a k-induction over the 28 clocks of a run is
    // too slow here.)
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    reg f_spoil;                            // an underrun since the pins were taken
    always @(posedge clk)
        if (rst || !oe)    f_spoil <= 1'b0;
        else if (underrun) f_spoil <= 1'b1;
    always @(*) if (f_past_valid && !rst) begin
        assert(!(dp_o && dm_o));
        if (!oe) assert(dp_o && !dm_o);
        if ((f_spoil && oe) || underrun) assert(!in_ready);
    end
    always @(posedge clk) if (f_past_valid && !rst && !$past(rst))
        if ($past(oe) && !oe) assert($past(dp_o) && !$past(dm_o));
`ifndef FORMAL_PORTS_ONLY
    always @(*) if (f_past_valid && !rst) begin
        assert(st_q <= S_EOP0);
        if (st_q == S_IDLE) assert(!oe && !ab_q);
        if (st_q == S_DATA && !oe) assert(cnt_q == 2'd0 && nbit_q == 3'd0 && !done_q);
        // the pins in each state: NRZI level, EOP's SE0, its J
        if (oe && (st_q == S_DATA || st_q == S_ABORT || st_q == S_EOP0))
            assert(dp_o == lvl_q && dm_o == !lvl_q);
        if (st_q == S_EOP1 || st_q == S_EOP2) assert(!dp_o && !dm_o);
        if (st_q == S_J) assert(dp_o && !dm_o);
        if (ab_q) assert(st_q != S_IDLE && st_q != S_DATA && !hold_v_q);
        if (st_q == S_ABORT) assert(ab_q);
        if ((f_spoil && oe) || underrun) assert(ab_q);
        if (ab_q) assert(f_spoil || underrun);
        // the pins are taken at the SYNC's first tick and kept to the end
        if (!oe) assert(st_q == S_IDLE || (st_q == S_DATA && !done_q && !ab_q));
    end
`endif
`endif
endmodule

`default_nettype wire
