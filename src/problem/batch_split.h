// Batched requests (docs/batch.md): a graph at batch B, and the batch split into micro-batches
// as a problem transformation, so that every latency method schedules a split batch unchanged.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "problem/batch_rule.h"
#include "problem/problem.h"
#include "schedule/simulator.h"

namespace diviml {

/// A batch of sum(sizes) samples split into micro-batches: copy j of the per-sample graph costed
/// at sizes[j], ops and tensors named "mb<j>/<name>". Each copy's graph inputs start on the I/O
/// device (the slice of the request's input) and its outputs return to it (the gathered result),
/// so the split problem obeys the ordinary execution model (DESIGN section 3).
class BatchSplit {
 public:
  /// Copy j's ops cost exec_at_batch(per_sample, sizes[j]): the per-sample problem's profile at
  /// that size where it has the op, else the cost model. Throws InputError on an empty split or
  /// a size < 1.
  BatchSplit(std::shared_ptr<const Problem> per_sample, std::vector<int> sizes);

  const Problem& problem() const { return *problem_; }
  std::shared_ptr<const Problem> problem_ptr() const { return problem_; }
  const Problem& per_sample() const { return *per_sample_; }
  const std::vector<int>& sizes() const { return sizes_; }
  int batch() const { return batch_; }
  int copies() const { return static_cast<int>(sizes_.size()); }
  /// Micro-batch of op v of the split problem, and the per-sample op it copies.
  int copy_of(OpId v) const { return v / n_; }
  OpId base_op(OpId v) const { return v % n_; }
  OpId op(int copy, OpId base) const { return copy * n_ + base; }
  int copy_of_tensor(TensorId t) const { return t / nt_; }

  /// Memory with weights stored once per device that runs any copy of an op (the simulator's
  /// figure counts each copy's weights): rewrites r.memory[k].weight_bytes and the violations.
  void share_weights(const Schedule& s, LatencyResult& r) const;

 private:
  std::shared_ptr<const Problem> per_sample_;
  std::vector<int> sizes_;
  int batch_ = 0, n_ = 0, nt_ = 0;
  std::shared_ptr<const Problem> problem_;
};

/// Seconds of every op of the per-sample problem at batch b on every device ([v * K + k], +inf
/// where k cannot run v): op_seconds_at_batch with the problem's profile. At b = 1 these are the
/// times of a per-sample problem built from its graph, platform and profile.
std::vector<double> exec_at_batch(const Problem& per_sample, int b);

/// The per-sample problem as one inference of b samples: graph_at_batch's graph costed by
/// exec_at_batch (what `--batch b` without --micro-batches schedules).
std::shared_ptr<Problem> problem_at_batch(const Problem& per_sample, int b);

/// "b1,b2,..." (explicit sizes, sum must equal batch) or "N" (N near-equal shares); throws
/// InputError naming the option on anything else.
std::vector<int> parse_micro_batches(const std::string& spec, int batch);

}  // namespace diviml
