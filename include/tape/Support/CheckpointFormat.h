//===- CheckpointFormat.h - The checkpoint file format ----------*- C++ -*-===//
//
// One definition of the checkpoint format, shared by everything that reads
// or writes it: the runtime's checkpoints (tape-run, the C and C++ API),
// the trained weights tape-compile bakes into an object (--weights), and
// the C code the generated AOT header reads and writes checkpoints with.
//
// A checkpoint (format version 2) is a NumPy .npz archive, which
// numpy.load opens as it is (and PyTorch through it: torch.from_numpy):
//   * one `<name>.npy` entry per variable of the state layout, optimizer
//     slots, step counters and random-number counters included, each a
//     C-ordered little-endian array of the variable's dtype and shape;
//     `<name>` is the variable's name encoded by fileNameForSymbol (bytes
//     other than letters, digits, '_', '-' and a '.' after the first byte
//     as %XX), so no entry name is a path;
//   * one `metadata.json` entry (not an array: numpy.load gives its bytes),
//     a JSON object written by metadataJSON:
//       {"format":"tape-checkpoint","version":2,"step_count":N,
//        "fingerprint":"<64 hex digits>","variables":[{"name":...,
//        "entry":"<name>.npy","dtype":"float32","shape":[...],
//        "trainable":true},...]}
//     `fingerprint` is the SHA-256 of layoutBytes (the state layout: the
//     names, dtypes and shapes, in order); two models exchange checkpoints
//     exactly when their fingerprints are equal. `variables` describes the
//     layout for readers of the file; a loader checks the arrays and the
//     fingerprint.
// Entries are stored (not compressed); sizes, offsets and counts that do
// not fit the classic zip records use ZIP64 records.
//
// Version 1 ("TAPECKP1", the format before the .npz one) is still read by the runtime
// (tape-run --resume, the C and C++ API, tape-compile --weights), never
// written: resuming from one and saving converts it. Its layout
// (little-endian):
//   "TAPECKP1" | u32 version | u64 completed steps | u32 variable count |
//   per variable: u32 name length, name, u32 dtype, u32 rank, i64 dims... |
//   per variable: raw data | u32 CRC-32 of everything before it
// The CRC is zlib's (llvm::crc32: reflected polynomial 0xEDB88320, initial
// value and final xor 0xFFFFFFFF), as a zip archive's.
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

/// metadata.json's "format" and "version".
inline constexpr char kFormatName[] = "tape-checkpoint";
inline constexpr int kFormatVersion = 2;
/// The archive entry that holds the metadata.
inline constexpr char kMetadataEntry[] = "metadata.json";
/// The largest rank a checkpoint holds (a .npy header of rank 64 is far
/// below the 65535 bytes of format 1.0's header).
inline constexpr size_t kMaxRank = 64;

/// Whether checkpoints of a model with state layout `vars` can be written
/// and read back: every name can name an entry (fileNameForSymbol) and
/// every rank fits the format.
Status checkCheckpointable(const std::vector<VariableSpec> &vars);

/// The archive entry of variable `v`: "<fileNameForSymbol(name)>.npy"
/// (checkCheckpointable has checked that there is one).
std::string entryName(const VariableSpec &v);

/// The state layout as bytes: the variable count and each variable's name,
/// dtype (0 float32, 1 float64, 2 int32, 3 int64) and shape (u32 name
/// length, name, u32 dtype, u32 rank, i64 dims), little-endian; what the
/// fingerprint hashes, and what a version 1 file holds after its step
/// count.
std::string layoutBytes(const std::vector<VariableSpec> &vars);

/// The fingerprint of a state layout: SHA-256 of layoutBytes, as 64
/// lower-case hex digits.
std::string fingerprint(const std::vector<VariableSpec> &vars);

/// metadata.json of a checkpoint of `vars` after `steps` steps, as two
/// parts around the step count's decimal digits: the text is
/// `prefix + std::to_string(steps) + suffix` (the generated C writes the
/// same bytes from the same parts).
struct MetadataText {
  std::string prefix, suffix;
};
MetadataText metadataText(const std::vector<VariableSpec> &vars);
std::string metadataJSON(const std::vector<VariableSpec> &vars,
                         uint64_t steps);

/// What a loader takes from metadata.json.
struct Metadata {
  uint64_t steps = 0;
  std::string fingerprint;
};
/// Parses metadata.json; the message says what is wrong (not JSON, another
/// format, a version this tape cannot read, a missing or malformed field),
/// without the file's name.
Status parseMetadata(llvm::StringRef text, Metadata &out);

namespace legacy {

/// The 8 bytes a version 1 checkpoint starts with (no terminating NUL).
inline constexpr char kMagic[] = "TAPECKP1";
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kMaxNameBytes = 4096;
/// Bytes before the layout: magic, version, step count.
inline constexpr size_t kPreambleBytes = 8 + 4 + 8;

/// The size of a version 1 checkpoint of `vars`, CRC included.
uint64_t fileBytes(const std::vector<VariableSpec> &vars);

/// Checks that `bytes` is a version 1 checkpoint of a model with state
/// layout `vars` (magic, checksum, version, layout, size) without trusting
/// anything in it; on success `steps` is its step count and `dataOffset`
/// where the first variable's data starts (the variables follow each
/// other in order). On failure the message says why, without the file's
/// name ("checksum mismatch (truncated or corrupted)").
Status check(llvm::StringRef bytes, const std::vector<VariableSpec> &vars,
             uint64_t &steps, size_t &dataOffset);

} // namespace legacy

} // namespace checkpoint
} // namespace tape

#endif // TAPE_SUPPORT_CHECKPOINTFORMAT_H
