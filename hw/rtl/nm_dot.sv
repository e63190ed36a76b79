// The N:M multiply-accumulate of one PE, combinational:
//   dense mode  (dense_i = 1): sum_o = psum_i + sum_j w_i[j] * act_i[j]
//   sparse mode (dense_i = 0): sum_o = psum_i + sum_j w_i[j] * act_i[w_idx_i[j]]
// with two's-complement wrap at AccWidth. Shared by the weight-, input- and
// output-stationary PEs (nm_pe, nm_pe_is, nm_pe_os), so all select and add
// exactly alike (simulator.reference.pe: NMPE.dot and _nm_dot).
//
// live_o[j]: multiplier j has a nonzero weight and a nonzero selected
// activation (sel_o[j]): a real MAC. With Gating = 1 a multiplier that is not
// live is gated: its activation input is held at held_i[j] (the PE's last
// live operand, so the multiplier does not toggle) and its product is not
// added; the sum is the same, the cycle stays (DESIGN.md: zero gating).
//
// Ports are flat packed vectors: element j of width W sits at [j*W +: W].
// Data is signed two's complement; indices are unsigned.
module nm_dot #(
  // Multipliers: weights and products per cycle.
  parameter int unsigned N         = 2,
  // Group size: activation lanes (sparse mode selects N of them).
  parameter int unsigned M         = 4,
  // Width of one weight or activation.
  parameter int unsigned DataWidth = 8,
  // Width of the sum; it wraps at this width.
  parameter int unsigned AccWidth  = 32,
  // Gate the multipliers that are not live (hold their operands, add nothing).
  parameter bit          Gating    = 1'b0,
  // Bits of one group index (at least 1 so a 1:1 PE still has a port).
  localparam int unsigned IdxWidth = (M > 1) ? $clog2(M) : 1
) (
  input  logic                   dense_i,
  input  logic [N*DataWidth-1:0] w_i,
  input  logic [N*IdxWidth-1:0]  w_idx_i,
  input  logic [M*DataWidth-1:0] act_i,
  input  logic [AccWidth-1:0]    psum_i,
  input  logic [N*DataWidth-1:0] held_i,
  output logic [AccWidth-1:0]    sum_o,
  output logic [N*DataWidth-1:0] sel_o,
  output logic [N-1:0]           live_o
);

  localparam int unsigned ProdWidth = 2 * DataWidth;
  // Every index value addresses an activation when M fills the index range.
  localparam bit          MIsPow2   = (M == (1 << IdxWidth));

  logic [M-1:0][DataWidth-1:0] act;
  logic [N-1:0][DataWidth-1:0] w;
  logic [N-1:0][IdxWidth-1:0]  w_idx;
  logic [N-1:0][DataWidth-1:0] sel;
  logic [N-1:0][ProdWidth-1:0] prod;
  logic [N-1:0][DataWidth-1:0] held;

  assign act   = act_i;
  assign w     = w_i;
  assign w_idx = w_idx_i;
  assign held  = held_i;

  // Operand select: activation j in dense mode, activation w_idx[j] in sparse mode.
  for (genvar j = 0; j < N; j++) begin : g_sel
    logic [DataWidth-1:0] sparse_sel;

    if (MIsPow2) begin : g_full_range
      assign sparse_sel = act[w_idx[j]];
    end else begin : g_guarded
      // An index past M-1 cannot come from the compressor; it selects 0.
      assign sparse_sel = (32'(w_idx[j]) < M) ? act[w_idx[j]] : '0;
    end

    assign sel[j]    = dense_i ? act[j] : sparse_sel;
    assign live_o[j] = (w[j] != '0) && (sel[j] != '0);

    if (Gating) begin : g_gated
      // Operand isolation: a gated multiplier sees its held operand and its
      // product is dropped.
      logic [DataWidth-1:0] mul_act;
      logic [ProdWidth-1:0] mul;
      assign mul_act = live_o[j] ? sel[j] : held[j];
      assign mul     = $signed(w[j]) * $signed(mul_act);
      assign prod[j] = live_o[j] ? mul : '0;
    end else begin : g_plain
      assign prod[j] = $signed(w[j]) * $signed(sel[j]);
      logic unused_held;
      assign unused_held = ^held[j];
    end
  end

  assign sel_o = sel;

  // Sign-extend (or, if AccWidth < ProdWidth, truncate) each product and add:
  // the wrap at AccWidth is the same either way.
  always_comb begin
    sum_o = psum_i;
    for (int unsigned j = 0; j < N; j++) begin
      sum_o = sum_o + AccWidth'($signed(prod[j]));
    end
  end

  if (N < 1 || N > M) begin : g_bad_nm
    $error("nm_dot: needs 1 <= N <= M, got N=%0d M=%0d", N, M);
  end

endmodule
