//===- tape-fuzz.cpp - libFuzzer target: bytes -> parse -> passes ---------===//
//
// Takes arbitrary bytes as MLIR text (split at `// -----` like
// `tape-opt -split-input-file`), parses each chunk with the tape dialect and
// every upstream dialect the compiler registers, verifies it and runs, each
// on a fresh clone of the module: tape-differentiate,
// tape-verify-assignments, and the whole tape-to-llvm pipeline down to the
// LLVM dialect. Every diagnostic is captured and dropped. What counts as a
// finding: a crash, an assertion, a sanitizer report, a leak, a hang or an
// out-of-memory; a diagnostic or a failed pass is the expected outcome.
//
// Built twice (tools/tape-fuzz/CMakeLists.txt): as `tape-fuzz` with
// libFuzzer's main when the compiler is clang with -fsanitize=fuzzer, and
// always as `tape-fuzz-replay` with ReplayMain.cpp, a plain driver that runs
// given files or folders once (the regression inputs in the normal suite).
//
//===----------------------------------------------------------------------===//

#include "tape/Dialect/Tape/Passes.h"
#include "tape/InitTape.h"
#include "tape/Pipelines/Pipelines.h"
#include "tape/Compiler/Compiler.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

using namespace mlir;

namespace {

/// Known upstream bug (MLIR 22): linalg.reduce/transpose/broadcast parse
/// `dimensions = ` / `permutation = ` with DenseI64ArrayAttr::parse and store
/// its result without checking it, so a malformed list stores a null
/// attribute and NamedAttrList::set crashes (SIGSEGV). Nothing downstream of
/// the parser can intercept that, so inputs that can reach it are skipped.
///
/// The screen over-approximates: it follows the MLIR lexer (identifiers,
/// numbers, string literals, `//` comments, NUL bytes skipped like blanks)
/// and skips a chunk when any `dimensions`/`permutation` keyword anywhere is
/// followed by `=` and then by anything but a well-formed `[i64, ...]` list
/// (decimal or hex, optional `-`, in range), whatever op it belongs to. It
/// scans twice, once honouring comments and once treating them as text (a
/// dialect attribute or type body `<...>` is not lexed for comments), and
/// skips if either scan objects, so a chunk the parser could crash on is
/// skipped unless it combines both kinds of ambiguity at once. The cost is
/// coverage of chunks with such a keyword that would not have crashed.
/// TAPE_FUZZ_NO_SCREEN=1 turns the screen off (to see whether upstream has
/// fixed the parser: test/Robustness/upstream-linalg-reduce-dimensions.mlir).
class Scanner {
public:
  Scanner(llvm::StringRef text, bool comments)
      : p(text.begin()), end(text.end()), comments(comments) {}

  /// True if some `dimensions =`/`permutation =` is not followed by a
  /// well-formed i64 list.
  bool findsMalformedList() {
    while (p < end) {
      char c = *p;
      if (c == '"') {
        skipString();
      } else if (comments && c == '/' && p + 1 < end && p[1] == '/') {
        skipComment();
      } else if (isDigit(c)) {
        skipNumber();
      } else if (isIdentStart(c)) {
        const char *start = p;
        while (p < end && isIdentChar(*p))
          ++p;
        llvm::StringRef word(start, p - start);
        if (word == "dimensions" || word == "permutation") {
          skipBlanks();
          if (p < end && *p == '=') {
            ++p;
            if (!wellFormedList())
              return true;
          }
        }
      } else {
        ++p;
      }
    }
    return false;
  }

private:
  static bool isDigit(char c) { return c >= '0' && c <= '9'; }
  static bool isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
  static bool isIdentStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  static bool isIdentChar(char c) {
    return isIdentStart(c) || isDigit(c) || c == '$' || c == '.';
  }

