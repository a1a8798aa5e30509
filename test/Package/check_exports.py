#!/usr/bin/env python3
"""Every function an installed header declares is defined by the installed
library behind it (installed_package.sh, step 2).

The headers of libtape.so's API (tape-c/, tape/Runtime/) against the symbols
libtape.so exports; the compiler's headers (the dialect, the passes, the
pipelines, InitTape.h) against the symbols the installed static libraries
define. A declaration is collected from clang's AST of one translation unit
including every header of the group, limited to names containing "tape":
functions, methods, constructors and destructors, static data members and
extern variables that have external linkage and are not inline, defaulted,
deleted, pure or templates (a template is instantiated in the user's code).
A declaration without a definition in the library links in no user's
program: the library misses it (libtape.so once lacked the .npy/.npz
functions of Npy.h) or the header declares what nothing defines.

  check_exports.py --prefix PREFIX --clang CLANG++ --mlir-include DIR
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

FUNCTIONS = {"FunctionDecl", "CXXMethodDecl", "CXXConstructorDecl",
             "CXXDestructorDecl", "CXXConversionDecl"}
TEMPLATES = {"FunctionTemplateDecl", "ClassTemplateDecl",
             "ClassTemplatePartialSpecializationDecl", "TypeAliasTemplateDecl",
             "VarTemplateDecl"}


def declared(clang, prefix, mlir_include, headers):
    """Mangled names of the declarations the headers need a library for."""
    with tempfile.NamedTemporaryFile("w", suffix=".cpp") as tu:
        tu.write("".join('#include "%s"\n' % h for h in headers))
        tu.flush()
        dump = subprocess.run(
            [clang, "-std=c++17", "-fsyntax-only", "-x", "c++",
             "-I", os.path.join(prefix, "include"), "-I", mlir_include,
             "-Xclang", "-ast-dump=json", "-Xclang", "-ast-dump-filter=tape",
             tu.name], check=True, capture_output=True, text=True).stdout
    decoder, pos, roots = json.JSONDecoder(), 0, []
    while True:
        while pos < len(dump) and dump[pos].isspace():
            pos += 1
        if pos == len(dump):
            break
        root, pos = decoder.raw_decode(dump, pos)
        roots.append(root)

    needed, defined = set(), set()

    def walk(node, in_record):
        kind = node.get("kind")
        if kind in TEMPLATES or node.get("isImplicit"):
            return
        if kind == "NamespaceDecl" and not node.get("name"):
            return  # anonymous: internal linkage
        name = node.get("mangledName")
        inner = node.get("inner", [])
        if kind in FUNCTIONS and name:
            if (node.get("inline") or node.get("constexpr") or
                    node.get("explicitlyDefaulted") or
                    node.get("explicitlyDeleted") or node.get("pure") or
                    any(c.get("kind") == "CompoundStmt" for c in inner)):
                defined.add(name)  # the header defines it
            elif node.get("storageClass") != "static" or in_record:
                needed.add(name)
        elif kind == "VarDecl" and name:
            if node.get("init") or node.get("inline") or node.get("constexpr"):
                defined.add(name)
            elif (in_record and node.get("storageClass") == "static") or \
                    (not in_record and node.get("storageClass") == "extern"):
                needed.add(name)
        record = kind in ("CXXRecordDecl", "ClassTemplateSpecializationDecl")
        for child in inner:
            walk(child, in_record or record)

    for root in roots:
        walk(root, False)
    return needed - defined


def symbols(paths, dynamic):
    names = set()
    for path in paths:
        out = subprocess.run(
            ["nm", "--defined-only", "--format=posix"] +
            (["-D"] if dynamic else []) + [path],
            check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            fields = line.split()
            if len(fields) >= 2 and not line.endswith(":"):
                names.add(fields[0])
    return names


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names),
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--clang", required=True)
    parser.add_argument("--mlir-include", required=True)
    args = parser.parse_args()

    include = os.path.join(args.prefix, "include")
    headers = sorted(
        os.path.relpath(os.path.join(d, f), include)
        for d, _, files in os.walk(include) for f in files
        if f.endswith(".h"))
    libs = [os.path.join(d, f) for d, _, files in os.walk(args.prefix)
            for f in files if f == "libtape.so" or
            (f.startswith("libTape") and f.endswith(".a"))]
    libtape = [l for l in libs if l.endswith("libtape.so")]
    archives = [l for l in libs if l.endswith(".a")]

    def runtime_api(header):
        return header.startswith(("tape-c/", "tape/Runtime/"))

    groups = [
        ("libtape.so", [h for h in headers if runtime_api(h)],
         symbols(libtape, dynamic=True)),
        ("the static libraries",
         [h for h in headers if not runtime_api(h)],
         symbols(archives, dynamic=False)),
    ]
    failed = False
    for library, group, have in groups:
        if not group or not have:
            print("FAIL: %s: %d headers, %d symbols" %
                  (library, len(group), len(have)))
            failed = True
            continue
        needed = declared(args.clang, args.prefix, args.mlir_include, group)
        missing = sorted(needed - have)
        if missing:
            failed = True
            print("FAIL: %d of the %d functions and variables declared in "
                  "%s are not defined by %s:" %
                  (len(missing), len(needed), ", ".join(group), library))
            for name in demangle(missing):
                print("  " + name)
        else:
            print("%s: all %d functions and variables declared in its %d "
                  "installed headers are defined" %
                  (library, len(needed), len(group)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
