//===- MPIMemoryEffects.h - What MPI ops do to buffers ----------*- C++ -*-===//
//
// Upstream's mpi.allreduce declares no memory effects, which the buffer
// deallocation pipeline refuses ("ops with unknown memory side effects");
// this model says what it does: reads the send buffer, writes the receive
// buffer.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CONVERSION_MPIMEMORYEFFECTS_H
#define TAPE_CONVERSION_MPIMEMORYEFFECTS_H

namespace mlir {
class DialectRegistry;
namespace tape {

/// Attaches MemoryEffectOpInterface to mpi.allreduce.
void registerMPIMemoryEffects(DialectRegistry &registry);

} // namespace tape
} // namespace mlir

#endif // TAPE_CONVERSION_MPIMEMORYEFFECTS_H
