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

  /// A tensor whose elements are `data` (64-byte aligned, spec's size),
  /// kept valid by `owner` (a memory-mapped file, say) as long as any
  /// tensor viewing it lives.
  static Tensor view(TensorSpec spec, void *data, std::shared_ptr<void> owner);
  /// True for a view (not owning its own allocation).
  bool isView() const { return view_ != nullptr; }

  const TensorSpec &spec() const { return spec_; }
  void *data() { return view_ ? view_ : data_.get(); }
  const void *data() const { return view_ ? view_ : data_.get(); }
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
  std::shared_ptr<void> owner_; // of a view
  void *view_ = nullptr;
};

} // namespace tape

#endif // TAPE_RUNTIME_TENSOR_H
