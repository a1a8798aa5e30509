//===- Tensor.h - Host tensors for the runtime ------------------*- C++ -*-===//
//
// The runtime's view of a tensor: dtype, static shape and an owned,
// 64-byte aligned buffer. What compiled steps read and write.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_RUNTIME_TENSOR_H
#define TAPE_RUNTIME_TENSOR_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tape {

enum class DType { F32, F64, I32, I64 };

/// "float32", "float64", "int32", "int64".
const char *dtypeName(DType dtype);
size_t dtypeSize(DType dtype);

struct TensorSpec {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;

  int64_t numElements() const;
  size_t numBytes() const { return numElements() * dtypeSize(dtype); }
  /// "float32[64, 784]".
  std::string str() const;
  bool operator==(const TensorSpec &o) const {
    return dtype == o.dtype && shape == o.shape;
  }
  bool operator!=(const TensorSpec &o) const { return !(*this == o); }
};

/// An owned, zero-initialised, 64-byte aligned tensor.
class Tensor {
public:
  Tensor() = default;
  /// Allocates; running out of memory is fatal (report_bad_alloc_error:
  /// the tools print one line and exit 1). See tryCreate.
  explicit Tensor(TensorSpec spec);
  /// Allocates `spec` into `out`, or returns false, leaving `out` as it
  /// was, when its size overflows or memory runs out.
  static bool tryCreate(TensorSpec spec, Tensor &out);

  const TensorSpec &spec() const { return spec_; }
  void *data() { return data_.get(); }
  const void *data() const { return data_.get(); }
  template <typename T> T *as() { return static_cast<T *>(data()); }
  template <typename T> const T *as() const {
    return static_cast<const T *>(data());
  }
  /// Element `i` converted to double (for printing and comparisons).
  double elementAsDouble(int64_t i) const;

private:
  struct Free {
    void operator()(void *p) const;
  };
  TensorSpec spec_;
  std::unique_ptr<void, Free> data_;
};

} // namespace tape

#endif // TAPE_RUNTIME_TENSOR_H
