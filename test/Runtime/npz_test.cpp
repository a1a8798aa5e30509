//===- npz_test.cpp - writeNpz and NpzReader beyond what tape-run reaches -===//
//
// A driver for npz-zip64.test: archives with more entries, or larger, than
// a model in a test can have (tape-run saves one entry per variable, and a
// model with 65536 variables takes minutes to compile).
//
//   tape-npz-test many OUT.npz N    writes N arrays a<i> = int64 i
//   tape-npz-test big OUT.npz BYTES writes a float32 array `big` of BYTES
//                                   bytes (element i = i mod 1000), then a
//                                   small one, `tail` = int64 7, whose
//                                   offset is beyond BYTES
//   tape-npz-test read IN.npz       reads every array (readNpz) and prints
//                                   how many, the first and last names and
//                                   a checksum of every element
//
//===----------------------------------------------------------------------===//

#include "tape/Runtime/Npy.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace tape;

/// Prints `status` and returns the exit code for it.
static int report(const Status &status) {
  if (status)
    return 0;
  std::fprintf(stderr, "tape-npz-test: %s\n", status.str().c_str());
  return 1;
}

/// N int64 scalars a0, a1, ... with the value of their index.
static int writeMany(const std::string &path, int64_t n) {
  std::vector<Tensor> tensors;
  tensors.reserve(n);
  std::vector<std::pair<std::string, const Tensor *>> entries;
  for (int64_t i = 0; i < n; ++i) {
    tensors.emplace_back(TensorSpec{DType::I64, {}});
    tensors.back().as<int64_t>()[0] = i;
    entries.push_back({"a" + std::to_string(i), &tensors.back()});
  }
  return report(writeNpz(path, entries));
}

/// One float32 array of `bytes` bytes, then a small one after it.
static int writeBig(const std::string &path, int64_t bytes) {
  Tensor big;
  if (!Tensor::tryCreate(TensorSpec{DType::F32, {bytes / 4}}, big))
    return report(Status::error("cannot allocate " + std::to_string(bytes)));
  float *data = big.as<float>();
  for (int64_t i = 0; i < bytes / 4; ++i)
    data[i] = float(i % 1000);
  Tensor tail(TensorSpec{DType::I64, {}});
  tail.as<int64_t>()[0] = 7;
  return report(writeNpz(path, {{"big", &big}, {"tail", &tail}}));
}

/// Every array of `path`: the count, the first and last names, and the
/// sum of every element of every array.
static int readAll(const std::string &path) {
  std::vector<std::pair<std::string, Tensor>> arrays;
  if (int rc = report(readNpz(path, std::nullopt, NpyReadOptions(), arrays)))
    return rc;
  double sum = 0;
  for (const auto &[name, t] : arrays)
    for (int64_t i = 0; i < t.spec().numElements(); ++i)
      sum += t.elementAsDouble(i);
  std::printf("%zu arrays", arrays.size());
  if (!arrays.empty())
    std::printf(", first %s %s, last %s %s", arrays.front().first.c_str(),
                arrays.front().second.spec().str().c_str(),
                arrays.back().first.c_str(),
                arrays.back().second.spec().str().c_str());
  std::printf(", sum %.17g\n", sum);
  return 0;
}

int main(int argc, char **argv) {
  std::string command = argc > 1 ? argv[1] : "";
  if (command == "many" && argc == 4)
    return writeMany(argv[2], std::atoll(argv[3]));
  if (command == "big" && argc == 4)
    return writeBig(argv[2], std::atoll(argv[3]));
  if (command == "read" && argc == 3)
    return readAll(argv[2]);
  std::fprintf(stderr, "usage: tape-npz-test many OUT.npz N | big OUT.npz "
                       "BYTES | read IN.npz\n");
  return 2;
}
