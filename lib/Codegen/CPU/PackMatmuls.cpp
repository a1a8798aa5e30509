//===- PackMatmuls.cpp - Cache-blocked, packed matmul kernels -------------===//
//
// The GotoBLAS loop nest, generated with static block sizes:
//
//   for jc (nc columns of B and C)
//     for pc (kc deep)
//       pack B[pc:+kc, jc:+nc] into nr-wide panels       (Bp: L2/L3)
//       for ic (mc rows of A and C)
//         pack A[ic:+mc, pc:+kc] into mr-high panels     (Ap: L2)
//         for jr (nr columns), ir (mr rows)
//           mr x nr tile of C in registers; kc rank-1 updates from one
//           B panel (L1) and one A panel
//
// An untransposed A (or a transposed one that fits in L1), and an
// untransposed B of whole panels that fits in cache, are not packed when
// their rows are laid out well: the kernel reads them where they are (see
// `match`).
//
// Panels are zero-padded to full tiles, so the inner loop never branches;
// only the C tile's read and write are masked at the edges. The register
// tile starts at zero and is added to C after the slice: the C tile is
// prefetched (with the next tile down) when the kernel starts, so its read is
// off the FMA chain. A zero fill of C, or a broadcast of a bias into C
// (along its rows, or along its columns: a convolution's bias per output
// channel), before the matmul is dropped: the first slice writes its tile
// (plus the bias) without reading C.
//
// A weight's SGD update reaches this pass already folded into its
// gradient matmul (tape-cpu-accumulate-into-matmuls): C is the weight.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "MatmulLayout.h"
#include "Threads.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_PACKMATMULS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;
using mlir::tape::isInsideParallelLoop;

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

namespace {

/// A matmul the pass rewrites: C[m, n] += A[m, k] * B[k, n], where A and B
/// may be stored transposed.
struct Matmul {
  linalg::MatmulOp op;
  int64_t m, n, k;
  bool transA, transB;
  /// What C holds just before, which the first slice then starts from
  /// instead of reading C: a zero fill, or a bias broadcast.
  linalg::FillOp zeroFill;
  std::optional<tape::BiasBroadcast> bias;
  /// Whether the kernel reads B's rows where they are instead of packed.
  bool directB = false;
  /// Whether the kernel broadcasts A's elements from where they are
  /// instead of from a packed panel.
  bool directA = false;
};

/// Index arithmetic on a builder, folding nothing (canonicalize does).
struct IndexMath {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, c(y));
  }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value lt(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, y);
  }
  /// ceil(x / d) for x >= 0.
  Value ceilDiv(Value x, int64_t d) {
    return arith::DivUIOp::create(b, loc, add(x, c(d - 1)), c(d));
  }
};

/// scf.for from `lb` to `ub` by `step` with no iteration arguments.
template <typename Body>
static void forLoop(OpBuilder &b, Location loc, Value lb, Value ub, Value step,
                    Body body) {
  scf::ForOp::create(b, loc, lb, ub, step, ValueRange{},
                     [&](OpBuilder &nested, Location l, Value iv, ValueRange) {
                       body(iv);
                       scf::YieldOp::create(nested, l);
                     });
}

