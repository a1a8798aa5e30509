//===- Passes.td - CPU code generation passes -*- tablegen -*-===//
//
// Passes on upstream linalg, memref, vector and scf IR that make fast CPU
// code. None knows about the tape dialect; every name starts with
// `tape-cpu-`.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_PASSES_TD
#define TAPE_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def ApproximateMath
    : Pass<"tape-cpu-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "Float32 vector math becomes upstream's polynomial "
                "approximations";
  let description = [{
    Just before math goes to LLVM: `math.exp`, `expm1`, `tanh`, `log`,
    `log1p`, `log2`, `erf`, `erfc`, `atan`, `atan2`, `sin`, `cos`, `cbrt`,
    `asin` and `acos` on float32 vectors become upstream's polynomial
    approximations (`populateMathPolynomialApproximationPatterns`), which
    stay in vector registers. LLVM would otherwise scalarize each vector op
    into one libm call per lane. Scalar math and float64 keep libm.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::math::MathDialect"];
}

def ConvolutionsAsMatmuls
    : Pass<"tape-cpu-convolutions-as-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Convolutions and their adjoints as im2col (or col2im) and "
                "one 2-D matmul";
  let description = [{
    Runs on tensors. A linalg op whose body is `out + a * b` and in which
    exactly one operand, the image, is indexed by sums of loop dimensions
    (`x[n, c, oh + kh, ow + kw]`, any stride or dilation) becomes:

    * the image copied into a tensor indexed by the loop dimensions it
      uses (im2col: `col[c, kh, kw, n, oh, ow] = x[n, c, oh + kh, ow + kw]`),
      laid out as the matmul reads it;
    * the other operands, transposed only where the loops the matmul
      groups into rows, columns or depth are not contiguous in them, and
      collapsed to 2-D;
    * one matmul (a generic that `tape-cpu-specialize-contractions`
      names), so the packed kernels run it;
    * the result expanded (and transposed back if needed), or, when the
      image is the result (the gradient of a convolution with respect to
      its input), the matmul computes the columns and a scatter-add puts
      them into the result (col2im).

    It works on indexing maps, so named convolutions of any layout and
    the generics AD builds for their adjoints (the filter gradient is a
    convolution of the input by the output gradient) are all rewritten.

    With `image-by-image` (the default), a convolution whose image leads
    with a loop (`n` of `x[n, c, oh + kh, ow + kw]`) that every operand
    using it also leads with becomes an `scf.for` over that loop of
    one-image convolutions, each rewritten as above: one image's columns
    (a few hundred KiB) stay in cache from im2col to the packing that
    reads them instead of going through memory, and one image's product
    (`[f, oh * ow]`) is already the NCHW result's layout, so nothing is
    transposed. The filter is read whole by each iteration; the filter
    gradient, which has no image dimension, is accumulated over them. An
    init computed by an all-parallel op over a fresh tensor from inputs
    without the image dimension (the bias broadcast) is computed image by
    image inside the loop, into the slice the matmul accumulates into.
    On the MNIST CNN this took the step from 89-103 ms to 65-79 ms
    (medians of 3 alternating runs).
    Of the two orders of the inputs it takes the one that copies fewer
    elements, counting twice a copy whose innermost loop strides (fewer
    than 8 consecutive elements); the columns of an input image are laid
    out so that their innermost loop runs along the image's rows
    (`[c, kh, kw, n, oh, ow]`), which is one tensor for a convolution and
    its filter gradient. A transposed input is copied in whichever
    orientation keeps its innermost loop innermost, and an order whose
    product has fewer than 16 columns (a narrow product the packed
    kernels leave alone) costs twice as many elements as its A operand.
    A B laid out `[columns, depth]` also counts once more: the packed
    kernels transpose no A (one stored `[m, k]` is read in place, one
    stored `[k, m]` copied into panels as it is) but transpose such a B
    while packing it. So a filter gradient (depth `[oh, ow]`, columns
    `[c, kh, kw]`) takes the columns as A and the output gradient as B:
    the CNN's second convolution packs 64 x 576 instead of 288 x 576 per
    image. Its C is then `[c, kh, kw, f]`: an image loop that carries a
    result only to transpose it in and out of every iteration carries it
    in the transposed layout instead (one transpose before the loop, one
    after). The CNN's filter-gradient loop went from 1.20x to 1.01x the
    time of its forward convolution. Left alone: a loop in all three
    operands (depthwise and grouped convolutions: batch dimensions) or in
    only one, and columns with more than `max-column-elements` elements.

    With `threads` above 1, a convolution is first cut into that many
    pieces along a loop that the result and the image index plainly
    (never in a sum) and that the threads divide: the images (the leading
    image loop: forward and input gradient) or else the longest such loop
    (the filter gradient's input channels, since it sums over the
    images). The pieces are the iterations of an `scf.forall`, each an
    image loop as above over its block, writing its block of the result
    (the bias broadcast computed into it by its own thread). A thread then
    runs its im2col, packing and matmuls with no fork and join between
    them (the kernels inside keep to their thread), and, since no piece
    adds to another's result, every element is computed by the same
    operations in the same order at any thread count. On the MNIST CNN at
    2 threads the step's median went from 62-93 ms to 56-60 ms in 5
    alternating runs (2026-12-03).
  }];
  let options = [
    Option<"maxColumnElements", "max-column-elements", "int64_t",
           /*default=*/"1 << 26",
           "The largest im2col tensor to create, in elements (the default "
           "is 256 MiB of float32)">,
    Option<"imageByImage", "image-by-image", "bool", /*default=*/"true",
           "Convolve one image at a time (a loop over the image's leading "
           "dimension) when every operand that uses it leads with it">,
    Option<"threads", "threads", "int64_t", /*default=*/"1",
           "Above 1, cut each convolution into this many pieces along a "
           "loop that leaves every element's arithmetic as it was (the "
           "images; a filter gradient's input channels), run by an "
           "scf.forall">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def BatchedContractionsAsMatmuls
    : Pass<"tape-cpu-batched-contractions-as-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Contractions with batch loops as a loop of 2-D matmuls";
  let description = [{
    Runs on tensors. A `linalg.generic` whose body is `out + a * b`, whose
    maps are projected permutations, and which has batch loops (loops that
    index both inputs and the result: attention's batch and head) as well
    as row, column and depth loops, becomes an `scf.for` over the batch
    entries of one 2-D matmul on `tensor.extract_slice`s, inserted back
    into the result. Each operand is first laid out as
    `[batch, rows or depth, depth or columns]` (an input in whichever
    orientation it is stored in, or, when it must be copied, the one that
    keeps its innermost loop innermost; the result as
    `[batch, rows, columns]`, copied back when stored otherwise), so that
    every batch entry is a contiguous matrix. A result stored with a column
    before its rows (AD's `dP^T` in attention's backward pass) makes the
    inputs trade places (rows become columns): the loop computes it in its
    own layout, with no transpose of the result after it nor of its init
    before it (the same bits: products commute; the GPT's 1-thread step
    1-1.3% faster, 5 of 6 alternating runs). The matmuls are generics that
    `tape-cpu-specialize-contractions` names, so the packed kernels and
    register tiles take them like any other matmul. Register tiles over the
    original maps read operands laid out by heads (`q[b, i, h, d]`)
    element by element; on the GPT example these products were 40% of the
    LLVM IR.

    Example:

    ```mlir
    linalg.generic {indexing_maps = [(b, h, i, j, d) -> (b, i, h, d),
                                     (b, h, i, j, d) -> (b, j, h, d),
                                     (b, h, i, j, d) -> (b, h, i, j)], ...}
        ins(%q, %k : tensor<4x64x4x32xf32>, tensor<4x64x4x32xf32>) ...
    ```

    becomes `q` and `k` transposed to `[b, h, t, d]` and collapsed to
    `tensor<16x64x32xf32>`, and a loop of 16 matmuls of 64x32 by (32x64,
    read transposed) into slices of `tensor<16x64x64xf32>`.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def SpecializeContractions
    : Pass<"tape-cpu-specialize-contractions", "::mlir::func::FuncOp"> {
  let summary = "Contractions written as linalg.generic become named ops, so "
                "that the matmul kernels apply";
  let description = [{
    On tensors, first in codegen. Every `linalg.generic` that is a
    contraction (a multiply-add body over projected permutations) goes to
    upstream's `specializeGenericOp`; before that, a matmul upstream does
    not recognize becomes `linalg.matmul` with indexing maps: one row, one
    column and one reduction dimension, each operand read in either order
    (transposed), the operands in either order, the result's dimensions in
    either order. Elementwise generics are left alone (a named
    elementwise op would only be generalized again, and the buffer-level
    loop fusion works on generics).

    Example:

    ```mlir
    linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>,
                                     affine_map<(m, n, k) -> (n, k)>,
                                     affine_map<(m, n, k) -> (m, n)>],
                    iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : tensor<8x4xf32>, tensor<5x8xf32>) outs(%c : tensor<4x5xf32>) {
      ^bb0(%x: f32, %y: f32, %z: f32):
        %m = arith.mulf %x, %y : f32
        %s = arith.addf %z, %m : f32
        linalg.yield %s : f32
    } -> tensor<4x5xf32>
    ```

    becomes

    ```mlir
    linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>,
                                   affine_map<(d0, d1, d2) -> (d1, d2)>,
                                   affine_map<(d0, d1, d2) -> (d0, d1)>]
        ins(%a, %b : tensor<8x4xf32>, tensor<5x8xf32>) outs(%c : tensor<4x5xf32>) -> tensor<4x5xf32>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def AccumulateIntoMatmuls
    : Pass<"tape-cpu-accumulate-into-matmuls", "::mlir::func::FuncOp"> {
  let summary = "A matmul whose product is scaled and added to a tensor "
                "accumulates into that tensor";
  let description = [{
    On tensors, before elementwise ops become linalg. `w + c * (A B)`,
    `w - c * (A B)`, `w + A B` and `w - A B`, where the product starts from
    zeros (a zero fill or a zero constant), is used only there and `c` is a
    splat constant, become one `linalg.matmul` that starts from `w`, with
    the smaller of its operands scaled by `+-c` (an elementwise op that
    fuses into that operand's producer): upstream `FoldAddIntoDest`,
    generalized to a scale. This is the plain SGD update of a weight by its
    gradient, `w - lr * dW`: after bufferization the product accumulates
    straight into the weight's buffer, as a hand-written step calls sgemm
    with `beta = 1`, and the gradient buffer and its second pass over
    memory disappear. Kernels only ever see `C += A B`.

    Example:

    ```mlir
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<784x256xf32>) -> tensor<784x256xf32>
    %g = linalg.matmul ins(%x, %dy : ...) outs(%z : tensor<784x256xf32>) -> tensor<784x256xf32>
    %d = arith.mulf %lr, %g : tensor<784x256xf32>
    %w2 = arith.subf %w, %d : tensor<784x256xf32>
    ```

    becomes

    ```mlir
    %s = arith.mulf %dy, %minus_lr : tensor<64x256xf32>
    %w2 = linalg.matmul ins(%x, %s : ...) outs(%w : tensor<784x256xf32>) -> tensor<784x256xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def DecomposeAggregates
    : Pass<"tape-cpu-decompose-aggregates", "::mlir::func::FuncOp"> {
  let summary = "Decomposes aggregate linalg ops (softmax) into the ops "
                "they stand for";
  let description = [{
    On tensors. Every op implementing upstream's `AggregatedOpInterface`
    (`linalg.softmax`) is replaced by its decomposition (a max reduction,
    an exponential, a sum reduction and a division, as linalg ops), which
    the rest of code generation tiles, fuses and vectorizes.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LowerGatherScatter
    : Pass<"tape-cpu-lower-gather-scatter", "::mlir::func::FuncOp"> {
  let summary = "Lowers tensor.gather and tensor.scatter to linalg and "
                "loops";
  let description = [{
    On tensors (upstream has no lowering for either). A `tensor.gather`
    becomes a `linalg.generic` over its result whose body reads the
    gathered coordinates from the index tensor and the element from the
    source (`tensor.extract`), so it fuses and tiles like any elementwise
    op. A `tensor.scatter` (`unique`) becomes a loop nest over the index
    tensor's batch dimensions that inserts each source slice into the
    destination (`tensor.insert_slice`), which bufferizes in place.

    Example:

    ```mlir
    %g = tensor.gather %t[%idx] gather_dims([0]) : (tensor<4x3xf32>, tensor<2x1xindex>) -> tensor<2x1x3xf32>
    ```

    becomes a generic over `(i, j, k)` whose body extracts `%idx[i, 0]`
    and then `%t[%idx[i, 0] + j, k]`.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PackMatmuls : Pass<"tape-cpu-pack-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Generates cache-blocked, packed register-tile code for "
                "large f32 matmuls on buffers";
  let description = [{
    Runs on buffers, before `tape-abi-allocate-workspace`. A `linalg.matmul` on
    statically shaped f32 memrefs with default or transposed operand maps
    (as reverse-mode AD writes them), at least `mr` rows, `nr`
    columns and `min-flops` flops (2 M N K), becomes the loop nest of a
    GotoBLAS-style kernel:

    - for each `nc`-column block of B and `kc`-deep slice of K, the block
      of B is packed into `nr`-wide panels (contiguous, zero-padded);
    - for each `mc`-row block of A, that block is packed into `mr`-high
      panels;
    - an `mr x nr` register tile starts at zero while the matching tile of
      C and the next one down are prefetched, takes `kc` rank-1 updates (`vector.fma` of an
      element of the A panel broadcast from memory and a row of the B
      panel, all contiguous loads), and is then added to C (masked at the
      edges). When a zero fill of C, or a broadcast of a 1-D bias into C
      (a value per column, as a linear layer's, or a value per row, as a
      convolution's per output channel; also into a buffer that C
      collapses to 2-D, where the bias's dimension stays a group of its
      own) comes before the matmul, it is dropped and the first slice
      writes its tile (plus the bias) without reading C. Ops may come
      between when C is a fresh allocation and their memory effects are
      on other allocations or the function's arguments (an image's im2col
      copy), and none writes the bias.

    Operands whose rows are contiguous and a known stride apart that is no
    multiple of 4 KiB (rows read together would share few L1 sets) are read
    in place instead of packed: an untransposed A, broadcast element by
    element from where it is (`direct-a`: the transposing pack is saved,
    and each of the tile's rows is read front to back), and an untransposed
    B of whole panels of at most `max-direct-b-bytes`, whose rows the kernel
    loads as it would a panel's. A transposed A is packed unless all of it
    fits in a third of L1 (16 KiB: attention's 64x64 probabilities per
    head): the pack is a plain copy, and read in place each depth step
    would load from a new cache line a row pitch away (784x1024x256 with
    A^T: 133-145 GFLOP/s in place, 160-191 packed); a small A's lines stay
    in L1 across the column panels.

    The packed panels make every load of the inner loop contiguous and keep
    the B panel in L1 and the A block in L2, which a register tile over the
    unpacked operands cannot (their rows are a whole row pitch apart). The
    two pack buffers are one `memref.alloc` each per function, sized for
    its largest matmul, so `tape-abi-allocate-workspace` places them in the
    workspace; matmuls inside an `scf.forall` or `scf.parallel` get a pair
    allocated in the body of the outermost one instead, which
    `tape-cpu-privatize-buffers` turns into a slot per iteration. With
    `parallel`, the loop over column panels is an
    `scf.parallel` (threads share the packed A block; each writes its own
    columns of C), and so are the packing loops over panels of a block of
    at least 32768 elements (smaller ones do not pay for a fork and join);
    a matmul inside a parallel loop already has its thread and keeps to
    plain loops.
    Transposed operands are transposed while packing: an operand whose
    rows run along the depth (A as `[m, k]`, B as `[n, k]`) is read as
    blocks of panel-many rows of 8 contiguous elements, transposed in
    registers (`vector.transpose`, lowered to shuffles), and the columns
    left over at the end of a slice are gathered one by one. Smaller or narrower
    matmuls are left to `tape-cpu-vectorize`. A weight's SGD update arrives
    folded into its gradient matmul (`tape-cpu-accumulate-into-matmuls`):
    C is then the weight and the kernel adds to it.

    Example:

    ```mlir
    linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>)
                  outs(%c : memref<64x256xf32>)
    ```

    becomes `scf.for` loops over column blocks, K slices and row blocks
    (packing into `memref<..x128x32xf32>` and `memref<..x128x8xf32>`
    panels) around an inner loop of 8 `vector.fma` on `vector<32xf32>`.
  }];
  let options = [
    Option<"mr", "mr", "int64_t", /*default=*/"8",
           "Rows of the register tile">,
    Option<"nr", "nr", "int64_t", /*default=*/"32",
           "Columns of the register tile (a multiple of the vector width)">,
    Option<"mc", "mc", "int64_t", /*default=*/"256",
           "Rows of A per packed block (a multiple of mr)">,
    Option<"kc", "kc", "int64_t", /*default=*/"256",
           "Depth of a packed slice">,
    Option<"nc", "nc", "int64_t", /*default=*/"1024",
           "Columns of B per packed block (a multiple of nr)">,
    Option<"maxDirectBBytes", "max-direct-b-bytes", "int64_t",
           /*default=*/"1048576",
           "Largest untransposed B (bytes) the kernels read in place instead "
           "of packing (0: always pack)">,
    Option<"directA", "direct-a", "bool", /*default=*/"true",
           "Read an untransposed A where it is instead of packing it (when "
           "its rows are contiguous and no multiple of 4 KiB apart)">,
    Option<"minFlops", "min-flops", "int64_t", /*default=*/"262144",
           "Smallest matmul (2 M N K) that gets packed">,
    Option<"parallel", "parallel", "bool", /*default=*/"false",
           "Loop over the column panels with scf.parallel (threads, once "
           "convert-scf-to-openmp runs)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def MatvecKernels
    : Pass<"tape-cpu-matvec-kernels", "::mlir::func::FuncOp"> {
  let summary = "Vectorized kernels for matrix-vector products (matmuls "
                "with one output column)";
  let description = [{
    Runs on buffers, before `tape-cpu-vectorize`, whose register tiles over m
    and n degenerate to scalar FMAs when n is 1 (`x @ w` with one output,
    and its weight gradient `x^T @ dz`). A `linalg.matmul` on statically
    shaped f32 memrefs with N = 1 becomes:

    - A stored M x K (dot products): `rows` rows at a time, each with a
      `lanes`-wide accumulator over contiguous runs of its row (the last run
      masked), reduced horizontally at the end and added to C;
    - A stored K x M (reverse-mode AD wrote the transpose into the
      maps): `4 x lanes` outputs at a time, accumulating broadcast vector
      elements times contiguous runs of A's rows (masked at the edge).

    Both read A, the large operand, once and contiguously: these products
    are bound by memory, not arithmetic. Sums are reassociated across the
    lanes of a vector (the dot-product form), so results differ from the
    plain loops in the last bits.

    Example:

    ```mlir
    linalg.matmul ins(%x, %w : memref<1024x1000xf32>, memref<1000x1xf32>)
                  outs(%z : memref<1024x1xf32>)
    ```

    becomes a loop over 4-row blocks around a loop over 125 runs of 8
    columns, 4 `vector.fma` each, then 4 `vector.reduction <add>`. With
    `parallel`, the loop over blocks of output rows (both forms) is an
    `scf.parallel`: each block writes its own rows of C (not inside a
    loop already spread over threads).
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"8",
           "Elements per vector">,
    Option<"rows", "rows", "int64_t", /*default=*/"4",
           "Rows per block in the dot-product form">,
    Option<"parallel", "parallel", "bool", /*default=*/"false",
           "Loop over blocks of output rows with scf.parallel (threads, "
           "once convert-scf-to-openmp runs)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def CollapseContiguousLoops
    : Pass<"tape-cpu-collapse-contiguous-loops", "::mlir::func::FuncOp"> {
  let summary = "Neighbouring loops that every operand walks contiguously "
                "become one loop";
  let description = [{
    Runs on buffers, before `tape-cpu-vectorize`. In a statically shaped
    `linalg.generic` whose indexing maps are projected permutations (no
    windows, no `linalg.index`, not a contraction), loops `d` and `d + 1`
    merge when they are the same kind (both parallel or both reductions)
    and, in every operand, either neither indexes it or they index
    adjacent dimensions in that order over which the memref is contiguous
    (the outer stride is the inner stride times the inner size). Chains of
    such loops merge into one; the operands become `memref.collapse_shape`
    views (upstream `linalg::collapseOpIterationDims`).

    `tape-cpu-vectorize` vectorizes an elementwise op along its innermost
    loop, and a reduction over its innermost loops: with a short innermost
    loop (24 pixels of a convolution's output row) it runs on vectors of 12
    lanes, or 16 and 8, with a loop level per dimension. Collapsed, the
    same op is one loop over the whole contiguous buffer with full vectors,
    and a bias gradient (sum over images and pixels) reduces 576 contiguous
    pixels per channel instead of 24.

    Example:

    ```mlir
    linalg.generic {indexing_maps = [#id4, #id4],
                    iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
        ins(%x : memref<64x64x24x24xf32>) outs(%y : memref<64x64x24x24xf32>) {...}
    ```

    becomes

    ```mlir
    %xc = memref.collapse_shape %x [[0, 1, 2, 3]] : memref<64x64x24x24xf32> into memref<2359296xf32>
    %yc = memref.collapse_shape %y [[0, 1, 2, 3]] : memref<64x64x24x24xf32> into memref<2359296xf32>
    linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
        ins(%xc : memref<2359296xf32>) outs(%yc : memref<2359296xf32>) {...}
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect"];
}

def Vectorize : Pass<"tape-cpu-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Tiles statically shaped linalg ops into register-sized "
                "tiles and vectorizes them";
  let description = [{
    Runs on buffers, after bufferization (so that tiles of in-place
    updates need no analysis). Contractions (matmul, batched
    matmul) are tiled to `m x n x 1` register blocks (`m` up to
    `contraction-m`, `n` up to `contraction-n`, largest divisors of the
    static sizes, so every tile is full) and vectorized to `vector.contract`,
    which later lowers to outer products (FMAs). Every other linalg op is
    tiled to one vector along its innermost dimension (up to
    `vector-width` elements) and vectorized. Ops with dynamic shapes or
    rank 0 stay as they are.

    Upstream vectorization refuses ops with an operand indexed by a sum of
    loops (im2col's `x[n, c, oh + kh, ow + kw]`, col2im's scatter-add into
    it). When the innermost loop appears only in the last index of each
    operand it indexes, with coefficient 1 and unit stride in memory, and
    indexes every output, such an op becomes scalar loops around vectors
    along that loop (`vector-width` lanes, then halves for the rest:
    24 = 16 + 8), with `vector.load`/`vector.store`. The lanes of one
    vector write distinct elements, so even when the op's other loops
    reduce (col2im) the result is the scalar loops' to the bit; when its
    outermost loop is parallel it is spread over threads as below. The reduction loop of a tiled contraction
    carries its output tile as a vector (read before the loop, written
    after it): bufferization never lets a contraction's output alias its
    inputs, which upstream's hoisting cannot assume of function arguments.
    `tape-cpu-hoist-vector-transfers` does the same for the other reduction
    loops, where upstream can prove it.

    An op that reduces along its innermost loop (a row's max or sum of
    exp) runs scalar loops over the others and, along that loop, four
    vector accumulators per output that take the vectors in turn (so that
    consecutive combines do not wait on each other), combined pairwise
    after it; the result's lanes are then reduced, a min or max by halving
    the vector (LLVM lowers its `vector.reduction` to a chain of scalar
    steps with NaN checks). The order is fixed by the shapes, the same at
    any thread count. A GPT step at 1 thread: 6.85-6.90 -> 6.78-6.85 ms
    median (4 alternating runs of 300 steps).

    With `threads` above 1, an op whose loops are all parallel (elementwise
    ops, an optimizer's fused update, fills, broadcasts) and that has at
    least `min-parallel-elements` elements is first cut along its outermost
    dimension into `threads` blocks (the largest divisor of that dimension
    not above its share), iterated by an `scf.parallel` that
    `convert-scf-to-openmp` turns into a worksharing loop; each block is
    then tiled and vectorized as above. An op already inside an
    `scf.forall` or `scf.parallel` (a convolution's piece per thread) is
    left to its thread.

    Example:

    ```mlir
    linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>)
                  outs(%c : memref<64x256xf32>)
    ```

    becomes loops over 8x32 tiles of `vector.contract` on
    `vector<8x1xf32>`, `vector<1x32xf32>` into `vector<8x32xf32>`.
  }];
  let options = [
    Option<"contractionM", "contraction-m", "int64_t", /*default=*/"8",
           "Rows of a contraction's register tile (at most)">,
    Option<"contractionN", "contraction-n", "int64_t", /*default=*/"32",
           "Columns of a contraction's register tile (at most)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Elements per vector for the other ops (at most)">,
    Option<"threads", "threads", "int64_t", /*default=*/"1",
           "Threads to spread large elementwise ops over (scf.parallel)">,
    Option<"minParallelElements", "min-parallel-elements", "int64_t",
           /*default=*/"65536",
           "Smallest elementwise op (in elements) that is spread over "
           "threads">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::affine::AffineDialect"];
}

def HoistVectorTransfers
    : Pass<"tape-cpu-hoist-vector-transfers", "::mlir::func::FuncOp"> {
  let summary = "Keeps loop-carried vector accumulators in registers";
  let description = [{
    After bufferization, moves matching `vector.transfer_read`/`write`
    pairs on loop-invariant buffers out of loops, where it can prove no
    other access in the loop touches them (upstream
    `linalg::hoistRedundantVectorTransfers`, which MLIR exposes only as a
    transform-dialect op), so a tiled reduction that is not a contraction
    (the loss's sum over the batch) accumulates in registers instead of
    reloading its tile every step. Contractions are handled by
    `tape-cpu-vectorize` itself.

    Example: a `scf.for` over the batch whose body reads a `vector<f32>`
    accumulator, adds one element and writes it back becomes a loop that
    carries the accumulator as an iter_arg.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect"];
}

def FuseElementwiseOps
    : Pass<"tape-cpu-fuse-elementwise-ops", "::mlir::func::FuncOp"> {
  let summary = "Upstream's elementwise fusion on tensors, without fusing "
                "a destination-reading producer into a consumer that "
                "repeats it";
  let description = [{
    Runs upstream `linalg-fuse-elementwise-ops`' patterns (producer into
    consumer when the consumer is the producer's only user, reshapes folded
    by expansion into generics, constants folded) under a control function
    that refuses one case upstream miscompiles: a producer whose body reads
    its own destination (`out + in`), fused into a consumer whose map for
    the producer's result leaves out some of the consumer's loops (a
    reduction or a broadcast over them). The fused op runs the producer's
    body at every iteration of the consumer's loops, with the destination
    an extra output, so it accumulates once per iteration of the left-out
    loops instead of once.

    Examples: AD's seed gradient `linalg.generic ins(%one) outs(%zeros)
    { out + in }` feeding the adjoint of a 2x2 max-pool, whose loops all
    reduce, stays its own op (fused, the gradient was 4 times too large);
    the seed of a per-row cross-entropy feeding a generic over rows and
    classes stays its own op (fused, it was counted once per class).

    Two fusions upstream's default leaves apart, for values AD keeps for
    the backward pass (a forward result with uses in both passes):

    * a shared producer (GELU's `tanh`) fuses into an elementwise consumer
      that visits each of its elements once, and the fused op yields the
      kept value as well, for its other uses (upstream's pattern would
      compute it twice);
    * a producer cheaper to compute again than to write and read back
      (an all-parallel generic with one result, at most one input read at
      every point of its loops (others, such as a row's maximum, are read
      along fewer) and at most two cheap arithmetic ops: GELU's `x * x`,
      `0.5 * x`, `1 + t`, a log-softmax's `x - max`, a layer norm's
      `x - mean`) fuses into every consumer that visits each of
      its elements once, so no loop writes it: the backward pass reads its
      input instead. A cheap op is not the consumer of a shared-producer
      fusion either (it would gain a second result and be stored): its own
      consumers take it first. GELU's forward loop wrote 5 arrays (`x^2`,
      `t`, `1 + t`, `0.5 x`, the result) and now writes 2 (`t`, the
      result). On the GPT example this took the workspace from 15.6 to
      12.5 MB and the 1-thread step from 15.4-16.6 ms to 13.3-14.6 ms
      (medians of 200 steps, alternating runs, 2026-12-03);
    * a `linalg.broadcast` read only by generics (a layer norm's mean and
      scale along the rows, its gain and shift along the columns, a
      softmax's row sums) becomes a generic, which is then cheap to compute
      again and fuses into each consumer: each reads the small operand
      instead of a broadcast array written out in full (upstream's fusion
      takes generic producers only). A broadcast into a matmul's init stays
      named: the packed kernels add that bias in their first slice. The GPT
      example kept 9 of its 32 broadcasts, and its 1-thread step went from
      6.73-6.93 to 6.55-6.70 ms (medians of 300 steps, 3 alternating runs).

    Reshapes fold into generics only: folding one into a named op (a
    matmul over an im2col tensor) would make the named op a generic again.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FuseElementwiseLoops
    : Pass<"tape-cpu-fuse-elementwise-loops", "::mlir::func::FuncOp"> {
  let summary = "Merges neighbouring elementwise loops on buffers into one";
  let description = [{
    Runs on buffers. Two `linalg.generic` ops in the same block, with only
    ops free of memory effects between them, both elementwise (all loops
    parallel, all indexing maps identities) over the same static domain,
    on whole buffers (function arguments or allocations with the identity
    layout, never views), become one generic with the union of their
    operands that does the first's computation and then the second's at
    each index; where the second reads a buffer the first writes, it uses
    the value just computed. This is always legal: iteration i of either op
    touches element i of its operands and nothing else. Chains merge into
    one loop.

    Upstream `linalg-fuse-elementwise-ops` runs earlier, on tensors, and
    fuses a producer into a consumer only when the consumer is its only
    user. Optimizer updates are not like that: Adam's `m`, `v` and `w`
    updates each write a state buffer and the last reads the first two, so
    they stay three loops that each stream their operands from memory. One
    loop reads `g`, `m`, `v` and `w` once and writes `m`, `v` and `w` once.

    Example:

    ```mlir
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
        ins(%m, %g : memref<1024xf32>, memref<1024xf32>) outs(%m : memref<1024xf32>) {...}
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
        ins(%w, %m : memref<1024xf32>, memref<1024xf32>) outs(%w : memref<1024xf32>) {...}
    ```

    becomes one `linalg.generic ins(%m, %g, %w) outs(%m, %w)` whose body
    computes the new `m`, then the new `w` from it, and yields both.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LowerMatmulToBlas
    : Pass<"tape-cpu-lower-matmul-to-blas", "::mlir::ModuleOp"> {
  let summary = "Replaces large f32 matmuls on buffers with calls to "
                "cblas_sgemm";
  let description = [{
    Runs on buffers, before `tape-cpu-vectorize`. A `linalg.matmul` on f32
    memrefs whose rows are contiguous (unit innermost stride), whose
    indexing maps are the default ones or transpose A and/or B (as
    reverse-mode AD writes them), and that does at least
    `min-flops` floating-point operations (2 M N K), with M and N at least
    `min-dimension` (narrower products are bound by memory, where sgemm's
    packing only adds traffic), becomes one call to
    the CBLAS function `cblas_sgemm` (row-major, transpose flags from the
    maps, leading dimensions from the strides). When the op just before
    it (ignoring ops without memory effects) fills the same output with
    zeros, the fill is dropped and the call uses `beta = 0`; otherwise it
    accumulates (`beta = 1`: a weight's SGD update folded into its gradient
    matmul by `tape-cpu-accumulate-into-matmuls`). The program
    must then be linked with a CBLAS library (OpenBLAS: `-lopenblas`);
    `tape-run --blas` loads it into the JIT.

    Example:

    ```mlir
    linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>)
                  outs(%c : memref<64x256xf32>)
    ```

    becomes (pointers from `memref.extract_aligned_pointer_as_index`)

    ```mlir
    func.call @cblas_sgemm(%row_major, %no_trans, %no_trans, %c64, %c256,
        %c784, %one, %pa, %c784, %pb, %c256, %one, %pc, %c256)
      : (i32, i32, i32, i32, i32, i32, f32, !llvm.ptr, i32, !llvm.ptr, i32,
         f32, !llvm.ptr, i32) -> ()
    ```
  }];
  let options = [
    Option<"minFlops", "min-flops", "int64_t", /*default=*/"1000000",
           "Smallest matmul (in 2 M N K flops) that becomes a BLAS call">,
    Option<"minDimension", "min-dimension", "int64_t", /*default=*/"16",
           "Smallest M and N of a matmul that becomes a BLAS call (narrower "
           "ones are matrix-vector products, bound by memory)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def ExpandStridedCopies
    : Pass<"tape-cpu-expand-strided-copies", "::mlir::ModuleOp"> {
  let summary = "Rewrites memref.copy between non-contiguous memrefs into "
                "linalg.copy";
  let description = [{
    `memref.copy` between memrefs with non-identity layouts lowers to a call
    of `memrefCopy` from MLIR's C runner utilities, a library that compiled
    steps should not need (neither the JIT nor an AOT object links it).
    This pass rewrites those copies into `linalg.copy`, which becomes loops
    like every other linalg op; contiguous copies stay `memref.copy` and
    become `memcpy`.

    Example:

    ```mlir
    memref.copy %a, %b : memref<2xf32, strided<[4]>> to memref<2xf32>
    ```

    becomes

    ```mlir
    linalg.copy ins(%a : memref<2xf32, strided<[4]>>) outs(%b : memref<2xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def OutlineLoopNests : Pass<"tape-cpu-outline-loop-nests", "::mlir::ModuleOp"> {
  let summary = "Moves each top-level loop nest of a function into a "
                "private function of its own, one per distinct nest";
  let description = [{
    Runs on buffers, last before the conversion to LLVM. A train step is
    one function of hundreds of loop nests, and LLVM's loop passes
    (induction variable simplification, rotation, unrolling) and its
    machine scheduler cost more than linearly in a function's size. Each
    top-level op with regions and no results (a loop nest, a parallel
    region) of at least `min-ops` operations becomes a private function
    (`<function>__loop<N>`, with internal linkage, so that objects link
    together, and LLVM's `noinline`, so that LLVM does not put it back)
    called in its place.

    Its arguments are the values the nest uses from above that the
    bare-pointer calling convention can pass: scalars and statically
    shaped memrefs with the identity layout, views of the workspace
    included. Constants, and strided views of passable values (which the
    convention cannot pass), are recomputed inside. A nest that uses
    anything else stays where it is, and so does one that frees a buffer
    from outside (the deallocation's `scf.if { memref.dealloc }`): the
    bare pointer is the aligned one, not the pointer `free` needs. A nest
    that uses a buffer its function allocates on the heap stays too:
    LLVM deletes a `malloc` whose memory does not leave its function (the
    deallocation's bookkeeping arrays), and a call would let it escape.

    Nests that differ only in the buffers they touch (the layers of a
    network, the optimizer's update of equally shaped variables) become
    equal functions; a function equal to an earlier one (same signature,
    same body up to locations) is dropped and its call goes to the
    earlier one, so LLVM compiles each distinct nest once. On the GPT
    example this leaves 120 functions for 355 nests and compiles in 3.3-3.7 s
    instead of 8-10 s.
  }];
  let options = [
    Option<"minOps", "min-ops", "int64_t", /*default=*/"1",
           "Smallest nest (in operations, nested ones included) that is "
           "outlined">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def StoreBooleansAsBytes
    : Pass<"tape-cpu-store-booleans-as-bytes", "::mlir::func::FuncOp"> {
  let summary = "Keeps boolean tensors that loops pass to loops as i8";
  let description = [{
    Runs on tensors, before bufferization. Bufferization stores an `i1`
    per byte, while a vector of `i1` is a bit vector in LLVM, so
    `tape-cpu-vectorize` leaves ops on `i1` buffers as scalar loops, and
    with them whatever elementwise fusion put in the same loop (a dropout
    mask: the random draw that yields it and the max-pool adjoint that
    reads it). For a `linalg.generic` result of `i1` elements whose init is
    an empty tensor the body does not read and whose every use is an input
    of another `linalg.generic`, the producer writes `arith.extui` of its
    value into an `i8` tensor and each consumer reads the `i8` and
    `arith.trunci`s it back on entry. Other boolean tensors are left alone.

    Example:

    ```mlir
    %m = linalg.generic ... outs(%e : tensor<64xi1>) {
      ... linalg.yield %keep : i1 } -> tensor<64xi1>
    %y = linalg.generic ... ins(%m, %x : tensor<64xi1>, tensor<64xf32>) ...
    ```

    becomes a producer with `outs(%e8 : tensor<64xi8>)` yielding
    `arith.extui %keep : i1 to i8`, and a consumer whose block argument
    is `i8`, truncated to `i1` where the body starts.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PrivatizeBuffers
    : Pass<"tape-cpu-privatize-buffers", "::mlir::func::FuncOp"> {
  let summary = "Gives each iteration of a parallel loop its own slot of "
                "one buffer allocated before the loop";
  let description = [{
    Runs on buffers, before `tape-abi-allocate-workspace`. A statically
    shaped `memref.alloc` in the body of an `scf.forall` or `scf.parallel`
    with constant bounds is scratch of one iteration (a thread's im2col
    columns or pack buffers): upstream's buffer hoisting leaves it in the
    loop, where it would be a heap allocation per iteration. It becomes one
    byte buffer before the loop with a slot per iteration (64-byte
    aligned), and in the body a `memref.view` of the iteration's slot with
    the alloc's type, so every use is unchanged. The buffer before the
    loop is what the workspace then holds: steps with threaded kernels
    still make no heap allocation. Allocs in regions nested in the body
    (branches, sequential loops) and dynamically shaped ones are left
    alone.

    Example:

    ```mlir
    scf.forall (%t) in (2) {
      %cols = memref.alloc() : memref<288x576xf32>
      ...
    }
    ```

    becomes

    ```mlir
    %slots = memref.alloc() : memref<1327104xi8>
    scf.forall (%t) in (2) {
      %offset = arith.muli %t, %c663552 : index
      %cols = memref.view %slots[%offset][] : memref<1327104xi8> to memref<288x576xf32>
      ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def MaterializeSplatInits
    : Pass<"tape-cpu-materialize-splat-inits", "::mlir::func::FuncOp"> {
  let summary = "Gives every destination-style op or loop whose init is a "
                "splat constant or a shared fill its own fill";
  let description = [{
    One-shot bufferization writes a destination-style op into the buffer
    of its init. When the init is a splat constant (a zero init written as
    `arith.constant dense<0.0>`, or the zeros a gradient starts from), that
    buffer is a read-only global, so it allocates and copies the global in;
    when the init is a fill that other ops use too (CSE merges equal fills,
    such as the zero inits of same-shaped matmuls), it keeps the filled
    buffer intact for the others and copies it. Each op needed only a fill:
    this pass, run on tensors just before bufferization, gives such an init
    a `linalg.fill` of a `tensor.empty` of its own, right before the op
    (where `tape-cpu-pack-matmuls` and `tape-cpu-lower-matmul-to-blas` look
    for a zero fill to fold into the kernel). The initial values of
    `scf.for` loops that carry a tensor count as inits too (a loop of
    per-head products writes into its init), and a splat is also seen
    through reshapes, transposes and broadcasts (AD's zero cotangent of a
    transposed value is a transpose of a zero constant, a pass of its own).
    A loop whose iteration `i` (for every `i` from 0 to the size of one
    dimension) reads slice `i` of its splat init along that dimension and
    writes it back, doing nothing else with the tensor (attention's
    per-head products), starts from a `tensor.empty` instead, and each
    iteration fills its own slice right before using it, where the kernels
    fold a zero fill.
    The last user of a shared fill keeps it; a constant, fill, reshape or
    transpose left without users is erased. Inits of other kinds, non-splat
    constants and dynamically shaped tensors are left alone. The same step
    as tpp-mlir's duplicate-fill, on constants too.

    Example:

    ```mlir
    %z = arith.constant dense<0.0> : tensor<64x256xf32>
    %a = linalg.matmul ins(%x, %w : ...) outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
    %b = linalg.matmul ins(%y, %v : ...) outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
    ```

    becomes

    ```mlir
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<64x256xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
    %a = linalg.matmul ins(%x, %w : ...) outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
    %zero1 = arith.constant 0.0 : f32
    %e1 = tensor.empty() : tensor<64x256xf32>
    %z1 = linalg.fill ins(%zero1 : f32) outs(%e1 : tensor<64x256xf32>) -> tensor<64x256xf32>
    %b = linalg.matmul ins(%y, %v : ...) outs(%z1 : tensor<64x256xf32>) -> tensor<64x256xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def SumsOfDisjointSlices
    : Pass<"tape-cpu-sums-of-disjoint-slices", "::mlir::func::FuncOp"> {
  let summary = "Adds a slice inserted into zeros by inserting it where the "
                "other addend is zero";
  let description = [{
    Reverse-mode AD gives each slice the forward pass extracted from a
    tensor a cotangent that is zeros with the slice's cotangent inserted,
    and adds those cotangents up (`arith.addf` on tensors). A GPT's q, k and
    v cut from one projection cost three zero tensors of the projection's
    size, three partial writes and a pass adding them.

    This pass rewrites `a + insert_slice(x into zeros at S)` (either order)
    to `insert_slice(x into a at S)` when `a` is certainly zero in `S`:
    zeros, or a chain of static, unit-stride slices inserted into zeros
    none of which overlaps `S`. A chain of disjoint insertions into zeros
    whose slices cover the whole tensor then starts from a `tensor.empty`:
    no fill at all. Zeros are a splat zero constant or a zero `linalg.fill`.
    Run on tensors before elementwise ops become `linalg.generic`.

    Example:

    ```mlir
    %a = tensor.insert_slice %q into %zeros[0, 0] [4, 32] [1, 1] : tensor<4x32xf32> into tensor<4x64xf32>
    %b = tensor.insert_slice %k into %zeros[0, 32] [4, 32] [1, 1] : tensor<4x32xf32> into tensor<4x64xf32>
    %s = arith.addf %a, %b : tensor<4x64xf32>
    ```

    becomes

    ```mlir
    %e = tensor.empty() : tensor<4x64xf32>
    %a = tensor.insert_slice %q into %e[0, 0] [4, 32] [1, 1] : tensor<4x32xf32> into tensor<4x64xf32>
    %s = tensor.insert_slice %k into %a[0, 32] [4, 32] [1, 1] : tensor<4x32xf32> into tensor<4x64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def WriteOnceAccumulations
    : Pass<"tape-cpu-write-once-accumulations", "::mlir::func::FuncOp"> {
  let summary = "An op that adds into zeros, reaching each element once, "
                "writes instead";
  let description = [{
    A result of a `linalg.generic` whose init is zeros (a zero
    `linalg.fill` or splat constant) and whose body yields `out + v` (v not
    depending on `out`, which is used only there) computes `v` wherever its
    output map reaches each element of the output exactly once over the
    iteration space. Its init becomes a `tensor.empty` and the sum is
    replaced by `v` (0 + v is v, up to the sign of a zero): no fill (a pass
    over memory), and no read of each element before writing it. Each
    result is taken on its own (fusion leaves several gradients that start
    at zero in one elementwise op: 12 fills of 256x512 and 256x128 per GPT
    step). Zeros nothing else uses are erased, and so are the results of a
    rewritten op that nothing uses and that no longer read their output
    (upstream `populateEraseUnusedOperandsAndResultsPatterns`): fusion
    keeps a producer's result while other users read it, and once they are
    fused too the op would still write it every step (three 256x512
    results of a GPT's loss gradient: 1.5 MiB of workspace).

    The output map reaches each element once when each loop dimension
    appears in exactly one of its results, and each result is a sum of
    dimensions times constants forming a mixed radix of that result's size:
    `d2 * 2 + d4` with `d4 < 2` and `d2 < 12` reaches 0 .. 23 once. The
    adjoint of a max-pool whose windows tile the image (stride equal to the
    window, as the MNIST CNN's 2x2 pool) is such a scatter; overlapping
    windows, a plain reduction (a dimension missing from the output) and
    dynamic shapes are left alone.

    Example:

    ```mlir
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<24xf32>) -> tensor<24xf32>
    %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>,
                                          affine_map<(d0, d1) -> (d0 * 2 + d1)>],
                         iterator_types = ["reduction", "reduction"]}
        ins(%dy : tensor<12xf32>) outs(%z : tensor<24xf32>) {
    ^bb0(%in: f32, %out: f32):
      %s = arith.addf %out, %in : f32
      linalg.yield %s : f32
    } -> tensor<24xf32>
    ```

    becomes the same generic with `outs(%e2 : tensor<24xf32>)` for a new
    `%e2 = tensor.empty()`, yielding `%in`.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def FuseIntoImageLoops
    : Pass<"tape-cpu-fuse-into-image-loops", "::mlir::func::FuncOp"> {
  let summary = "An elementwise op on a convolution's result is computed in "
                "its loop over the images";
  let description = [{
    Runs on tensors, after `tape-cpu-fuse-elementwise-ops`. A loop over the
    images of a batch, as `tape-cpu-convolutions-as-matmuls` builds one (an
    `scf.for` with one tensor iteration argument into which each iteration
    inserts the entry of the leading dimension that its induction variable
    names), whose result an elementwise `linalg.generic` reads (all loops
    parallel, identity maps, no `linalg.index`; the ReLU after a
    convolution, or the ReLU adjoint after an input gradient's col2im)
    takes that op in: upstream's consumer fusion (`scf::tileAndFuseConsumer`)
    computes it on each image's slice right after the slice is written, and
    the loop yields its result as well. Repeated while such consumers are
    left. The consumer then reads the image while it is in cache instead of
    the whole batch back from memory.

    The image's insertion gets its unit leading dimension for the fusion
    (upstream slices the consumer like the inserted value) and loses it
    again after (upstream's reassociative reshape folding), so that
    `tape-cpu-empty-tensors-as-slices` still has the matmul write the slice
    in place. Loops that are one thread's piece of a convolution (inside an
    `scf.forall`) are left alone.

    The MNIST CNN at one thread: both ReLUs join their convolution's loop
    and the first ReLU's adjoint joins the second convolution's input
    gradient; step min 46.5-48.1 -> 45.2-46.3 ms (4 alternating runs).

    Example:

    ```mlir
    %y = scf.for %n = %c0 to %c64 step %c1 iter_args(%acc = %e) -> (tensor<64x64x24x24xf32>) {
      ...
      %r = tensor.insert_slice %image into %acc[%n, 0, 0, 0] [1, 64, 24, 24] [1, 1, 1, 1]
      scf.yield %r : tensor<64x64x24x24xf32>
    }
    %relu = linalg.generic {... elementwise ...} ins(%y : ...) outs(%e2 : ...)
    ```

    becomes one loop that yields the convolution's images and their ReLU,
    each computed per image.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FuseIntoWriteOnceProducers
    : Pass<"tape-cpu-fuse-into-write-once-producers", "::mlir::func::FuncOp"> {
  let summary = "An elementwise op on a result that a scatter writes once "
                "is computed in the scatter's loop";
  let description = [{
    Runs on tensors, after `tape-cpu-write-once-accumulations`. A
    `linalg.generic` (the producer) with one result, written and not read,
    through an output map that reaches each element exactly once and is no
    projected permutation (a scatter through windows: the adjoint of a
    max-pool whose windows tile the image), whose result's only user is an
    elementwise generic in the same block (all loops parallel, identity
    maps, its output not read, no `linalg.index`) that takes it as an
    input: the two become one generic with the producer's loops. Its inputs
    are the producer's and then the consumer's others, those and the output
    read at the producer's output map; its body is the producer's, then the
    consumer's on the value the producer yielded.

    This is legal because iteration i of the producer writes element f(i)
    of its result and no other iteration writes it, so the consumer's
    computation of element f(i) can happen in iteration i. Upstream
    elementwise fusion fuses along projected permutations only. The MNIST
    CNN's max-pool adjoint wrote a 64x64x24x24 image that the ReLU's
    adjoint read back to write another: one pass over 9 MiB less.

    Example:

    ```mlir
    %dx = linalg.generic {indexing_maps = [..., affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>], ...}
        ins(%x, %m, %g : ...) outs(%e : tensor<2x3x4x4xf32>) {...}
    %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", ...]}
        ins(%pre, %dx : tensor<2x3x4x4xf32>, tensor<2x3x4x4xf32>) outs(%e2 : tensor<2x3x4x4xf32>) {...}
    ```

    becomes one generic with the first's loops, `ins(%x, %m, %g, %pre)`
    and `outs(%e2)`, `%pre` and `%e2` at `(n, c, oh * 2 + kh, ow * 2 + kw)`.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def EmptyTensorsAsSlices
    : Pass<"tape-cpu-empty-tensors-as-slices", "::mlir::func::FuncOp"> {
  let summary = "Computes a value that is inserted into a slice in that "
                "slice, through reshapes";
  let description = [{
    A value computed into a `tensor.empty` and then inserted into a slice
    of another tensor gets a buffer of its own from one-shot bufferization,
    and the insertion copies it into the slice. Upstream's
    `eliminate-empty-tensors` replaces the empty tensor by the slice, but
    only along values of one type. A convolution's image loop reshapes in
    between: one image's product is a 2-D matmul whose init is the bias
    broadcast into an empty `[f, oh, ow]` tensor (elementwise fusion makes
    the unread init empty), collapsed to `[f, oh*ow]`, and the product is
    expanded back before it is inserted into the result. Each image's
    output was computed aside and copied (9.4 MB per step in the MNIST
    CNN's second convolution).

    This pass follows a `tensor.insert_slice`'s source back through
    destination-style ops (to the init each result is tied to) and
    `tensor.expand_shape` / `tensor.collapse_shape` (to their source),
    each value on the way used once, to a `tensor.empty` of the source's
    type, and replaces that empty tensor by the `tensor.extract_slice` of
    the destination the insertion writes. The empty tensor's contents were
    undefined, so the meaning is unchanged; bufferization then finds the
    extract and insert of one slice and writes in place. An insertion whose
    destination, offsets or sizes are not yet defined where the empty
    tensor is, is left alone. It runs just before bufferization.

    Example:

    ```mlir
    %e = tensor.empty() : tensor<4x2x3xf32>
    %b = linalg.generic {...} ins(%bias : tensor<4xf32>) outs(%e : tensor<4x2x3xf32>) -> tensor<4x2x3xf32>
    %c = tensor.collapse_shape %b [[0], [1, 2]] : tensor<4x2x3xf32> into tensor<4x6xf32>
    %p = linalg.matmul ins(%w, %cols : ...) outs(%c : tensor<4x6xf32>) -> tensor<4x6xf32>
    %x = tensor.expand_shape %p [[0], [1, 2]] output_shape [4, 2, 3] : tensor<4x6xf32> into tensor<4x2x3xf32>
    %r = tensor.insert_slice %x into %out[%i, 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<4x2x3xf32> into tensor<8x4x2x3xf32>
    ```

    becomes the same with `%e` replaced by

    ```mlir
    %e = tensor.extract_slice %out[%i, 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<8x4x2x3xf32> to tensor<4x2x3xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def FuseMatvecPairs
    : Pass<"tape-cpu-fuse-matvec-pairs", "::mlir::func::FuncOp"> {
  let summary = "Computes a matrix-vector product and the transposed "
                "product its gradient needs in one pass over the matrix";
  let description = [{
    A linear model's step (logistic regression: `z = X w`, a loss of each
    row's `z`, `dw = X^T dz`) reads its data matrix `X` twice, once per
    product, and each product does two flops per element it reads: the
    step is two passes over memory. Every row's `dz` needs only that row's
    `z`, so the rows can be taken a block at a time: one loop over blocks
    of rows computes the block's `z`, `dz` and its share of `X^T dz` while
    the block is in cache, and `X` is read from memory once.

    The pass looks for a matmul with one output column whose first operand
    is read transposed (`X^T dz`, `X` stored rows x features) and follows
    its vector back through ops whose loops are all parallel and whose
    results have one entry per row of `X` (the loss's adjoint, fused by
    `tape-cpu-fuse-elementwise-ops`) to a matmul with one output column
    of the same `X`, untransposed (`X w`). It then tiles the first
    product's row loop (its reduction) with upstream's tile-and-fuse
    (`scf.for`, the accumulator carried across blocks) and fuses exactly
    those ops into the loop: the forward product, its init when row-wise
    (a bias broadcast) and the ops in between. Anything else they read is
    computed once, before the loop; a fused result that other ops also use
    (`z` for the loss) is assembled from the blocks and returned by the
    loop. A block has as many rows as fit `block-bytes` of `X`, a divisor
    of the row count; a product of fewer than two blocks is left alone.

    The gradient accumulates into its init: when the loop's ops read that
    init too (an SGD update folded into the gradient accumulates into the
    weights the forward product reads), the loop accumulates into a copy
    (`bufferization.alloc_tensor`), which bufferization writes back.

    With `threads` above one, and at least two blocks per thread, each
    thread first takes an equal share of the rows: upstream's partial
    reduction tiling makes an `scf.forall` whose iterations each compute a
    gradient of their own (a slot of a `[..., threads]` tensor, summed
    into the init after the loop), and each share is then cut into blocks
    as above. A thread accumulates in a contiguous copy of its slot, which
    the matrix-vector kernels can write, stored into the slot at the end.

    The matrix-vector kernels (`tape-cpu-matvec-kernels`) then run on each
    block. The gradient adds the blocks' shares one after the other, so it
    is summed in a different order than the one-pass product (within
    rounding).

    Measured on model D (`benchmarks/train_steps.py`, 1024 x 1000, 2026-12-03):
    the step went from about 400 us to 235 us at one thread, and to about
    135-200 us at two; the data matrix is read from memory once instead of
    twice.

    Example (the shape of model D in `benchmarks/train_steps.py`):

    ```mlir
    %z = linalg.matmul ins(%x, %w : tensor<1024x1000xf32>, tensor<1000x1xf32>) outs(%b : tensor<1024x1xf32>) -> tensor<1024x1xf32>
    %dz = linalg.generic {...} ins(%z, %y : ...) outs(%e : tensor<1024x1xf32>) -> tensor<1024x1xf32>
    %g = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
        ins(%x, %dz : tensor<1024x1000xf32>, tensor<1024x1xf32>) outs(%w : tensor<1000x1xf32>) -> tensor<1000x1xf32>
    ```

    becomes a loop over blocks of 8 rows (32000 bytes of `X` each):

    ```mlir
    %g = scf.for %i = %c0 to %c1024 step %c8 iter_args(%acc = %w) -> (tensor<1000x1xf32>) {
      %xi = tensor.extract_slice %x[%i, 0] [8, 1000] [1, 1] : tensor<1024x1000xf32> to tensor<8x1000xf32>
      %zi = linalg.matmul ins(%xi, %w : ...) outs(... : tensor<8x1xf32>) -> tensor<8x1xf32>
      %dzi = linalg.generic {...} ins(%zi, ... : tensor<8x1xf32>, ...) ...
      %gi = linalg.matmul indexing_maps = [...] ins(%xi, %dzi : ...) outs(%acc : tensor<1000x1xf32>) -> tensor<1000x1xf32>
      scf.yield %gi : tensor<1000x1xf32>
    }
    ```
  }];
  let options = [
    Option<"blockBytes", "block-bytes", "int64_t", /*default=*/"32768",
           "Bytes of the matrix in one block of rows (level-1 data cache)">,
    Option<"threads", "threads", "int64_t", /*default=*/"1",
           "Threads: above one, each takes an equal share of the rows "
           "(an scf.forall) with a gradient of its own, summed after">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

#endif // TAPE_CODEGEN_CPU_PASSES_TD
