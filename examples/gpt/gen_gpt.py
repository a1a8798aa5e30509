#!/usr/bin/python3
"""Writes a GPT-2 train step in the shape of llm.c's train_gpt2.c as tape
MLIR, for any configuration (the defaults train in seconds here; GPT-2
small is --vocab 50257 --seq 1024 --channels 768 --heads 12 --layers 12).

  token embedding gathered by int64 ids + position embedding;
  per layer: layernorm, causal self-attention (qkv projection, heads,
             scores scaled by 1/sqrt(head size), causal mask, softmax,
             weighted sum, output projection), residual, layernorm,
             MLP (4C, GELU tanh approximation), residual;
  final layernorm, logits through the tied token embedding, mean
  cross-entropy against int64 targets;
  AdamW (lr 3e-4, betas 0.9/0.999, eps 1e-8), weight decay on the
  matrices only (--weight-decay, default 0.1; embeddings included, as
  llm.c does), none on biases and layernorm parameters.

Variables carry the names of the PyTorch module in torch_reference.py
(wte.weight, h.0.ln_1.weight, ...). Activations are [B*T, C] matrices;
attention views them as [B, T, heads, head size].

Usage: /usr/bin/python3 examples/gpt/gen_gpt.py [--vocab 512] [--seq 64]
         [--batch 4] [--channels 128] [--heads 4] [--layers 2]
         [--weight-decay 0.1] > gpt.mlir
"""
import argparse
import math
import sys


