//===- Buffer.cpp - The caller's tensors (TapeBuffer) ---------------------===//

#include "Buffer.h"

#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

using namespace tape;
using namespace tape::capi;

Status tape::capi::checkBuffer(const TapeBuffer &b, const TensorSpec &spec,
                               bool isOutput,
                               llvm::function_ref<std::string()> what,
                               BufferLayout &l) {
  auto invalid = [&](const std::string &why) {
    return Status::error(StatusCode::InvalidArgument, what() + ": " + why);
  };
  if (!b.data)
    return invalid("null data pointer");
  // Read as an integer: a C caller can store any int in the enum.
  std::underlying_type_t<TapeDType> code;
  std::memcpy(&code, &b.dtype, sizeof code);
  if (code < TapeDTypeF32 || code > TapeDTypeI64)
    return invalid("unknown dtype " + std::to_string(code));
  if (b.rank < 0 || b.rank > 64 || (b.rank && !b.shape))
    return invalid("bad rank or null shape");
  DType dtype = DType(code);
  // The element count and byte size with overflow checks: a claim of 2^40
  // elements is compared, never allocated.
  uint64_t bytes = dtypeSize(dtype);
  for (intptr_t k = 0; k < b.rank; ++k)
    if (b.shape[k] < 0)
      return invalid("negative dimension");
    else if (__builtin_mul_overflow(bytes, uint64_t(b.shape[k]), &bytes))
      return invalid("its size overflows 64 bits");
  if (dtype != spec.dtype || size_t(b.rank) != spec.shape.size() ||
      !std::equal(spec.shape.begin(), spec.shape.end(), b.shape)) {
    TensorSpec got{dtype, std::vector<int64_t>(b.shape, b.shape + b.rank)};
    return Status::error(StatusCode::InvalidArgument,
                         what() + " must be " + spec.str() + ", got " +
                             got.str());
  }

  l.data = static_cast<char *>(b.data);
  l.elementBytes = dtypeSize(dtype);
  l.rank = b.rank;
  l.shape = b.shape;
  l.strides = b.strides;
  l.bytes = bytes;
  l.contiguous = l.inPlace = true;
  l.lo = l.hi = 0;
  if (bytes == 0) // no elements: nothing is read or written
    return Status::success();

  // The lowest and highest element offsets, and whether the strides are
  // the row-major ones (a dimension of 1 has any stride).
  int64_t low = 0, high = 0, rowMajor = 1;
  for (intptr_t k = b.rank - 1; k >= 0; --k) {
    int64_t size = b.shape[k];
    if (size > 1 && b.strides) {
      int64_t stride = b.strides[k], span;
      if (stride != rowMajor)
        l.contiguous = false;
      if (__builtin_mul_overflow(size - 1, stride, &span) ||
          __builtin_add_overflow(span > 0 ? high : low, span,
                                 span > 0 ? &high : &low))
        return invalid("its strides overflow 64 bits");
    } else if (size > 1) {
      high += (size - 1) * rowMajor; // within the checked size
    }
    rowMajor *= size;
  }
  // The bytes spanned, [lo, hi), checked against address overflow.
  int64_t lowBytes, highBytes;
  uintptr_t base = reinterpret_cast<uintptr_t>(b.data), lo, hi;
  if (__builtin_mul_overflow(low, int64_t(l.elementBytes), &lowBytes) ||
      __builtin_mul_overflow(high + 1, int64_t(l.elementBytes), &highBytes) ||
      uint64_t(0) - uint64_t(lowBytes) > base ||
      __builtin_add_overflow(base, uint64_t(highBytes), &hi))
    return invalid("its strides reach outside the address space");
  lo = base - (uint64_t(0) - uint64_t(lowBytes));
  l.lo = lo;
  l.hi = hi;
  l.inPlace = l.contiguous && base % l.elementBytes == 0;

  // Two elements of an output at one address would be written twice. A
  // sufficient test: each stride (by size) steps past everything the
  // smaller ones reach.
  if (isOutput && b.strides && !l.contiguous) {
    llvm::SmallVector<std::pair<uint64_t, int64_t>, 8> dims;
    for (intptr_t k = 0; k < b.rank; ++k)
      if (b.shape[k] > 1)
        dims.push_back({b.strides[k] < 0 ? uint64_t(0) - uint64_t(b.strides[k])
                                         : uint64_t(b.strides[k]),
                        b.shape[k]});
    std::sort(dims.begin(), dims.end());
    uint64_t reach = 0; // within the checked span
    for (auto [stride, size] : dims) {
      if (stride <= reach)
        return invalid("its strides place two elements at one address, "
                       "which an output must not");
      reach += uint64_t(size - 1) * stride;
    }
  }
  return Status::success();
}

