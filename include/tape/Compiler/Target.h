//===- Target.h - The machine an AOT object is compiled for -----*- C++ -*-===//
//
// tape-compile's target: a triple, a CPU and CPU features, named as llc
// names them (-mtriple, -mcpu, -mattr), each checked against what LLVM's
// target knows before a TargetMachine exists (LLVM itself only warns for an
// unknown CPU, then may fail in code generation).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_COMPILER_TARGET_H
#define TAPE_COMPILER_TARGET_H

#include "tape/Runtime/Status.h"

#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace tape {

/// What the user asked for.
struct TargetChoice {
  /// A target triple; empty for this machine's (LLVM's default triple).
  std::string triple;
  /// 'native' (this machine's CPU and features: only for this machine's
  /// architecture), an LLVM CPU name such as 'x86-64' or 'neoverse-v1',
  /// or empty for the triple's generic CPU ('native' for this machine's
  /// triple).
  std::string cpu;
  /// LLVM CPU features, "+avx2,-avx512f" (added to the CPU's own).
  std::string features;
};

/// The target resolved: what the object is for (said in the header).
struct CompileTarget {
  std::string triple, cpu, features;
  bool native = false; // the CPU and features of this machine
  std::unique_ptr<llvm::TargetMachine> machine;
  /// "x86_64-pc-linux-gnu, CPU skylake (this machine's, with its
  /// features)" or "aarch64-unknown-linux-gnu, CPU neoverse-v1, features
  /// +sve".
  std::string describe() const;
};

/// Checks `choice` and creates its TargetMachine: an unknown triple, a
/// triple tape cannot compile for (not 64-bit little-endian), 'native'
/// for another architecture, an unknown CPU or feature are errors that
/// name it (with the closest known name, and how to list them).
Status createTarget(const TargetChoice &choice, CompileTarget &out);

/// The CPUs (`features` false) or CPU features of the target of `triple`
/// (empty: this machine's), one per line, for --mcpu=help and
/// --mattr=help.
Status listTarget(const std::string &triple, bool features, std::string &out);

} // namespace tape

#endif // TAPE_COMPILER_TARGET_H
