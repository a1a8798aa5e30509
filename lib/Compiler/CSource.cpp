//===- CSource.cpp - Text from IR made safe inside generated C ------------===//

#include "CSource.h"

#include <algorithm>

using namespace tape;

std::string tape::cStringLiteral(llvm::StringRef s) {
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

std::string tape::cLongStringLiteral(llvm::StringRef s,
                                     llvm::StringRef indent) {
  std::string out;
  do {
    if (!out.empty())
      out += "\n" + indent.str();
    out += cStringLiteral(s.take_front(64));
    s = s.drop_front(std::min<size_t>(64, s.size()));
  } while (!s.empty());
  return out;
}

std::string tape::cCommentText(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    if (!out.empty() && ((c == '/' && out.back() == '*') ||
                         (c == '*' && out.back() == '/')))
      out += ' ';
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}
