"""For checkpoint-npz.test: how Python's zipfile and NumPy read each
checkpoint given, and which ZIP64 records it has.

  zip_records.py FILE...
"""
import struct
import sys
import zipfile

import numpy as np


def zip64_extras(data, signature, fixed, name_at, extra_at):
    """How many headers with `signature` have a ZIP64 extra field (0x0001)."""
    count, at = 0, data.find(signature)
    while at >= 0:
        n, x = struct.unpack_from("<HH", data, at + name_at)
        extra = data[at + extra_at + n: at + extra_at + n + x]
        while len(extra) >= 4:
            kind, size = struct.unpack_from("<HH", extra)
            count += kind == 1
            extra = extra[4 + size:]
        at = data.find(signature, at + fixed)
    return count


for path in sys.argv[1:]:
    data = open(path, "rb").read()
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        bad = z.testzip()
    with np.load(path) as archive:
        files = archive.files
    local = zip64_extras(data, b"PK\x03\x04", 30, 26, 30)
    central = zip64_extras(data, b"PK\x01\x02", 46, 28, 46)
    print("%s: %d entries, CRCs %s, numpy.load reads %d (%s ... %s), "
          "zip64 extras %d local %d central, zip64 end record %s"
          % (path.rsplit("/", 1)[-1], len(infos),
             "good" if bad is None else "bad in " + bad, len(files),
             files[0], files[-1], local, central,
             data.rfind(b"PK\x06\x06") >= 0 and data.rfind(b"PK\x06\x07") >= 0))