struct TapePackMatmulsPass
    : public mlir::tape::cpu::impl::PackMatmulsBase<TapePackMatmulsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (mr < 1 || nr < 1 || mc < mr || mc % mr || nc < nr || nc % nr ||
        kc < 1) {
      getOperation().emitError()
          << "tape-cpu-pack-matmuls: block sizes must satisfy mr | mc, nr | nc";
      return signalPassFailure();
    }
    SmallVector<Matmul> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (std::optional<Matmul> m = match(op))
        matmuls.push_back(*m);
    });
    if (matmuls.empty())
      return;

    // One pair of pack buffers per function, sized for its largest matmul,
    // and one per body of an outermost parallel loop for the matmuls inside
    // it: each iteration packs into its own (tape-cpu-privatize-buffers
    // gives every iteration a slot of a buffer outside the loop).
    llvm::MapVector<Block *, SmallVector<Matmul *>> homes;
    func::FuncOp fn = getOperation();
    for (Matmul &m : matmuls) {
      Block *home = &fn.getBody().front();
      for (Operation *p = m.op->getParentOp(); p != fn; p = p->getParentOp())
        if (isa<scf::ForallOp, scf::ParallelOp>(p))
          home = &p->getRegion(0).front();
      homes[home].push_back(&m);
    }
    for (auto &[home, group] : homes) {
      int64_t aPanels = 1, bPanels = 1, depth = 1;
      bool anyPackedA = false, anyPackedB = false;
      for (Matmul *m : group) {
        if (!m->directA)
          aPanels = std::max(aPanels, balanced(m->m, mc, mr) / mr);
        anyPackedA |= !m->directA;
        if (!m->directB)
          bPanels = std::max(bPanels,
                             std::min<int64_t>(nc, roundUp(m->n, nr)) / nr);
        anyPackedB |= !m->directB;
        depth = std::max(depth, balanced(m->k, kc, 1));
      }
      OpBuilder b = OpBuilder::atBlockBegin(home);
      Type f32 = b.getF32Type();
      Value packedA, packedB;
      if (anyPackedA)
        packedA = memref::AllocOp::create(
            b, fn.getLoc(), MemRefType::get({aPanels, depth, mr}, f32));
      if (anyPackedB)
        packedB = memref::AllocOp::create(
            b, fn.getLoc(), MemRefType::get({bPanels, depth, nr}, f32));
      for (Matmul *m : group) {
        b.setInsertionPoint(m->op);
        emit(b, *m, packedA, packedB);
        m->op.erase();
        if (m->zeroFill)
          m->zeroFill.erase();
        if (m->bias)
          m->bias->writer.erase();
      }
    }
  }

  /// The block size, at most `limit` and a multiple of `multiple`, that
  /// cuts `size` into the fewest blocks of nearly equal size.
  static int64_t balanced(int64_t size, int64_t limit, int64_t multiple) {
    int64_t blocks = ceilDiv(size, limit);
    return std::min(limit, roundUp(ceilDiv(size, blocks), multiple));
  }

  std::optional<Matmul> match(linalg::MatmulOp op) const {
    if (!tape::isStaticF32BufferMatmul(op))
      return std::nullopt;
    std::optional<tape::MatmulLayout> layout = tape::getMatmulLayout(op);
    if (!layout)
      return std::nullopt;
    Matmul m{op, 0, 0, 0, layout->transA, layout->transB, {}};
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    m.m = ranges[0];
    m.n = ranges[1];
    m.k = ranges[2];
    // Narrower products would mostly multiply padding; tape-cpu-vectorize's
    // register tiles handle them.
    if (m.m < mr || m.n < nr || 2 * m.m * m.n * m.k < minFlops)
      return std::nullopt;
    m.zeroFill = tape::zeroFillBefore(op, op.getDpsInits()[0]);
    if (!m.zeroFill)
      m.bias = tape::biasBefore(op, op.getDpsInits()[0]);
    // Operands read in place instead of packed, when their rows are
    // contiguous with a known stride that is no multiple of 4 KiB (the rows
    // a kernel reads together would then share a few sets of the L1 cache
    // and evict each other; B with 1024 columns measured 5-10% slower):
    // - an untransposed B of whole panels that stays in cache: each kernel
    //   reads nr contiguous floats of a row per step, as from a packed
    //   panel, and the pass that would copy all of B is saved (about a
    //   tenth of a 64x784x256 product);
    // - an untransposed A, whose elements the kernel broadcasts from memory
    //   one by one either way: a step's mr elements are mr rows apart, each
    //   row read front to back, and the transposing pack is saved (3-7% of
    //   256-row products with 4 to 16 column panels, 2-5% lost or won on
    //   64-row ones: measured, noisy). A transposed A is packed: its pack
    //   is a plain copy, while read in place every depth step would touch
    //   a new cache line a row pitch from the last (pages apart for wide
    //   A, out of the stride prefetcher's reach): 784x1024x256 with A^T ran
    //   at 133-145 GFLOP/s in place against 160-191 packed, 512x128x256 at
    //   143-155 against 166-168. Unless all of A fits in a third of L1
    //   (attention's 64x64 probabilities per head, read transposed): its
    //   lines stay there across the column panels, and the pack would copy
    //   as much as the product reads (the GPT step 0.5-1% faster).
    bool smallA = m.m * m.k * 4 <= kMaxInPlaceTransposedABytes;
    auto rowStrideBytes = [](Value operand) -> std::optional<int64_t> {
      SmallVector<int64_t> strides;
      int64_t offset;
      auto type = cast<MemRefType>(operand.getType());
      if (failed(type.getStridesAndOffset(strides, offset)) ||
          strides[1] != 1 || ShapedType::isDynamic(strides[0]))
        return std::nullopt;
      return strides[0] * 4;
    };
    auto inPlace = [&](Value operand) {
      std::optional<int64_t> stride = rowStrideBytes(operand);
      return stride && *stride % 4096 != 0;
    };
    m.directB = !m.transB && m.n % nr == 0 &&
                m.k * m.n * 4 <= maxDirectBBytes && inPlace(op.getDpsInputs()[1]);
    m.directA = directA && (!m.transA || smallA) &&
                inPlace(op.getDpsInputs()[0]);
    return m;
  }

  /// Loads `count` elements of a row (or column) of `src` starting at
  /// (row, col) into a vector, zero where the index passes `bound` (which
  /// then also clamps the load, so nothing reads out of bounds).
  Value gather(OpBuilder &b, Location loc, Value src, Value row, Value col,
               bool alongRows, int64_t count, int64_t bound,
               bool inBounds) const {
    IndexMath x{b, loc};
    Value zero = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                                APFloat(0.0f));
    SmallVector<Value> elements;
    for (int64_t i = 0; i < count; ++i) {
      Value r = row, c = col;
      Value &moving = alongRows ? r : c;
      moving = x.add(moving, x.c(i));
      if (inBounds) {
        elements.push_back(memref::LoadOp::create(b, loc, src, {r, c}));
        continue;
      }
      Value valid = x.lt(moving, x.c(bound));
      moving = x.min(moving, x.c(bound - 1));
      Value v = memref::LoadOp::create(b, loc, src, {r, c});
      elements.push_back(arith::SelectOp::create(b, loc, valid, v, zero));
    }
    auto type = VectorType::get({count}, b.getF32Type());
    return vector::FromElementsOp::create(b, loc, type, elements);
  }

  /// Packs `count` consecutive rows of `src` (from `row0`; rows from
  /// `bound` on read as zeros), which run along the depth, into panel
  /// rows: `store(p, v)` gets element (row0 + i, k0 + p) in lane i of `v`,
  /// for p in [0, depth). Instead of one strided load per element, blocks
  /// of `kTransposeDepth` columns are read a row at a time (contiguous
  /// vectors) and transposed in registers; the columns left over go one
  /// by one through `gather`.
  template <typename Store>
  void packAcross(OpBuilder &b, Location loc, Value src, Value row0, Value k0,
                  Value depth, int64_t count, int64_t bound, bool inBounds,
                  Store store) const {
    IndexMath x{b, loc};
    Value zero = x.c(0), one = x.c(1);
    Value blocked = x.sub(depth, arith::RemUIOp::create(
                                     b, loc, depth, x.c(kTransposeDepth)));
    auto tileType = VectorType::get({count, kTransposeDepth}, b.getF32Type());
    Value pad = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                               APFloat(0.0f));
    forLoop(b, loc, zero, blocked, x.c(kTransposeDepth), [&](Value p0) {
      // Rows past `bound` (the last panel) are padding: zeros, not read.
      Value tile = vector::TransferReadOp::create(
          b, loc, tileType, src, ValueRange{row0, x.add(k0, p0)}, pad,
          b.getMultiDimIdentityMap(2), ArrayRef<bool>{inBounds, true});
      Value across = vector::TransposeOp::create(b, loc, tile,
                                                 ArrayRef<int64_t>{1, 0});
      for (int64_t i = 0; i < kTransposeDepth; ++i)
        store(x.add(p0, x.c(i)),
              vector::ExtractOp::create(b, loc, across, ArrayRef<int64_t>{i}));
    });
    forLoop(b, loc, blocked, depth, one, [&](Value p) {
      store(p, gather(b, loc, src, row0, x.add(k0, p), true, count, bound,
                      inBounds));
    });
  }

  /// Largest transposed A read in place (a third of a 48 KiB L1).
  static constexpr int64_t kMaxInPlaceTransposedABytes = 16384;

  /// Depth of the blocks `packAcross` transposes in registers.
  static constexpr int64_t kTransposeDepth = 8;

  /// A contiguous run of `count` elements of row `row` from column `col`,
  /// zero past column `bound`.
  Value readRow(OpBuilder &b, Location loc, Value src, Value row, Value col,
                int64_t count, bool inBounds) const {
    Value zero = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                                APFloat(0.0f));
    auto type = VectorType::get({count}, b.getF32Type());
    AffineMap minor = AffineMap::get(2, 0, {b.getAffineDimExpr(1)},
                                     b.getContext());
    return vector::TransferReadOp::create(b, loc, type, src,
                                          ValueRange{row, col}, zero, minor,
                                          ArrayRef<bool>{inBounds});
  }

  void emit(OpBuilder &b, Matmul mm, Value packedA,
            Value packedB) const {
    Location loc = mm.op.getLoc();
    IndexMath x{b, loc};
    // Slices of equal depth (784 = 4 x 196, not 3 x 256 + 16): a short last
    // slice would pay the C tile's read and write for few updates.
    int64_t kc = balanced(mm.k, this->kc, 1);
    int64_t mc = balanced(mm.m, this->mc, mr);
    Value a = mm.op.getDpsInputs()[0], bm = mm.op.getDpsInputs()[1];
    bool fullRows = mm.m % mr == 0, fullCols = mm.n % nr == 0;
    Value zero = x.c(0), one = x.c(1);
    Type f32 = b.getF32Type();
    auto rowType = VectorType::get({nr}, f32);

    // With `parallel`, a loop of independent iterations (panels packed or
    // computed) spread over threads; packing only when a block is large
    // enough to pay for the fork and join.
    auto panels = [&](Value count, bool spread, auto body) {
      if (!parallel || !spread || isInsideParallelLoop(mm.op)) {
        forLoop(b, loc, zero, count, one, body);
        return;
      }
      scf::ParallelOp::create(
          b, loc, ValueRange{zero}, ValueRange{count}, ValueRange{one},
          [&](OpBuilder &nested, Location, ValueRange ivs) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(nested.getInsertionBlock(),
                                nested.getInsertionPoint());
            body(ivs[0]);
          });
    };
    constexpr int64_t kMinParallelPack = 32768; // elements (128 KiB)
    bool spreadB =
        std::min<int64_t>(nc, roundUp(mm.n, nr)) * kc >= kMinParallelPack;
    bool spreadA = mc * kc >= kMinParallelPack;

    forLoop(b, loc, zero, x.c(mm.n), x.c(nc), [&](Value jc) {
      Value ncHere = x.min(x.c(nc), x.sub(x.c(mm.n), jc));
      Value colPanels = x.ceilDiv(ncHere, nr);
      forLoop(b, loc, zero, x.c(mm.k), x.c(kc), [&](Value pc) {
        Value kcHere = x.min(x.c(kc), x.sub(x.c(mm.k), pc));
        // Pack B: Bp[jp, p, :] = B[pc + p, jc + jp*nr : +nr].
        auto packB = [&](Value jp) {
          Value col0 = x.add(jc, x.mul(jp, nr));
          auto storeB = [&](Value p, Value v) {
            vector::StoreOp::create(b, loc, v, packedB,
                                    ValueRange{jp, p, zero});
          };
          if (mm.transB) {
            packAcross(b, loc, bm, col0, pc, kcHere, nr, mm.n, fullCols,
                       storeB);
            return;
          }
          forLoop(b, loc, zero, kcHere, one, [&](Value p) {
            storeB(p, readRow(b, loc, bm, x.add(pc, p), col0, nr, fullCols));
          });
        };
        if (!mm.directB)
          panels(colPanels, spreadB, packB);
        // Without a zero fill or bias to start from, every slice adds to C.
        Value firstSlice;
        if (mm.zeroFill || mm.bias)
          firstSlice = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                             pc, zero);
        forLoop(b, loc, zero, x.c(mm.m), x.c(mc), [&](Value ic) {
          Value mcHere = x.min(x.c(mc), x.sub(x.c(mm.m), ic));
          Value rowPanels = x.ceilDiv(mcHere, mr);
          // Pack A: Ap[ip, p, :] = A[ic + ip*mr : +mr, pc + p].
          auto packA = [&](Value ip) {
            Value row0 = x.add(ic, x.mul(ip, mr));
            auto storeA = [&](Value p, Value v) {
              vector::StoreOp::create(b, loc, v, packedA,
                                      ValueRange{ip, p, zero});
            };
            if (!mm.transA) {
              packAcross(b, loc, a, row0, pc, kcHere, mr, mm.m, fullRows,
                         storeA);
              return;
            }
            forLoop(b, loc, zero, kcHere, one, [&](Value p) {
              storeA(p, readRow(b, loc, a, x.add(pc, p), row0, mr, fullRows));
            });
          };
          if (!mm.directA)
            panels(rowPanels, spreadA, packA);
          // Column panels are independent (each writes its own columns of
          // C from the shared, already packed A block): with `parallel`
          // they are spread over threads.
          auto panel = [&](Value jr) {
            forLoop(b, loc, zero, rowPanels, one, [&](Value ir) {
              microKernel(b, loc, mm, mm.directA ? a : packedA,
                          mm.directB ? bm : packedB, x.add(ic, x.mul(ir, mr)),
                          x.add(jc, x.mul(jr, nr)), ir, jr, pc, kcHere,
                          fullRows, fullCols, rowType, firstSlice);
            });
          };
          panels(colPanels, /*spread=*/true, panel);
        });
      });
    });
  }

  /// C[row0 : +mr, col0 : +nr] += Ap[ir] * Bp[jr] over kcHere steps of
  /// the slice from depth `pc`; the tile stays in mr vector registers of
  /// nr lanes. Where `firstSlice` holds, C is overwritten, not read (with
  /// the tile plus the bias row, if `mm` starts from one). With
  /// `mm.directB`, `packedB` is B itself, read from row pc + p at column
  /// `col0`; with `mm.directA`, `packedA` is A itself, read at (row0 + i,
  /// pc + p) (or transposed).
  void microKernel(OpBuilder &b, Location loc, Matmul &mm,
                   Value packedA, Value packedB, Value row0, Value col0,
                   Value ir, Value jr, Value pc, Value kcHere, bool fullRows,
                   bool fullCols, VectorType rowType, Value firstSlice) const {
    IndexMath x{b, loc};
    Value c = mm.op.getDpsInits()[0];
    // A's rows as the kernel reads them in place: rows past the matrix (a
    // last panel of a height no multiple of mr) read its last row, and
    // their results are not written.
    SmallVector<Value> aRows;
    if (mm.directA)
      for (int64_t i = 0; i < mr; ++i)
        aRows.push_back(x.min(x.add(row0, x.c(i)), x.c(mm.m - 1)));
    FloatType f32 = b.getF32Type();
    // One vector per row of the tile; rows past the matrix (the last panel
    // of a height that is no multiple of mr) are neither read nor written.
    auto forRow = [&](int64_t i, auto inBounds, auto outside) -> Value {
      Value row = x.add(row0, x.c(i));
      if (fullRows)
        return inBounds(b, loc, row);
      auto guard = scf::IfOp::create(
          b, loc, x.lt(row, x.c(mm.m)),
          [&](OpBuilder &tb, Location l) {
            Value v = inBounds(tb, l, row);
            scf::YieldOp::create(tb, l, v ? ValueRange{v} : ValueRange{});
          },
          [&](OpBuilder &eb, Location l) {
            Value v = outside(eb, l);
            scf::YieldOp::create(eb, l, v ? ValueRange{v} : ValueRange{});
          });
      return guard.getNumResults() ? guard.getResult(0) : Value();
    };
    AffineMap minor =
        AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, b.getContext());
    auto readC = [&](OpBuilder &rb, Location l, Value row) -> Value {
      Value pad = arith::ConstantFloatOp::create(rb, l, f32, APFloat(0.0f));
      return vector::TransferReadOp::create(rb, l, rowType, c,
                                            ValueRange{row, col0}, pad, minor,
                                            ArrayRef<bool>{fullCols});
    };
    // Fetch this C tile and the next one down while the FMAs run: with a
    // shallow depth the kernel is too short to hide a miss on its own tile
    // (rows past the matrix are clamped to its last row: a prefetch must
    // stay in bounds).
    for (int64_t i = 0; i < 2 * mr; ++i) {
      Value row = x.min(x.add(row0, x.c(i)), x.c(mm.m - 1));
      memref::PrefetchOp::create(b, loc, c, ValueRange{row, col0},
                                 /*isWrite=*/true, /*localityHint=*/3,
                                 /*isDataCache=*/true);
    }
    Value zeros =
        arith::ConstantOp::create(b, loc, DenseElementsAttr::get(rowType, 0.0f));
    SmallVector<Value> acc(mr, zeros);
    auto loop = scf::ForOp::create(
        b, loc, x.c(0), kcHere, x.c(1), acc,
        [&](OpBuilder &nb, Location l, Value p, ValueRange carried) {
          Value zero = arith::ConstantIndexOp::create(nb, l, 0);
          Value depth = arith::AddIOp::create(nb, l, pc, p);
          Value bRow =
              mm.directB
                  ? vector::LoadOp::create(nb, l, rowType, packedB,
                                           ValueRange{depth, col0})
                        .getResult()
                  : vector::LoadOp::create(nb, l, rowType, packedB,
                                           ValueRange{jr, p, zero})
                        .getResult();
          SmallVector<Value> next;
          for (int64_t i = 0; i < mr; ++i) {
            // A scalar load per element: one broadcast from memory each
            // (a vector load would need shuffles to spread its lanes).
            Value ai =
                mm.directA
                    ? memref::LoadOp::create(
                          nb, l, packedA,
                          mm.transA ? ValueRange{depth, aRows[i]}
                                    : ValueRange{aRows[i], depth})
                    : memref::LoadOp::create(
                          nb, l, packedA,
                          ValueRange{ir, p,
                                     arith::ConstantIndexOp::create(nb, l, i)});
            Value splat = vector::BroadcastOp::create(nb, l, rowType, ai);
            next.push_back(
                vector::FMAOp::create(nb, l, splat, bRow, carried[i]));
          }
          scf::YieldOp::create(nb, l, next);
        });
    // What the first slice adds instead of C: zeros, the bias's columns
    // col0 : +nr (the same for every row) or its element of the row.
    Value start = zeros;
    if (firstSlice && mm.bias && !mm.bias->perRow) {
      Value pad = arith::ConstantFloatOp::create(b, loc, f32, APFloat(0.0f));
      AffineMap only = AffineMap::get(1, 0, {b.getAffineDimExpr(0)},
                                      b.getContext());
      start = vector::TransferReadOp::create(
          b, loc, rowType, mm.bias->bias, ValueRange{col0}, pad, only,
          ArrayRef<bool>{fullCols});
    }
    for (int64_t i = 0; i < mr; ++i)
      (void)forRow(
          i,
          [&](OpBuilder &wb, Location l, Value row) -> Value {
            Value tile = loop.getResult(i);
            if (firstSlice) {
              auto old = scf::IfOp::create(
                  wb, l, firstSlice,
                  [&](OpBuilder &tb, Location tl) {
                    Value first = start;
                    if (mm.bias && mm.bias->perRow)
                      first = vector::BroadcastOp::create(
                          tb, tl, rowType,
                          memref::LoadOp::create(tb, tl, mm.bias->bias,
                                                 ValueRange{row}));
                    scf::YieldOp::create(tb, tl, first);
                  },
                  [&](OpBuilder &eb, Location el) {
                    scf::YieldOp::create(eb, el, readC(eb, el, row));
                  });
              tile = arith::AddFOp::create(wb, l, tile, old.getResult(0));
            } else {
              tile = arith::AddFOp::create(wb, l, tile, readC(wb, l, row));
            }
            vector::TransferWriteOp::create(wb, l, tile, c,
                                            ValueRange{row, col0}, minor,
                                            ArrayRef<bool>{fullCols});
            return Value();
          },
          [](OpBuilder &, Location) -> Value { return Value(); });
  }
};

} // namespace