/// Copies every element between two layouts of one shape, `rank` > 0 and
/// no dimension 0; strides in bytes.
static void copyElements(char *dst, const int64_t *dstStrides,
                         const char *src, const int64_t *srcStrides,
                         const int64_t *shape, intptr_t rank,
                         size_t elementBytes) {
  llvm::SmallVector<int64_t, 8> index(rank, 0);
  intptr_t inner = rank - 1;
  int64_t n = shape[inner], ds = dstStrides[inner], ss = srcStrides[inner];
  int64_t e = int64_t(elementBytes);
  while (true) {
    if (ds == e && ss == e)
      std::memcpy(dst, src, size_t(n) * elementBytes);
    else
      for (int64_t j = 0; j < n; ++j)
        std::memcpy(dst + j * ds, src + j * ss, elementBytes);
    intptr_t k = inner - 1;
    for (; k >= 0; --k) {
      if (++index[k] < shape[k]) {
        dst += dstStrides[k];
        src += srcStrides[k];
        break;
      }
      index[k] = 0;
      dst -= (shape[k] - 1) * dstStrides[k];
      src -= (shape[k] - 1) * srcStrides[k];
    }
    if (k < 0)
      return;
  }
}

/// The byte strides of `l` (the caller's, or row-major) and of a
/// contiguous tensor of its shape.
static void byteStrides(const BufferLayout &l,
                        llvm::SmallVectorImpl<int64_t> &strided,
                        llvm::SmallVectorImpl<int64_t> &contiguous) {
  strided.resize(l.rank);
  contiguous.resize(l.rank);
  int64_t rowMajor = int64_t(l.elementBytes);
  for (intptr_t k = l.rank - 1; k >= 0; --k) {
    contiguous[k] = rowMajor;
    // A dimension of 1 is never stepped along (and its stride may be
    // anything).
    strided[k] = l.shape[k] == 1 ? 0
                 : l.strides     ? l.strides[k] * int64_t(l.elementBytes)
                                 : rowMajor;
    rowMajor *= l.shape[k];
  }
}

void tape::capi::gather(const BufferLayout &from, void *to) {
  if (from.bytes == 0)
    return;
  if (from.contiguous || from.rank == 0) {
    std::memcpy(to, from.data, from.bytes);
    return;
  }
  llvm::SmallVector<int64_t, 8> strided, contiguous;
  byteStrides(from, strided, contiguous);
  copyElements(static_cast<char *>(to), contiguous.data(), from.data,
               strided.data(), from.shape, from.rank, from.elementBytes);
}

void tape::capi::scatter(const void *from, const BufferLayout &to) {
  if (to.bytes == 0)
    return;
  if (to.contiguous || to.rank == 0) {
    std::memcpy(to.data, from, to.bytes);
    return;
  }
  llvm::SmallVector<int64_t, 8> strided, contiguous;
  byteStrides(to, strided, contiguous);
  copyElements(to.data, strided.data(), static_cast<const char *>(from),
               contiguous.data(), to.shape, to.rank, to.elementBytes);
}
