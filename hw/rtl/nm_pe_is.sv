// N:M sparse processing element of an input-stationary array: a window of
// inputs stays, the compressed weights stream through.
//
// Golden model: simulator.reference.NMPEIS (one `step` = one rising edge here).
//
// The PE holds M inputs (one K window of one output row; dense mode uses the
// first N). Compressed weights (N values, N indices) come from the left with
// valid_i; with valid_i the PE adds their N products with its held inputs to
// the incoming partial sum and registers the result, and registers the
// weights to pass them right (w_o, w_idx_o):
//   dense mode  (dense_i = 1): psum_q <= psum_i + sum_j w_i[j] * x_q[j]
//   sparse mode (dense_i = 0): psum_q <= psum_i + sum_j w_i[j] * x_q[w_idx_i[j]]
// with two's-complement wrap at AccWidth (nm_dot, shared with nm_pe). An
// input load (x_load_i) takes effect at the same edge, so the MAC of that
// cycle still uses the old inputs; x_o exposes the held inputs so a column of
// PEs forms a preload shift chain. Latency from valid_i to valid_o: 1 cycle.
//
// Ports are flat packed vectors: element j of width W sits at [j*W +: W].
module nm_pe_is #(
  // Multipliers: weights and products per cycle.
  parameter int unsigned N         = 2,
  // Group size: inputs held (sparse mode selects N of them).
  parameter int unsigned M         = 4,
  // Width of one weight or input.
  parameter int unsigned DataWidth = 8,
  // Width of the partial sum; the sum wraps at this width.
  parameter int unsigned AccWidth  = 32,
  // Bits of one group index (at least 1, as in nm_pe).
  localparam int unsigned IdxWidth = (M > 1) ? $clog2(M) : 1
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,

  input  logic                   dense_i,
  input  logic                   x_load_i,
  input  logic [M*DataWidth-1:0] x_i,
  input  logic                   valid_i,
  input  logic [N*DataWidth-1:0] w_i,
  input  logic [N*IdxWidth-1:0]  w_idx_i,
  input  logic [AccWidth-1:0]    psum_i,

  output logic                   valid_o,
  output logic [N*DataWidth-1:0] w_o,
  output logic [N*IdxWidth-1:0]  w_idx_o,
  output logic [AccWidth-1:0]    psum_o,
  output logic [M*DataWidth-1:0] x_o
);

  ///////////////
  // Registers //
  ///////////////

  logic                   valid_q;
  logic [M*DataWidth-1:0] x_d, x_q;
  logic [N*DataWidth-1:0] w_d, w_q;
  logic [N*IdxWidth-1:0]  w_idx_d, w_idx_q;
  logic [AccWidth-1:0]    psum_d, psum_q;

  /////////
  // MAC //
  /////////

  logic [AccWidth-1:0] mac_sum;

  // The N products of the incoming weights with the held inputs.
  nm_dot #(
    .N         (N),
    .M         (M),
    .DataWidth (DataWidth),
    .AccWidth  (AccWidth)
  ) u_dot (
    .dense_i,
    .w_i,
    .w_idx_i,
    .act_i   (x_q),
    .psum_i,
    .held_i  ('0),
    .sum_o   (mac_sum),
    .sel_o   (unused_sel),
    .live_o  (unused_live)
  );

  // Zero gating is the WS PE's (nm_pe); this PE computes every product.
  logic [N*DataWidth-1:0] unused_sel;
  logic [N-1:0]           unused_live;

  always_comb begin
    x_d     = x_q;
    w_d     = w_q;
    w_idx_d = w_idx_q;
    psum_d  = psum_q;
    if (valid_i) begin
      w_d     = w_i;
      w_idx_d = w_idx_i;
      psum_d  = mac_sum;
    end
    if (x_load_i) begin
      x_d = x_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      x_q     <= '0;
      w_q     <= '0;
      w_idx_q <= '0;
      psum_q  <= '0;
    end else begin
      valid_q <= valid_i;
      x_q     <= x_d;
      w_q     <= w_d;
      w_idx_q <= w_idx_d;
      psum_q  <= psum_d;
    end
  end

  /////////////
  // Outputs //
  /////////////

  assign valid_o = valid_q;
  assign w_o     = w_q;
  assign w_idx_o = w_idx_q;
  assign psum_o  = psum_q;
  assign x_o     = x_q;

  ////////////////
  // Assertions //
  ////////////////

  if (N < 1 || N > M) begin : g_bad_nm
    $error("nm_pe_is: needs 1 <= N <= M, got N=%0d M=%0d", N, M);
  end

endmodule
