// RUN: tape-opt %s --pass-pipeline='builtin.module(func.func(tape-cpu-approximate-math))' | FileCheck %s
// Numbers: the LSTM (test/Tools/tape-run/lstm.test: sigmoid and tanh gates)
// and the MLPs (softmax's exp and log) train against float64 references
// through these approximations.

// Float32 vectors become polynomials (fma chains); scalars and float64
// keep their math ops (libm).
// CHECK-LABEL: func.func @approximate
// CHECK-NOT: math.exp %{{.*}} : vector<16xf32>
// CHECK-NOT: math.tanh %{{.*}} : vector<16xf32>
// CHECK: math.fma
// CHECK: math.exp %{{.*}} : f32
// CHECK: math.tanh %{{.*}} : vector<4xf64>
func.func @approximate(%v: vector<16xf32>, %s: f32, %d: vector<4xf64>) -> (vector<16xf32>, vector<16xf32>, f32, vector<4xf64>) {
  %e = math.exp %v : vector<16xf32>
  %t = math.tanh %v : vector<16xf32>
  %es = math.exp %s : f32
  %td = math.tanh %d : vector<4xf64>
  return %e, %t, %es, %td : vector<16xf32>, vector<16xf32>, f32, vector<4xf64>
}
