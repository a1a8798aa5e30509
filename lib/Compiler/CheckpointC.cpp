//===- CheckpointC.cpp - Checkpoint functions in generated C --------------===//
//
// The generated code reads and writes the checkpoint format itself rather
// than linking a library: the object stays computation alone (it needs -lm
// and nothing else), file access is compiled by the program's compiler for
// its libc, and a program that never calls these static functions pays
// nothing. The archive it writes is a minimal one (stored entries, no
// compression, ZIP64 records only where needed) that numpy.load, libzip
// (tape-run) and unzip read; what it reads is any such archive, from tape's
// writers or numpy.savez, with every offset and size checked against the
// bytes read before use and every entry checked against its CRC-32.
//
// The C text is a template: `$p` stands for the prefix, `$G` for the
// prefix in capitals; the tables of this model (entry names, .npy header
// dicts, metadata text, fingerprint) come from tape/Support, the same
// functions the runtime writes checkpoints with.
//
//===----------------------------------------------------------------------===//

#include "CheckpointC.h"

#include "CSource.h"

#include "tape/Support/CheckpointFormat.h"
#include "tape/Support/NpyFormat.h"

#include "llvm/ADT/StringRef.h"

#include <algorithm>
#include <sstream>

using namespace tape;

/// `text` with `$p` and `$G` replaced.
static std::string instantiate(llvm::StringRef text, const std::string &p,
                               const std::string &g) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() &&
        (text[i + 1] == 'p' || text[i + 1] == 'G')) {
      out += text[i + 1] == 'p' ? p : g;
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

/// The error codes and their messages: every model has them.
static const char kCodes[] = R"c(/* Checkpoints: the files of tape-run --checkpoint and --resume and of the
   C API (tapeStateSaveCheckpoint, tapeStateLoadCheckpoint), so that a
   checkpoint moves both ways between training and this program: a NumPy
   .npz archive (numpy.load reads it) with one array per variable,
   optimizer slots included, and metadata.json with the step count and
   the fingerprint of the state layout. Plain C with libc (and POSIX's
   fsync where the program is compiled with POSIX): static functions here
   rather than code in the object, which stays computation alone; a
   program that does not call them pays nothing. Each returns
   $G_CHECKPOINT_OK (0) or one of the negative codes below;
   $p_checkpoint_error_message names it. */
enum {
  $G_CHECKPOINT_OK = 0,
  $G_CHECKPOINT_ERROR_ARGUMENT = -1,
  $G_CHECKPOINT_ERROR_OPEN = -2,
  $G_CHECKPOINT_ERROR_READ = -3,
  $G_CHECKPOINT_ERROR_WRITE = -4,
  $G_CHECKPOINT_ERROR_NOT_A_CHECKPOINT = -5,
  $G_CHECKPOINT_ERROR_VERSION = -6,
  $G_CHECKPOINT_ERROR_WRONG_MODEL = -7,
  $G_CHECKPOINT_ERROR_TRUNCATED = -8,
  $G_CHECKPOINT_ERROR_CORRUPT = -9,
  $G_CHECKPOINT_ERROR_NO_MEMORY = -10,
  $G_CHECKPOINT_ERROR_UNSUPPORTED = -11,
  $G_CHECKPOINT_ERROR_OLD_FORMAT = -12,
  $G_CHECKPOINT_ERROR_COMPRESSED = -13
};

/* What a code from the checkpoint functions means. */
static inline const char *$p_checkpoint_error_message(int code) {
  switch (code) {
)c";

/// The functions of a model whose checkpoints the format can hold. The
/// tables (`$p_checkpoint_entries` and the others) come before this.
static const char kFunctions[] = R"c(#ifndef $G_CHECKPOINT_ZIP64_AT
/* Sizes and offsets from this value up are written in ZIP64 records (the
   classic records' limit; define it lower to exercise them). */
#define $G_CHECKPOINT_ZIP64_AT 0xFFFFFFFFull
#endif

/* zlib's CRC-32 (reflected polynomial 0xEDB88320), the checksum of every
   zip entry: the table, then `crc` of the bytes before and `n` more bytes
   (start from 0). The table lives with the caller: no global state, any
   thread. */
static inline void $p_checkpoint_crc_table(uint32_t table[256]) {
  uint32_t i, k;
  for (i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (k = 0; k < 8; ++k)
      c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
}

static inline uint32_t $p_checkpoint_crc32(const uint32_t table[256],
                                           uint32_t crc,
                                           const unsigned char *b, size_t n) {
  crc = ~crc;
  while (n--)
    crc = table[(crc ^ *b++) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

/* The little-endian integer of `n` bytes at `b`, and back. */
static inline uint64_t $p_checkpoint_get(const unsigned char *b, int n) {
  uint64_t v = 0;
  while (n--)
    v = (v << 8) | b[n];
  return v;
}

static inline void $p_checkpoint_put(unsigned char *b, uint64_t v, int n) {
  int i;
  for (i = 0; i < n; ++i, v >>= 8)
    b[i] = (unsigned char)(v & 0xFFu);
}

/* The .npy header (format 1.0) of variable `i`, as numpy.save writes it:
   magic, version, length, then the dict padded with blanks and a newline
   to a multiple of 64 bytes. `out` has room for
   $G_CHECKPOINT_NPY_HEADER_MAX bytes; returns the length. */
static inline size_t $p_checkpoint_npy_header(size_t i, unsigned char *out) {
  const char *dict = $p_checkpoint_npy_dicts[i];
  size_t d = strlen(dict);
  size_t total = (10 + d + 1 + 63) / 64 * 64;
  memcpy(out, "\223NUMPY\001\000", 8);
  $p_checkpoint_put(out + 8, (uint64_t)(total - 10), 2);
  memcpy(out + 10, dict, d);
  memset(out + 10 + d, ' ', total - 10 - d - 1);
  out[total - 1] = '\n';
  return total;
}

/* Where an entry's bytes lie in the file read. */
typedef struct $p_checkpoint_span {
  size_t at, size;
  int found;
} $p_checkpoint_span;

/* A small JSON reader for metadata.json: it checks the syntax and finds
   the members the loader needs; nothing read is used as a size. */
typedef struct $p_checkpoint_json {
  const unsigned char *p, *end;
} $p_checkpoint_json;

static inline void $p_checkpoint_json_space($p_checkpoint_json *j) {
  while (j->p < j->end &&
         (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    ++j->p;
}

static inline int $p_checkpoint_json_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

/* A string; `*s` and `*n` are its bytes between the quotes, escapes as
   written. 0 when malformed. */
static inline int $p_checkpoint_json_string($p_checkpoint_json *j,
                                            const unsigned char **s,
                                            size_t *n) {
  if (j->p >= j->end || *j->p != '"')
    return 0;
  *s = ++j->p;
  while (j->p < j->end && *j->p != '"') {
    if (*j->p < 0x20)
      return 0;
    if (*j->p == '\\') {
      unsigned char c;
      if (++j->p >= j->end)
        return 0;
      c = *j->p;
      if (c == 'u') {
        int k;
        for (k = 0; k < 4; ++k)
          if (++j->p >= j->end || !$p_checkpoint_json_hex(*j->p))
            return 0;
      } else if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' &&
                 c != 'n' && c != 'r' && c != 't') {
        return 0;
      }
    }
    ++j->p;
  }
  if (j->p >= j->end)
    return 0;
  *n = (size_t)(j->p - *s);
  ++j->p;
  return 1;
}

/* An integer from 0 to 2^64-1: digits only, no sign, fraction or
   exponent. 0 when it is anything else. */
static inline int $p_checkpoint_json_uint($p_checkpoint_json *j,
                                          uint64_t *v) {
  const unsigned char *start = j->p;
  *v = 0;
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
    uint64_t d = (uint64_t)(*j->p - '0');
    if (*v > (UINT64_MAX - d) / 10)
      return 0;
    *v = *v * 10 + d;
    ++j->p;
  }
  if (j->p == start || (j->p - start > 1 && *start == '0'))
    return 0;
  return !(j->p < j->end &&
           (*j->p == '.' || *j->p == 'e' || *j->p == 'E'));
}

static inline int $p_checkpoint_json_digits($p_checkpoint_json *j) {
  const unsigned char *start = j->p;
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
    ++j->p;
  return j->p > start;
}

/* Skips one value of any kind, at most 64 arrays and objects deep. */
static inline int $p_checkpoint_json_skip($p_checkpoint_json *j, int depth) {
  const unsigned char *s;
  size_t n;
  $p_checkpoint_json_space(j);
  if (j->p >= j->end || depth > 64)
    return 0;
  if (*j->p == '"')
    return $p_checkpoint_json_string(j, &s, &n);
  if (*j->p == '{' || *j->p == '[') {
    int object = *j->p == '{';
    unsigned char close = object ? '}' : ']';
    ++j->p;
    $p_checkpoint_json_space(j);
    if (j->p < j->end && *j->p == close) {
      ++j->p;
      return 1;
    }
    for (;;) {
      if (object) {
        $p_checkpoint_json_space(j);
        if (!$p_checkpoint_json_string(j, &s, &n))
          return 0;
        $p_checkpoint_json_space(j);
        if (j->p >= j->end || *j->p != ':')
          return 0;
        ++j->p;
      }
      if (!$p_checkpoint_json_skip(j, depth + 1))
        return 0;
      $p_checkpoint_json_space(j);
      if (j->p >= j->end)
        return 0;
      if (*j->p == close) {
        ++j->p;
        return 1;
      }
      if (*j->p != ',')
        return 0;
      ++j->p;
    }
  }
  if (*j->p == 't' || *j->p == 'f' || *j->p == 'n') {
    const char *word = *j->p == 't' ? "true" : *j->p == 'f' ? "false" : "null";
    size_t len = strlen(word);
    if ((size_t)(j->end - j->p) < len || memcmp(j->p, word, len))
      return 0;
    j->p += len;
    return 1;
  }
  if (*j->p == '-')
    ++j->p;
  if (!$p_checkpoint_json_digits(j))
    return 0;
  if (j->p < j->end && *j->p == '.') {
    ++j->p;
    if (!$p_checkpoint_json_digits(j))
      return 0;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    ++j->p;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
      ++j->p;
    if (!$p_checkpoint_json_digits(j))
      return 0;
  }
  return 1;
}

static inline int $p_checkpoint_json_is(const unsigned char *s, size_t n,
                                        const char *text) {
  return n == strlen(text) && !memcmp(s, text, n);
}

/* Reads metadata.json: a JSON object whose "format" is "tape-checkpoint",
   "version" 2, "fingerprint" this model's and "step_count" an integer
   (into `*steps`); other members are skipped. */
static inline int $p_checkpoint_metadata(const unsigned char *b, size_t n,
                                         uint64_t *steps) {
  $p_checkpoint_json j;
  const unsigned char *key, *s;
  size_t klen, slen;
  int format = 0, version = 0, count = 0, print = 0, same_model = 0;
  uint64_t v, number = 0, step_count = 0;
  j.p = b;
  j.end = b + n;
  $p_checkpoint_json_space(&j);
  if (j.p >= j.end || *j.p != '{')
    return $G_CHECKPOINT_ERROR_CORRUPT;
  ++j.p;
  $p_checkpoint_json_space(&j);
  if (j.p < j.end && *j.p == '}')
    ++j.p;
  else
    for (;;) {
      $p_checkpoint_json_space(&j);
      if (!$p_checkpoint_json_string(&j, &key, &klen))
        return $G_CHECKPOINT_ERROR_CORRUPT;
      $p_checkpoint_json_space(&j);
      if (j.p >= j.end || *j.p != ':')
        return $G_CHECKPOINT_ERROR_CORRUPT;
      ++j.p;
      $p_checkpoint_json_space(&j);
      if ($p_checkpoint_json_is(key, klen, "format")) {
        if (format || !$p_checkpoint_json_string(&j, &s, &slen))
          return $G_CHECKPOINT_ERROR_CORRUPT;
        format = $p_checkpoint_json_is(s, slen, "tape-checkpoint") ? 1 : -1;
      } else if ($p_checkpoint_json_is(key, klen, "version")) {
        if (version || !$p_checkpoint_json_uint(&j, &number))
          return $G_CHECKPOINT_ERROR_CORRUPT;
        version = 1;
      } else if ($p_checkpoint_json_is(key, klen, "step_count")) {
        if (count || !$p_checkpoint_json_uint(&j, &v))
          return $G_CHECKPOINT_ERROR_CORRUPT;
        count = 1;
        step_count = v;
      } else if ($p_checkpoint_json_is(key, klen, "fingerprint")) {
        if (print || !$p_checkpoint_json_string(&j, &s, &slen))
          return $G_CHECKPOINT_ERROR_CORRUPT;
        print = 1;
        same_model = $p_checkpoint_json_is(s, slen, $p_checkpoint_fingerprint);
      } else if (!$p_checkpoint_json_skip(&j, 1)) {
        return $G_CHECKPOINT_ERROR_CORRUPT;
      }
      $p_checkpoint_json_space(&j);
      if (j.p >= j.end)
        return $G_CHECKPOINT_ERROR_CORRUPT;
      if (*j.p == '}') {
        ++j.p;
        break;
      }
      if (*j.p != ',')
        return $G_CHECKPOINT_ERROR_CORRUPT;
      ++j.p;
    }
  $p_checkpoint_json_space(&j);
  if (j.p != j.end)
    return $G_CHECKPOINT_ERROR_CORRUPT;
  if (format != 1)
    return $G_CHECKPOINT_ERROR_NOT_A_CHECKPOINT;
  if (!version || !count || !print)
    return $G_CHECKPOINT_ERROR_CORRUPT;
  if (number != $G_CHECKPOINT_FORMAT_VERSION)
    return $G_CHECKPOINT_ERROR_VERSION;
  if (!same_model)
    return $G_CHECKPOINT_ERROR_WRONG_MODEL;
  *steps = step_count;
  return $G_CHECKPOINT_OK;
}

/* Checks the `n` bytes of a file as a checkpoint of this model and finds
   the data of each entry (`spans[i]` for variable i after its .npy header,
   `spans[$G_NUM_VARIABLES]` for metadata.json) and the step count. Every
   offset and size from the file is checked against `n` before it is
   used, every entry's bytes against their CRC-32. */
static inline int $p_checkpoint_check(const unsigned char *b, size_t n,
                                      $p_checkpoint_span *spans,
                                      uint64_t *steps) {
  const size_t entries = (size_t)$G_NUM_VARIABLES + 1;
  uint32_t table[256];
  unsigned char head[$G_CHECKPOINT_NPY_HEADER_MAX];
  size_t end = n, limit, at, cd_end, i;
  uint64_t count, cd_size, cd_at, k;
  int wrong = 0, rc;
  for (i = 0; i < entries; ++i) {
    spans[i].at = spans[i].size = 0;
    spans[i].found = 0;
  }
  if (n >= 8 && !memcmp(b, "TAPECKP1", 8))
    return $G_CHECKPOINT_ERROR_OLD_FORMAT;
  /* The end of central directory record: the last 22 bytes, or before a
     comment of at most 65535 bytes. */
  if (n >= 22)
    for (at = n - 22;; --at) {
      if (!memcmp(b + at, "PK\005\006", 4) &&
          $p_checkpoint_get(b + at + 20, 2) == n - at - 22) {
        end = at;
        break;
      }
      if (at == 0 || n - 22 - at >= 65535)
        break;
    }
  if (end == n)
    return n >= 4 && !memcmp(b, "PK\003\004", 4)
               ? $G_CHECKPOINT_ERROR_TRUNCATED
               : $G_CHECKPOINT_ERROR_NOT_A_CHECKPOINT;
  count = $p_checkpoint_get(b + end + 10, 2);
  cd_size = $p_checkpoint_get(b + end + 12, 4);
  cd_at = $p_checkpoint_get(b + end + 16, 4);
  if ($p_checkpoint_get(b + end + 4, 4) != 0 ||
      $p_checkpoint_get(b + end + 8, 2) != count)
    return $G_CHECKPOINT_ERROR_CORRUPT; /* more than one disk */
  limit = end;
  if (end >= 20 + 56 && !memcmp(b + end - 20, "PK\006\007", 4)) {
    /* ZIP64: the locator, then the ZIP64 end record it points to. */
    const unsigned char *loc = b + end - 20, *e64;
    uint64_t at64 = $p_checkpoint_get(loc + 8, 8);
    if ($p_checkpoint_get(loc + 4, 4) != 0 ||
        $p_checkpoint_get(loc + 16, 4) > 1 || at64 > end - 20 - 56)
      return $G_CHECKPOINT_ERROR_CORRUPT;
    e64 = b + (size_t)at64;
    if (memcmp(e64, "PK\006\006", 4) || $p_checkpoint_get(e64 + 16, 8) != 0 ||
        $p_checkpoint_get(e64 + 24, 8) != $p_checkpoint_get(e64 + 32, 8))
      return $G_CHECKPOINT_ERROR_CORRUPT;
    count = $p_checkpoint_get(e64 + 32, 8);
    cd_size = $p_checkpoint_get(e64 + 40, 8);
    cd_at = $p_checkpoint_get(e64 + 48, 8);
    limit = (size_t)at64;
  } else if (count == 0xFFFFu || cd_size == 0xFFFFFFFFu ||
             cd_at == 0xFFFFFFFFu) {
    return $G_CHECKPOINT_ERROR_CORRUPT;
  }
  if (cd_at > limit || cd_size > limit - cd_at || count > cd_size / 46)
    return $G_CHECKPOINT_ERROR_CORRUPT;
  cd_end = (size_t)(cd_at + cd_size);
  $p_checkpoint_crc_table(table);
  at = (size_t)cd_at;
  for (k = 0; k < count; ++k) {
    const unsigned char *c = b + at, *name = c + 46, *x, *xend, *local;
    uint64_t size, csize, offset;
    size_t nlen, xlen, clen, e, lnlen, lxlen, data;
    int big_size, big_csize, big_offset;
    uint32_t crc;
    if (cd_end - at < 46 || memcmp(c, "PK\001\002", 4))
      return $G_CHECKPOINT_ERROR_CORRUPT;
    crc = (uint32_t)$p_checkpoint_get(c + 16, 4);
    csize = $p_checkpoint_get(c + 20, 4);
    size = $p_checkpoint_get(c + 24, 4);
    nlen = (size_t)$p_checkpoint_get(c + 28, 2);
    xlen = (size_t)$p_checkpoint_get(c + 30, 2);
    clen = (size_t)$p_checkpoint_get(c + 32, 2);
    offset = $p_checkpoint_get(c + 42, 4);
    if (cd_end - at - 46 < nlen + xlen + clen)
      return $G_CHECKPOINT_ERROR_CORRUPT;
    /* ZIP64 extra field (0x0001): the sizes and the offset that the
       32-bit fields say 0xFFFFFFFF for, in this order. */
    big_size = size == 0xFFFFFFFFu;
    big_csize = csize == 0xFFFFFFFFu;
    big_offset = offset == 0xFFFFFFFFu;
    x = name + nlen;
    xend = x + xlen;
    while (xend - x >= 4) {
      size_t id = (size_t)$p_checkpoint_get(x, 2);
      size_t len = (size_t)$p_checkpoint_get(x + 2, 2);
      const unsigned char *y = x + 4;
      if ((size_t)(xend - y) < len)
        return $G_CHECKPOINT_ERROR_CORRUPT;
      if (id == 1) {
        if (big_size && (size_t)(x + 4 + len - y) >= 8) {
          size = $p_checkpoint_get(y, 8);
          y += 8;
          big_size = 0;
        }
        if (big_csize && (size_t)(x + 4 + len - y) >= 8) {
          csize = $p_checkpoint_get(y, 8);
          y += 8;
          big_csize = 0;
        }
        if (big_offset && (size_t)(x + 4 + len - y) >= 8) {
          offset = $p_checkpoint_get(y, 8);
          big_offset = 0;
        }
      }
      x += 4 + len;
    }
    if (big_size || big_csize || big_offset)
      return $G_CHECKPOINT_ERROR_CORRUPT;
    at += 46 + nlen + xlen + clen;
    for (e = 0; e < entries; ++e)
      if ($p_checkpoint_entry_lengths[e] == nlen &&
          !memcmp($p_checkpoint_entries[e], name, nlen))
        break;
    if (e == entries) {
      wrong = 1; /* an array of another model */
      continue;
    }
    if (spans[e].found)
      return $G_CHECKPOINT_ERROR_CORRUPT; /* twice */
    if (($p_checkpoint_get(c + 8, 2) & 1u) || $p_checkpoint_get(c + 10, 2))
      return $G_CHECKPOINT_ERROR_COMPRESSED;
    if (csize != size || n < 30 || offset > n - 30)
      return $G_CHECKPOINT_ERROR_CORRUPT;
    local = b + (size_t)offset;
    lnlen = (size_t)$p_checkpoint_get(local + 26, 2);
    lxlen = (size_t)$p_checkpoint_get(local + 28, 2);
    if (memcmp(local, "PK\003\004", 4) || $p_checkpoint_get(local + 8, 2) ||
        lnlen != nlen || n - (size_t)offset - 30 < lnlen + lxlen ||
        memcmp(local + 30, name, nlen))
      return $G_CHECKPOINT_ERROR_CORRUPT;
    data = (size_t)offset + 30 + lnlen + lxlen;
    if (size > n - data)
      return $G_CHECKPOINT_ERROR_CORRUPT;
    if ($p_checkpoint_crc32(table, 0, b + data, (size_t)size) != crc)
      return $G_CHECKPOINT_ERROR_CORRUPT;
    spans[e].at = data;
    spans[e].size = (size_t)size;
    spans[e].found = 1;
  }
  if (!spans[entries - 1].found)
    return $G_CHECKPOINT_ERROR_NOT_A_CHECKPOINT;
  rc = $p_checkpoint_metadata(b + spans[entries - 1].at,
                              spans[entries - 1].size, steps);
  if (rc != $G_CHECKPOINT_OK)
    return rc;
  if (wrong)
    return $G_CHECKPOINT_ERROR_WRONG_MODEL;
  for (i = 0; i + 1 < entries; ++i) {
    size_t h;
    if (!spans[i].found)
      return $G_CHECKPOINT_ERROR_WRONG_MODEL;
    /* numpy.save writes these very bytes for an array of this dtype and
       shape: other bytes are another dtype or shape. */
    h = $p_checkpoint_npy_header(i, head);
    if (spans[i].size < h || memcmp(b + spans[i].at, head, h))
      return $G_CHECKPOINT_ERROR_WRONG_MODEL;
    if (spans[i].size - h != $p_variables[i].bytes)
      return $G_CHECKPOINT_ERROR_CORRUPT;
    spans[i].at += h;
    spans[i].size -= h;
  }
  return $G_CHECKPOINT_OK;
}

/* Reads the file at `path` whole, up to $G_CHECKPOINT_MAX_FILE bytes
   (far more than a checkpoint of this model has). */
static inline int $p_checkpoint_read_file(const char *path,
                                          unsigned char **out, size_t *n) {
  FILE *f = fopen(path, "rb");
  unsigned char *b = NULL, *grown;
  size_t cap = 0, got;
  *out = NULL;
  *n = 0;
  if (!f)
    return $G_CHECKPOINT_ERROR_OPEN;
  for (;;) {
    if (*n == cap) {
      if ((uint64_t)cap > $G_CHECKPOINT_MAX_FILE) {
        free(b);
        fclose(f);
        return $G_CHECKPOINT_ERROR_CORRUPT;
      }
      if (cap > (size_t)-1 / 2) {
        free(b);
        fclose(f);
        return $G_CHECKPOINT_ERROR_NO_MEMORY;
      }
      cap = cap ? 2 * cap : 65536;
      if ((uint64_t)cap > $G_CHECKPOINT_MAX_FILE + 1)
        cap = (size_t)($G_CHECKPOINT_MAX_FILE + 1);
      grown = (unsigned char *)realloc(b, cap);
      if (!grown) {
        free(b);
        fclose(f);
        return $G_CHECKPOINT_ERROR_NO_MEMORY;
      }
      b = grown;
    }
    got = fread(b + *n, 1, cap - *n, f);
    *n += got;
    if (*n < cap) {
      if (ferror(f)) {
        free(b);
        fclose(f);
        return $G_CHECKPOINT_ERROR_READ;
      }
      if (feof(f))
        break;
    }
  }
  fclose(f);
  *out = b;
  return $G_CHECKPOINT_OK;
}

/* Loads the checkpoint at `path` into `s`: every variable, optimizer slots
   included, and the step count. The file is read whole into a temporary
   buffer and checked before the state is touched: a load that fails
   leaves `s` as it was. */
static inline int $p_state_load_checkpoint($p_state *s, const char *path) {
  const size_t entries = (size_t)$G_NUM_VARIABLES + 1;
  unsigned char *b;
  size_t n, i;
  uint64_t steps = 0;
  $p_checkpoint_span *spans;
  int rc;
  if (!s || !path)
    return $G_CHECKPOINT_ERROR_ARGUMENT;
  rc = $p_checkpoint_read_file(path, &b, &n);
  if (rc != $G_CHECKPOINT_OK)
    return rc;
  spans = ($p_checkpoint_span *)malloc(entries * sizeof *spans);
  if (!spans) {
    free(b);
    return $G_CHECKPOINT_ERROR_NO_MEMORY;
  }
  rc = $p_checkpoint_check(b, n, spans, &steps);
  if (rc == $G_CHECKPOINT_OK) {
    for (i = 0; i + 1 < entries; ++i)
      memcpy(s->variables[i], b + spans[i].at, spans[i].size);
    s->step_count = steps;
  }
  free(spans);
  free(b);
  return rc;
}

/* Where each entry went, for the central directory. */
typedef struct $p_checkpoint_record {
  uint64_t offset, size;
  uint32_t crc;
} $p_checkpoint_record;

typedef struct $p_checkpoint_writer {
  FILE *f;
  uint64_t at;
  int failed;
} $p_checkpoint_writer;

static inline void $p_checkpoint_write($p_checkpoint_writer *w,
                                       const void *b, size_t n) {
  if (!w->failed && n && fwrite(b, 1, n, w->f) != n)
    w->failed = 1;
  w->at += n;
}

/* An entry's local header (stored, dated 1980-01-01 as reproducible zips
   are), with a ZIP64 extra field for a size that needs one. */
static inline void $p_checkpoint_local($p_checkpoint_writer *w, size_t e,
                                       const $p_checkpoint_record *r) {
  unsigned char h[30];
  int big = r->size >= $G_CHECKPOINT_ZIP64_AT;
  uint64_t size32 = big ? 0xFFFFFFFFu : r->size;
  size_t nlen = $p_checkpoint_entry_lengths[e];
  $p_checkpoint_put(h, 0x04034b50u, 4);
  $p_checkpoint_put(h + 4, big || r->offset >= $G_CHECKPOINT_ZIP64_AT ? 45 : 20, 2);
  $p_checkpoint_put(h + 6, 0, 2);  /* flags */
  $p_checkpoint_put(h + 8, 0, 2);  /* stored */
  $p_checkpoint_put(h + 10, 0, 2); /* 00:00 */
  $p_checkpoint_put(h + 12, 0x21, 2); /* 1980-01-01 */
  $p_checkpoint_put(h + 14, r->crc, 4);
  $p_checkpoint_put(h + 18, size32, 4);
  $p_checkpoint_put(h + 22, size32, 4);
  $p_checkpoint_put(h + 26, (uint64_t)nlen, 2);
  $p_checkpoint_put(h + 28, big ? 20 : 0, 2);
  $p_checkpoint_write(w, h, 30);
  $p_checkpoint_write(w, $p_checkpoint_entries[e], nlen);
  if (big) {
    $p_checkpoint_put(h, 1, 2);
    $p_checkpoint_put(h + 2, 16, 2);
    $p_checkpoint_put(h + 4, r->size, 8);
    $p_checkpoint_put(h + 12, r->size, 8);
    $p_checkpoint_write(w, h, 20);
  }
}

/* An entry's central directory header, ZIP64 fields as needed. */
static inline void $p_checkpoint_central($p_checkpoint_writer *w, size_t e,
                                         const $p_checkpoint_record *r) {
  unsigned char h[46];
  int big = r->size >= $G_CHECKPOINT_ZIP64_AT;
  int far = r->offset >= $G_CHECKPOINT_ZIP64_AT;
  uint64_t size32 = big ? 0xFFFFFFFFu : r->size;
  size_t nlen = $p_checkpoint_entry_lengths[e];
  size_t x = (big ? 16u : 0u) + (far ? 8u : 0u), k = 4;
  int version = big || far ? 45 : 20;
  $p_checkpoint_put(h, 0x02014b50u, 4);
  $p_checkpoint_put(h + 4, (uint64_t)version, 2); /* made by */
  $p_checkpoint_put(h + 6, (uint64_t)version, 2); /* needed */
  $p_checkpoint_put(h + 8, 0, 2);
  $p_checkpoint_put(h + 10, 0, 2);
  $p_checkpoint_put(h + 12, 0, 2);
  $p_checkpoint_put(h + 14, 0x21, 2);
  $p_checkpoint_put(h + 16, r->crc, 4);
  $p_checkpoint_put(h + 20, size32, 4);
  $p_checkpoint_put(h + 24, size32, 4);
  $p_checkpoint_put(h + 28, (uint64_t)nlen, 2);
  $p_checkpoint_put(h + 30, x ? (uint64_t)(x + 4) : 0, 2);
  $p_checkpoint_put(h + 32, 0, 2); /* comment */
  $p_checkpoint_put(h + 34, 0, 2); /* disk */
  $p_checkpoint_put(h + 36, 0, 2); /* internal attributes */
  $p_checkpoint_put(h + 38, 0, 4); /* external attributes */
  $p_checkpoint_put(h + 42, far ? 0xFFFFFFFFu : r->offset, 4);
  $p_checkpoint_write(w, h, 46);
  $p_checkpoint_write(w, $p_checkpoint_entries[e], nlen);
  if (x) {
    $p_checkpoint_put(h, 1, 2);
    $p_checkpoint_put(h + 2, (uint64_t)x, 2);
    if (big) {
      $p_checkpoint_put(h + k, r->size, 8);
      $p_checkpoint_put(h + k + 8, r->size, 8);
      k += 16;
    }
    if (far) {
      $p_checkpoint_put(h + k, r->offset, 8);
      k += 8;
    }
    $p_checkpoint_write(w, h, k);
  }
}

/* The end records: ZIP64's end record and locator when the count, the
   directory's size or its offset need them, then the classic one. */
static inline void $p_checkpoint_end($p_checkpoint_writer *w, uint64_t count,
                                     uint64_t cd_at, uint64_t cd_size) {
  unsigned char h[56];
  int big_count = count >= 0xFFFFu;
  int big_size = cd_size >= $G_CHECKPOINT_ZIP64_AT;
  int big_at = cd_at >= $G_CHECKPOINT_ZIP64_AT;
  if (big_count || big_size || big_at) {
    uint64_t at64 = w->at;
    $p_checkpoint_put(h, 0x06064b50u, 4);
    $p_checkpoint_put(h + 4, 44, 8);
    $p_checkpoint_put(h + 12, 45, 2);
    $p_checkpoint_put(h + 14, 45, 2);
    $p_checkpoint_put(h + 16, 0, 4);
    $p_checkpoint_put(h + 20, 0, 4);
    $p_checkpoint_put(h + 24, count, 8);
    $p_checkpoint_put(h + 32, count, 8);
    $p_checkpoint_put(h + 40, cd_size, 8);
    $p_checkpoint_put(h + 48, cd_at, 8);
    $p_checkpoint_write(w, h, 56);
    $p_checkpoint_put(h, 0x07064b50u, 4);
    $p_checkpoint_put(h + 4, 0, 4);
    $p_checkpoint_put(h + 8, at64, 8);
    $p_checkpoint_put(h + 16, 1, 4);
    $p_checkpoint_write(w, h, 20);
  }
  $p_checkpoint_put(h, 0x06054b50u, 4);
  $p_checkpoint_put(h + 4, 0, 4);
  $p_checkpoint_put(h + 8, big_count ? 0xFFFFu : count, 2);
  $p_checkpoint_put(h + 10, big_count ? 0xFFFFu : count, 2);
  $p_checkpoint_put(h + 12, big_size ? 0xFFFFFFFFu : cd_size, 4);
  $p_checkpoint_put(h + 16, big_at ? 0xFFFFFFFFu : cd_at, 4);
  $p_checkpoint_put(h + 20, 0, 2);
  $p_checkpoint_write(w, h, 22);
}

#ifdef $G_CHECKPOINT_FSYNC
/* Flushes the folder of `path`, so that the rename into it lasts. */
static inline void $p_checkpoint_sync_folder(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t len = slash ? (size_t)(slash - path) : 0;
  char *folder = (char *)malloc(len + 2);
  int fd;
  if (!folder)
    return;
  if (!slash)
    strcpy(folder, ".");
  else if (!len)
    strcpy(folder, "/");
  else {
    memcpy(folder, path, len);
    folder[len] = '\0';
  }
  fd = open(folder, O_RDONLY);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(folder);
}
#endif

/* Saves `s` to `path`: written to a new temporary next to it
   ("<path>.tmp-c<8 hex digits>", created exclusively, so two writers never
   share one), flushed (with POSIX: to the disk) and closed, then renamed
   over `path` (atomic on POSIX systems: a reader sees the old file or the
   new one, never a part), and with POSIX the folder flushed. On failure
   the temporary is removed and `path` is unchanged; a program killed
   while saving leaves its temporary behind. */
static inline int $p_state_save_checkpoint(const $p_state *s,
                                           const char *path) {
  const size_t entries = (size_t)$G_NUM_VARIABLES + 1;
  uint32_t table[256];
  unsigned char head[$G_CHECKPOINT_NPY_HEADER_MAX];
  char digits[24], reversed[24];
  size_t nd = 0, i, length, h;
  uint64_t v, cd_at;
  $p_checkpoint_record *records;
  $p_checkpoint_writer w;
  char *tmp;
  FILE *f = NULL;
  unsigned attempt;
  if (!s || !path)
    return $G_CHECKPOINT_ERROR_ARGUMENT;
  length = strlen(path) + 16;
  tmp = (char *)malloc(length);
  records = ($p_checkpoint_record *)malloc(entries * sizeof *records);
  if (!tmp || !records) {
    free(tmp);
    free(records);
    return $G_CHECKPOINT_ERROR_NO_MEMORY;
  }
  for (attempt = 0; attempt < 16 && !f; ++attempt) {
    unsigned long salt = (unsigned long)time(NULL) ^
                         ((unsigned long)clock() << 12) ^
                         (unsigned long)((uintptr_t)&f >> 4) ^
                         attempt * 0x9E3779B9ul;
    snprintf(tmp, length, "%s.tmp-c%08lx", path, salt & 0xFFFFFFFFul);
    errno = 0;
    f = fopen(tmp, "wbx");
#ifdef EEXIST
    if (!f && errno != EEXIST)
      break;
#endif
  }
  if (!f) {
    free(tmp);
    free(records);
    return $G_CHECKPOINT_ERROR_OPEN;
  }
  w.f = f;
  w.at = 0;
  w.failed = 0;
  $p_checkpoint_crc_table(table);
  for (i = 0; i + 1 < entries; ++i) {
    $p_checkpoint_record *r = &records[i];
    h = $p_checkpoint_npy_header(i, head);
    r->offset = w.at;
    r->size = (uint64_t)h + $p_variables[i].bytes;
    r->crc = $p_checkpoint_crc32(table, 0, head, h);
    r->crc = $p_checkpoint_crc32(table, r->crc,
                                 (const unsigned char *)s->variables[i],
                                 $p_variables[i].bytes);
    $p_checkpoint_local(&w, i, r);
    $p_checkpoint_write(&w, head, h);
    $p_checkpoint_write(&w, s->variables[i], $p_variables[i].bytes);
  }
  /* metadata.json: the step count's digits between the two texts. */
  v = s->step_count;
  do {
    reversed[nd++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v);
  for (i = 0; i < nd; ++i)
    digits[i] = reversed[nd - 1 - i];
  {
    $p_checkpoint_record *r = &records[entries - 1];
    size_t before = strlen($p_checkpoint_metadata_prefix);
    size_t after = strlen($p_checkpoint_metadata_suffix);
    r->offset = w.at;
    r->size = (uint64_t)(before + nd + after);
    r->crc = $p_checkpoint_crc32(
        table, 0, (const unsigned char *)$p_checkpoint_metadata_prefix, before);
    r->crc = $p_checkpoint_crc32(table, r->crc, (const unsigned char *)digits,
                                 nd);
    r->crc = $p_checkpoint_crc32(
        table, r->crc, (const unsigned char *)$p_checkpoint_metadata_suffix,
        after);
    $p_checkpoint_local(&w, entries - 1, r);
    $p_checkpoint_write(&w, $p_checkpoint_metadata_prefix, before);
    $p_checkpoint_write(&w, digits, nd);
    $p_checkpoint_write(&w, $p_checkpoint_metadata_suffix, after);
  }
  cd_at = w.at;
  for (i = 0; i < entries; ++i)
    $p_checkpoint_central(&w, i, &records[i]);
  $p_checkpoint_end(&w, (uint64_t)entries, cd_at, w.at - cd_at);
  if (!w.failed && fflush(f) != 0)
    w.failed = 1;
#ifdef $G_CHECKPOINT_FSYNC
  if (!w.failed && fsync(fileno(f)) != 0)
    w.failed = 1;
#endif
  if (fclose(f) != 0)
    w.failed = 1;
  if (!w.failed && rename(tmp, path) != 0)
    w.failed = 1;
  if (w.failed)
    remove(tmp);
#ifdef $G_CHECKPOINT_FSYNC
  else
    $p_checkpoint_sync_folder(path);
#endif
  free(tmp);
  free(records);
  return w.failed ? $G_CHECKPOINT_ERROR_WRITE : $G_CHECKPOINT_OK;
}

)c";

/// POSIX's headers for fsync, where the program is compiled with POSIX.
static const char kIncludes[] = R"c(/* With POSIX, a checkpoint is flushed to the disk (fsync) before it is
   renamed into place, and the folder after: a crash or a power loss leaves
   the old checkpoint or the new one. */
#if (defined(__unix__) || defined(__APPLE__)) &&                            \
    (defined(__APPLE__) ||                                                  \
     (defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200112L))
#include <fcntl.h>
#include <unistd.h>
#define $G_CHECKPOINT_FSYNC 1
#endif
)c";

std::string tape::checkpointIncludes(const std::string &g) {
  return instantiate(kIncludes, "", g);
}

std::string tape::checkpointFunctions(const std::vector<VariableSpec> &vars,
                                      const std::string &p,
                                      const std::string &g) {
  std::ostringstream h;
  h << instantiate(kCodes, p, g);
  std::string unsupported;
  if (Status s = checkpoint::checkCheckpointable(vars); !s)
    unsupported = "checkpoints cannot hold this model's variables: " +
                  s.message;
  const std::pair<const char *, std::string> messages[] = {
      {"OK", "success"},
      {"ERROR_ARGUMENT", "a null state or path"},
      {"ERROR_OPEN", "cannot open or create the file (errno says why)"},
      {"ERROR_READ", "cannot read the file (errno says why)"},
      {"ERROR_WRITE",
       "cannot write the checkpoint, or rename it into place (errno says "
       "why); the file at the path is unchanged"},
      {"ERROR_NOT_A_CHECKPOINT",
       "not a checkpoint: not a zip archive, or a .npz without a tape "
       "checkpoint's metadata.json"},
      {"ERROR_VERSION",
       "a checkpoint format version this program cannot read (a newer "
       "tape's?)"},
      {"ERROR_WRONG_MODEL",
       "a checkpoint of a different model: its variables (names, dtypes, "
       "shapes) are not this model's"},
      {"ERROR_TRUNCATED",
       "truncated, or bytes after its end: no zip end record where the "
       "file ends"},
      {"ERROR_CORRUPT",
       "corrupted: a checksum mismatch, inconsistent zip records or "
       "malformed metadata, or far larger than a checkpoint of this model"},
      {"ERROR_NO_MEMORY", "out of memory"},
      {"ERROR_UNSUPPORTED",
       unsupported.empty() ? std::string("checkpoints cannot hold this "
                                         "model's variables")
                           : unsupported},
      {"ERROR_OLD_FORMAT",
       "a checkpoint in the earlier format (version 1, TAPECKP1), which this program "
       "does not read: convert it with tape-run MODEL.mlir --resume OLD "
       "--steps 0 --checkpoint NEW"},
      {"ERROR_COMPRESSED",
       "an entry is compressed or encrypted (numpy.savez_compressed?): "
       "this program reads stored entries, as tape and numpy.savez write "
       "them"},
  };
  for (const auto &[code, text] : messages)
    h << "  case " << g << "_CHECKPOINT_" << code << ":\n    return "
      << cStringLiteral(text) << ";\n";
  h << "  default:\n    break;\n  }\n  return \"unknown checkpoint error "
       "code\";\n}\n\n";

  if (!unsupported.empty()) {
    // A file the runtime could not read back is never written.
    for (const char *fn : {"load", "save"})
      h << "static inline int " << p << "_state_" << fn << "_checkpoint("
        << (fn[0] == 's' ? "const " : "") << p
        << "_state *s, const char *path) {\n  (void)s;\n  (void)path;\n  "
           "return "
        << g << "_CHECKPOINT_ERROR_UNSUPPORTED;\n}\n\n";
    return h.str();
  }

  // This model's tables.
  size_t n = vars.size();
  checkpoint::MetadataText metadata = checkpoint::metadataText(vars);
  std::vector<std::string> entries;
  for (const VariableSpec &v : vars)
    entries.push_back(checkpoint::entryName(v));
  entries.push_back(checkpoint::kMetadataEntry);
  size_t maxHeader = 64;
  // What this program writes at the most (ZIP64 records everywhere, a
  // 20-digit step count): the loader reads at most twice that and 1 MiB.
  uint64_t largest = 56 + 20 + 22 + metadata.prefix.size() + 20 +
                     metadata.suffix.size();
  for (size_t i = 0; i <= n; ++i) {
    uint64_t data = 0;
    if (i < n) {
      std::string header = npyHeader(vars[i].spec);
      maxHeader = std::max(maxHeader, header.size());
      data = header.size() + vars[i].spec.numBytes();
    }
    largest += (30 + 20) + (46 + 28) + 2 * entries[i].size() + data;
  }
  h << "/* The checkpoint format (tape/Support/CheckpointFormat.h) for this\n"
    << "   model: a zip archive of stored entries, one \"<name>.npy\" per\n"
    << "   variable in the state's order (names with bytes other than\n"
    << "   letters, digits, '_', '-' and '.' as %XX, as tape-run writes\n"
    << "   them), then metadata.json; the format version, the .npy header\n"
    << "   dict of each variable, metadata.json around the step count, and\n"
    << "   the fingerprint of the state layout (SHA-256 of its names,\n"
    << "   dtypes and shapes). */\n"
    << "enum {\n  " << g << "_CHECKPOINT_FORMAT_VERSION = "
    << checkpoint::kFormatVersion << ",\n  " << g
    << "_CHECKPOINT_NPY_HEADER_MAX = " << maxHeader << "\n};\n"
    << "#define " << g << "_CHECKPOINT_MAX_FILE ((uint64_t)"
    << 2 * largest + (1 << 20) << "ull)\n"
    << "static const char *const " << p << "_checkpoint_entries[" << n + 1
    << "] = {\n";
  for (const std::string &e : entries)
    h << "  " << cStringLiteral(e) << ",\n";
  h << "};\nstatic const size_t " << p << "_checkpoint_entry_lengths["
    << n + 1 << "] = {";
  for (size_t i = 0; i <= n; ++i)
    h << (i % 12 ? " " : "\n  ") << entries[i].size() << (i < n ? "," : "");
  h << "\n};\nstatic const char *const " << p << "_checkpoint_npy_dicts["
    << n + 1 << "] = {\n";
  for (const VariableSpec &v : vars)
    h << "  " << cStringLiteral(npyHeaderDict(v.spec)) << ",\n";
  h << "  \"\"\n};\n"
    << "static const char " << p << "_checkpoint_metadata_prefix[] =\n    "
    << cLongStringLiteral(metadata.prefix, "    ") << ";\n"
    << "static const char " << p << "_checkpoint_metadata_suffix[] =\n    "
    << cLongStringLiteral(metadata.suffix, "    ") << ";\n"
    << "static const char " << p << "_checkpoint_fingerprint[] =\n    "
    << cStringLiteral(checkpoint::fingerprint(vars)) << ";\n\n";
  h << instantiate(kFunctions, p, g);
  return h.str();
}
