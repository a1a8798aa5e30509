"""tape.random_uniform's generator in numpy: Philox4x32-10 (Salmon et al.,
SC'11), checked on Random123's known-answer vectors when imported, and
the uniform values the op draws from it (its documentation's formula).
Used by random_reference.py and by the importer's dropout test."""
import numpy as np

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    """ctr: four uint64 arrays holding 32-bit words; key: two ints."""
    c = [np.asarray(w, dtype=np.uint64) for w in ctr]
    k0, k1 = key
    for _ in range(10):
        p0 = c[0] * np.uint64(M0)
        p1 = c[2] * np.uint64(M1)
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & np.uint64(MASK),
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & np.uint64(MASK)]
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return c


# Random123's kat_vectors for philox4x32_10.
KAT = [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
       ((MASK,) * 4, (MASK, MASK), (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
       ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
        (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]
for ctr, key, want in KAT:
    got = tuple(int(w) for w in philox4x32_10(ctr, key))
    assert got == want, (ctr, key, [hex(w) for w in got])


def uniform(shape, seed, step, dtype):
    """The values tape.random_uniform {seed} draws at step `step`."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.uint64)
    seed &= (1 << 64) - 1
    bits = philox4x32_10([i & np.uint64(MASK), i >> np.uint64(32),
                          np.uint64(step & MASK), np.uint64(step >> 32)],
                         (seed & MASK, seed >> 32))
    if dtype == np.float32:
        v = (bits[0] >> np.uint64(8)).astype(np.float64) * 2.0**-24
    else:
        v = ((bits[0] << np.uint64(32) | bits[1]) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return v.astype(dtype).reshape(shape)
