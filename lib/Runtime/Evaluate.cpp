//===- Evaluate.cpp - Run a forward-only function over a dataset ----------===//

#include "tape/Runtime/Evaluate.h"

#include <cmath>
#include <cstring>

using namespace tape;

static bool isFloat(DType d) { return d == DType::F32 || d == DType::F64; }

Classification tape::findClassification(const FunctionSpec &fn) {
  Classification c;
  for (size_t o = 0; o < fn.outputs.size() && c.scoresOutput < 0; ++o) {
    const TensorSpec &s = fn.outputs[o];
    if (isFloat(s.dtype) && s.shape.size() == 2 && s.shape[1] >= 2)
      c.scoresOutput = int(o);
  }
  if (c.scoresOutput < 0)
    return c;
  const TensorSpec &scores = fn.outputs[c.scoresOutput];
  int oneHot = -1;
  for (size_t i = 0; i < fn.inputs.size(); ++i) {
    const TensorSpec &s = fn.inputs[i];
    if (!isFloat(s.dtype) && s.shape.size() == 1 &&
        s.shape[0] == scores.shape[0])
      c.labelsInput = int(i);
    if (s == scores)
      oneHot = int(i);
  }
  if (c.labelsInput < 0)
    c.labelsInput = oneHot;
  return c;
}

/// The index of the largest of row `r`'s `n` values (the first on ties).
static int64_t argmaxRow(const Tensor &t, int64_t r, int64_t n) {
  int64_t best = 0;
  double bestValue = t.elementAsDouble(r * n);
  for (int64_t j = 1; j < n; ++j) {
    double v = t.elementAsDouble(r * n + j);
    if (v > bestValue) {
      best = j;
      bestValue = v;
    }
  }
  return best;
}

Status tape::evaluate(const Model &model, State &state, const FunctionSpec &fn,
                      StepInputs &data, EvalMetrics &metrics,
                      const std::function<Status(const std::vector<Tensor> &)>
                          &onBatch) {
  if (fn.trains)
    return Status::error("@" + fn.name +
                         " is a training function (a step, or it calls one "
                         "or assigns a variable); evaluation takes one that "
                         "only reads the variables");
  metrics = EvalMetrics();
  metrics.outputMeans.assign(fn.outputs.size(), 0.0);
  std::vector<Tensor> outputs;
  for (const TensorSpec &s : fn.outputs) {
    Tensor t;
    if (!Tensor::tryCreate(s, t))
      return Status::error("out of memory for the outputs of @" + fn.name);
    outputs.push_back(std::move(t));
  }
  std::vector<Tensor *> out;
  for (Tensor &t : outputs)
    out.push_back(&t);
  Classification classes = findClassification(fn);
  int64_t correct = 0;
  metrics.batches = data.hasDataset() ? data.batchesPerEpoch() : 1;
  for (int64_t b = 0; b < metrics.batches; ++b) {
    std::vector<const Tensor *> in = data.forStep(uint64_t(b));
    if (Status s = model.call(fn.name, state, in, out); !s)
      return s;
    for (size_t o = 0; o < outputs.size(); ++o)
      metrics.outputMeans[o] += outputs[o].spec().numElements() == 1
                                    ? outputs[o].elementAsDouble(0)
                                    : std::nan("");
    if (classes) {
      const Tensor &scores = outputs[classes.scoresOutput];
      const Tensor &labels = *in[classes.labelsInput];
      int64_t rows = scores.spec().shape[0], n = scores.spec().shape[1];
      bool indices = labels.spec().shape.size() == 1;
      for (int64_t r = 0; r < rows; ++r) {
        int64_t want = indices ? int64_t(labels.elementAsDouble(r))
                               : argmaxRow(labels, r, n);
        correct += argmaxRow(scores, r, n) == want;
      }
      metrics.rows += rows;
    }
    if (onBatch)
      if (Status s = onBatch(outputs); !s)
        return s;
  }
  for (double &m : metrics.outputMeans)
    m /= double(metrics.batches);
  if (!classes)
    metrics.rows = metrics.batches * data.batchRows();
  else if (metrics.rows)
    metrics.accuracy = double(correct) / double(metrics.rows);
  return Status::success();
}

Status BatchedOutputs::create(const FunctionSpec &fn, int64_t batchRows,
                              int64_t batches, BatchedOutputs &out) {
  out = BatchedOutputs();
  for (size_t o = 0; o < fn.outputs.size(); ++o) {
    const TensorSpec &s = fn.outputs[o];
    if (s.shape.empty() || batchRows <= 0 || s.shape[0] != batchRows)
      continue;
    TensorSpec all = s;
    all.shape[0] = batchRows * batches;
    out.results_.push_back({int(o), Tensor()});
    if (!Tensor::tryCreate(all, out.results_.back().second))
      return Status::error("out of memory for the " + all.str() +
                           " outputs #" + std::to_string(o) + " of @" +
                           fn.name);
  }
  return Status::success();
}

Status BatchedOutputs::add(const std::vector<Tensor> &outputs) {
  for (auto &[o, all] : results_) {
    size_t bytes = outputs[o].spec().numBytes();
    if (all.spec().numBytes() < (next + 1) * bytes)
      return Status::error("more batches than announced");
    std::memcpy(static_cast<char *>(all.data()) + next * bytes,
                outputs[o].data(), bytes);
  }
  ++next;
  return Status::success();
}
