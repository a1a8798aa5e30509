//===- Tensor.cpp - Host tensors for the runtime --------------------------===//

#include "tape/Runtime/Tensor.h"

#include <cstdlib>
#include <cstring>
#include "llvm/Support/ErrorHandling.h"

using namespace tape;

const char *tape::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "float32";
  case DType::F64:
    return "float64";
  case DType::I32:
    return "int32";
  case DType::I64:
    return "int64";
  }
  return "?";
}

size_t tape::dtypeSize(DType dtype) {
  return dtype == DType::F64 || dtype == DType::I64 ? 8 : 4;
}

int64_t TensorSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string TensorSpec::str() const {
  std::string s = dtypeName(dtype);
  s += "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void Tensor::Free::operator()(void *p) const { std::free(p); }

bool Tensor::tryCreate(TensorSpec spec, Tensor &out) {
  // aligned_alloc needs a size that is a multiple of the alignment; every
  // product is overflow-checked (shapes can come from callers).
  uint64_t bytes = dtypeSize(spec.dtype);
  for (int64_t d : spec.shape)
    if (d < 0 || __builtin_mul_overflow(bytes, uint64_t(d), &bytes))
      return false;
  if (bytes > UINT64_MAX - 63)
    return false;
  size_t padded = size_t((bytes + 63) / 64 * 64);
  void *p = std::aligned_alloc(64, padded ? padded : 64);
  if (!p)
    return false;
  std::memset(p, 0, padded ? padded : 64);
  out.spec_ = std::move(spec);
  out.data_.reset(p);
  return true;
}

Tensor Tensor::view(TensorSpec spec, void *data, std::shared_ptr<void> owner) {
  Tensor t;
  t.spec_ = std::move(spec);
  t.view_ = data;
  t.owner_ = std::move(owner);
  return t;
}

Tensor::Tensor(TensorSpec spec) {
  if (!tryCreate(std::move(spec), *this))
    llvm::report_bad_alloc_error("tape: cannot allocate a tensor");
}

double Tensor::elementAsDouble(int64_t i) const {
  switch (spec_.dtype) {
  case DType::F32:
    return as<float>()[i];
  case DType::F64:
    return as<double>()[i];
  case DType::I32:
    return as<int32_t>()[i];
  case DType::I64:
    return double(as<int64_t>()[i]);
  }
  return 0;
}
