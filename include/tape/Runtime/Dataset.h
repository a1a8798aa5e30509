//===- Dataset.h - The inputs of a function over a run of steps -*- C++ -*-===//
//
// Each input of a function is either a constant tensor (its file has the
// input's shape) or a dataset: a tensor with N times the input's rows, cut
// into batches along the first dimension. All datasets of a run share one
// order of their rows per epoch (shuffled with a seed, or in order), so
// that the rows of paired inputs (images and labels) stay together. Rows
// that do not fill a last batch are left out of the epoch (drop_last, as
// PyTorch's DataLoader(drop_last=True)): the last ones in order, or other
// rows each epoch when shuffled.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_RUNTIME_DATASET_H
#define TAPE_RUNTIME_DATASET_H

#include "tape/Runtime/Status.h"

#include <memory>
#include <string>
#include <vector>

namespace tape {

/// A named tensor read from a file (the name is used in messages), shared
/// by the StepInputs that use its rows.
struct InputSource {
  std::string name;
  std::shared_ptr<const Tensor> data;
};

/// Rows [begin, end) of every dataset; end < 0 means all of them.
struct RowRange {
  int64_t begin = 0;
  int64_t end = -1;
};

/// Process `index` of `count` in a data-parallel run: every step is one
/// global batch of `count` times the function's batch rows, in the order
/// of the epoch, and this process takes block `index` of it (rows
/// index * B to index * B + B - 1). The processes together train on what
/// one process would at batch count * B, and each reads only its own rows
/// of the (memory-mapped) files.
struct Shard {
  int64_t index = 0;
  int64_t count = 1;
};

class StepInputs {
public:
  /// One source per input of `fn`. `shuffleSeed` < 0 keeps the rows in
  /// order. Fails, naming the source, for a tensor that is neither the
  /// input nor a dataset of it, for datasets of different lengths, or for
  /// a range with no full batch.
  static Status create(const FunctionSpec &fn,
                       const std::vector<InputSource> &sources,
                       int64_t shuffleSeed, StepInputs &out,
                       RowRange range = {}, Shard shard = {});

  /// True when some input is a dataset (not the same tensor every step).
  bool hasDataset() const { return rows >= 0; }
  /// Rows of each batch of the datasets (0 without one).
  int64_t batchRows() const { return batchRows_; }

  /// Rows of one step of all processes: batchRows() times the shard
  /// count.
  int64_t globalBatchRows() const { return batchRows_ * shard.count; }
  /// Rows left out of every epoch (drop_last): rows % global batch rows.
  int64_t droppedRows() const { return dropped; }
  int64_t batchesPerEpoch() const { return batches; }
  int64_t rowsPerEpoch() const { return rows; }
  /// The epoch of step `k` (0 without datasets).
  int64_t epochOf(uint64_t k) const {
    return rows >= 0 ? int64_t(k) / batches : 0;
  }

  /// The inputs of step `k` (counted over the whole run, resumed steps
  /// included: step k of epoch k / batches). Valid until the next call.
  std::vector<const Tensor *> forStep(uint64_t k);

private:
  struct Source {
    std::shared_ptr<const Tensor> data;
    Tensor batch;
    bool dataset = false;
  };
  std::vector<Source> inputs;
  int64_t firstRow = 0; // the range's first row in every dataset
  int64_t rows = -1;   // rows of the range, -1 without a dataset
  int64_t batchRows_ = 0;
  int64_t batches = 1; // batches per epoch
  int64_t dropped = 0;  // rows left out of each epoch
  int64_t shuffleSeed = -1;
  Shard shard;
  int64_t epoch = -1;
  std::vector<int64_t> order; // the rows of the current epoch, in use order
};

} // namespace tape

#endif // TAPE_RUNTIME_DATASET_H
