//===- Evaluate.h - Run a forward-only function over a dataset --*- C++ -*-===//
//
// Evaluation and inference: a function that only reads the variables (not
// a training function, see FunctionSpec::trains) runs once per batch of a
// dataset, in order. The metrics are the mean of every scalar output over
// the batches (the mean loss when the function returns one) and, for a
// classifier, the accuracy. Neither the variables nor the step count
// change.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_RUNTIME_EVALUATE_H
#define TAPE_RUNTIME_EVALUATE_H

#include "tape/Runtime/Dataset.h"
#include "tape/Runtime/Model.h"

#include <functional>

namespace tape {

/// Where a classifier's scores and labels are, found from the signature:
/// the scores are the first floating-point output of shape [B, C] with
/// C >= 2; the labels are the last integer input of shape [B] (class
/// indices), or else the last floating-point input of shape [B, C] (one-hot
/// or probabilities, compared by argmax). -1 when there are none.
struct Classification {
  int scoresOutput = -1;
  int labelsInput = -1;
  explicit operator bool() const { return scoresOutput >= 0 && labelsInput >= 0; }
};
Classification findClassification(const FunctionSpec &fn);

struct EvalMetrics {
  /// Per output: the mean over the batches of a scalar output (NaN for an
  /// output that is not a scalar).
  std::vector<double> outputMeans;
  /// With a Classification: the fraction of rows whose argmax score is the
  /// label; -1 otherwise.
  double accuracy = -1;
  int64_t rows = 0;
  int64_t batches = 0;
};

/// Runs `fn` on every batch of `data` (one epoch, in its order) and
/// computes the metrics. `onBatch`, if given, sees each batch's outputs.
/// Refuses a training function: evaluating must not change the state.
Status evaluate(const Model &model, State &state, const FunctionSpec &fn,
                StepInputs &data, EvalMetrics &metrics,
                const std::function<Status(const std::vector<Tensor> &)>
                    &onBatch = nullptr);

/// Collects the outputs of the batches of an evaluation that have a batch
/// dimension ([B, ...], B the dataset's batch rows) into tensors of all
/// the rows, in order: what a user writes to .npy as predictions.
class BatchedOutputs {
public:
  /// Room for `batches` batches of `batchRows` rows of every output of
  /// `fn` whose first dimension is `batchRows`.
  static Status create(const FunctionSpec &fn, int64_t batchRows,
                       int64_t batches, BatchedOutputs &out);
  /// The outputs of the next batch.
  Status add(const std::vector<Tensor> &outputs);
  /// (output index, all rows) for every batched output.
  std::vector<std::pair<int, Tensor>> &results() { return results_; }

private:
  std::vector<std::pair<int, Tensor>> results_;
  int64_t next = 0;
};

} // namespace tape

#endif // TAPE_RUNTIME_EVALUATE_H
