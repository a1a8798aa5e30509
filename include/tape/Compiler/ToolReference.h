//===- ToolReference.h - A tool's --help and its reference page -*- C++ -*-===//
//
// One description of a tool (name, summary, synopsis, details) from which
// both its --help overview and its reference page in docs/tools come, the
// page listing the tool's own option definitions, so the two never say
// different things. `ninja tape-doc` regenerates the pages
// (`<tool> --help-markdown=<file>`); test/Tools/reference-pages.test fails
// when a committed page is stale.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_COMPILER_TOOLREFERENCE_H
#define TAPE_COMPILER_TOOLREFERENCE_H

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace tape {

struct ToolDescription {
  /// "tape-run".
  const char *name;
  /// One line, no final period: "JIT-compile a train step and run it".
  const char *summary;
  /// The positional arguments, as --help's USAGE line shows them after
  /// "[options]": "<module.mlir | model.so>".
  const char *arguments;
  /// Paragraphs separated by blank lines; lines indented by two blanks are
  /// example commands.
  const char *details;
  /// The options shown, by category, in this order.
  std::vector<const llvm::cl::OptionCategory *> categories;
};

/// The overview --help prints before USAGE: "name: summary", then the
/// details.
std::string toolOverview(const ToolDescription &tool);

/// The tool's reference page, in Markdown: summary, synopsis, details and
/// every option of its categories (name, value, description), hidden ones
/// (--help-hidden) in a section of their own. Nothing in it depends on
/// the machine.
void printReferencePage(llvm::raw_ostream &os, const ToolDescription &tool);

/// The hidden flag --help-markdown[=<file>]: prints the reference page (to
/// the file, or to stdout) and exits, as --help does. Construct after the
/// tool's options, before parsing the command line.
class ReferencePageFlag {
public:
  explicit ReferencePageFlag(const ToolDescription &tool);

private:
  llvm::cl::opt<std::string> flag;
};

} // namespace tape

#endif // TAPE_COMPILER_TOOLREFERENCE_H
