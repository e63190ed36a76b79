// N:M weight compressor: a dense group of M weights in, the N kept values and
// their group indices out (the pre-generation of N:M sparse weights in SAT).
//
// Golden model: simulator.reference.NMCompressorRef (one `step` = one rising
// edge here); the values come from simulator.reference.nm_compress, whose rule
// is workloads.pruning.nm_keep_indices:
//   keep the N entries of largest magnitude |w| (two's complement, so the most
//   negative value has the largest magnitude, e.g. |-128| = 128 for 8 bits);
//   among equal magnitudes the lower index wins; the kept entries come out in
//   ascending index order (slot 0 holds the lowest kept index).
//
// Hardware: entry i is kept when fewer than N entries beat it, where j beats i
// if |w_j| > |w_i|, or |w_j| == |w_i| and j < i (a strict total order, so
// exactly N entries are kept). The output slot of a kept entry is the number
// of kept entries below it. M*(M-1) magnitude comparators, no sorting network.
//
// One pipeline stage with a valid/ready handshake on both sides: a group is
// taken when valid_i && ready_o, and its result is held on w_o / w_idx_o with
// valid_o until taken (valid_o && ready_i). ready_o = !valid_o || ready_i, so
// back-to-back groups flow at one per cycle. Latency: 1 cycle.
//
// Ports are flat packed vectors: element j of width W sits at bits [j*W +: W].
module nm_compressor #(
  // Values kept per group (the PE's multipliers).
  parameter int unsigned N         = 2,
  // Group size: dense weights taken per group.
  parameter int unsigned M         = 4,
  // Width of one weight (signed two's complement).
  parameter int unsigned DataWidth = 8,
  // Bits of one group index (at least 1, matching nm_pe's port).
  localparam int unsigned IdxWidth = (M > 1) ? $clog2(M) : 1
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,

  input  logic                   valid_i,
  output logic                   ready_o,
  input  logic [M*DataWidth-1:0] group_i,

  output logic                   valid_o,
  input  logic                   ready_i,
  output logic [N*DataWidth-1:0] w_o,
  output logic [N*IdxWidth-1:0]  w_idx_o
);

  // Wide enough to count 0..M (ranks and slots).
  localparam int unsigned CntWidth = $clog2(M + 1);

  ////////////////
  // Magnitudes //
  ////////////////

  logic [M-1:0][DataWidth-1:0] group;
  logic [M-1:0][DataWidth-1:0] mag;

  assign group = group_i;

  // |w| as an unsigned DataWidth-bit number: -2^(DataWidth-1) negates to itself,
  // which read unsigned is 2^(DataWidth-1), its true magnitude.
  for (genvar i = 0; i < M; i++) begin : g_mag
    assign mag[i] = group[i][DataWidth-1] ? DataWidth'(-group[i]) : group[i];
  end

  /////////////////////
  // Rank and select //
  /////////////////////

  logic [M-1:0]                keep;
  logic [M-1:0][CntWidth-1:0]  slot;

  // keep[i]: fewer than N entries beat entry i.
  always_comb begin
    for (int unsigned i = 0; i < M; i++) begin
      logic [CntWidth-1:0] rank;
      rank = '0;
      for (int unsigned j = 0; j < M; j++) begin
        if (mag[j] > mag[i] || (mag[j] == mag[i] && j < i)) begin
          rank = rank + CntWidth'(1);
        end
      end
      keep[i] = (32'(rank) < N);
    end
  end

  // slot[i]: kept entries below entry i (its output slot when kept).
  always_comb begin
    logic [CntWidth-1:0] below;
    below = '0;
    for (int unsigned i = 0; i < M; i++) begin
      slot[i] = below;
      below   = below + CntWidth'(keep[i]);
    end
  end

  logic [N-1:0][DataWidth-1:0] w_sel;
  logic [N-1:0][IdxWidth-1:0]  idx_sel;

  // Slot k takes the one kept entry whose slot is k (an OR of one-hot terms).
  always_comb begin
    w_sel   = '0;
    idx_sel = '0;
    for (int unsigned k = 0; k < N; k++) begin
      for (int unsigned i = 0; i < M; i++) begin
        if (keep[i] && 32'(slot[i]) == k) begin
          w_sel[k]   = w_sel[k] | group[i];
          idx_sel[k] = idx_sel[k] | IdxWidth'(i);
        end
      end
    end
  end

  /////////////////////
  // Output register //
  /////////////////////

  logic                        valid_d, valid_q;
  logic [N-1:0][DataWidth-1:0] w_d, w_q;
  logic [N-1:0][IdxWidth-1:0]  w_idx_d, w_idx_q;
  logic                        take;

  assign ready_o = !valid_q || ready_i;
  assign take    = valid_i && ready_o;

  always_comb begin
    valid_d = valid_q;
    w_d     = w_q;
    w_idx_d = w_idx_q;
    if (take) begin
      valid_d = 1'b1;
      w_d     = w_sel;
      w_idx_d = idx_sel;
    end else if (ready_i) begin
      valid_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      w_q     <= '0;
      w_idx_q <= '0;
    end else begin
      valid_q <= valid_d;
      w_q     <= w_d;
      w_idx_q <= w_idx_d;
    end
  end

  assign valid_o = valid_q;
  assign w_o     = w_q;
  assign w_idx_o = w_idx_q;

  ////////////////
  // Assertions //
  ////////////////

  if (N < 1 || N > M) begin : g_bad_nm
    $error("nm_compressor: needs 1 <= N <= M, got N=%0d M=%0d", N, M);
  end
  if (DataWidth < 1) begin : g_bad_width
    $error("nm_compressor: DataWidth=%0d must be >= 1", DataWidth);
  end

endmodule
