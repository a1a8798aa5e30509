//===- NestingGuard.cpp - Bound the nesting of what an editor sends -------===//
//
// Two threads forward the streams: the editor's messages to the server
// through a pipe that replaces stdin, and, from the first framed message on,
// the server's messages to the editor through a pipe that replaces stdout.
// The documents found too deep are remembered by URI, so that the server's
// diagnostics for them can be replaced.
//
//===----------------------------------------------------------------------===//

#include "NestingGuard.h"

#include "tape/Support/NestingDepth.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>

using namespace tape;
namespace json = llvm::json;

namespace {

/// Buffered reads from a file descriptor.
class Reader {
public:
  explicit Reader(int fd) : fd(fd) {}

  /// The next line with its '\n' (or what is left at the end); false at
  /// the end of the input.
  bool line(std::string &out) {
    for (;;) {
      size_t newline = buffer.find('\n', pos);
      if (newline != std::string::npos) {
        out = buffer.substr(pos, newline + 1 - pos);
        pos = newline + 1;
        return true;
      }
      if (!fill()) {
        out = buffer.substr(pos);
        pos = buffer.size();
        return !out.empty();
      }
    }
  }

  /// The next `n` bytes; false if the input ends first.
  bool bytes(size_t n, std::string &out) {
    while (buffer.size() - pos < n)
      if (!fill())
        return false;
    out = buffer.substr(pos, n);
    pos += n;
    return true;
  }

private:
  bool fill() {
    buffer.erase(0, pos);
    pos = 0;
    char chunk[65536];
    for (;;) {
      ssize_t got = ::read(fd, chunk, sizeof(chunk));
      if (got > 0) {
        buffer.append(chunk, size_t(got));
        return true;
      }
      if (got < 0 && errno == EINTR)
        continue;
      return false;
    }
  }

  int fd;
  std::string buffer;
  size_t pos = 0;
};

bool writeAll(int fd, llvm::StringRef data) {
  while (!data.empty()) {
    ssize_t put = ::write(fd, data.data(), data.size());
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0)
      return false;
    data = data.drop_front(size_t(put));
  }
  return true;
}

/// What comes next on a stream: a message in LSP's framing (its header
/// lines and its body, as read), or a line outside any framing.
struct Unit {
  std::string headers;
  std::optional<std::string> body;
};

bool readUnit(Reader &in, Unit &unit) {
  std::string line;
  if (!in.line(line))
    return false;
  unit.headers = line;
  unit.body.reset();
  llvm::StringRef header(line);
  size_t length;
  if (!header.consume_front_insensitive("content-length:") ||
      header.trim().getAsInteger(10, length))
    return true; // not a message: passes as it is
  while (in.line(line)) {
    unit.headers += line;
    if (llvm::StringRef(line).trim().empty())
      break;
  }
  std::string body;
  if (!in.bytes(length, body))
    return true; // cut short: what was read passes, the stream ends
  unit.body = std::move(body);
  return true;
}

bool writeUnit(int fd, const Unit &unit) {
  return writeAll(fd, unit.headers) && (!unit.body || writeAll(fd, *unit.body));
}

/// The JSON of a message; none for a line outside any framing or a body
/// that is not JSON (both pass as they are).
std::optional<json::Value> parse(const Unit &unit) {
  if (!unit.body)
    return std::nullopt;
  llvm::Expected<json::Value> parsed = json::parse(*unit.body);
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return std::nullopt;
  }
  return std::move(*parsed);
}

std::string frame(const json::Value &message) {
  std::string body;
  llvm::raw_string_ostream(body) << message;
  return "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct Guard {
  std::mutex mutex;
  /// The diagnostic of each document found too deep, by URI.
  llvm::StringMap<json::Value> tooDeep;
  int editorIn = -1, toServer = -1, editorOut = -1;
  std::thread output;
  bool outputStarted = false;
};

/// The editor's text for the server: the nesting error of a document too
/// deep is remembered, and the server gets its line breaks only.
void guardText(Guard &guard, llvm::StringRef uri, json::Value &text) {
  std::optional<llvm::StringRef> content = text.getAsString();
  if (!content)
    return;
  std::optional<NestingTooDeep> tooDeep = findTooDeepNesting(*content);
  std::lock_guard<std::mutex> lock(guard.mutex);
  if (!tooDeep) {
    guard.tooDeep.erase(uri);
    return;
  }
  json::Object start{{"line", tooDeep->line - 1},
                     {"character", tooDeep->column - 1}};
  json::Object end{{"line", tooDeep->line - 1},
                   {"character", tooDeep->column}};
  guard.tooDeep.insert_or_assign(
      uri, json::Object{{"range", json::Object{{"start", std::move(start)},
                                               {"end", std::move(end)}}},
                        {"severity", 1},
                        {"source", "tape-lsp-server"},
                        {"message", tooDeep->message}});
  text = std::string(content->count('\n'), '\n');
}

