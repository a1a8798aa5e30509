//===- MLIRCAPITraits.cpp - One TypeID per op trait in libtape.so ---------===//
//
// MLIR's C API in libtape.so comes from Debian's clang-built archive, whose
// copies of some op traits' TypeIDs PrepareMLIRCAPI.cmake renames (it says
// why). They are set here, when the library is loaded, to the TypeIDs the
// rest of the process uses, and marked initialised (the first byte of an
// Itanium C++ guard variable), so that the archive's code never computes
// its own.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"

#include <cstdint>

#define TAPE_MLIR_CAPI_TRAIT(Trait)                                            \
  extern "C" const void *tape_mlir_capi_trait_id_##Trait;                      \
  extern "C" uint64_t tape_mlir_capi_trait_guard_##Trait;
#include "MLIRCAPITraits.inc"
#undef TAPE_MLIR_CAPI_TRAIT

namespace {
struct ShareTraitIDs {
  ShareTraitIDs() {
#define TAPE_MLIR_CAPI_TRAIT(Trait)                                            \
  tape_mlir_capi_trait_id_##Trait =                                            \
      mlir::TypeID::get<mlir::OpTrait::Trait>().getAsOpaquePointer();          \
  __atomic_store_n(reinterpret_cast<unsigned char *>(                          \
                       &tape_mlir_capi_trait_guard_##Trait),                   \
                   1, __ATOMIC_RELEASE);
#include "MLIRCAPITraits.inc"
#undef TAPE_MLIR_CAPI_TRAIT
  }
} shareTraitIDs;
} // namespace
