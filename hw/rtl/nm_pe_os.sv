// N:M sparse processing element of an output-stationary array: the
// accumulator stays, both operands stream through.
//
// Golden model: simulator.reference.NMPEOS (one `step` = one rising edge here).
//
// Activations (M lanes; the first N in dense mode) come from the left with
// valid_i, first_i and last_i; the compressed weights (N values, N indices)
// from above. With valid_i the PE adds the N products of the incoming
// operands (nm_dot) to its accumulator, or to 0 with first_i (a new output
// starts); with last_i the sum also goes to the output register and
// out_valid_o pulses for one cycle, so the next output may start accumulating
// at once (the output register is the accumulator's second buffer). With
// valid_i the operands are registered and passed on (act_o right, w_o and
// w_idx_o down), reaching the next PE one cycle later; valid_o, first_o and
// last_o follow the activations. Sums wrap at AccWidth.
//
// Ports are flat packed vectors: element j of width W sits at [j*W +: W].
module nm_pe_os #(
  // Multipliers: weights and products per cycle.
  parameter int unsigned N         = 2,
  // Group size: activation lanes (sparse mode selects N of them).
  parameter int unsigned M         = 4,
  // Width of one weight or activation.
  parameter int unsigned DataWidth = 8,
  // Width of the accumulator; it wraps at this width.
  parameter int unsigned AccWidth  = 32,
  // Bits of one group index (at least 1, as in nm_pe).
  localparam int unsigned IdxWidth = (M > 1) ? $clog2(M) : 1
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,

  input  logic                   dense_i,
  input  logic                   valid_i,
  input  logic                   first_i,
  input  logic                   last_i,
  input  logic [M*DataWidth-1:0] act_i,
  input  logic [N*DataWidth-1:0] w_i,
  input  logic [N*IdxWidth-1:0]  w_idx_i,

  output logic                   valid_o,
  output logic                   first_o,
  output logic                   last_o,
  output logic [M*DataWidth-1:0] act_o,
  output logic [N*DataWidth-1:0] w_o,
  output logic [N*IdxWidth-1:0]  w_idx_o,

  output logic                   out_valid_o,
  output logic [AccWidth-1:0]    out_o
);

  ///////////////
  // Registers //
  ///////////////

  logic                   valid_d, valid_q;
  logic                   first_d, first_q;
  logic                   last_d, last_q;
  logic [M*DataWidth-1:0] act_d, act_q;
  logic [N*DataWidth-1:0] w_d, w_q;
  logic [N*IdxWidth-1:0]  w_idx_d, w_idx_q;
  logic [AccWidth-1:0]    acc_d, acc_q;
  logic [AccWidth-1:0]    out_d, out_q;
  logic                   out_valid_d, out_valid_q;

  /////////
  // MAC //
  /////////

  logic [AccWidth-1:0] base;
  logic [AccWidth-1:0] sum;

  assign base = first_i ? '0 : acc_q;

  nm_dot #(
    .N         (N),
    .M         (M),
    .DataWidth (DataWidth),
    .AccWidth  (AccWidth)
  ) u_dot (
    .dense_i,
    .w_i,
    .w_idx_i,
    .act_i,
    .psum_i  (base),
    .held_i  ('0),
    .sum_o   (sum),
    .sel_o   (unused_sel),
    .live_o  (unused_live)
  );

  // Zero gating is the WS PE's (nm_pe); this PE computes every product.
  logic [N*DataWidth-1:0] unused_sel;
  logic [N-1:0]           unused_live;

  always_comb begin
    valid_d     = valid_i;
    first_d     = valid_i && first_i;
    last_d      = valid_i && last_i;
    act_d       = act_q;
    w_d         = w_q;
    w_idx_d     = w_idx_q;
    acc_d       = acc_q;
    out_d       = out_q;
    out_valid_d = 1'b0;
    if (valid_i) begin
      act_d   = act_i;
      w_d     = w_i;
      w_idx_d = w_idx_i;
      acc_d   = sum;
      if (last_i) begin
        out_d       = sum;
        out_valid_d = 1'b1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q     <= 1'b0;
      first_q     <= 1'b0;
      last_q      <= 1'b0;
      act_q       <= '0;
      w_q         <= '0;
      w_idx_q     <= '0;
      acc_q       <= '0;
      out_q       <= '0;
      out_valid_q <= 1'b0;
    end else begin
      valid_q     <= valid_d;
      first_q     <= first_d;
      last_q      <= last_d;
      act_q       <= act_d;
      w_q         <= w_d;
      w_idx_q     <= w_idx_d;
      acc_q       <= acc_d;
      out_q       <= out_d;
      out_valid_q <= out_valid_d;
    end
  end

  /////////////
  // Outputs //
  /////////////

  assign valid_o     = valid_q;
  assign first_o     = first_q;
  assign last_o      = last_q;
  assign act_o       = act_q;
  assign w_o         = w_q;
  assign w_idx_o     = w_idx_q;
  assign out_valid_o = out_valid_q;
  assign out_o       = out_q;

  ////////////////
  // Assertions //
  ////////////////

  if (DataWidth < 1 || AccWidth < 1) begin : g_bad_width
    $error("nm_pe_os: DataWidth=%0d and AccWidth=%0d must be >= 1", DataWidth, AccWidth);
  end

endmodule
