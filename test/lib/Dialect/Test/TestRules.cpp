//===- TestRules.cpp - A rule attached from a user's library --------------===//
//
// What a user does to make their own op differentiable: implement
// DifferentiableOpInterface as an external model and attach it through a
// dialect extension. Nothing in lib/ knows about tape_test.cube.
//
//===----------------------------------------------------------------------===//

#include "TestDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectRegistry.h"
#include "tape/Dialect/Tape/DifferentiationRules.h"
#include "tape/Dialect/Tape/TapeInterfaces.h"

using namespace mlir;

namespace {
// d(x^3) = 3 x^2 dx.
struct CubeRule
    : public tape::DifferentiableOpInterface::ExternalModel<CubeRule,
                                                            tape_test::CubeOp> {
  LogicalResult buildAdjoints(Operation *op, OpBuilder &b, ValueRange x,
                              ValueRange, ArrayRef<Value> dz,
                              SmallVectorImpl<Value> &out) const {
    Location loc = op->getLoc();
    Value three = tape::createFloatConstant(b, loc, x[0].getType(), 3.0);
    Value sq = arith::MulFOp::create(b, loc, x[0], x[0]);
    Value slope = arith::MulFOp::create(b, loc, three, sq);
    out.push_back(arith::MulFOp::create(b, loc, dz[0], slope));
    return success();
  }
};
} // namespace

void tape_test::registerTestDialect(DialectRegistry &registry) {
  registry.insert<TapeTestDialect>();
  registry.addExtension(+[](MLIRContext *ctx, TapeTestDialect *) {
    CubeOp::attachInterface<CubeRule>(*ctx);
  });
}
