//===- Dataset.cpp - The inputs of a function over a run of steps ---------===//

#include "tape/Runtime/Dataset.h"

#include <algorithm>
#include <cstring>
#include <random>

using namespace tape;

Status StepInputs::create(const FunctionSpec &fn,
                          const std::vector<InputSource> &sources,
                          int64_t shuffleSeed, StepInputs &out,
                          RowRange range, Shard shard) {
  out = StepInputs();
  out.shuffleSeed = shuffleSeed;
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count)
    return Status::error("process " + std::to_string(shard.index) + " of " +
                         std::to_string(shard.count) + " is not a shard");
  out.shard = shard;
  int64_t fileRows = -1;
  for (size_t i = 0; i < sources.size(); ++i) {
    const std::string &name = sources[i].name;
    const TensorSpec &want = fn.inputs[i];
    const TensorSpec &got = sources[i].data->spec();
    Source src;
    src.batch = Tensor(want);
    if (got == want) {
      std::memcpy(src.batch.data(), sources[i].data->data(), want.numBytes());
      out.inputs.push_back(std::move(src));
      continue;
    }
    bool sameTail = got.dtype == want.dtype && !want.shape.empty() &&
                    got.shape.size() == want.shape.size() &&
                    std::equal(got.shape.begin() + 1, got.shape.end(),
                               want.shape.begin() + 1) &&
                    want.shape[0] > 0 && got.shape[0] >= want.shape[0];
    if (!sameTail)
      return Status::error(name + ": input #" + std::to_string(i) + " of @" +
                           fn.name + " must be " + want.str() +
                           " (or a dataset of such batches along the first "
                           "dimension), got " + got.str());
    if (fileRows >= 0 && fileRows != got.shape[0])
      return Status::error(name + ": dataset files must have the same number "
                                  "of rows; got " +
                           std::to_string(got.shape[0]) + " and " +
                           std::to_string(fileRows));
    if (out.batchRows_ && out.batchRows_ != want.shape[0])
      return Status::error(name + ": @" + fn.name + " takes batches of " +
                           std::to_string(want.shape[0]) + " rows here and " +
                           std::to_string(out.batchRows_) +
                           " in another input: the rows of one call would "
                           "not pair up");
    fileRows = got.shape[0];
    out.batchRows_ = want.shape[0];
    src.dataset = true;
    src.data = sources[i].data;
    out.inputs.push_back(std::move(src));
  }
  if (fileRows < 0)
    return Status::success();
  int64_t end = range.end < 0 ? fileRows : std::min(range.end, fileRows);
  int64_t begin = std::min(std::max<int64_t>(range.begin, 0), end);
  out.firstRow = begin;
  out.rows = end - begin;
  // drop_last, as PyTorch's DataLoader(drop_last=True): each epoch uses
  // the first batches * global batch rows of its order; the rest sit it
  // out (other rows each epoch when shuffled).
  int64_t global = out.globalBatchRows();
  out.batches = out.rows / global;
  out.dropped = out.rows - out.batches * global;
  if (out.batches == 0)
    return Status::error(
        sources.front().name + ": rows " + std::to_string(begin) + " to " +
        std::to_string(end) + " of the datasets hold " +
        std::to_string(out.rows) + " rows, not one batch of " +
        std::to_string(global) + " for @" + fn.name +
        (shard.count > 1 ? " (" + std::to_string(out.batchRows_) +
                               " rows on each of " +
                               std::to_string(shard.count) + " processes)"
                         : std::string()));
  return Status::success();
}

std::vector<const Tensor *> StepInputs::forStep(uint64_t k) {
  int64_t e = int64_t(k) / batches;
  if (rows >= 0 && e != epoch) {
    epoch = e;
    order.resize(rows);
    for (int64_t r = 0; r < rows; ++r)
      order[r] = r;
    if (shuffleSeed >= 0) {
      // Fisher-Yates with a fixed generator: the same permutation on every
      // platform and on resume.
      std::mt19937_64 gen(uint64_t(shuffleSeed) * 1000003u + uint64_t(e));
      for (int64_t r = rows - 1; r > 0; --r)
        std::swap(order[r], order[gen() % uint64_t(r + 1)]);
    }
  }
  std::vector<const Tensor *> result;
  int64_t b = int64_t(k) % batches;
  for (Source &src : inputs) {
    if (src.dataset) {
      int64_t batchRows = src.batch.spec().shape[0];
      size_t rowBytes = src.batch.spec().numBytes() / batchRows;
      // This process's block of the step's global batch.
      int64_t first = (b * shard.count + shard.index) * batchRows;
      for (int64_t r = 0; r < batchRows; ++r)
        std::memcpy(static_cast<char *>(src.batch.data()) + r * rowBytes,
                    static_cast<const char *>(src.data->data()) +
                        (firstRow + order[first + r]) * rowBytes,
                    rowBytes);
    }
    result.push_back(&src.batch);
  }
  return result;
}
