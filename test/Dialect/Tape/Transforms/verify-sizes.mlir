// RUN: tape-opt %s --tape-verify-sizes --split-input-file -verify-diagnostics

// A byte count that overflows 64 bits (2^62 f32 elements): refused where
// the type is written, before anything computes a size from it.
// expected-error @+1 {{type 'tensor<4611686018427387904xf32>' is too large: it holds 4611686018427387904 elements and its byte size overflows 64 bits}}
tape.variable @w : tensor<4611686018427387904xf32> = #tape.zeros

// -----

// An element count that overflows (2^32 x 2^32 counted as 0 elements
// before).
// expected-error @+1 {{type 'tensor<4294967296x4294967296xf32>' is too large: its element count overflows 64 bits}}
tape.variable @w : tensor<4294967296x4294967296xf32> = #tape.zeros

// -----

// More than a process can address, in a function's signature.
// expected-error @+1 {{type 'tensor<100000x100000x100000xf32>' is too large: it holds 1000000000000000 elements, 4000000000000000 bytes, more than a process can address (2^47 bytes)}}
func.func @f(%a: tensor<100000x100000x100000xf32>) {
  return
}

// -----

// ... or as an intermediate value.
func.func @g() {
  // expected-error @+1 {{type 'tensor<4611686018427387904xf64>' is too large}}
  %e = tensor.empty() : tensor<4611686018427387904xf64>
  return
}

// -----

// Large but addressable: accepted here (the runtime compares the state
// with the machine's memory).
tape.variable @w : tensor<100000000000xf32> = #tape.zeros
