"""Checks that the tools' --help text is consistent (reference-pages.test).

  help_style.py TOOL...

From each tool's --help-hidden: every option of the tool's own sections
(not LLVM's "Generic Options") has a description that starts with a
capital letter (or a quote) and ends without a period, and every option
that takes a value names it (not LLVM's bare type names); the "Compile
options" section is the same in every tool, and an option two tools share
reads the same in both.
"""
import re
import subprocess
import sys

GENERIC_VALUE_NAMES = {"string", "int", "uint", "ulong", "long", "number",
                       "value", "uint64_t", "int64_t", "double"}


def sections(tool):
    text = subprocess.run([tool, "--help-hidden"], check=True,
                          capture_output=True, text=True).stdout
    text = text[text.index("OPTIONS:"):]
    result, current = {}, None
    for line in text.splitlines()[1:]:
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
            result[current] = {}
        elif current and line.startswith("  -"):
            m = re.match(r"  (-{1,2}[\w-]+)(=<[^>]*>| <[^>]*>)?\s+- (.*)$",
                         line)
            assert m, "%s: cannot read the line %r" % (tool, line)
            result[current][m.group(1)] = (m.group(2) or "", m.group(3))
    return result


def main():
    problems, counts, by_tool = [], [], {}
    for tool in sys.argv[1:]:
        options = {}
        for section, entries in sections(tool).items():
            if section == "Generic Options":
                continue
            for name, (value, desc) in entries.items():
                options[name] = (section, value, desc)
                where = "%s %s" % (tool, name)
                if not (desc[0].isupper() or desc[0] in "'\""):
                    problems.append(where + ": description starts with "
                                    + repr(desc[:20]))
                if desc.endswith("."):
                    problems.append(where + ": description ends with a "
                                    "period")
                if value and value.strip("= <>") in GENERIC_VALUE_NAMES:
                    problems.append(where + ": value named " + value +
                                    " (give it a value_desc)")
        by_tool[tool] = options
        counts.append("%d in %s" % (len(options), tool.rsplit("/", 1)[-1]))
    tools = list(by_tool)
    compile_sets = [{n: o for n, o in by_tool[t].items()
                     if o[0] == "Compile options"} for t in tools]
    for tool, options in zip(tools[1:], compile_sets[1:]):
        if options != compile_sets[0]:
            problems.append("the Compile options of %s and %s differ"
                            % (tools[0], tool))
    shared = set.intersection(*(set(by_tool[t]) for t in tools))
    for name in sorted(shared):
        if len({by_tool[t][name][1:] for t in tools}) != 1:
            problems.append("%s reads differently in %s" % (name,
                                                            ", ".join(tools)))
    for p in problems:
        print("FAIL " + p)
    if not problems:
        print("PASS options: %s; %d compile options, the same in every "
              "tool; %d options shared, each read the same"
              % (", ".join(counts), len(compile_sets[0]), len(shared)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
