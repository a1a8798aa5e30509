//===- CSource.h - Text from IR made safe inside generated C -----*- C++ -*-===//
//
// What the AOT compiler writes into the C header it generates: names and
// file names from the IR or the command line never become C code.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LIB_COMPILER_CSOURCE_H
#define TAPE_LIB_COMPILER_CSOURCE_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace tape {

/// `s` as a C string literal: printable ASCII as itself, except the quote,
/// the backslash and '?' (trigraphs); every other byte as a 3-digit octal
/// escape (which, unlike \x, cannot swallow the digits after it).
std::string cStringLiteral(llvm::StringRef s);

/// `s` as adjacent C string literals of at most 64 bytes of `s` each, one
/// per line after the first, each line starting with `indent`: the same
/// string as cStringLiteral, readable, and within what any C compiler
/// takes for one literal.
std::string cLongStringLiteral(llvm::StringRef s, llvm::StringRef indent);

/// `s` as text inside a C block comment: printable ASCII only (others
/// become '?'), and no "*/" that would end the comment nor "/*".
std::string cCommentText(llvm::StringRef s);

} // namespace tape

#endif // TAPE_LIB_COMPILER_CSOURCE_H