  void skipString() {
    ++p;
    while (p < end && *p != '"' && *p != '\n' && *p != '\v' && *p != '\f') {
      if (*p == '\\' && p + 1 < end)
        ++p;
      ++p;
    }
    if (p < end)
      ++p;
  }
  void skipComment() {
    while (p < end && *p != '\n' && *p != '\r')
      ++p;
  }
  /// The lexer's number token: 0x<hex>, or digits[.digits[e[+-]digits]].
  void skipNumber() {
    if (*p == '0' && p + 2 < end && p[1] == 'x' && isHex(p[2])) {
      p += 2;
      while (p < end && isHex(*p))
        ++p;
      return;
    }
    while (p < end && isDigit(*p))
      ++p;
    if (p >= end || *p != '.')
      return;
    ++p;
    while (p < end && isDigit(*p))
      ++p;
    if (p < end && (*p == 'e' || *p == 'E')) {
      if (p + 1 < end && isDigit(p[1])) {
        p += 2;
      } else if (p + 2 < end && (p[1] == '-' || p[1] == '+') &&
                 isDigit(p[2])) {
        p += 3;
      } else {
        return;
      }
      while (p < end && isDigit(*p))
        ++p;
    }
  }
  /// Blanks as the lexer skips them: space, tab, newlines, NUL (and
  /// comments, in the comment-aware scan).
  void skipBlanks() {
    while (p < end) {
      char c = *p;
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0')
        ++p;
      else if (comments && c == '/' && p + 1 < end && p[1] == '/')
        skipComment();
      else
        return;
    }
  }
  /// `-`? decimal integer of at most 18 digits (surely in range for i64
  /// however the parser checks it), not `-0`. Hex, longer or other spellings
  /// count as malformed: the screen errs on the side of skipping.
  bool wellFormedInteger() {
    bool negative = false;
    if (p < end && *p == '-') {
      negative = true;
      ++p;
      skipBlanks();
    }
    const char *start = p;
    while (p < end && isDigit(*p))
      ++p;
    llvm::StringRef digits(start, p - start);
    // The next character must end the token (`1abc` lexes as 1, abc; `1.`
    // as a float; `0x1` as hex).
    if (p < end && (isIdentChar(*p) || *p == '"'))
      return false;
    if (digits.empty() || digits.size() > 18)
      return false;
    if (negative && digits.find_first_not_of('0') == llvm::StringRef::npos)
      return false;
    return true;
  }
  bool wellFormedList() {
    skipBlanks();
    if (p >= end || *p != '[')
      return false;
    ++p;
    skipBlanks();
    if (p < end && *p == ']')
      return true;
    for (;;) {
      if (!wellFormedInteger())
        return false;
      skipBlanks();
      if (p < end && *p == ']')
        return true;
      if (p >= end || *p != ',')
        return false;
      ++p;
      skipBlanks();
    }
  }

  const char *p;
  const char *end;
  bool comments;
};

bool mayHitKnownUpstreamCrash(llvm::StringRef chunk) {
  static const bool disabled = std::getenv("TAPE_FUZZ_NO_SCREEN") != nullptr;
  if (disabled)
    return false;
  if (!chunk.contains("dimensions") && !chunk.contains("permutation"))
    return false;
  return Scanner(chunk, /*comments=*/true).findsMalformedList() ||
         Scanner(chunk, /*comments=*/false).findsMalformedList();
}

DialectRegistry *registry;

void runPasses(ModuleOp module, const char *name,
               void (*build)(OpPassManager &)) {
  OwningOpRef<ModuleOp> clone(module.clone());
  PassManager pm(module.getContext());
  build(pm);
  bool ok = succeeded(pm.run(*clone));
  if (std::getenv("TAPE_FUZZ_VERBOSE"))
    llvm::errs() << "tape-fuzz: " << name << (ok ? " succeeded" : " failed")
                 << "\n";
}

void fuzzChunk(const std::string &chunk) {
  static const bool verbose = std::getenv("TAPE_FUZZ_VERBOSE") != nullptr;
  if (mayHitKnownUpstreamCrash(chunk)) {
    if (verbose)
      llvm::errs() << "tape-fuzz: skipped (known upstream linalg crash)\n";
    return;
  }
  // A fresh context per chunk: nothing carries over between inputs, so a
  // finding reproduces from its input alone.
  MLIRContext context(*registry, MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  context.printStackTraceOnDiagnostic(false);
  // TAPE_FUZZ_VERBOSE=1 (triage only) prints what the discarded
  // diagnostics said and how far each chunk got.
  ScopedDiagnosticHandler discard(&context, [](Diagnostic &d) {
    if (verbose)
      llvm::errs() << "tape-fuzz: diagnostic: " << d.str() << "\n";
    return success();
  });

  ParserConfig config(&context, /*verifyAfterParse=*/false);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(chunk, config, "fuzz-input");
  if (!module || failed(verify(*module))) {
    if (verbose)
      llvm::errs() << "tape-fuzz: rejected by the parser or the verifier\n";
    return;
  }

  runPasses(*module, "tape-differentiate", [](OpPassManager &pm) {
    pm.addPass(mlir::tape::createTapeDifferentiate());
  });
  runPasses(*module, "tape-verify-assignments", [](OpPassManager &pm) {
    pm.addPass(mlir::tape::createTapeVerifyAssignments());
  });
  runPasses(*module, "tape-to-llvm", [](OpPassManager &pm) {
    (void)mlir::tape::buildTapeToLLVMPipeline(pm, ::tape::CompileOptions());
  });
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  registry = new DialectRegistry;
  ::tape::registerCompilerDialects(*registry);
  mlir::tape::registerTapePasses();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Chunks as -split-input-file makes them (at each `// -----`), each
  // copied into its own NUL-terminated buffer, as tape-opt does.
  llvm::StringRef rest(reinterpret_cast<const char *>(data), size);
  const llvm::StringRef marker = "// -----";
  for (;;) {
    size_t pos = rest.find(marker);
    fuzzChunk(rest.take_front(pos).str());
    if (pos == llvm::StringRef::npos)
      break;
    rest = rest.drop_front(pos + marker.size());
  }
  return 0;
}
