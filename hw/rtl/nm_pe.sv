// N:M sparse processing element with stationary weights.
//
// Golden model: simulator.reference.NMPE (one `step` = one rising edge here).
//
// The PE holds N weights and N group indices. Every cycle with valid_i it adds
// N products to the incoming partial sum and registers the result:
//   dense mode  (dense_i = 1): psum_q <= psum_i + sum_j w_q[j] * act_i[j]
//   sparse mode (dense_i = 0): psum_q <= psum_i + sum_j w_q[j] * act_i[w_idx_q[j]]
// with two's-complement wrap at AccWidth. The activations are registered
// alongside (act_o moves them right in a systolic array), and w_o / w_idx_o
// expose the held weights so a column of PEs forms a preload shift chain.
// A weight load (w_load_i) takes effect at the same edge, so the MAC of that
// cycle still uses the old weights. Latency from valid_i to valid_o: 1 cycle.
//
// Gating = 1: a multiplier whose weight or selected activation is zero is
// gated (nm_dot): its activation operand is held in a register (updated only
// by live MACs) and it adds nothing; the result and the timing are the same.
// macs_o / gated_o count this cycle's live and gated multipliers (0 without
// valid_i), for the action counts of the energy model.
//
// Ports are flat packed vectors: element j of a vector of elements of width W
// sits at bits [j*W +: W]. All data is signed two's complement; indices are
// unsigned.
module nm_pe #(
  // Multipliers: weights held and products summed per cycle.
  parameter int unsigned N         = 2,
  // Group size: activations taken per cycle (sparse mode selects N of them).
  parameter int unsigned M         = 4,
  // Width of one weight or activation.
  parameter int unsigned DataWidth = 8,
  // Width of the partial sum; the sum wraps at this width.
  parameter int unsigned AccWidth  = 32,
  // Gate multipliers with a zero operand (hold the operand, add nothing).
  parameter bit          Gating    = 1'b0,
  // Bits of one group index (at least 1 so a 1:1 PE still has a port).
  localparam int unsigned IdxWidth = (M > 1) ? $clog2(M) : 1,
  // Bits of a count of multipliers (0..N).
  localparam int unsigned CntWidth = $clog2(N + 1)
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,

  input  logic                    dense_i,
  input  logic                    w_load_i,
  input  logic [N*DataWidth-1:0]  w_i,
  input  logic [N*IdxWidth-1:0]   w_idx_i,
  input  logic                    valid_i,
  input  logic [M*DataWidth-1:0]  act_i,
  input  logic [AccWidth-1:0]     psum_i,

  output logic                    valid_o,
  output logic [M*DataWidth-1:0]  act_o,
  output logic [AccWidth-1:0]     psum_o,
  output logic [N*DataWidth-1:0]  w_o,
  output logic [N*IdxWidth-1:0]   w_idx_o,
  output logic [CntWidth-1:0]     macs_o,
  output logic [CntWidth-1:0]     gated_o
);

  // Every index value addresses an activation when M fills the index range.
  localparam bit          MIsPow2   = (M == (1 << IdxWidth));

  ///////////////
  // Registers //
  ///////////////

  logic                             valid_d, valid_q;
  logic [M-1:0][DataWidth-1:0]      act_d, act_q;
  logic [AccWidth-1:0]              psum_d, psum_q;
  logic [N-1:0][DataWidth-1:0]      w_d, w_q;
  logic [N-1:0][IdxWidth-1:0]       w_idx_d, w_idx_q;

  /////////
  // MAC //
  /////////

  logic [AccWidth-1:0]              mac_sum;
  logic [N*DataWidth-1:0]           sel, held;
  logic [N-1:0]                     live;

  // The N products of the held weights, added to the incoming partial sum.
  nm_dot #(
    .N         (N),
    .M         (M),
    .DataWidth (DataWidth),
    .AccWidth  (AccWidth),
    .Gating    (Gating)
  ) u_dot (
    .dense_i,
    .w_i     (w_q),
    .w_idx_i (w_idx_q),
    .act_i,
    .psum_i,
    .held_i  (held),
    .sum_o   (mac_sum),
    .sel_o   (sel),
    .live_o  (live)
  );

  // Live and gated multipliers this cycle.
  always_comb begin
    macs_o  = '0;
    gated_o = '0;
    for (int unsigned j = 0; j < N; j++) begin
      macs_o  = macs_o + CntWidth'(valid_i && live[j]);
      gated_o = gated_o + CntWidth'(valid_i && !live[j]);
    end
  end

  // Each multiplier's activation operand, updated by live MACs only (flat
  // vectors at module level: Yosys cannot size a packed array in a generate scope).
  logic [N*DataWidth-1:0] held_d, held_q;

  if (Gating) begin : g_hold
    always_comb begin
      held_d = held_q;
      for (int unsigned j = 0; j < N; j++) begin
        if (valid_i && live[j]) begin
          held_d[j*DataWidth +: DataWidth] = sel[j*DataWidth +: DataWidth];
        end
      end
    end
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        held_q <= '0;
      end else begin
        held_q <= held_d;
      end
    end
    assign held = held_q;
  end else begin : g_no_hold
    assign held   = '0;
    assign held_d = '0;
    assign held_q = '0;
    logic unused_sel;
    assign unused_sel = ^{sel, held_d, held_q};
  end

  always_comb begin
    valid_d = valid_i;
    act_d   = act_q;
    psum_d  = psum_q;
    w_d     = w_q;
    w_idx_d = w_idx_q;
    if (valid_i) begin
      act_d  = act_i;
      psum_d = mac_sum;
    end
    if (w_load_i) begin
      w_d     = w_i;
      w_idx_d = w_idx_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      act_q   <= '0;
      psum_q  <= '0;
      w_q     <= '0;
      w_idx_q <= '0;
    end else begin
      valid_q <= valid_d;
      act_q   <= act_d;
      psum_q  <= psum_d;
      w_q     <= w_d;
      w_idx_q <= w_idx_d;
    end
  end

  /////////////
  // Outputs //
  /////////////

  assign valid_o = valid_q;
  assign act_o   = act_q;
  assign psum_o  = psum_q;
  assign w_o     = w_q;
  assign w_idx_o = w_idx_q;

  ////////////////
  // Assertions //
  ////////////////

  // Bad parameters stop elaboration (Verilator, and any tool with SV-2009
  // elaboration system tasks).
  if (N < 1 || N > M) begin : g_bad_nm
    $error("nm_pe: needs 1 <= N <= M, got N=%0d M=%0d", N, M);
  end
  if (DataWidth < 1 || AccWidth < 1) begin : g_bad_width
    $error("nm_pe: DataWidth=%0d and AccWidth=%0d must be >= 1", DataWidth, AccWidth);
  end

`ifndef SYNTHESIS
  if (!MIsPow2) begin : g_idx_check
    // Sparse mode with an index past M-1 is a protocol error (the RTL selects 0).
    // Reset clears the indices to 0, so the check needs no reset qualifier.
    always_ff @(posedge clk_i) begin : p_idx_in_range
      if (valid_i && !dense_i) begin
        for (int unsigned j = 0; j < N; j++) begin
          if (32'(w_idx_q[j]) >= M) begin
            $error("nm_pe: weight %0d has index %0d >= M=%0d in sparse mode",
                   j, w_idx_q[j], M);
          end
        end
      end
    end
  end
`endif

endmodule
