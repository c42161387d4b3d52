// nnf_usb_desc: the descriptor ROM of the nnfpga USB device (docs/usb.md),
// a case table that synthesis folds into LUTs (half the string bytes are
// the zero high bytes of UTF-16LE, the default).
//
// Layout (byte addresses):
//     0  device, 18 bytes: USB 2.00 (full speed only: the device qualifier
//        request STALLs), class per interface, EP0 EP0_MAX bytes, VID:PID,
//        BCD_DEVICE, strings 1 / 2 / 3, one configuration
//    18  configuration 1, 32 bytes in all: the configuration (bus powered,
//        100 mA), one vendor-specific interface (class 0xFF, two
//        endpoints), EP1 OUT 0x01 and EP1 IN 0x81, bulk, 64 bytes
//    50  string 0, the languages: 0x0409 (English, US)
//    54  string 1, manufacturer "nnfpga project"
//    84  string 2, product "nnfpga"
//    98  string 3, serial: SERIAL as four hexadecimal digits
//   108  (end)
//
// Lookup: for a GET_DESCRIPTOR's type and index (wValue's high and low
// bytes), `found`, the descriptor's first byte `base` and its length `len`
// (the configuration's is wTotalLength). Read: `data` is the byte at
// `addr`. All combinational.
`default_nettype none

module nnf_usb_desc #(
    parameter [15:0] VID = 16'h1209,
    parameter [15:0] PID = 16'h0001,
    parameter [15:0] BCD_DEVICE = 16'h0100,
    parameter [15:0] SERIAL = 16'h0001,
    parameter integer EP0_MAX = 64          // 8, 16, 32 or 64
) (
    input  wire [7:0] type_i,
    input  wire [7:0] index_i,
    output reg        found,
    output reg  [6:0] base,
    output reg  [6:0] len,
    input  wire [6:0] addr,
    output reg  [7:0] data
);
    localparam [6:0] B_DEV = 7'd0, B_CFG = 7'd18, B_STR0 = 7'd50, B_STR1 = 7'd54,
                     B_STR2 = 7'd84, B_STR3 = 7'd98;

    always @(*) begin
        found = 1'b1;
        base  = B_DEV;
        len   = 7'd18;
        case ({type_i, index_i})
            16'h0100: begin base = B_DEV;  len = 7'd18; end
            16'h0200: begin base = B_CFG;  len = 7'd32; end
            16'h0300: begin base = B_STR0; len = 7'd4;  end
            16'h0301: begin base = B_STR1; len = 7'd30; end
            16'h0302: begin base = B_STR2; len = 7'd14; end
            16'h0303: begin base = B_STR3; len = 7'd10; end
            default:  found = 1'b0;
        endcase
    end

    // an ASCII hexadecimal digit
    function [7:0] hex;
        input [3:0] d;
        hex = (d < 4'd10) ? 8'h30 + {4'd0, d} : 8'h37 + {4'd0, d};
    endfunction

    localparam [7:0] EP0_SIZE = EP0_MAX[7:0];

    always @(*) begin
        case (addr)
            // device
            7'd0:  data = 8'h12;            // bLength
            7'd1:  data = 8'h01;            // bDescriptorType: device
            7'd2:  data = 8'h00;            // bcdUSB 2.00
            7'd3:  data = 8'h02;
            7'd4:  data = 8'h00;            // class, subclass, protocol: per interface
            7'd5:  data = 8'h00;
            7'd6:  data = 8'h00;
            7'd7:  data = EP0_SIZE;         // bMaxPacketSize0
            7'd8:  data = VID[7:0];
            7'd9:  data = VID[15:8];
            7'd10: data = PID[7:0];
            7'd11: data = PID[15:8];
            7'd12: data = BCD_DEVICE[7:0];
            7'd13: data = BCD_DEVICE[15:8];
            7'd14: data = 8'h01;            // iManufacturer
            7'd15: data = 8'h02;            // iProduct
            7'd16: data = 8'h03;            // iSerialNumber
            7'd17: data = 8'h01;            // bNumConfigurations
            // configuration
            7'd18: data = 8'h09;            // bLength
            7'd19: data = 8'h02;            // configuration
            7'd20: data = 8'd32;            // wTotalLength
            7'd21: data = 8'h00;
            7'd22: data = 8'h01;            // bNumInterfaces
            7'd23: data = 8'h01;            // bConfigurationValue
            7'd24: data = 8'h00;            // iConfiguration
            7'd25: data = 8'h80;            // bmAttributes: bus powered
            7'd26: data = 8'd50;            // bMaxPower: 100 mA
            // interface 0
            7'd27: data = 8'h09;
            7'd28: data = 8'h04;            // interface
            7'd29: data = 8'h00;            // bInterfaceNumber
            7'd30: data = 8'h00;            // bAlternateSetting
            7'd31: data = 8'h02;            // bNumEndpoints
            7'd32: data = 8'hFF;            // class: vendor specific
            7'd33: data = 8'h00;
            7'd34: data = 8'h00;
            7'd35: data = 8'h00;            // iInterface
            // EP1 OUT
            7'd36: data = 8'h07;
            7'd37: data = 8'h05;            // endpoint
            7'd38: data = 8'h01;            // EP1 OUT
            7'd39: data = 8'h02;            // bulk
            7'd40: data = 8'h40;            // 64 bytes
            7'd41: data = 8'h00;
            7'd42: data = 8'h00;            // bInterval
            // EP1 IN
            7'd43: data = 8'h07;
            7'd44: data = 8'h05;
            7'd45: data = 8'h81;            // EP1 IN
            7'd46: data = 8'h02;
            7'd47: data = 8'h40;
            7'd48: data = 8'h00;
            7'd49: data = 8'h00;
            // string 0: languages
            7'd50: data = 8'h04;
            7'd51: data = 8'h03;            // string
            7'd52: data = 8'h09;            // 0x0409
            7'd53: data = 8'h04;
            // string 1: "nnfpga project"
            7'd54: data = 8'd30;
            7'd55: data = 8'h03;
            7'd56: data = "n";
            7'd58: data = "n";
            7'd60: data = "f";
            7'd62: data = "p";
            7'd64: data = "g";
            7'd66: data = "a";
            7'd68: data = " ";
            7'd70: data = "p";
            7'd72: data = "r";
            7'd74: data = "o";
            7'd76: data = "j";
            7'd78: data = "e";
            7'd80: data = "c";
            7'd82: data = "t";
            // string 2: "nnfpga"
            7'd84: data = 8'd14;
            7'd85: data = 8'h03;
            7'd86: data = "n";
            7'd88: data = "n";
            7'd90: data = "f";
            7'd92: data = "p";
            7'd94: data = "g";
            7'd96: data = "a";
            // string 3: the serial number
            7'd98:  data = 8'd10;
            7'd99:  data = 8'h03;
            7'd100: data = hex(SERIAL[15:12]);
            7'd102: data = hex(SERIAL[11:8]);
            7'd104: data = hex(SERIAL[7:4]);
            7'd106: data = hex(SERIAL[3:0]);
            default: data = 8'h00;
        endcase
    end
endmodule

`default_nettype wire
