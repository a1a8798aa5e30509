//===- FileNames.cpp - Symbols from IR as file and entry names ------------===//

#include "tape/Support/FileNames.h"

#include "llvm/ADT/StringExtras.h"

using namespace tape;

Status tape::fileNameForSymbol(const std::string &name, std::string &out) {
  out.clear();
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = name[i];
    if (llvm::isAlnum(c) || c == '_' || c == '-' || (c == '.' && i > 0))
      out += char(c);
    else {
      out += '%';
      out += llvm::hexdigit(c >> 4);
      out += llvm::hexdigit(c & 15);
    }
  }
  if (out.empty())
    return Status::error("an empty variable name cannot name a file");
  if (out.size() > kMaxFileNameBytes)
    return Status::error("variable name '" + name.substr(0, 64) +
                         "...' is too long to name a file (" +
                         std::to_string(out.size()) +
                         " bytes encoded; at most " +
                         std::to_string(kMaxFileNameBytes) + ")");
  return Status::success();
}

/// The value of the hex digit `c`, or -1.
static int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

std::string tape::symbolForFileName(llvm::StringRef fileName) {
  std::string out;
  out.reserve(fileName.size());
  for (size_t i = 0; i < fileName.size(); ++i) {
    if (fileName[i] == '%' && i + 2 < fileName.size() &&
        hexValue(fileName[i + 1]) >= 0 && hexValue(fileName[i + 2]) >= 0) {
      out += char(hexValue(fileName[i + 1]) * 16 + hexValue(fileName[i + 2]));
      i += 2;
    } else {
      out += fileName[i];
    }
  }
  return out;
}
