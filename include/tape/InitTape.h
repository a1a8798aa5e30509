//===- InitTape.h - Register the tape dialect and passes --------*- C++ -*-===//
//
// One call each for tools and embedders: the tape dialect with its external
// models, and the tape passes and pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_INITTAPE_H
#define TAPE_INITTAPE_H

namespace mlir {
class DialectRegistry;
namespace tape {

/// Adds the tape dialect and the interface models it attaches to upstream
/// dialects (differentiation rules, mpi.allreduce's memory effects) to
/// `registry`.
void registerTapeDialects(DialectRegistry &registry);

/// Registers the tape passes and pipelines with the global pass registry
/// (for command-line tools such as tape-opt).
void registerTapePasses();

} // namespace tape
} // namespace mlir

#endif // TAPE_INITTAPE_H
