//===- Status.cpp - TapeStatus --------------------------------------------===//

#include "Handles.h"

#include <cstring>
#include <new>
#include <type_traits>

using namespace tape;
using namespace tape::capi;

/// The C code of a runtime error (StatusCode and TapeStatusCode list the
/// same kinds; Unknown never reaches a caller: wrap gives it a fallback).
static TapeStatusCode toC(StatusCode code) {
  switch (code) {
  case StatusCode::Ok:
    return TapeStatusOk;
  case StatusCode::InvalidArgument:
    return TapeStatusInvalidArgument;
  case StatusCode::NotFound:
    return TapeStatusNotFound;
  case StatusCode::OutOfRange:
    return TapeStatusOutOfRange;
  case StatusCode::FailedPrecondition:
    return TapeStatusFailedPrecondition;
  case StatusCode::ResourceExhausted:
    return TapeStatusResourceExhausted;
  case StatusCode::Unavailable:
    return TapeStatusUnavailable;
  case StatusCode::IOError:
    return TapeStatusIOError;
  case StatusCode::DataLoss:
    return TapeStatusDataLoss;
  case StatusCode::CompileError:
    return TapeStatusCompileError;
  case StatusCode::NumericalError:
    return TapeStatusNumericalError;
  case StatusCode::Unknown:
  case StatusCode::Internal:
    return TapeStatusInternal;
  }
  return TapeStatusInternal;
}

/// What wrap returns when even the status cannot be allocated: an error
/// status (never the null one) that tapeStatusDestroy leaves alone.
static const Status &outOfMemoryStatus() {
  static const Status status =
      Status::error(StatusCode::ResourceExhausted, "out of memory");
  return status;
}

TapeStatus tape::capi::wrap(Status status, StatusCode fallback) {
  if (status)
    return {nullptr};
  Status *s = new (std::nothrow) Status(std::move(status).orCode(fallback));
  if (!s) // a status must never be the null (success) one
    return {const_cast<Status *>(&outOfMemoryStatus())};
  return {s};
}

TapeStatus tape::capi::error(StatusCode code, std::string message) {
  return wrap(Status::error(code, std::move(message)));
}

TapeStatus tape::capi::nullArgument(const char *function) {
  return error(StatusCode::InvalidArgument,
               std::string(function) + ": a null handle or pointer argument");
}

TapeStatusCode tapeStatusGetCode(TapeStatus status) {
  return status.ptr ? toC(unwrap(status)->code) : TapeStatusOk;
}

const char *tapeStatusCodeGetName(TapeStatusCode status) {
  // Read as an integer: a C caller can pass any int for the enum.
  std::underlying_type_t<TapeStatusCode> code;
  std::memcpy(&code, &status, sizeof code);
  switch (code) {
  case TapeStatusOk:
    return "OK";
  case TapeStatusInvalidArgument:
    return "INVALID_ARGUMENT";
  case TapeStatusNotFound:
    return "NOT_FOUND";
  case TapeStatusOutOfRange:
    return "OUT_OF_RANGE";
  case TapeStatusFailedPrecondition:
    return "FAILED_PRECONDITION";
  case TapeStatusResourceExhausted:
    return "RESOURCE_EXHAUSTED";
  case TapeStatusUnavailable:
    return "UNAVAILABLE";
  case TapeStatusIOError:
    return "IO_ERROR";
  case TapeStatusDataLoss:
    return "DATA_LOSS";
  case TapeStatusCompileError:
    return "COMPILE_ERROR";
  case TapeStatusNumericalError:
    return "NUMERICAL_ERROR";
  case TapeStatusInternal:
    return "INTERNAL";
  }
  return "UNKNOWN";
}

const char *tapeStatusGetMessage(TapeStatus status) {
  return status.ptr ? unwrap(status)->message.c_str() : "";
}

size_t tapeStatusGetNumDiagnostics(TapeStatus status) {
  return status.ptr ? unwrap(status)->diagnostics.size() : 0;
}

void tapeStatusGetDiagnostic(TapeStatus status, size_t i,
                             TapeSeverity *severity, const char **location,
                             const char **message) {
  if (!status.ptr || i >= unwrap(status)->diagnostics.size())
    return;
  const Diagnostic &d = unwrap(status)->diagnostics[i];
  if (severity)
    *severity = TapeSeverity(d.severity);
  if (location)
    *location = d.location.c_str();
  if (message)
    *message = d.message.c_str();
}

void tapeStatusDestroy(TapeStatus status) {
  if (status.ptr != &outOfMemoryStatus())
    delete unwrap(status);
}
