//===- Status.cpp - Outcomes and diagnostics ------------------------------===//

#include "tape/Runtime/Status.h"

#include <cerrno>

using namespace tape;

std::string Diagnostic::str() const {
  const char *kind = severity == Severity::Error     ? "error"
                     : severity == Severity::Warning ? "warning"
                     : severity == Severity::Note    ? "note"
                                                     : "remark";
  return (location.empty() ? "" : location + ": ") + kind + ": " + message;
}

std::string Status::str() const {
  std::string s = message;
  for (const Diagnostic &d : diagnostics)
    s += "\n" + d.str();
  return s;
}

StatusCode tape::statusCodeForErrno(int error) {
  switch (error) {
  case ENOENT:
  case ENOTDIR:
    return StatusCode::NotFound;
  case ENOMEM:
  case ENOSPC:
  case EDQUOT:
    return StatusCode::ResourceExhausted;
  default:
    return StatusCode::IOError;
  }
}
