//===- NpyFormat.cpp - The .npy header tape writes ------------------------===//

#include "tape/Support/NpyFormat.h"

using namespace tape;

const char *tape::npyDescr(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "<f4";
  case DType::F64:
    return "<f8";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  }
  return "";
}

std::string tape::npyHeaderDict(const TensorSpec &spec) {
  const std::vector<int64_t> &dims = spec.shape;
  std::string shape = "(";
  for (size_t i = 0; i < dims.size(); ++i)
    shape += (i ? ", " : "") + std::to_string(dims[i]);
  shape += dims.size() == 1 ? ",)" : ")";
  return std::string("{'descr': '") + npyDescr(spec.dtype) +
         "', 'fortran_order': False, 'shape': " + shape + ", }";
}

std::string tape::npyHeader(const TensorSpec &spec) {
  std::string header = npyHeaderDict(spec);
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += char(1);
  bytes += char(0);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  return bytes;
}
