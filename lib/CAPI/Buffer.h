//===- Buffer.h - The caller's tensors (TapeBuffer) -------------*- C++ -*-===//
//
// Internal to lib/CAPI: a TapeBuffer checked against the spec it must have,
// where its elements are, whether the compiled code can use it in place,
// and the copies between it and a contiguous temporary when it cannot.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LIB_CAPI_BUFFER_H
#define TAPE_LIB_CAPI_BUFFER_H

#include "tape-c/Tape.h"

#include "tape/Runtime/Status.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <string>

namespace tape::capi {

/// A TapeBuffer that matches its spec. Points into the caller's arrays,
/// which live for the call.
struct BufferLayout {
  char *data = nullptr;
  size_t elementBytes = 0;
  intptr_t rank = 0;
  const int64_t *shape = nullptr;
  /// The caller's strides in elements, or null for row-major.
  const int64_t *strides = nullptr;
  /// Size of the tensor when contiguous.
  uint64_t bytes = 0;
  /// Its elements are contiguous, in row-major order.
  bool contiguous = true;
  /// Contiguous and aligned for its dtype (or empty): the compiled code
  /// can read or write it where it is.
  bool inPlace = true;
  /// The bytes it spans, [lo, hi); lo == hi when it has no elements.
  uintptr_t lo = 0, hi = 0;

  bool overlaps(const BufferLayout &o) const {
    return lo < hi && o.lo < o.hi && lo < o.hi && o.lo < hi;
  }
};

/// Checks `buffer` against `spec` and describes it. `what` names it in
/// messages ("input #0 of @f", "variable 'w'"); it is called only on an
/// error. A buffer written (`isOutput`) must not have two elements at one
/// address. Errors are InvalidArgument.
Status checkBuffer(const TapeBuffer &buffer, const TensorSpec &spec,
                   bool isOutput, llvm::function_ref<std::string()> what,
                   BufferLayout &layout);

/// Copies the elements of `from` into `to`, contiguous, row-major.
void gather(const BufferLayout &from, void *to);
/// Copies the contiguous, row-major elements `from` into `to`.
void scatter(const void *from, const BufferLayout &to);

} // namespace tape::capi

#endif // TAPE_LIB_CAPI_BUFFER_H
