#!/usr/bin/env python3
"""Drives a language server through one editor session over stdio (LSP's
JSON-RPC with Content-Length framing) and prints what it answered, for
FileCheck:

  lsp_session.py SERVER ACTION... [--timeout SECONDS]

  open FILE                 textDocument/didOpen; prints the diagnostics the
                            server publishes for it (1-based LINE:COL)
  change FILE=TEXTFILE      textDocument/didChange: FILE now holds the text of
                            TEXTFILE (full sync); prints the diagnostics
  hover FILE:LINE:COL       textDocument/hover (1-based); prints its text
  definition FILE:LINE:COL  textDocument/definition; prints FILE:LINE:COL of
                            each location

The session is initialize, initialized, the actions, shutdown and exit, and
the server must then exit with status 0. Every answer is awaited at most
--timeout seconds (default 30): a server that does not answer in time,
answers with an error or exits early fails the script (status 1) and is
killed, so a test can never hang.
"""
import json
import os
import queue
import subprocess
import sys
import threading
import time


class Failure(Exception):
    pass


class Session:
    def __init__(self, server, timeout):
        self.timeout = timeout
        self.proc = subprocess.Popen([server], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.messages = queue.Queue()
        self.stderr = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:  # headers, up to the empty line
                line = out.readline()
                if not line:
                    self.messages.put(None)  # the server closed stdout
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                self.messages.put(Failure("a message without Content-Length"))
                return
            body = out.read(length)
            try:
                self.messages.put(json.loads(body))
            except ValueError as e:
                self.messages.put(Failure("unreadable message: %s" % e))
                return

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def send(self, message):
        message["jsonrpc"] = "2.0"
        body = json.dumps(message).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        request_id = self.next_id
        self.send({"id": request_id, "method": method, "params": params})
        reply = self.wait(lambda m: m.get("id") == request_id and
                          "method" not in m, method)
        if "error" in reply:
            raise Failure("%s failed: %s" % (method, reply["error"]))
        return reply.get("result")

    def wait(self, wanted, what):
        """The first message `wanted` accepts; others are dropped (log
        messages), requests from the server get an empty result."""
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no answer to %s within %g s" %
                              (what, self.timeout))
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if message is None:
                raise Failure("the server closed its output waiting for %s"
                              % what)
            if isinstance(message, Failure):
                raise message
            if wanted(message):
                return message
            if "method" in message and "id" in message:
                self.send({"id": message["id"], "result": None})

    def close(self):
        """shutdown and exit; the server's exit status."""
        self.request("shutdown", None)
        self.notify("exit", None)
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise Failure("the server did not exit within %g s of 'exit'"
                          % self.timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def uri(path):
    return "file://" + os.path.abspath(path)


def position(spec):
    """FILE:LINE:COL (1-based) -> (FILE, LSP position, 0-based)."""
    path, line, col = spec.rsplit(":", 2)
    return path, {"line": int(line) - 1, "character": int(col) - 1}


def where(location):
    start = location["range"]["start"]
    name = os.path.basename(location["uri"])
    return "%s:%d:%d" % (name, start["line"] + 1, start["character"] + 1)


SEVERITY = {1: "error", 2: "warning", 3: "info", 4: "hint"}


def run(session, actions):
    init = session.request("initialize", {
        "processId": os.getpid(), "rootUri": None, "capabilities": {}})
    if not isinstance(init, dict):
        raise Failure("initialize returned %r, not the server's capabilities"
                      % (init,))
    caps = init.get("capabilities", {})
    print("initialized: hover %s, definition %s" %
          (bool(caps.get("hoverProvider")),
           bool(caps.get("definitionProvider"))))
    session.notify("initialized", {})
    versions = {}
    for action, arg in actions:
        if action in ("open", "change"):
            path, _, source = arg.partition("=")
            with open(source or path, encoding="utf-8") as f:
                text = f.read()
            if action == "open":
                versions[path] = 1
                session.notify("textDocument/didOpen", {"textDocument": {
                    "uri": uri(path), "languageId": "mlir", "version": 1,
                    "text": text}})
            elif path not in versions:
                raise Failure("change %s: open the file first" % path)
            else:
                versions[path] += 1
                session.notify("textDocument/didChange", {
                    "textDocument": {"uri": uri(path),
                                     "version": versions[path]},
                    "contentChanges": [{"text": text}]})
            published = session.wait(
                lambda m: m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri(path),
                "the diagnostics of " + path)
            diagnostics = published["params"]["diagnostics"]
            print("diagnostics %s: %d" % (os.path.basename(path),
                                          len(diagnostics)))
            for d in diagnostics:
                start = d["range"]["start"]
                print("  %d:%d: %s: %s" % (
                    start["line"] + 1, start["character"] + 1,
                    SEVERITY.get(d.get("severity"), "?"), d["message"]))
                for note in d.get("relatedInformation", []):
                    print("    note %s: %s" % (where(note["location"]),
                                               note["message"]))
        else:
            path, pos = position(arg)
            if path not in versions:
                raise Failure("%s %s: open the file first" % (action, arg))
            params = {"textDocument": {"uri": uri(path)}, "position": pos}
            label = "%s:%d:%d" % (os.path.basename(path), pos["line"] + 1,
                                  pos["character"] + 1)
            if action == "hover":
                result = session.request("textDocument/hover", params)
                print("hover %s:" % label)
                contents = (result or {}).get("contents", {})
                value = contents.get("value", "") \
                    if isinstance(contents, dict) else str(contents)
                for line in value.splitlines():
                    print("  | " + line)
            else:
                result = session.request("textDocument/definition", params)
                if isinstance(result, dict):
                    result = [result]
                print("definition %s -> %s" % (
                    label, ", ".join(where(l) for l in result or [])
                    or "nothing"))
    status = session.close()
    print("exit status %d" % status)
    return status


def main(argv):
    args, timeout = list(argv[1:]), 30.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    if len(args) < 1 or len(args) % 2 != 1 or any(
            a not in ("open", "change", "hover", "definition") for a in args[1::2]):
        sys.stderr.write(__doc__)
        return 2
    actions = list(zip(args[1::2], args[2::2]))
    session = Session(args[0], timeout)
    try:
        return 0 if run(session, actions) == 0 else 1
    except (Failure, OSError, ValueError, KeyError, TypeError,
            AttributeError) as e:
        sys.stdout.flush()
        sys.stderr.write("lsp_session.py: %s\n" % e)
        sys.stderr.write("".join(session.stderr[-20:]))
        return 1
    finally:
        session.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
