//===- CheckpointFormat.h - The checkpoint file format, byte by byte -*- C++ -*-===//
//
// One definition of the TAPECKP1 format, shared by everything that reads or
// writes it: the runtime's checkpoints (tape-run, the C and C++ API), the
// trained weights tape-compile bakes into an object (--weights), and the
// expected layout the generated AOT header compares a file against.
//
// Layout (little-endian, the byte order of every target tape compiles for):
//   "TAPECKP1" | u32 version | u64 completed steps | u32 variable count |
//   per variable: u32 name length, name, u32 dtype, u32 rank, i64 dims... |
//   per variable: raw data | u32 CRC-32 of everything before it
// The CRC is zlib's (llvm::crc32: reflected polynomial 0xEDB88320, initial
// value and final xor 0xFFFFFFFF).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_SUPPORT_CHECKPOINTFORMAT_H
#define TAPE_SUPPORT_CHECKPOINTFORMAT_H

#include "tape/Runtime/Status.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tape {
namespace checkpoint {

/// The 8 bytes every checkpoint starts with (no terminating NUL).
inline constexpr char kMagic[] = "TAPECKP1";
inline constexpr uint32_t kVersion = 1;
/// The format's limits, the same for saving and loading: whatever is saved
/// can be loaded.
inline constexpr size_t kMaxNameBytes = 4096;
inline constexpr size_t kMaxRank = 64;
/// Bytes before the layout: magic, version, step count.
inline constexpr size_t kPreambleBytes = 8 + 4 + 8;

/// Whether checkpoints of a model with state layout `vars` can be written
/// and read back: every name and rank fits the format.
Status checkCheckpointable(const std::vector<VariableSpec> &vars);

/// The layout part of a checkpoint of `vars`: the variable count and each
/// variable's name, dtype and shape, exactly as a file holds them after
/// the step count. Two models can exchange checkpoints exactly when these
/// bytes are equal.
std::string layoutBytes(const std::vector<VariableSpec> &vars);

/// The size of a checkpoint of `vars`, CRC included.
uint64_t fileBytes(const std::vector<VariableSpec> &vars);

/// Everything a checkpoint of `vars` holds before the variables' data:
/// magic, version, `steps` and the layout.
std::string headerBytes(const std::vector<VariableSpec> &vars,
                        uint64_t steps);

/// Checks that `bytes` is a checkpoint of a model with state layout `vars`
/// (magic, checksum, version, layout, size) without trusting anything in
/// it; on success `steps` is its step count and `dataOffset` where the
/// first variable's data starts (the variables follow each other in
/// order). On failure the message says why, without the file's name
/// ("checksum mismatch (truncated or corrupted)").
Status check(llvm::StringRef bytes, const std::vector<VariableSpec> &vars,
             uint64_t &steps, size_t &dataOffset);

} // namespace checkpoint
} // namespace tape

#endif // TAPE_SUPPORT_CHECKPOINTFORMAT_H
