//===- AOT.cpp - Ahead of time: an object file and its C header -----------===//

#include "tape/Compiler/AOT.h"
#include "tape/Support/CheckpointFormat.h"

#include "llvm/ADT/StringExtras.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <algorithm>
#include <cstring>
#include <sstream>

using namespace tape;

static const char *cType(DType d) {
  switch (d) {
  case DType::F32:
    return "float";
  case DType::F64:
    return "double";
  case DType::I32:
    return "int32_t";
  case DType::I64:
    return "int64_t";
  }
  return "void";
}

bool tape::isCIdentifier(const std::string &s) {
  if (s.empty() || !(llvm::isAlpha(s[0]) || s[0] == '_'))
    return false;
  for (char c : s)
    if (!(llvm::isAlnum(c) || c == '_'))
      return false;
  return true;
}

/// `s` as a C string literal: printable ASCII as itself, except the quote,
/// the backslash and '?' (trigraphs); every other byte as a 3-digit octal
/// escape (which, unlike \x, cannot swallow the digits after it).
static std::string cStringLiteral(llvm::StringRef s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || c == '?') {
      out += '\\';
      out += char(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += char(c);
    } else {
      out += '\\';
      out += char('0' + (c >> 6));
      out += char('0' + ((c >> 3) & 7));
      out += char('0' + (c & 7));
    }
  }
  return out + "\"";
}

