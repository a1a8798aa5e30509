//===- InitTape.h - Register the tape dialect and passes --------*- C++ -*-===//
//
// One call each for tools and embedders: the tape dialect with its external
// models, and the tape passes and pipelines; and what tape's own tools
// (tape-opt, tape-lsp-server) add to them, every upstream dialect and pass.
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

/// The dialects tape's tools read (tape-opt, tape-lsp-server): every
/// upstream dialect and extension, and the tape dialect with its models.
void registerAllDialectsAndTape(DialectRegistry &registry);

/// The passes tape-opt runs: every upstream pass and pipeline, and tape's.
void registerAllPassesAndTape();

} // namespace tape
} // namespace mlir

#endif // TAPE_INITTAPE_H
