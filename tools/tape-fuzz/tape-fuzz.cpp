//===- tape-fuzz.cpp - libFuzzer target: bytes -> compiler and runtime ----===//
//
// Takes arbitrary bytes, routed by their first bytes:
//  * "\x93NUMPY": a .npy file, parsed by the runtime's reader (parseNpy);
//  * "PK\x03\x04": a .npz archive, opened from memory by NpzReader (libzip:
//    the directory and every entry checked) and each array read; then, as
//    a checkpoint (a .npz with metadata.json), loaded into a state of a
//    fixed small model (an Adam MLP step with f32 and i64 variables) by
//    parseCheckpoint;
//  * "TAPECKP1": a checkpoint of the earlier format (version 1), loaded the
//    same way;
//  * anything else: MLIR text (split at `// -----` like `tape-opt
//    -split-input-file`). Each chunk is checked for nesting depth as the
//    tools check it, parsed with the tape dialect and every upstream
//    dialect the compiler registers, verified, and run, each on a fresh
//    clone of the module, through tape-differentiate,
//    tape-verify-assignments and the whole tape-to-llvm pipeline down to
//    the LLVM dialect. A chunk the pipeline compiles, whose state is at
//    most 16 MiB and whose steps take at most 1 MiB of inputs and contain
//    no loop (whose trip count could be anything), is then compiled by the
//    runtime (Model::compile, the JIT) and each step called twice on
//    zero-filled inputs.
// Every diagnostic is captured and dropped. What counts as a finding: a
// crash, an assertion, a sanitizer report, a leak, a hang or an
// out-of-memory; a diagnostic, a failed pass or an error status is the
// expected outcome.
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
#include "tape/Dialect/Tape/TapeOps.h"
#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Model.h"
#include "tape/Runtime/Npy.h"
#include "tape/Support/NestingDepth.h"

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

bool runPasses(ModuleOp module, const char *name,
               void (*build)(OpPassManager &)) {
  OwningOpRef<ModuleOp> clone(module.clone());
  PassManager pm(module.getContext());
  build(pm);
  bool ok = succeeded(pm.run(*clone));
  if (std::getenv("TAPE_FUZZ_VERBOSE"))
    llvm::errs() << "tape-fuzz: " << name << (ok ? " succeeded" : " failed")
                 << "\n";
  return ok;
}

/// Whether the runtime may compile and run `module`: a small state, small
/// inputs and no loops (a valid program may loop for as long as it likes,
/// which is not a finding).
bool smallEnoughToRun(ModuleOp module) {
  constexpr int64_t kMaxBytes = 16 << 20, kMaxInputBytes = 1 << 20;
  int64_t state = 0;
  bool ok = true;
  auto bytesOf = [](Type type) -> int64_t {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasStaticShape() ||
        !shaped.getElementType().isIntOrFloat())
      return 0;
    return shaped.getNumElements() *
           ((shaped.getElementTypeBitWidth() + 7) / 8);
  };
  module.walk([&](Operation *op) {
    if (auto variable = dyn_cast<mlir::tape::VariableOp>(op))
      state += bytesOf(variable.getValueType());
    if (auto fn = dyn_cast<FunctionOpInterface>(op)) {
      int64_t in = 0;
      for (Type t : fn.getArgumentTypes())
        in += bytesOf(t);
      ok &= in <= kMaxInputBytes;
    }
    StringRef name = op->getName().getStringRef();
    ok &= !name.contains("while") && !name.ends_with(".for") &&
          !name.contains("forall") && !name.contains("parallel");
  });
  return ok && state <= kMaxBytes;
}

/// Compiles `chunk` with the runtime and calls each public function twice
/// on zero-filled inputs.
void compileAndRun(const std::string &chunk) {
  std::unique_ptr<::tape::Model> model;
  ::tape::CompileOptions options;
  options.sourceName = "fuzz-input";
  if (!::tape::Model::compile(chunk, options, model))
    return;
  ::tape::State state(*model);
  for (const ::tape::FunctionSpec &f : model->functions()) {
    std::vector<::tape::Tensor> in, out;
    for (const ::tape::TensorSpec &spec : f.inputs)
      in.emplace_back(spec);
    for (const ::tape::TensorSpec &spec : f.outputs)
      out.emplace_back(spec);
    std::vector<const ::tape::Tensor *> inPtrs;
    std::vector<::tape::Tensor *> outPtrs;
    for (::tape::Tensor &t : in)
      inPtrs.push_back(&t);
    for (::tape::Tensor &t : out)
      outPtrs.push_back(&t);
    for (int k = 0; k < 2; ++k)
      (void)model->call(f.name, state, inPtrs, outPtrs);
  }
}

