//===- Target.cpp - The machine an AOT object is compiled for -------------===//

#include "tape/Compiler/Target.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

#include <mutex>

using namespace tape;

/// Every target LLVM was built with (Debian's: all of them), registered
/// once; this machine's alone is not enough to cross-compile.
static void initializeTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
}

/// The triple of `choice` (LLVM's default for this machine when empty),
/// normalized, and its registered target.
static Status lookUp(const std::string &choice, llvm::Triple &triple,
                     const llvm::Target *&target) {
  initializeTargets();
  std::string text = choice.empty() ? llvm::sys::getDefaultTargetTriple()
                                    : llvm::Triple::normalize(choice);
  triple = llvm::Triple(text);
  std::string error;
  target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return Status::error("unknown target triple '" + choice + "': " + error +
                         " (a triple such as x86_64-linux-gnu or "
                         "aarch64-linux-gnu)");
  return Status::success();
}

/// The name among `names` closest to `name` (edit distance), or "".
template <typename Range>
static std::string closest(llvm::StringRef name, const Range &names) {
  std::string best;
  unsigned bestDistance = ~0u;
  for (const auto &kv : names) {
    unsigned d = name.edit_distance(kv.Key, true, bestDistance);
    if (d < bestDistance) {
      bestDistance = d;
      best = kv.Key;
    }
  }
  return bestDistance <= std::max<size_t>(2, name.size() / 3) ? best : "";
}

std::string CompileTarget::describe() const {
  std::string text = triple + ", CPU " + cpu;
  if (native)
    return text + " (this machine's, with its features)";
  return features.empty() ? text : text + ", features " + features;
}

Status tape::createTarget(const TargetChoice &choice, CompileTarget &out) {
  llvm::Triple triple;
  const llvm::Target *target;
  if (Status s = lookUp(choice.triple, triple, target); !s)
    return s;
  std::string name = triple.str();
  if (!triple.isArch64Bit() || !triple.isLittleEndian())
    return Status::error(
        "target triple '" + name +
        "' is not 64-bit little-endian: tape compiles for 64-bit "
        "little-endian targets (its index type is 64 bits, its files "
        "little-endian)");
  llvm::Triple host(llvm::sys::getDefaultTargetTriple());
  bool hostArch = triple.getArch() == host.getArch();
  std::string cpu = choice.cpu;
  if (cpu.empty())
    cpu = hostArch && choice.triple.empty() ? "native" : "generic";
  bool native = cpu == "native";
  if (native && !hostArch)
    return Status::error("--mcpu=native is this machine's CPU (" +
                         host.getArchName().str() + "), not one of target '" +
                         name + "'; name one (--mcpu=help lists them)");
  if (native)
    cpu = llvm::sys::getHostCPUName().str();

  // The target's CPUs and features, to check names against before LLVM
  // sees them (it warns, ignores them, and may fail later).
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!generic)
    return Status::error("target '" + name + "' has no subtarget information");
  if (!generic->isCPUStringValid(cpu)) {
    std::string near = closest(cpu, generic->getAllProcessorDescriptions());
    return Status::error(
        "unknown CPU '" + cpu + "' for target '" + name + "'" +
        (near.empty() ? "" : "; did you mean '" + near + "'?") +
        " (--mcpu=help lists the target's CPUs)");
  }
  llvm::SubtargetFeatures features;
  if (native)
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.first(), feature.second);
  llvm::SmallVector<llvm::StringRef> given;
  llvm::StringRef(choice.features).split(given, ',', -1, false);
  for (llvm::StringRef f : given) {
    f = f.trim();
    llvm::StringRef bare = f;
    if (!bare.consume_front("+") && !bare.consume_front("-"))
      return Status::error("CPU feature '" + f.str() + "' needs a sign: +" +
                           f.str() + " adds it, -" + f.str() + " removes it");
    bool known = llvm::any_of(
        generic->getAllProcessorFeatures(),
        [&](const llvm::SubtargetFeatureKV &kv) { return bare == kv.Key; });
    if (!known) {
      std::string near = closest(bare, generic->getAllProcessorFeatures());
      return Status::error(
          "unknown CPU feature '" + bare.str() + "' for target '" + name + "'" +
          (near.empty() ? "" : "; did you mean '" + near + "'?") +
          " (--mattr=help lists the target's features)");
    }
    features.AddFeature(f);
  }
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features.getString(), options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return Status::error("cannot create a target machine for '" + name +
                         "', CPU " + cpu);
  out.triple = name;
  out.cpu = cpu;
  out.features = native ? "" : choice.features;
  out.native = native;
  out.machine = std::move(machine);
  return Status::success();
}

Status tape::listTarget(const std::string &choice, bool features,
                        std::string &out) {
  llvm::Triple triple;
  const llvm::Target *target;
  if (Status s = lookUp(choice, triple, target); !s)
    return s;
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!info)
    return Status::error("target '" + triple.str() +
                         "' has no subtarget information");
  out = (features ? "CPU features of " : "CPUs of ") + triple.str() + ":\n";
  if (features)
    for (const llvm::SubtargetFeatureKV &kv : info->getAllProcessorFeatures())
      out += "  " + std::string(kv.Key) + " - " + kv.Desc + "\n";
  else
    for (const llvm::SubtargetSubTypeKV &kv :
         info->getAllProcessorDescriptions())
      out += "  " + std::string(kv.Key) + "\n";
  return Status::success();
}
