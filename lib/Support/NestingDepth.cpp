//===- NestingDepth.cpp - Bound the nesting of IR text before parsing -----===//

#include "tape/Support/NestingDepth.h"

using namespace tape;

std::optional<NestingTooDeep> tape::findTooDeepNesting(llvm::StringRef text) {
  unsigned depth = 0, line = 1;
  size_t lineStart = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (c) {
    case '\n':
      ++line;
      lineStart = i + 1;
      break;
    case '"': // a string literal, with escapes
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\')
          ++i;
      break;
    case '/': // a comment to the end of the line
      if (i + 1 < text.size() && text[i + 1] == '/')
        while (i + 1 < text.size() && text[i + 1] != '\n')
          ++i;
      break;
    case '(':
    case '[':
    case '{':
    case '<':
      if (++depth > kMaxNestingDepth)
        return NestingTooDeep{
            line, unsigned(i - lineStart + 1),
            "the IR nests deeper than " + std::to_string(kMaxNestingDepth) +
                " levels of brackets and regions here; the parser is "
                "recursive, and such input is refused before parsing"};
      break;
    case ')':
    case ']':
    case '}':
    case '>':
      if (c == '>' && i > 0 && text[i - 1] == '-')
        break; // "->"
      if (depth)
        --depth;
      break;
    default:
      break;
    }
  }
  return std::nullopt;
}

std::string tape::checkNestingDepth(llvm::StringRef text,
                                    llvm::StringRef name) {
  std::optional<NestingTooDeep> tooDeep = findTooDeepNesting(text);
  if (!tooDeep)
    return "";
  return name.str() + ":" + std::to_string(tooDeep->line) + ":" +
         std::to_string(tooDeep->column) + ": error: " + tooDeep->message;
}
