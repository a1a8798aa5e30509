"""Copies IN to OUT with the one occurrence of OLD replaced by NEW (of the
same length): a shared model with altered metadata.

Usage: patch_bytes.py IN OUT OLD NEW
"""
import sys

src, dst, old, new = sys.argv[1:5]
old, new = old.encode(), new.encode()
assert len(old) == len(new), "OLD and NEW must have the same length"
data = open(src, "rb").read()
assert data.count(old) == 1, f"{old!r} occurs {data.count(old)} times"
open(dst, "wb").write(data.replace(old, new))
