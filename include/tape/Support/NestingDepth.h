//===- NestingDepth.h - Bound the nesting of IR text before parsing -*- C++ -*-===//
//
// MLIR's parser is recursive descent: each nested bracket, attribute, type
// or region is a stack frame, and 5,000 nested regions (or 20,000 nested
// brackets) overflow the stack. Rather than parsing on a larger stack
// (which only moves the limit), every tool and the compiler library scan
// the text first and refuse nesting deeper than kMaxNestingDepth with a
// located error. Real IR nests a few dozen levels at most.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_SUPPORT_NESTINGDEPTH_H
#define TAPE_SUPPORT_NESTINGDEPTH_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace tape {

constexpr unsigned kMaxNestingDepth = 256;

/// Where a bracket ( [ { < in `text` (outside string literals and comments)
/// first nests deeper than kMaxNestingDepth, and the error to report there.
struct NestingTooDeep {
  unsigned line;   // 1-based
  unsigned column; // 1-based, in bytes
  std::string message;
};
std::optional<NestingTooDeep> findTooDeepNesting(llvm::StringRef text);

/// "" if `text` nests no deeper than kMaxNestingDepth; otherwise
/// "<name>:<line>:<col>: error: ..." naming where the limit is passed.
std::string checkNestingDepth(llvm::StringRef text, llvm::StringRef name);

} // namespace tape

#endif // TAPE_SUPPORT_NESTINGDEPTH_H
