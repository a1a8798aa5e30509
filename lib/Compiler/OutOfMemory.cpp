//===- OutOfMemory.cpp - Tools end with a message when memory runs out ----===//

#include "tape/Compiler/OutOfMemory.h"

#include "llvm/Support/ErrorHandling.h"

#include <cstring>
#include <unistd.h>

static const char *toolName = "tape";

/// Called with no memory to spare: writes with write(2), allocates nothing.
static void onOutOfMemory(void *, const char *reason, bool) {
  auto put = [](const char *s) { (void)!::write(2, s, std::strlen(s)); };
  put(toolName);
  put(": out of memory (");
  put(reason ? reason : "an allocation failed");
  put(")\n");
  ::_exit(1);
}

void tape::exitOnOutOfMemory(const char *tool) {
  toolName = tool;
  llvm::install_bad_alloc_error_handler(onOutOfMemory);
}
