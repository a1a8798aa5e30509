//===- TapeAttributes.td - Attributes of the tape dialect --*- tablegen -*-===//

#ifndef TAPE_DIALECT_TAPE_TAPEATTRIBUTES_TD
#define TAPE_DIALECT_TAPE_TAPEATTRIBUTES_TD

include "tape/Dialect/Tape/TapeDialect.td"
include "tape/Dialect/Tape/TapeInterfaces.td"
include "mlir/IR/AttrTypeBase.td"

class Tape_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tape_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Initializers
//===----------------------------------------------------------------------===//

def Tape_ZerosAttr : Tape_Attr<"Zeros", "zeros",
    [DeclareAttrInterfaceMethods<Tape_InitializerAttrInterface>]> {
  let summary = "Initialise a variable with zeros";
  let description = [{
    Example:

    ```mlir
    tape.variable @b : tensor<256xf32> = #tape.zeros
    ```
  }];
}

def Tape_RandomNormalAttr : Tape_Attr<"RandomNormal", "random_normal",
    [DeclareAttrInterfaceMethods<Tape_InitializerAttrInterface>]> {
  let summary = "Initialise a float variable with seeded normal samples";
  let description = [{
    Samples from N(mean, stddev^2) with a counter-based generator
    (SplitMix64 + Box-Muller), so the value depends only on the seed and
    the shape. `mean` defaults to 0 and `stddev` to 1; the seed is required.

    Example:

    ```mlir
    tape.variable @w1 : tensor<784x256xf32> = #tape.random_normal<stddev = 0.05, seed = 1>
    ```
  }];
  let parameters = (ins APFloatParameter<"mean">:$mean, APFloatParameter<"standard deviation">:$stddev, "uint64_t":$seed);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

def Tape_SGDAttr : Tape_Attr<"SGD", "sgd",
    [DeclareAttrInterfaceMethods<Tape_OptimizerAttrInterface>]> {
  let summary = "Stochastic gradient descent: w -= learning_rate * g";
  let description = [{
    With `weight_decay` (default 0, printed only when not 0), PyTorch's
    coupled decay (`torch.optim.SGD(weight_decay=...)`):
    `w -= learning_rate * (g + weight_decay * w)`.

    Example:

    ```mlir
    tape.apply_gradients #tape.sgd<learning_rate = 0.01> (%gw : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
    #tape.sgd<learning_rate = 0.1, weight_decay = 5.0e-04>
    ```
  }];
  let parameters = (ins APFloatParameter<"learning rate">:$learningRate,
                        APFloatParameter<"weight decay">:$weightDecay);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Tape_MomentumAttr : Tape_Attr<"Momentum", "momentum",
    [DeclareAttrInterfaceMethods<Tape_OptimizerAttrInterface>]> {
  let summary = "SGD with (Nesterov) momentum, as tf.keras.optimizers.SGD";
  let description = [{
    With slot `v` (initially zero), per step:
    `v = momentum * v - learning_rate * g`, then `w += v`, or with
    `nesterov = true`: `w += momentum * v - learning_rate * g`.

    Example:

    ```mlir
    #tape.momentum<learning_rate = 0.01, momentum = 0.9, nesterov = true>
    ```
  }];
  let parameters = (ins APFloatParameter<"learning rate">:$learningRate,
                        APFloatParameter<"momentum">:$momentum,
                        "bool":$nesterov);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Tape_AdamAttr : Tape_Attr<"Adam", "adam",
    [DeclareAttrInterfaceMethods<Tape_OptimizerAttrInterface>]> {
  let summary = "Adam, as tf.keras.optimizers.Adam";
  let description = [{
    With slots `m`, `v` (initially zero) and a step count `t`, per step
    (Keras' form: epsilon is added to `sqrt(v)`, before the bias correction
    of `v`, which is folded into the step size):
    `t += 1`, `m = beta1*m + (1-beta1)*g`, `v = beta2*v + (1-beta2)*g*g`,
    `w -= learning_rate * sqrt(1-beta2^t) / (1-beta1^t) * m / (sqrt(v) + epsilon)`.
    Unspecified parameters take Keras' defaults
    (beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7). For PyTorch's form
    (epsilon added to the bias-corrected `sqrt(v)`) use `#tape.adamw`, with
    `weight_decay = 0.0` for `torch.optim.Adam`.

    Example:

    ```mlir
    #tape.adam<learning_rate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1.0e-07>
    ```
  }];
  let parameters = (ins APFloatParameter<"learning rate">:$learningRate,
                        APFloatParameter<"beta1">:$beta1,
                        APFloatParameter<"beta2">:$beta2,
                        APFloatParameter<"epsilon">:$epsilon);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Tape_AdamWAttr : Tape_Attr<"AdamW", "adamw",
    [DeclareAttrInterfaceMethods<Tape_OptimizerAttrInterface>]> {
  let summary = "AdamW, as torch.optim.AdamW (and, without decay, torch.optim.Adam)";
  let description = [{
    Adam with decoupled weight decay, in PyTorch's form. With slots `m`,
    `v` (initially zero) and a step count `t`, per step: `t += 1`,
    `w *= 1 - learning_rate * weight_decay`,
    `m = beta1*m + (1-beta1)*g`, `v = beta2*v + (1-beta2)*g*g`,
    `w -= learning_rate / (1-beta1^t) * m / (sqrt(v) / sqrt(1-beta2^t) + epsilon)`.
    The bias corrections are computed in float64, as PyTorch computes them
    on the host. Unspecified parameters take PyTorch's defaults
    (learning_rate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8,
    weight_decay = 0.01); with `weight_decay = 0.0` this is
    `torch.optim.Adam`. Variables that take no decay (biases, norms) go in
    an `apply_gradients` of their own with `weight_decay = 0.0`.

    Example:

    ```mlir
    #tape.adamw<learning_rate = 3.0e-04, beta1 = 0.9, beta2 = 0.999, epsilon = 1.0e-08, weight_decay = 0.1>
    ```
  }];
  let parameters = (ins APFloatParameter<"learning rate">:$learningRate,
                        APFloatParameter<"beta1">:$beta1,
                        APFloatParameter<"beta2">:$beta2,
                        APFloatParameter<"epsilon">:$epsilon,
                        APFloatParameter<"weight decay">:$weightDecay);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Tape_AdadeltaAttr : Tape_Attr<"Adadelta", "adadelta",
    [DeclareAttrInterfaceMethods<Tape_OptimizerAttrInterface>]> {
  let summary = "Adadelta, as torch.optim.Adadelta";
  let description = [{
    Zeiler's Adadelta in PyTorch's form. With slots `v` (the running
    average of squared gradients) and `u` (of squared updates), both
    initially zero, per step:
    `g += weight_decay * w` (when not zero),
    `v = rho*v + (1-rho)*g*g`,
    `d = sqrt(u + epsilon) / sqrt(v + epsilon) * g`,
    `u = rho*u + (1-rho)*d*d`, `w -= learning_rate * d`.
    Unspecified parameters take PyTorch's defaults (learning_rate = 1.0,
    rho = 0.9, epsilon = 1e-6, weight_decay = 0.0).

    Example:

    ```mlir
    #tape.adadelta<learning_rate = 1.0, rho = 0.9, epsilon = 1.0e-06, weight_decay = 0.0>
    ```
  }];
  let parameters = (ins APFloatParameter<"learning rate">:$learningRate,
                        APFloatParameter<"rho">:$rho,
                        APFloatParameter<"epsilon">:$epsilon,
                        APFloatParameter<"weight decay">:$weightDecay);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

#endif // TAPE_DIALECT_TAPE_TAPEATTRIBUTES_TD