/// `s` as text inside a C block comment: printable ASCII only (others
/// become '?'), and no "*/" that would end the comment nor "/*".
static std::string cCommentText(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    if (!out.empty() && ((c == '/' && out.back() == '*') ||
                         (c == '*' && out.back() == '/')))
      out += ' ';
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

/// How a variable's initial value is stored in the object.
enum class InitialImage {
  Zero,  // all bytes zero: memset, no data in the object
  Splat, // one element repeated: the object holds one element
  Full,  // anything else: the object holds the whole value
};

static InitialImage classifyInitial(const Tensor &t) {
  const auto *bytes = static_cast<const unsigned char *>(t.data());
  size_t size = t.spec().numBytes(), count = t.spec().numElements();
  if (std::all_of(bytes, bytes + size, [](unsigned char c) { return !c; }))
    return InitialImage::Zero;
  size_t element = count ? size / count : size;
  for (size_t at = element; at < size; at += element)
    if (std::memcmp(bytes, bytes + at, element))
      return InitialImage::Full;
  return InitialImage::Splat;
}

/// The header's checkpoint functions: `<p>_state_load_checkpoint` and
/// `<p>_state_save_checkpoint` read and write the TAPECKP1 files of
/// tape-run and the C API (tape/Support/CheckpointFormat.h), in plain C
/// with libc alone. They are static functions in the header, not code in
/// the object: the object stays computation (it needs -lm and nothing
/// else, no stdio), file access is compiled by the program's compiler for
/// its libc, and a program that never calls them pays nothing. The file is
/// never trusted: no byte of it is used as a size or an offset; its layout
/// is compared with this model's, generated here by the same function the
/// runtime writes checkpoints with.
static void emitCheckpointFunctions(std::ostringstream &h,
                                    const LoweredModule &m,
                                    const std::string &p,
                                    const std::string &g) {
  using namespace checkpoint;
  std::string st = p + "_state";
  h << "/* Checkpoints: the TAPECKP1 files of tape-run --checkpoint and\n"
    << "   --resume and of the C API (tapeStateSaveCheckpoint,\n"
    << "   tapeStateLoadCheckpoint), so that a checkpoint moves both ways\n"
    << "   between training and this program: every variable, optimizer\n"
    << "   slots included, and the step count. Plain C with libc only\n"
    << "   (stdio, stdlib, string, errno, time): static functions here rather\n"
    << "   than code in the object, which stays computation alone; a program\n"
    << "   that does not call them pays nothing. Each returns " << g
    << "_CHECKPOINT_OK (0) or one\n   of the negative codes below; " << p
    << "_checkpoint_error_message\n   names it. */\n"
    << "enum {\n"
    << "  " << g << "_CHECKPOINT_OK = 0,\n"
    << "  " << g << "_CHECKPOINT_ERROR_ARGUMENT = -1,\n"
    << "  " << g << "_CHECKPOINT_ERROR_OPEN = -2,\n"
    << "  " << g << "_CHECKPOINT_ERROR_READ = -3,\n"
    << "  " << g << "_CHECKPOINT_ERROR_WRITE = -4,\n"
    << "  " << g << "_CHECKPOINT_ERROR_NOT_A_CHECKPOINT = -5,\n"
    << "  " << g << "_CHECKPOINT_ERROR_VERSION = -6,\n"
    << "  " << g << "_CHECKPOINT_ERROR_WRONG_MODEL = -7,\n"
    << "  " << g << "_CHECKPOINT_ERROR_TRUNCATED = -8,\n"
    << "  " << g << "_CHECKPOINT_ERROR_CORRUPT = -9,\n"
    << "  " << g << "_CHECKPOINT_ERROR_NO_MEMORY = -10,\n"
    << "  " << g << "_CHECKPOINT_ERROR_UNSUPPORTED = -11\n"
    << "};\n\n"
    << "/* What a code from the checkpoint functions means. */\n"
    << "static inline const char *" << p
    << "_checkpoint_error_message(int code) {\n"
    << "  switch (code) {\n";
  std::string unsupported =
      "checkpoints cannot hold this model's variables (a name longer than " +
      std::to_string(kMaxNameBytes) + " bytes or a rank above " +
      std::to_string(kMaxRank) + ")";
  const std::pair<const char *, std::string> messages[] = {
      {"OK", "success"},
      {"ERROR_ARGUMENT", "a null state or path"},
      {"ERROR_OPEN", "cannot open or create the file (errno says why)"},
      {"ERROR_READ", "cannot read the file (errno says why)"},
      {"ERROR_WRITE",
       "cannot write the checkpoint, or rename it into place (errno says "
       "why); the file at the path is unchanged"},
      {"ERROR_NOT_A_CHECKPOINT",
       "not a checkpoint (it does not start with TAPECKP1)"},
      {"ERROR_VERSION", "a checkpoint version this program cannot read"},
      {"ERROR_WRONG_MODEL",
       "a checkpoint of a different model: its variables (names, dtypes, "
       "shapes) are not this model's"},
      {"ERROR_TRUNCATED",
       "truncated: shorter than a checkpoint of this model"},
      {"ERROR_CORRUPT",
       "corrupted: checksum mismatch, or bytes after the checkpoint"},
      {"ERROR_NO_MEMORY", "out of memory"},
      {"ERROR_UNSUPPORTED", unsupported},
  };
  for (const auto &[code, text] : messages)
    h << "  case " << g << "_CHECKPOINT_" << code << ":\n    return "
      << cStringLiteral(text) << ";\n";
  h << "  default:\n    break;\n  }\n  return \"unknown checkpoint error code\";\n}\n\n";

  if (!checkCheckpointable(m.variables)) {
    // A file the runtime could not read back is never written.
    for (const char *fn : {"load", "save"})
      h << "static inline int " << p << "_state_" << fn << "_checkpoint("
        << (fn[0] == 's' ? "const " : "") << st
        << " *s, const char *path) {\n  (void)s;\n  (void)path;\n  return "
        << g << "_CHECKPOINT_ERROR_UNSUPPORTED;\n}\n\n";
    return;
  }

  std::string layout = layoutBytes(m.variables);
  uint64_t size = fileBytes(m.variables);
  h << "/* This model's layout as a checkpoint holds it after the step count:\n"
    << "   the variable count, then each variable's name length, name, dtype\n"
    << "   (0 float32, 1 float64, 2 int32, 3 int64), rank and dimensions,\n"
    << "   little-endian. A file with other bytes here is another model's. */\n"
    << "static const unsigned char " << p << "_checkpoint_layout["
    << layout.size() << "] = {";
  for (size_t i = 0; i < layout.size(); ++i)
    h << (i % 16 ? " " : "\n  ") << unsigned(uint8_t(layout[i]))
      << (i + 1 < layout.size() ? "," : "");
  h << "\n};\n\n"
    << "/* zlib's CRC-32 (reflected polynomial 0xEDB88320, as llvm::crc32),\n"
    << "   the checksum a checkpoint ends with: `crc` of the bytes before, then\n"
    << "   `n` more bytes (start from 0). The table lives on the stack: no\n"
    << "   global state, any thread. */\n"
    << "static inline uint32_t " << p
    << "_checkpoint_crc32(uint32_t crc, const unsigned char *b, size_t n) {\n"
    << "  uint32_t table[256];\n"
    << "  uint32_t i, k;\n"
    << "  for (i = 0; i < 256; ++i) {\n"
    << "    uint32_t c = i;\n"
    << "    for (k = 0; k < 8; ++k)\n"
    << "      c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;\n"
    << "    table[i] = c;\n"
    << "  }\n"
    << "  crc = ~crc;\n"
    << "  while (n--)\n"
    << "    crc = table[(crc ^ *b++) & 0xFFu] ^ (crc >> 8);\n"
    << "  return ~crc;\n"
    << "}\n\n"
    << "/* The little-endian integer of `n` bytes at `b`, and back. */\n"
    << "static inline uint64_t " << p
    << "_checkpoint_get(const unsigned char *b, int n) {\n"
    << "  uint64_t v = 0;\n"
    << "  while (n--)\n"
    << "    v = (v << 8) | b[n];\n"
    << "  return v;\n"
    << "}\n\n"
    << "static inline void " << p
    << "_checkpoint_put(unsigned char *b, uint64_t v, int n) {\n"
    << "  int i;\n"
    << "  for (i = 0; i < n; ++i, v >>= 8)\n"
    << "    b[i] = (unsigned char)(v & 0xFFu);\n"
    << "}\n\n"
    << "/* Checks the `n` bytes read from a file (at most one more than a\n"
    << "   checkpoint of this model has), in the runtime's order: magic,\n"
    << "   checksum, version, layout, size. Nothing read is used as a size or\n"
    << "   an offset. */\n"
    << "static inline int " << p
    << "_checkpoint_check(const unsigned char *b, size_t n) {\n"
    << "  const size_t size = (size_t)" << size << "ull;\n"
    << "  const size_t layout_at = " << kPreambleBytes << ";\n"
    << "  const size_t layout_bytes = sizeof " << p << "_checkpoint_layout;\n"
    << "  if (n < 8)\n"
    << "    return n && memcmp(b, \"TAPECKP1\", n)\n"
    << "               ? " << g << "_CHECKPOINT_ERROR_NOT_A_CHECKPOINT\n"
    << "               : " << g << "_CHECKPOINT_ERROR_TRUNCATED;\n"
    << "  if (memcmp(b, \"TAPECKP1\", 8))\n"
    << "    return " << g << "_CHECKPOINT_ERROR_NOT_A_CHECKPOINT;\n"
    << "  /* Only a file of exactly this model's size was read whole. */\n"
    << "  if (n == size && " << p << "_checkpoint_crc32(0, b, n - 4) !=\n"
    << "                       (uint32_t)" << p
    << "_checkpoint_get(b + n - 4, 4))\n"
    << "    return " << g << "_CHECKPOINT_ERROR_CORRUPT;\n"
    << "  if (n < 12)\n"
    << "    return " << g << "_CHECKPOINT_ERROR_TRUNCATED;\n"
    << "  if (" << p << "_checkpoint_get(b + 8, 4) != " << kVersion << ")\n"
    << "    return " << g << "_CHECKPOINT_ERROR_VERSION;\n"
    << "  if (n > layout_at &&\n"
    << "      memcmp(b + layout_at, " << p << "_checkpoint_layout,\n"
    << "             n - layout_at < layout_bytes ? n - layout_at\n"
    << "                                          : layout_bytes))\n"
    << "    return " << g << "_CHECKPOINT_ERROR_WRONG_MODEL;\n"
    << "  if (n < size)\n"
    << "    return " << g << "_CHECKPOINT_ERROR_TRUNCATED;\n"
    << "  if (n > size)\n"
    << "    return " << g << "_CHECKPOINT_ERROR_CORRUPT;\n"
    << "  return " << g << "_CHECKPOINT_OK;\n"
    << "}\n\n"
    << "/* Loads the checkpoint at `path` into `s`: every variable, optimizer\n"
    << "   slots included, and the step count. The file is read whole (" << size
    << "\n   bytes, into a temporary buffer) and checked before the state is\n"
    << "   touched: a load that fails leaves `s` as it was. */\n"
    << "static inline int " << p << "_state_load_checkpoint(" << st
    << " *s, const char *path) {\n"
    << "  const size_t size = (size_t)" << size << "ull;\n"
    << "  unsigned char *b;\n"
    << "  size_t n, at;\n"
    << "  int rc, i;\n"
    << "  FILE *f;\n"
    << "  if (!s || !path)\n"
    << "    return " << g << "_CHECKPOINT_ERROR_ARGUMENT;\n"
    << "  f = fopen(path, \"rb\");\n"
    << "  if (!f)\n"
    << "    return " << g << "_CHECKPOINT_ERROR_OPEN;\n"
    << "  b = (unsigned char *)malloc(size + 1);\n"
    << "  if (!b) {\n"
    << "    fclose(f);\n"
    << "    return " << g << "_CHECKPOINT_ERROR_NO_MEMORY;\n"
    << "  }\n"
    << "  /* One byte more than a checkpoint of this model: a longer file is\n"
    << "     noticed without being read. */\n"
    << "  n = fread(b, 1, size + 1, f);\n"
    << "  rc = ferror(f) ? " << g << "_CHECKPOINT_ERROR_READ : " << p
    << "_checkpoint_check(b, n);\n"
    << "  fclose(f);\n"
    << "  if (rc == " << g << "_CHECKPOINT_OK) {\n"
    << "    at = " << kPreambleBytes << " + sizeof " << p
    << "_checkpoint_layout;\n"
    << "    for (i = 0; i < " << g << "_NUM_VARIABLES; ++i) {\n"
    << "      memcpy(s->variables[i], b + at, " << p
    << "_variables[i].bytes);\n"
    << "      at += " << p << "_variables[i].bytes;\n"
    << "    }\n"
    << "    s->step_count = " << p << "_checkpoint_get(b + 12, 8);\n"
    << "  }\n"
    << "  free(b);\n"
    << "  return rc;\n"
    << "}\n\n"
    << "/* Saves `s` to `path`: written to a new temporary next to it\n"
    << "   (\"<path>.tmp-c<8 hex digits>\", created exclusively, so two writers\n"
    << "   never share one), flushed and closed, then renamed over `path`\n"
    << "   (atomic on POSIX systems: a reader sees the old file or the new\n"
    << "   one, never a part). On failure the temporary is removed and `path`\n"
    << "   is unchanged. Plain C cannot fsync: the rename is not durable\n"
    << "   across a power loss, and a program killed while saving leaves its\n"
    << "   temporary behind. */\n"
    << "static inline int " << p << "_state_save_checkpoint(const " << st
    << " *s, const char *path) {\n"
    << "  unsigned char head[" << kPreambleBytes << "], tail[4];\n"
    << "  uint32_t crc;\n"
    << "  size_t length;\n"
    << "  char *tmp;\n"
    << "  FILE *f = NULL;\n"
    << "  int rc = " << g << "_CHECKPOINT_OK, i;\n"
    << "  unsigned attempt;\n"
    << "  if (!s || !path)\n"
    << "    return " << g << "_CHECKPOINT_ERROR_ARGUMENT;\n"
    << "  length = strlen(path) + 16;\n"
    << "  tmp = (char *)malloc(length);\n"
    << "  if (!tmp)\n"
    << "    return " << g << "_CHECKPOINT_ERROR_NO_MEMORY;\n"
    << "  for (attempt = 0; attempt < 16 && !f; ++attempt) {\n"
    << "    unsigned long salt = (unsigned long)time(NULL) ^\n"
    << "                         ((unsigned long)clock() << 12) ^\n"
    << "                         (unsigned long)((uintptr_t)&f >> 4) ^\n"
    << "                         attempt * 0x9E3779B9ul;\n"
    << "    snprintf(tmp, length, \"%s.tmp-c%08lx\", path, salt & 0xFFFFFFFFul);\n"
    << "    errno = 0;\n"
    << "    f = fopen(tmp, \"wbx\");\n"
    << "#ifdef EEXIST\n"
    << "    if (!f && errno != EEXIST)\n"
    << "      break;\n"
    << "#endif\n"
    << "  }\n"
    << "  if (!f) {\n"
    << "    free(tmp);\n"
    << "    return " << g << "_CHECKPOINT_ERROR_OPEN;\n"
    << "  }\n"
    << "  memcpy(head, \"TAPECKP1\", 8);\n"
    << "  " << p << "_checkpoint_put(head + 8, " << kVersion << ", 4);\n"
    << "  " << p << "_checkpoint_put(head + 12, s->step_count, 8);\n"
    << "  crc = " << p << "_checkpoint_crc32(0, head, sizeof head);\n"
    << "  crc = " << p << "_checkpoint_crc32(crc, " << p
    << "_checkpoint_layout,\n"
    << "                          sizeof " << p << "_checkpoint_layout);\n"
    << "  if (fwrite(head, 1, sizeof head, f) != sizeof head ||\n"
    << "      fwrite(" << p << "_checkpoint_layout, 1, sizeof " << p
    << "_checkpoint_layout, f) !=\n"
    << "          sizeof " << p << "_checkpoint_layout)\n"
    << "    rc = " << g << "_CHECKPOINT_ERROR_WRITE;\n"
    << "  for (i = 0; rc == " << g << "_CHECKPOINT_OK && i < " << g
    << "_NUM_VARIABLES; ++i) {\n"
    << "    size_t bytes = " << p << "_variables[i].bytes;\n"
    << "    crc = " << p
    << "_checkpoint_crc32(crc, (const unsigned char *)s->variables[i], "
       "bytes);\n"
    << "    if (fwrite(s->variables[i], 1, bytes, f) != bytes)\n"
    << "      rc = " << g << "_CHECKPOINT_ERROR_WRITE;\n"
    << "  }\n"
    << "  " << p << "_checkpoint_put(tail, crc, 4);\n"
    << "  if (rc == " << g
    << "_CHECKPOINT_OK && fwrite(tail, 1, 4, f) != 4)\n"
    << "    rc = " << g << "_CHECKPOINT_ERROR_WRITE;\n"
    << "  if (fclose(f) != 0 && rc == " << g << "_CHECKPOINT_OK)\n"
    << "    rc = " << g << "_CHECKPOINT_ERROR_WRITE;\n"
    << "  if (rc == " << g << "_CHECKPOINT_OK && rename(tmp, path) != 0)\n"
    << "    rc = " << g << "_CHECKPOINT_ERROR_WRITE;\n"
    << "  if (rc != " << g << "_CHECKPOINT_OK)\n"
    << "    remove(tmp);\n"
    << "  free(tmp);\n"
    << "  return rc;\n"
    << "}\n\n";
}

/// Every library the object needs, in the order a link takes them.
static std::vector<std::string> linkLibraries(const CompileOptions &options) {
  std::vector<std::string> libraries;
  if (options.threads != 1)
    libraries.insert(libraries.end(), {"-L/usr/lib/llvm-22/lib", "-lomp"});
  if (options.blas)
    libraries.push_back("-lopenblas");
  // OpenMPI's library (mpicc links the same); MPICH's is -lmpi too.
  if (options.dataParallel)
    libraries.push_back("-lmpi");
  libraries.push_back("-lm");
  return libraries;
}

/// Where the object's initial values come from: the module, or trained
/// values (`baked`) after `stepCount` steps.
struct InitialOrigin {
  bool baked = false;
  uint64_t stepCount = 0;
  std::string source;
};

static std::string generateHeader(const LoweredModule &m,
                                  const CompileOptions &options,
                                  const std::string &p,
                                  const InitialOrigin &origin) {
  std::ostringstream h;
  std::string guard = p;
  for (char &c : guard)
    c = char(std::toupper(c));
  size_t n = m.variables.size();
  size_t slots = n ? n : 1;
  // Every library the object needs, in one line a build can copy: libm
  // always (LLVM calls expf, logf, ... for scalar math), CBLAS with --blas,
  // LLVM's OpenMP runtime with threads.
  std::string libraries = llvm::join(linkLibraries(options), " ");
  h << "/* Generated by tape-compile from " << cCommentText(options.sourceName)
    << ". Do not edit. */\n"
    << "/* Link with: " << libraries << " */\n";
  if (options.dataParallel)
    h << "/* Data-parallel, for an MPI library of " << options.mpiABI
      << "'s ABI: the training\n"
      << "   functions call MPI. Build the program with mpicc (or link\n"
      << "   -lmpi), call MPI_Init before the first training call and run\n"
      << "   it with mpirun -np N. Every process calls them together, each\n"
      << "   on its own batch (process r of N: rows r*B to r*B+B-1 of each\n"
      << "   global batch of N*B rows); the gradients are averaged over the\n"
      << "   processes inside the call, so the variables stay the same on\n"
      << "   all of them, and each scalar float output is the mean over the\n"
      << "   processes. */\n";
  if (origin.baked)
    h << "/* Initial values: trained, from " << cCommentText(origin.source)
      << " (step count " << origin.stepCount << "). */\n";
  h
    << "#ifndef " << guard << "_TAPE_H\n#define " << guard << "_TAPE_H\n\n"
    << "#include <errno.h>\n#include <stddef.h>\n#include <stdint.h>\n"
    << "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    << "#include <time.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "/* State layout: every variable, optimizer slots included, in the\n"
    << "   order the compiled functions take their buffers. */\n"
    << "enum { " << guard << "_NUM_VARIABLES = " << n << " };\n\n"
    << "typedef struct " << p << "_variable_info {\n"
    << "  const char *name;\n  const char *dtype;\n  int rank;\n"
    << "  const int64_t *shape;\n  int64_t num_elements;\n  size_t bytes;\n"
    << "  int trainable;\n} " << p << "_variable_info;\n\n";
  for (size_t i = 0; i < n; ++i) {
    const VariableSpec &v = m.variables[i];
    h << "static const int64_t " << p << "_shape_" << i << "[] = {";
    for (size_t d = 0; d < v.spec.shape.size(); ++d)
      h << (d ? ", " : "") << v.spec.shape[d];
    if (v.spec.shape.empty())
      h << "0";
    h << "};\n";
  }
  h << "static const " << p << "_variable_info " << p << "_variables["
    << slots << "] = {\n";
  for (size_t i = 0; i < n; ++i) {
    const VariableSpec &v = m.variables[i];
    h << "  {" << cStringLiteral(v.name) << ", \"" << dtypeName(v.spec.dtype)
      << "\", "
      << v.spec.shape.size() << ", " << p << "_shape_" << i << ", "
      << v.spec.numElements() << ", " << v.spec.numBytes() << ", "
      << (v.trainable ? 1 : 0) << "},\n";
  }
  if (!n)
    h << "  {0, 0, 0, 0, 0, 0, 0},\n";
  h << "};\n\n";
  for (size_t i = 0; i < n; ++i)
    if (classifyInitial(m.initial[i]) != InitialImage::Zero)
      h << "extern const unsigned char " << p << "_init_" << i << "[];\n";
  h << "\n/* One instance of the model: a buffer per variable. Independent\n"
    << "   instances may be used from different threads. */\n"
    << "typedef struct " << p << "_state {\n  void *variables[" << slots
    << "];\n  /* Scratch memory for the functions' temporaries. */\n"
    << "  void *workspace;\n  uint64_t step_count;\n} " << p << "_state;\n\n"
    << "/* Frees a state from " << p << "_state_create. */\n"
    << "static inline void " << p << "_state_free(" << p << "_state *s) {\n"
    << "  if (!s)\n    return;\n  for (int i = 0; i < " << guard
    << "_NUM_VARIABLES; ++i)\n    free(s->variables[i]);\n"
    << "  free(s->workspace);\n  free(s);\n}\n\n"
    << (origin.baked
            ? "/* A new state with every variable at its trained value and\n"
              "   the step count it was trained to, or NULL when out of\n"
              "   memory. */\n"
            : "/* A new state with every variable at its initial value, or NULL "
              "when\n   out of memory. */\n")
    << "static inline " << p << "_state *" << p << "_state_create(void) {\n"
    << "  " << p << "_state *s = (" << p << "_state *)calloc(1, sizeof *s);\n"
    << "  if (!s)\n    return NULL;\n";
  int64_t workspace = 64;
  for (const FunctionSpec &f : m.functions)
    workspace = std::max(workspace, f.workspaceBytes);
  h << "  s->workspace = aligned_alloc(64, " << (workspace + 63) / 64 * 64
    << ");\n  if (!s->workspace) {\n    " << p
    << "_state_free(s);\n    return NULL;\n  }\n";
  for (size_t i = 0; i < n; ++i) {
    size_t bytes = m.variables[i].spec.numBytes();
    size_t padded = (bytes + 63) / 64 * 64;
    h << "  s->variables[" << i << "] = aligned_alloc(64, "
      << (padded ? padded : 64) << ");\n"
      << "  if (!s->variables[" << i << "]) {\n    " << p
      << "_state_free(s);\n    return NULL;\n  }\n"
      ;
    std::string var = "s->variables[" + std::to_string(i) + "]";
    std::string init = p + "_init_" + std::to_string(i);
    switch (classifyInitial(m.initial[i])) {
    case InitialImage::Zero:
      h << "  memset(" << var << ", 0, " << bytes << ");\n";
      break;
    case InitialImage::Splat: {
      size_t element = bytes / m.variables[i].spec.numElements();
      h << "  for (size_t k = 0; k < " << bytes << "; k += " << element
        << ")\n    memcpy((char *)" << var << " + k, " << init << ", "
        << element << ");\n";
      break;
    }
    case InitialImage::Full:
      h << "  memcpy(" << var << ", " << init << ", " << bytes << ");\n";
      break;
    }
  }
  if (origin.stepCount)
    h << "  s->step_count = UINT64_C(" << origin.stepCount << ");\n";
  h << "  return s;\n}\n\n";
  emitCheckpointFunctions(h, m, p, guard);
  for (const FunctionSpec &f : m.functions) {
    h << "/* " << (f.isStep ? "Step" : "Host function") << " @" << f.name
      << (f.trains ? " (a training call: counts in step_count)"
                   : " (reads the variables only)")
      << ". */\n";
    std::ostringstream rawParams, params, args;
    for (size_t i = 0; i < n; ++i) {
      rawParams << (i ? ", " : "") << "void *state" << i;
      args << (i ? ", " : "") << "s->variables[" << i << "]";
    }
    params << p << "_state *s";
    for (size_t i = 0; i < f.inputs.size(); ++i) {
      std::string t = cType(f.inputs[i].dtype);
      rawParams << (rawParams.tellp() ? ", " : "") << "const " << t
                << " *in" << i;
      params << ", const " << t << " *in" << i << " /* " << f.inputs[i].str()
             << " */";
      args << (args.tellp() ? ", " : "") << "in" << i;
    }
    for (size_t i = 0; i < f.outputs.size(); ++i) {
      std::string t = cType(f.outputs[i].dtype);
      rawParams << (rawParams.tellp() ? ", " : "") << t << " *out" << i;
      params << ", " << t << " *out" << i << " /* " << f.outputs[i].str()
             << " */";
      args << (args.tellp() ? ", " : "") << "out" << i;
    }
    rawParams << (rawParams.tellp() ? ", " : "") << "void *workspace";
    args << (args.tellp() ? ", " : "") << "s->workspace";
    std::string raw = rawParams.str();
    h << "void " << p << "_" << f.name << "_raw(" << (raw.empty() ? "void" : raw)
      << ");\n"
      << "static inline void " << p << "_" << f.name << "(" << params.str()
      << ") {\n  " << p << "_" << f.name << "_raw(" << args.str() << ");\n"
      << (f.trains ? "  ++s->step_count;\n" : "") << "}\n\n";
  }
  h << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return h.str();
}

static llvm::json::Value specJSON(const TensorSpec &spec) {
  return llvm::json::Object{{"dtype", dtypeName(spec.dtype)},
                            {"shape", llvm::json::Array(spec.shape)}};
}

/// The `tape_model_metadata` text of a shared model: everything
/// Model::loadShared needs besides the code, versioned (kSharedModelVersion).
static std::string sharedMetadata(const LoweredModule &m,
                                  const CompileOptions &options,
                                  const AOTOptions &aot,
                                  const std::string &cpu,
                                  const InitialOrigin &origin) {
  const std::string &p = aot.prefix;
  llvm::json::Array variables, functions;
  for (size_t i = 0; i < m.variables.size(); ++i) {
    const VariableSpec &v = m.variables[i];
    InitialImage kind = classifyInitial(m.initial[i]);
    llvm::json::Object var{
        {"name", v.name},
        {"dtype", dtypeName(v.spec.dtype)},
        {"shape", llvm::json::Array(v.spec.shape)},
        {"trainable", v.trainable},
        {"initial", kind == InitialImage::Zero    ? "zero"
                    : kind == InitialImage::Splat ? "splat"
                                                  : "full"}};
    if (kind != InitialImage::Zero)
      var["symbol"] = p + "_init_" + std::to_string(i);
    variables.push_back(std::move(var));
  }
  for (const FunctionSpec &f : m.functions) {
    llvm::json::Array inputs, outputs;
    for (const TensorSpec &t : f.inputs)
      inputs.push_back(specJSON(t));
    for (const TensorSpec &t : f.outputs)
      outputs.push_back(specJSON(t));
    functions.push_back(llvm::json::Object{
        {"name", f.name},
        {"is_step", f.isStep},
        {"trains", f.trains},
        {"inputs", std::move(inputs)},
        {"outputs", std::move(outputs)},
        {"workspace_bytes", f.workspaceBytes},
        {"entry", p + "_" + f.name + "_packed"}});
  }
  llvm::json::Object root{
      {"format", kSharedModelFormat},
      {"version", kSharedModelVersion},
      {"prefix", p},
      {"source", options.sourceName},
      {"target_cpu", aot.targetCpu},
      {"cpu", cpu},
      {"initial_step_count", int64_t(origin.stepCount)},
      {"initial_source", origin.baked ? origin.source : std::string()},
      // The options that change what a call does or needs; fixed here.
      {"options",
       llvm::json::Object{{"check_numerics", options.checkNumerics},
                          {"strict", options.strict},
                          {"blas", options.blas},
                          {"threads", options.threads},
                          {"vectorize", options.vectorize},
                          {"vector_bits", options.vectorBits},
                          {"data_parallel", options.dataParallel},
                          {"mpi_abi", options.mpiABI}}},
      {"variables", std::move(variables)},
      {"functions", std::move(functions)}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(root));
  return text;
}

/// `void <raw-name minus _raw>_packed(void **args)`: calls `raw` with
/// `*(T *)args[i]` as its i-th argument (the convention of MLIR's packed
/// JIT entry points, so that Model::call drives both the same way).
static void addPackedWrapper(llvm::Module &module, llvm::Function &raw,
                             const std::string &name) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *ptr = llvm::PointerType::getUnqual(ctx);
  auto *type =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false);
  auto *fn = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                    name, module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  llvm::SmallVector<llvm::Value *> args;
  for (llvm::Argument &a : raw.args()) {
    llvm::Value *slot =
        b.CreateConstGEP1_64(ptr, fn->getArg(0), a.getArgNo());
    llvm::Value *at = b.CreateLoad(ptr, slot);
    args.push_back(b.CreateLoad(a.getType(), at));
  }
  b.CreateCall(&raw, args);
  b.CreateRetVoid();
}