/// Whether `message` from the editor opened, changed or closed a document
/// (then the texts in it are guarded).
bool guardDocument(Guard &guard, json::Object &message) {
  std::optional<llvm::StringRef> method = message.getString("method");
  json::Object *params = message.getObject("params");
  json::Object *document = params ? params->getObject("textDocument") : nullptr;
  std::optional<llvm::StringRef> uri =
      document ? document->getString("uri") : std::nullopt;
  if (!method || !uri)
    return false;
  if (*method == "textDocument/didOpen") {
    if (json::Value *text = document->get("text"))
      guardText(guard, *uri, *text);
    return true;
  }
  if (*method == "textDocument/didChange") {
    if (json::Array *changes = params->getArray("contentChanges"))
      for (json::Value &change : *changes)
        if (json::Object *object = change.getAsObject())
          if (json::Value *text = object->get("text"))
            guardText(guard, *uri, *text);
    return true;
  }
  if (*method == "textDocument/didClose") {
    std::lock_guard<std::mutex> lock(guard.mutex);
    guard.tooDeep.erase(*uri);
  }
  return false;
}

/// The server's messages to the editor: the diagnostics of a document too
/// deep become its nesting error.
void serverToEditor(Guard *guard, int fromServer) {
  Reader in(fromServer);
  Unit unit;
  while (readUnit(in, unit)) {
    std::optional<json::Value> message = parse(unit);
    json::Object *object = message ? message->getAsObject() : nullptr;
    json::Object *params = object ? object->getObject("params") : nullptr;
    if (params && object->getString("method") ==
                      llvm::StringRef("textDocument/publishDiagnostics")) {
      std::optional<llvm::StringRef> uri = params->getString("uri");
      std::lock_guard<std::mutex> lock(guard->mutex);
      auto it = uri ? guard->tooDeep.find(*uri) : guard->tooDeep.end();
      if (it != guard->tooDeep.end()) {
        (*params)["diagnostics"] = json::Array{it->second};
        if (!writeAll(guard->editorOut, frame(*message)))
          return;
        continue;
      }
    }
    if (!writeUnit(guard->editorOut, unit))
      return;
  }
}

/// From the first message on, the server's output goes through
/// serverToEditor (before it, --help and --version print as they are).
bool startOutput(Guard &guard) {
  std::lock_guard<std::mutex> lock(guard.mutex);
  if (guard.outputStarted)
    return true;
  int fromServer[2];
  if (::pipe(fromServer) != 0)
    return false;
  guard.editorOut = ::dup(STDOUT_FILENO);
  if (guard.editorOut < 0 || ::dup2(fromServer[1], STDOUT_FILENO) < 0)
    return false;
  ::close(fromServer[1]);
  guard.output = std::thread(serverToEditor, &guard, fromServer[0]);
  guard.outputStarted = true;
  return true;
}

/// The editor's messages to the server, documents guarded.
void editorToServer(Guard *guard) {
  Reader in(guard->editorIn);
  Unit unit;
  while (readUnit(in, unit)) {
    if (unit.body && !startOutput(*guard))
      break;
    std::optional<json::Value> message = parse(unit);
    json::Object *object = message ? message->getAsObject() : nullptr;
    bool written = object && guardDocument(*guard, *object)
                       ? writeAll(guard->toServer, frame(*message))
                       : writeUnit(guard->toServer, unit);
    if (!written)
      break;
  }
  ::close(guard->toServer); // the server sees the end of its input
}

} // namespace

int tape::serveBehindNestingGuard(llvm::function_ref<int()> server) {
  // Never freed, and held by a static so that it stays reachable (no leak
  // to LeakSanitizer): the thread reading the editor may outlive the
  // server, and static destructors would race with it.
  static Guard *guard = new Guard;
  int toServer[2];
  if (::pipe(toServer) != 0)
    return server();
  guard->editorIn = ::dup(STDIN_FILENO);
  if (guard->editorIn < 0 || ::dup2(toServer[0], STDIN_FILENO) < 0)
    return server();
  ::close(toServer[0]);
  guard->toServer = toServer[1];
  std::thread(editorToServer, guard).detach();

  int status = server();

  // The server is done: its output pipe closes (stdout is the editor's
  // again) and the rest of its output reaches the editor.
  llvm::outs().flush();
  std::unique_lock<std::mutex> lock(guard->mutex);
  if (guard->outputStarted) {
    ::dup2(guard->editorOut, STDOUT_FILENO);
    std::thread output = std::move(guard->output);
    lock.unlock();
    output.join();
  }
  return status;
}