/// The model whose state fuzzed checkpoints are loaded into: f32 weights
/// and biases, Adam's slots and its i64 step counts.
const char *kCheckpointModel = R"mlir(
tape.variable @w : tensor<3x2xf32> = dense<0.5>
tape.variable @b : tensor<2xf32> = #tape.zeros
tape.step @train_step(%x: tensor<4x3xf32>) -> tensor<f32> {
  %hw = tape.handle @w : !tape.resource<tensor<3x2xf32>>
  %hb = tape.handle @b : !tape.resource<tensor<2xf32>>
  %t, %loss = tape.record {
    %w = tape.read %hw : !tape.resource<tensor<3x2xf32>>
    %b = tape.read %hb : !tape.resource<tensor<2xf32>>
    %e = tensor.empty() : tensor<4x2xf32>
    %z = arith.constant 0.0 : f32
    %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
    %y = linalg.matmul ins(%x, %w : tensor<4x3xf32>, tensor<3x2xf32>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32>
    %s0 = tensor.empty() : tensor<f32>
    %s1 = linalg.fill ins(%z : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
    %s = linalg.reduce ins(%y : tensor<4x2xf32>) outs(%s1 : tensor<f32>) dimensions = [0, 1]
      (%a: f32, %acc: f32) {
        %sum = arith.addf %a, %acc : f32
        linalg.yield %sum : f32
      }
    %sb = linalg.reduce ins(%b : tensor<2xf32>) outs(%s : tensor<f32>) dimensions = [0]
      (%a: f32, %acc: f32) {
        %sum = arith.addf %a, %acc : f32
        linalg.yield %sum : f32
      }
    tape.yield %sb : tensor<f32>
  } : tensor<f32>
  %g:2 = tape.gradient %t (%loss : tensor<f32>) wrt (%hw, %hb : !tape.resource<tensor<3x2xf32>>, !tape.resource<tensor<2xf32>>)
  tape.apply_gradients #tape.adam<learning_rate = 0.001> (%g#0, %g#1 : tensor<3x2xf32>, tensor<2xf32>) to (%hw, %hb : !tape.resource<tensor<3x2xf32>>, !tape.resource<tensor<2xf32>>)
  tape.return %loss : tensor<f32>
}
)mlir";

void fuzzCheckpoint(llvm::StringRef bytes) {
  static ::tape::Model *model = [] {
    std::unique_ptr<::tape::Model> m;
    ::tape::CompileOptions options;
    ::tape::Status s = ::tape::Model::compile(kCheckpointModel, options, m);
    if (!s) {
      llvm::errs() << "tape-fuzz: the checkpoint model does not compile:\n"
                   << s.str() << "\n";
      std::abort();
    }
    return m.release(); // lives as long as the process
  }();
  ::tape::State state(*model);
  ::tape::Status s = ::tape::parseCheckpoint("fuzz-input", bytes, state);
  if (std::getenv("TAPE_FUZZ_VERBOSE"))
    llvm::errs() << "tape-fuzz: checkpoint: " << (s ? "loaded" : s.message)
                 << "\n";
}

/// A .npz archive: opened from the bytes, then every array read (each at
/// most what deflate can expand the input to, so a few MiB here).
void fuzzNpz(llvm::StringRef bytes) {
  static const bool verbose = std::getenv("TAPE_FUZZ_VERBOSE") != nullptr;
  std::unique_ptr<::tape::NpzReader> reader;
  ::tape::Status s = ::tape::NpzReader::openBytes("fuzz-input", bytes, reader);
  if (verbose)
    llvm::errs() << "tape-fuzz: npz: "
                 << (s ? std::to_string(reader->size()) + " arrays"
                       : s.message)
                 << "\n";
  if (!s)
    return;
  for (size_t i = 0; i < reader->size(); ++i) {
    ::tape::Tensor tensor;
    s = reader->read(i, std::nullopt, ::tape::NpyReadOptions(), tensor,
                     nullptr);
    if (verbose)
      llvm::errs() << "tape-fuzz: npz: " << reader->describe(i) << ": "
                   << (s ? "read " + tensor.spec().str() : s.message) << "\n";
  }
}

void fuzzChunk(const std::string &chunk) {
  static const bool verbose = std::getenv("TAPE_FUZZ_VERBOSE") != nullptr;
  if (!::tape::checkNestingDepth(chunk, "fuzz-input").empty()) {
    if (verbose)
      llvm::errs() << "tape-fuzz: refused (nesting too deep)\n";
    return;
  }
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
  bool compiles = runPasses(*module, "tape-to-llvm", [](OpPassManager &pm) {
    (void)mlir::tape::buildTapeToLLVMPipeline(pm, ::tape::CompileOptions());
  });
  if (compiles && smallEnoughToRun(*module)) {
    if (verbose)
      llvm::errs() << "tape-fuzz: compiling and running\n";
    compileAndRun(chunk);
  }
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
  if (rest.starts_with("\x93NUMPY")) {
    ::tape::Tensor tensor;
    ::tape::Status s = ::tape::parseNpy("fuzz-input", rest, tensor);
    if (std::getenv("TAPE_FUZZ_VERBOSE"))
      llvm::errs() << "tape-fuzz: npy: "
                   << (s ? "read " + tensor.spec().str() : s.message) << "\n";
    return 0;
  }
  if (rest.starts_with("PK\x03\x04")) {
    fuzzNpz(rest);
    fuzzCheckpoint(rest);
    return 0;
  }
  if (rest.starts_with("TAPECKP1")) {
    fuzzCheckpoint(rest);
    return 0;
  }
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