Status tape::linkSharedLibrary(const std::string &object,
                               const std::vector<std::string> &libraries,
                               const std::string &path) {
  std::vector<std::string> candidates;
  if (const char *chosen = std::getenv("TAPE_CC"); chosen && *chosen)
    candidates.push_back(chosen);
  else
    candidates = {"cc", "clang", "gcc"};
  std::string driver;
  for (const std::string &name : candidates)
    if (auto found = llvm::sys::findProgramByName(name);
        found && llvm::sys::fs::can_execute(*found)) {
      driver = *found;
      break;
    }
  if (driver.empty())
    return Status::error(
        "cannot link '" + path + "': --shared links with the system's C "
        "compiler driver, and none was found (" +
        (std::getenv("TAPE_CC") && *std::getenv("TAPE_CC")
             ? "TAPE_CC=" + candidates[0] + " is not an executable"
             : llvm::join(candidates, ", ") +
                   " on PATH; set TAPE_CC to choose one") +
        ")");
  llvm::SmallString<128> objectPath, logPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "tape-shared", "o", objectPath))
    return Status::error("cannot create a temporary object file: " +
                         ec.message());
  llvm::FileRemover removeObject(objectPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec);
    if (ec)
      return Status::error("cannot write '" + objectPath.str().str() +
                           "': " + ec.message());
    os << object;
    os.close();
    if (os.has_error())
      return Status::error("cannot write '" + objectPath.str().str() + "'");
  }
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("tape-shared", "log", logPath))
    return Status::error("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeLog(logPath);
  std::vector<std::string> argv = {driver, "-shared", "-o", path,
                                   objectPath.str().str()};
  argv.insert(argv.end(), libraries.begin(), libraries.end());
  std::vector<llvm::StringRef> args(argv.begin(), argv.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(driver, args, std::nullopt, redirects,
                                     0, 0, &error);
  if (rc != 0) {
    std::string log;
    if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
      log = (*buffer)->getBuffer().trim().str();
    llvm::sys::fs::remove(path);
    return Status::error("cannot link '" + path + "' with '" +
                         llvm::join(args, " ") + "'" +
                         (error.empty() ? "" : ": " + error) +
                         (log.empty() ? "" : ":\n" + log));
  }
  return Status::success();
}

Status tape::compileToObject(const std::string &source, CompileOptions options,
                             const AOTOptions &aot, AOTArtifacts &out) {
  if (!isCIdentifier(aot.prefix))
    return Status::error("the prefix must be a C identifier, got '" +
                         aot.prefix + "'");
  if (options.checkNumerics)
    return Status::error("check-numerics needs the runtime's checkers; it is "
                         "available in tape-run and the C/C++ API, not in an "
                         "AOT object");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(llvm::Triple(triple), error);
  if (!target)
    return Status::error("no target for " + triple + ": " + error);
  bool native = aot.targetCpu == "native";
  std::string cpu = native ? llvm::sys::getHostCPUName().str() : aot.targetCpu;
  std::string features;
  if (native) {
    llvm::SubtargetFeatures f;
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      f.AddFeature(feature.first(), feature.second);
    features = f.getString();
  }
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      llvm::Triple(triple), cpu, features, targetOptions, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return Status::error("cannot create a target machine for " + cpu);
  // The register tiles fit the target's vector registers.
  const llvm::MCSubtargetInfo *subtarget = tm->getMCSubtargetInfo();
  if (!options.vectorBits)
    options.vectorBits = vectorBitsForFeatures(
        [](const char *name, void *ctx) {
          return static_cast<const llvm::MCSubtargetInfo *>(ctx)
              ->checkFeatures(std::string("+") + name);
        },
        const_cast<llvm::MCSubtargetInfo *>(subtarget));

  LoweredModule lowered;
  if (Status s = lowerToLLVM(source, options, lowered); !s)
    return s;
  out.warnings = lowered.warnings;
  // Trained values replace the module's initial values here, before the
  // object and the header are made from them: both take them from
  // `lowered.initial` alone.
  InitialOrigin origin;
  if (aot.initialState) {
    // The callback starts from the module's initial values and replaces
    // those it has (all of them from a checkpoint, some from a .npz).
    InitialState state;
    state.values = std::move(lowered.initial);
    if (Status s = aot.initialState(lowered.variables, state); !s)
      return s;
    if (state.values.size() != lowered.variables.size())
      return Status::error(state.source + ": " +
                           std::to_string(state.values.size()) +
                           " values for the model's " +
                           std::to_string(lowered.variables.size()) +
                           " variables");
    for (size_t i = 0; i < state.values.size(); ++i)
      if (state.values[i].spec() != lowered.variables[i].spec)
        return Status::error(
            state.source + ": the value of variable '" +
            lowered.variables[i].name + "' is " +
            state.values[i].spec().str() + ", the model's variable " +
            lowered.variables[i].spec.str());
    lowered.initial = std::move(state.values);
    origin = {true, state.stepCount, state.source};
  }
  // A function's name becomes part of C identifiers in the header and of
  // the object's symbols: only names that are C identifiers can.
  // (Variable names appear only inside string literals, escaped.)
  for (const FunctionSpec &f : lowered.functions)
    if (!isCIdentifier(f.name))
      return Status::error(
          "function @\"" + cCommentText(f.name) +
          "\" cannot be compiled ahead of time: its name becomes part of C "
          "identifiers in the header, and it is not one (letters, digits "
          "and '_', not starting with a digit); rename it");
  const std::string &prefix = aot.prefix;
  // Every function gets the prefix (public ones `<prefix>_<name>_raw`, the
  // header's names), so none can take a C library function's name; the
  // initial values become constants.
  mlir::ModuleOp module = *lowered.module;
  if (Status s = renameDefinedFunctions(
          module,
          [&](llvm::StringRef name, bool isPublic) {
            return isPublic ? prefix + "_" + name.str() + "_raw"
                            : prefix + "_" + name.str();
          });
      !s)
    return s;
  mlir::OpBuilder b(module.getBodyRegion());
  // Zero initial values are a memset in the header and a splat is stored
  // once: only values that vary take their full size in the object (and,
  // once copied into the state, in the process's resident memory).
  for (size_t i = 0; i < lowered.variables.size(); ++i) {
    const Tensor &t = lowered.initial[i];
    InitialImage kind = classifyInitial(t);
    if (kind == InitialImage::Zero)
      continue;
    size_t size = t.spec().numBytes();
    if (kind == InitialImage::Splat)
      size /= t.spec().numElements();
    auto bytes =
        llvm::ArrayRef<char>(static_cast<const char *>(t.data()), size);
    auto type = mlir::LLVM::LLVMArrayType::get(b.getI8Type(), bytes.size());
    mlir::LLVM::GlobalOp::create(
        b, module.getLoc(), type, /*isConstant=*/true,
        mlir::LLVM::Linkage::External, prefix + "_init_" + std::to_string(i),
        b.getStringAttr(llvm::StringRef(bytes.data(), bytes.size())),
        /*alignment=*/64);
  }

  if (aot.sharedMetadata) {
    std::string text =
        sharedMetadata(lowered, options, aot, cpu, origin) + '\0';
    auto type = mlir::LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
    mlir::LLVM::GlobalOp::create(b, module.getLoc(), type,
                                 /*isConstant=*/true,
                                 mlir::LLVM::Linkage::External,
                                 kSharedModelSymbol, b.getStringAttr(text),
                                 /*alignment=*/1);
  }

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext,
                                   options.sourceName);
  if (!llvmModule)
    return Status::error("cannot translate to LLVM IR");

  if (aot.sharedMetadata)
    for (const FunctionSpec &f : lowered.functions) {
      std::string base = prefix + "_" + f.name;
      llvm::Function *raw = llvmModule->getFunction(base + "_raw");
      if (!raw)
        return Status::error("no compiled function " + base + "_raw");
      addPackedWrapper(*llvmModule, *raw, base + "_packed");
    }
  llvmModule->setTargetTriple(llvm::Triple(triple));
  llvmModule->setDataLayout(tm->createDataLayout());
  if (llvm::Error e =
          mlir::makeOptimizingTransformer(kLLVMOptLevel, 0, tm.get())(llvmModule.get()))
    return Status::error("LLVM optimisation failed: " +
                         llvm::toString(std::move(e)));

  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, os, nullptr,
                              llvm::CodeGenFileType::ObjectFile))
    return Status::error("the target cannot emit object files");
  codegen.run(*llvmModule);
  out.object.assign(object.begin(), object.end());
  out.header = generateHeader(lowered, options, prefix, origin);
  out.linkLibraries = linkLibraries(options);
  return Status::success();
}