class Emitter:
    def __init__(self, dtype="f32"):
        self.lines = []
        self.count = 0
        self.dtype = dtype

    def fresh(self, hint="v"):
        self.count += 1
        return f"%{hint}{self.count}"

    def emit(self, line):
        self.lines.append("      " + line)

    def t(self, shape, dtype=None):
        dims = "x".join(str(d) for d in shape)
        return f"tensor<{dims}x{dtype or self.dtype}>" if shape else f"tensor<{dtype or self.dtype}>"

    def filled(self, shape, value):
        e, f = self.fresh("e"), self.fresh("z")
        c = self.fresh("c")
        self.emit(f"{c} = arith.constant {value} : {self.dtype}")
        self.emit(f"{e} = tensor.empty() : {self.t(shape)}")
        self.emit(f"{f} = linalg.fill ins({c} : {self.dtype}) outs({e} : {self.t(shape)}) -> {self.t(shape)}")
        return f

    def splat(self, shape, value):
        c = self.fresh("k")
        self.emit(f"{c} = arith.constant dense<{value}> : {self.t(shape)}")
        return c

    def binary(self, op, a, b, shape):
        r = self.fresh()
        self.emit(f"{r} = arith.{op} {a}, {b} : {self.t(shape)}")
        return r

    def unary(self, op, a, shape):
        r = self.fresh()
        self.emit(f"{r} = math.{op} {a} : {self.t(shape)}")
        return r

    def broadcast(self, x, in_shape, out_shape, dims):
        e, r = self.fresh("e"), self.fresh("b")
        self.emit(f"{e} = tensor.empty() : {self.t(out_shape)}")
        self.emit(f"{r} = linalg.broadcast ins({x} : {self.t(in_shape)}) outs({e} : {self.t(out_shape)}) dimensions = {list(dims)}")
        return r

    def reduce(self, x, in_shape, dims, op, init):
        out_shape = [d for i, d in enumerate(in_shape) if i not in dims]
        z = self.filled(out_shape, init)
        r = self.fresh("r")
        self.emit(f"{r} = linalg.reduce ins({x} : {self.t(in_shape)}) outs({z} : {self.t(out_shape)}) dimensions = {list(dims)}")
        self.emit(f"  (%in: {self.dtype}, %acc: {self.dtype}) {{")
        self.emit(f"    %o = arith.{op} %in, %acc : {self.dtype}")
        self.emit(f"    linalg.yield %o : {self.dtype}")
        self.emit("  }")
        return r

    def linear(self, x, rows, inner, w, outer, bias=None):
        """x [rows, inner] @ w[outer, inner]^T (+ bias)."""
        shape = [rows, outer]
        if bias is not None:
            init = self.broadcast(bias, [outer], shape, [0])
        else:
            init = self.filled(shape, "0.0")
        r = self.fresh("mm")
        self.emit(f"{r} = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>] "
                  f"ins({x}, {w} : {self.t([rows, inner])}, {self.t([outer, inner])}) outs({init} : {self.t(shape)}) -> {self.t(shape)}")
        return r

    def layernorm(self, x, rows, c, w, b):
        """(x - mean) / sqrt(var + 1e-5) * w + b over the last dimension
        (biased variance, as torch.nn.LayerNorm)."""
        shape = [rows, c]
        total = self.reduce(x, shape, [1], "addf", "0.0")
        mean = self.binary("mulf", total, self.splat([rows], repr(1.0 / c)), [rows])
        centered = self.binary("subf", x, self.broadcast(mean, [rows], shape, [1]), shape)
        sq = self.binary("mulf", centered, centered, shape)
        var = self.binary("mulf", self.reduce(sq, shape, [1], "addf", "0.0"),
                          self.splat([rows], repr(1.0 / c)), [rows])
        rstd = self.unary("rsqrt", self.binary("addf", var, self.splat([rows], "1.0e-05"), [rows]), [rows])
        normed = self.binary("mulf", centered, self.broadcast(rstd, [rows], shape, [1]), shape)
        scaled = self.binary("mulf", normed, self.broadcast(w, [c], shape, [0]), shape)
        return self.binary("addf", scaled, self.broadcast(b, [c], shape, [0]), shape)

    def gelu_tanh(self, x, shape):
        """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
        cube = self.binary("mulf", self.binary("mulf", x, x, shape), x, shape)
        inner = self.binary("addf", x, self.binary("mulf", cube, self.splat(shape, "0.044715"), shape), shape)
        th = self.unary("tanh", self.binary("mulf", inner, self.splat(shape, repr(math.sqrt(2.0 / math.pi))), shape), shape)
        onep = self.binary("addf", th, self.splat(shape, "1.0"), shape)
        return self.binary("mulf", self.binary("mulf", x, self.splat(shape, "0.5"), shape), onep, shape)


def generate(V, T, B, C, NH, L, wd, ids="i64"):
    assert C % NH == 0
    hs = C // NH
    BT = B * T
    id_type = ids
    e = Emitter()
    params = [("wte.weight", [V, C], "matrix"), ("wpe.weight", [T, C], "matrix")]
    for l in range(L):
        p = f"h.{l}."
        params += [(p + "ln_1.weight", [C], "ones"), (p + "ln_1.bias", [C], "vector"),
                   (p + "attn.c_attn.weight", [3 * C, C], "matrix"), (p + "attn.c_attn.bias", [3 * C], "vector"),
                   (p + "attn.c_proj.weight", [C, C], "proj"), (p + "attn.c_proj.bias", [C], "vector"),
                   (p + "ln_2.weight", [C], "ones"), (p + "ln_2.bias", [C], "vector"),
                   (p + "mlp.c_fc.weight", [4 * C, C], "matrix"), (p + "mlp.c_fc.bias", [4 * C], "vector"),
                   (p + "mlp.c_proj.weight", [C, 4 * C], "proj"), (p + "mlp.c_proj.bias", [C], "vector")]
    params += [("ln_f.weight", [C], "ones"), ("ln_f.bias", [C], "vector")]
    handle = {name: f"%h{i}" for i, (name, _, _) in enumerate(params)}
    shapes = {name: shape for name, shape, _ in params}

    def rtype(name):
        return f"!tape.resource<{e.t(shapes[name])}>"

    def read(name):
        r = e.fresh("p")
        e.emit(f"{r} = tape.read {handle[name]} : {rtype(name)}")
        return r

    # Embeddings: wte rows gathered by token id, plus wpe by position.
    wte = read("wte.weight")
    ids = e.fresh("ids")
    e.emit(f"{ids} = arith.index_cast %tokens : tensor<{BT}x{id_type}> to tensor<{BT}xindex>")
    idx = e.fresh("idx")
    e.emit(f"{idx} = tensor.expand_shape {ids} [[0, 1]] output_shape [{BT}, 1] : tensor<{BT}xindex> into tensor<{BT}x1xindex>")
    g = e.fresh("g")
    e.emit(f"{g} = tensor.gather {wte}[{idx}] gather_dims([0]) : ({e.t([V, C])}, tensor<{BT}x1xindex>) -> {e.t([BT, 1, C])}")
    tok = e.fresh("tok")
    e.emit(f"{tok} = tensor.collapse_shape {g} [[0, 1], [2]] : {e.t([BT, 1, C])} into {e.t([BT, C])}")
    wpe = read("wpe.weight")
    pos = e.broadcast(wpe, [T, C], [B, T, C], [0])
    posf = e.fresh("pos")
    e.emit(f"{posf} = tensor.collapse_shape {pos} [[0, 1], [2]] : {e.t([B, T, C])} into {e.t([BT, C])}")
    x = e.binary("addf", tok, posf, [BT, C])

    att_shape = [B, NH, T, T]
    for l in range(L):
        p = f"h.{l}."
        e.emit(f"// layer {l}: attention")
        ln1 = e.layernorm(x, BT, C, read(p + "ln_1.weight"), read(p + "ln_1.bias"))
        qkv = e.linear(ln1, BT, C, read(p + "attn.c_attn.weight"), 3 * C, read(p + "attn.c_attn.bias"))
        qkv5 = e.fresh("qkv")
        e.emit(f"{qkv5} = tensor.expand_shape {qkv} [[0, 1], [2, 3, 4]] output_shape [{B}, {T}, 3, {NH}, {hs}] : {e.t([BT, 3 * C])} into {e.t([B, T, 3, NH, hs])}")
        parts = []
        for which in range(3):
            s = e.fresh("qkv")
            e.emit(f"{s} = tensor.extract_slice {qkv5}[0, 0, {which}, 0, 0] [{B}, {T}, 1, {NH}, {hs}] [1, 1, 1, 1, 1] : {e.t([B, T, 3, NH, hs])} to {e.t([B, T, NH, hs])}")
            parts.append(s)
        q, k, v = parts
        z = e.filled(att_shape, "0.0")
        scores = e.fresh("scores")
        e.emit(f"{scores} = linalg.generic {{indexing_maps = [affine_map<(b, h, i, j, d) -> (b, i, h, d)>, affine_map<(b, h, i, j, d) -> (b, j, h, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>], "
               f"iterator_types = [\"parallel\", \"parallel\", \"parallel\", \"parallel\", \"reduction\"]}} ins({q}, {k} : {e.t([B, T, NH, hs])}, {e.t([B, T, NH, hs])}) outs({z} : {e.t(att_shape)}) {{")
        e.emit(f"^bb0(%a: f32, %b: f32, %acc: f32):")
        e.emit(f"  %m = arith.mulf %a, %b : f32")
        e.emit(f"  %s = arith.addf %acc, %m : f32")
        e.emit(f"  linalg.yield %s : f32")
        e.emit(f"}} -> {e.t(att_shape)}")
        scaled = e.binary("mulf", scores, e.splat(att_shape, repr(1.0 / math.sqrt(hs))), att_shape)
        # Causal mask: position j > i gets -inf before the softmax.
        masked = e.fresh("masked")
        em = e.fresh("e")
        e.emit(f"{em} = tensor.empty() : {e.t(att_shape)}")
        e.emit(f"{masked} = linalg.generic {{indexing_maps = [affine_map<(b, h, i, j) -> (b, h, i, j)>, affine_map<(b, h, i, j) -> (b, h, i, j)>], "
               f"iterator_types = [\"parallel\", \"parallel\", \"parallel\", \"parallel\"]}} ins({scaled} : {e.t(att_shape)}) outs({em} : {e.t(att_shape)}) {{")
        e.emit(f"^bb0(%s: f32, %o: f32):")
        e.emit(f"  %i = linalg.index 2 : index")
        e.emit(f"  %j = linalg.index 3 : index")
        e.emit(f"  %future = arith.cmpi ugt, %j, %i : index")
        e.emit(f"  %ninf = arith.constant 0xFF800000 : f32")
        e.emit(f"  %r = arith.select %future, %ninf, %s : f32")
        e.emit(f"  linalg.yield %r : f32")
        e.emit(f"}} -> {e.t(att_shape)}")
        es = e.fresh("e")
        e.emit(f"{es} = tensor.empty() : {e.t(att_shape)}")
        att = e.fresh("att")
        e.emit(f"{att} = linalg.softmax dimension(3) ins({masked} : {e.t(att_shape)}) outs({es} : {e.t(att_shape)}) -> {e.t(att_shape)}")
        zy = e.filled([B, T, NH, hs], "0.0")
        y = e.fresh("y")
        e.emit(f"{y} = linalg.generic {{indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, j)>, affine_map<(b, h, i, j, d) -> (b, j, h, d)>, affine_map<(b, h, i, j, d) -> (b, i, h, d)>], "
               f"iterator_types = [\"parallel\", \"parallel\", \"parallel\", \"reduction\", \"parallel\"]}} ins({att}, {v} : {e.t(att_shape)}, {e.t([B, T, NH, hs])}) outs({zy} : {e.t([B, T, NH, hs])}) {{")
        e.emit(f"^bb0(%a: f32, %b: f32, %acc: f32):")
        e.emit(f"  %m = arith.mulf %a, %b : f32")
        e.emit(f"  %s = arith.addf %acc, %m : f32")
        e.emit(f"  linalg.yield %s : f32")
        e.emit(f"}} -> {e.t([B, T, NH, hs])}")
        y2 = e.fresh("y")
        e.emit(f"{y2} = tensor.collapse_shape {y} [[0, 1], [2, 3]] : {e.t([B, T, NH, hs])} into {e.t([BT, C])}")
        proj = e.linear(y2, BT, C, read(p + "attn.c_proj.weight"), C, read(p + "attn.c_proj.bias"))
        x = e.binary("addf", x, proj, [BT, C])
        e.emit(f"// layer {l}: MLP")
        ln2 = e.layernorm(x, BT, C, read(p + "ln_2.weight"), read(p + "ln_2.bias"))
        fc = e.linear(ln2, BT, C, read(p + "mlp.c_fc.weight"), 4 * C, read(p + "mlp.c_fc.bias"))
        act = e.gelu_tanh(fc, [BT, 4 * C])
        proj2 = e.linear(act, BT, 4 * C, read(p + "mlp.c_proj.weight"), C, read(p + "mlp.c_proj.bias"))
        x = e.binary("addf", x, proj2, [BT, C])

    e.emit("// final layernorm, logits through the tied embedding, cross-entropy")
    lnf = e.layernorm(x, BT, C, read("ln_f.weight"), read("ln_f.bias"))
    logits = e.linear(lnf, BT, C, wte, V)
    rowmax = e.reduce(logits, [BT, V], [1], "maximumf", "0xFF800000")
    shifted = e.binary("subf", logits, e.broadcast(rowmax, [BT], [BT, V], [1]), [BT, V])
    sums = e.reduce(e.unary("exp", shifted, [BT, V]), [BT, V], [1], "addf", "0.0")
    lse = e.unary("log", sums, [BT])
    eb = e.fresh("e")
    picked = e.fresh("picked")
    e.emit(f"{eb} = tensor.empty() : {e.t([BT, V])}")
    e.emit(f"{picked} = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], "
           f"iterator_types = [\"parallel\", \"parallel\"]}} ins({shifted}, %targets : {e.t([BT, V])}, tensor<{BT}x{id_type}>) outs({eb} : {e.t([BT, V])}) {{")
    e.emit(f"^bb0(%s: f32, %target: {id_type}, %o: f32):")
    e.emit(f"  %j = linalg.index 1 : index")
    e.emit(f"  %ji = arith.index_cast %j : index to {id_type}")
    e.emit(f"  %hit = arith.cmpi eq, %ji, %target : {id_type}")
    e.emit(f"  %zero = arith.constant 0.0 : f32")
    e.emit(f"  %r = arith.select %hit, %s, %zero : f32")
    e.emit(f"  linalg.yield %r : f32")
    e.emit(f"}} -> {e.t([BT, V])}")
    target_logit = e.reduce(picked, [BT, V], [1], "addf", "0.0")
    nll = e.binary("subf", lse, target_logit, [BT])
    total = e.reduce(nll, [BT], [0], "addf", "0.0")
    loss = e.binary("mulf", total, e.splat([], repr(1.0 / BT)), [])
    e.emit(f"tape.yield {loss} : tensor<f32>")

    def init(kind, shape, seed):
        if kind == "ones":
            return "dense<1.0>"
        if kind == "vector":
            return "#tape.zeros"
        std = 0.02 / math.sqrt(2 * L) if kind == "proj" else 0.02
        return f"#tape.random_normal<stddev = {std!r}, seed = {seed}>"

    out = [f"// GPT-2 train step (llm.c's train_gpt2.c): vocab {V}, sequence {T}, batch {B},",
           f"// {C} channels, {NH} heads, {L} layers; AdamW lr 3e-4, weight decay {wd} on matrices.",
           f"// Generated by examples/gpt/gen_gpt.py --vocab {V} --seq {T} --batch {B} --channels {C} --heads {NH} --layers {L} --weight-decay {wd}",
           "module {"]
    for i, (name, shape, kind) in enumerate(params):
        out.append(f"  tape.variable @{name} : {e.t(shape)} = {init(kind, shape, i + 1)}")
    out.append(f"  tape.step @train_step(%tokens: tensor<{BT}x{id_type}>, %targets: tensor<{BT}x{id_type}>) -> tensor<f32> {{")
    for name, _, _ in params:
        out.append(f"    {handle[name]} = tape.handle @{name} : {rtype(name)}")
    out.append("    %tape, %loss = tape.record {")
    out += e.lines
    out.append("    } : tensor<f32>")
    decayed = [n for n, s, _ in params if len(s) == 2]
    plain = [n for n, s, _ in params if len(s) != 2]
    order = decayed + plain
    out.append(f"    %g:{len(order)} = tape.gradient %tape (%loss : tensor<f32>) wrt ("
               + ", ".join(handle[n] for n in order) + " : "
               + ", ".join(rtype(n) for n in order) + ")")
    for group, decay, first in ((decayed, wd, 0), (plain, 0.0, len(decayed))):
        out.append(f"    tape.apply_gradients #tape.adamw<learning_rate = 3.0e-04, beta1 = 0.9, beta2 = 0.999, epsilon = 1.0e-08, weight_decay = {float(decay)!r}> ("
                   + ", ".join(f"%g#{first + i}" for i in range(len(group))) + " : "
                   + ", ".join(e.t(shapes[n]) for n in group) + ") to ("
                   + ", ".join(handle[n] for n in group) + " : "
                   + ", ".join(rtype(n) for n in group) + ")")
    out.append("    tape.return %loss : tensor<f32>")
    out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=512)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--ids", choices=("i64", "i32"), default="i64",
                        help="element type of the token and target inputs")
    a = parser.parse_args()
    sys.stdout.write(generate(a.vocab, a.seq, a.batch, a.channels, a.heads,
                              a.layers, a.weight_decay, a.ids))


if __name__ == "__main__":
    main()
