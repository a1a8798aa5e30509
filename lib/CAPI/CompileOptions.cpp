//===- CompileOptions.cpp - TapeCompileOptions ----------------------------===//
//
// The C face of tape::CompileOptions: one setter and one getter per option
// a tool has as a flag. Every value goes through checkCompileOptions, the
// one range check.
//
//===----------------------------------------------------------------------===//

#include "Handles.h"

#include <new>

using namespace tape;
using namespace tape::capi;

TapeCompileOptions tapeCompileOptionsCreate(void) {
  return {new (std::nothrow) OptionsHandle()};
}

void tapeCompileOptionsDestroy(TapeCompileOptions options) {
  delete unwrap(options);
}

/// Sets one field through `set` on a copy, checks the copy, and keeps it
/// only if it is valid.
template <typename Set>
static TapeStatus update(TapeCompileOptions options, const char *function,
                         Set set) {
  if (!options.ptr)
    return nullArgument(function);
  CompileOptions changed = unwrap(options)->options;
  set(changed);
  std::string invalid = checkCompileOptions(changed);
  if (!invalid.empty())
    return error(StatusCode::OutOfRange, std::string(function) + ": " +
                                             invalid);
  unwrap(options)->options = std::move(changed);
  return {nullptr};
}

/// The options of a handle, or the defaults for the null one.
static const CompileOptions &read(TapeCompileOptions options) {
  static const CompileOptions defaults;
  return options.ptr ? unwrap(options)->options : defaults;
}

TapeStatus tapeCompileOptionsSetSourceName(TapeCompileOptions options,
                                           const char *name) {
  if (!name)
    return nullArgument(__func__);
  return update(options, __func__,
                [&](CompileOptions &o) { o.sourceName = name; });
}

#define TAPE_OPTION(Name, Type, field)                                         \
  TapeStatus tapeCompileOptionsSet##Name(TapeCompileOptions options,           \
                                         Type value) {                         \
    return update(options, __func__,                                           \
                  [&](CompileOptions &o) { o.field = value; });                \
  }                                                                            \
  Type tapeCompileOptionsGet##Name(TapeCompileOptions options) {               \
    return read(options).field;                                                \
  }
TAPE_OPTION(Strict, bool, strict)
TAPE_OPTION(CheckNumerics, bool, checkNumerics)
TAPE_OPTION(Blas, bool, blas)
TAPE_OPTION(BlasMinFlops, int64_t, blasMinFlops)
TAPE_OPTION(Threads, int64_t, threads)
TAPE_OPTION(VectorBits, int64_t, vectorBits)
TAPE_OPTION(Vectorize, bool, vectorize)
TAPE_OPTION(PackMatmuls, bool, packMatmuls)
TAPE_OPTION(FuseUpdates, bool, fuseUpdates)
TAPE_OPTION(ReportCopies, bool, reportCopies)
TAPE_OPTION(DebugInfo, bool, debugInfo)
TAPE_OPTION(DataParallel, bool, dataParallel)
#undef TAPE_OPTION

const char *tapeCompileOptionsGetSourceName(TapeCompileOptions options) {
  return read(options).sourceName.c_str();
}

TapeStatus tapeCompileOptionsSetMPIABI(TapeCompileOptions options,
                                       const char *abi) {
  if (!abi)
    return nullArgument(__func__);
  return update(options, __func__,
                [&](CompileOptions &o) { o.mpiABI = abi; });
}

const char *tapeCompileOptionsGetMPIABI(TapeCompileOptions options) {
  return read(options).mpiABI.c_str();
}
