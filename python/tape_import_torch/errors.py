"""The importer's one error type: what could not be imported, where in the
user's source it came from, and what to do about it.

Printed as the compiler prints its diagnostics (error, then notes, then
the fix):

    model.py:14: error: cannot import 'torch.nn.functional.hardswish'
    model.py:14: note: in module 'features.3' (MyBlock), called here:
        x = F.hardswish(self.conv(x))
    note: tape-import-torch imports the ops listed in docs/ImportTorch.md
"""


class ImportFailure(Exception):
    def __init__(self, message, where=None, notes=(), fix=None):
        super().__init__(message)
        self.message = message
        self.where = where          # a Where, or None
        self.notes = list(notes)
        self.fix = fix

    def render(self):
        prefix = self.where.prefix() if self.where else "tape-import-torch: "
        out = [f"{prefix}error: {self.message}"]
        if self.where:
            out += self.where.notes()
        out += [f"note: {n}" for n in self.notes]
        if self.fix:
            out.append(f"fix: {self.fix}")
        return "\n".join(out)

    def __str__(self):
        return self.render()


class Where:
    """Where a graph node came from: the module it belongs to (a path such
    as `layer1.0.conv1`, '' for the root, and its class), and the line of
    the user's source that created it."""

    def __init__(self, module_path="", module_type=None, filename=None,
                 lineno=None, line=None):
        self.module_path = module_path
        self.module_type = module_type
        self.filename = filename
        self.lineno = lineno
        self.line = line

    def prefix(self):
        if self.filename:
            return f"{self.filename}:{self.lineno}: "
        return "tape-import-torch: "

    def describe_module(self):
        kind = f" ({self.module_type})" if self.module_type else ""
        if self.module_path:
            return f"module '{self.module_path}'{kind}"
        return f"the top-level module{kind}"

    def notes(self):
        if self.module_type is None and not self.module_path:
            # A line outside any module's forward (loading the file).
            return [f"{self.prefix()}note: here:\n    {self.line.strip()}"] \
                if self.line else []
        text = f"{self.prefix()}note: in {self.describe_module()}"
        if self.line:
            text += ", at:\n    " + self.line.strip()
        return [text]
