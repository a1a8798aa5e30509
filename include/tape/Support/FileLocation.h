//===- FileLocation.h - "file:line:col" of an MLIR location -----*- C++ -*-===//
//
// How every report and diagnostic of the compiler names a source location.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_SUPPORT_FILELOCATION_H
#define TAPE_SUPPORT_FILELOCATION_H

#include "mlir/IR/Location.h"
#include "llvm/ADT/Twine.h"

#include <string>

namespace tape {

/// "file:line:col" of the first file location inside `loc` (through names,
/// fusions and call sites), or "" when it has none.
inline std::string formatFileLocation(mlir::Location loc) {
  if (auto file = llvm::dyn_cast<mlir::FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + llvm::Twine(file.getLine()) +
            ":" + llvm::Twine(file.getColumn()))
        .str();
  if (auto named = llvm::dyn_cast<mlir::NameLoc>(loc))
    return formatFileLocation(named.getChildLoc());
  if (auto call = llvm::dyn_cast<mlir::CallSiteLoc>(loc))
    return formatFileLocation(call.getCallee());
  if (auto fused = llvm::dyn_cast<mlir::FusedLoc>(loc))
    for (mlir::Location inner : fused.getLocations())
      if (std::string s = formatFileLocation(inner); !s.empty())
        return s;
  return "";
}

} // namespace tape

#endif // TAPE_SUPPORT_FILELOCATION_H
