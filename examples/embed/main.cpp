// Embedding tape from C++: the same as main.c through tape::Model/State.
//
//   embed-cpp examples/seed/1_assign_sub.mlir train_step 3
#include "tape/Runtime/Model.h"

#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODULE.mlir FUNCTION STEPS\n", argv[0]);
    return 2;
  }
  std::unique_ptr<tape::Model> model;
  if (tape::Status s = tape::Model::compileFile(argv[1], {}, model); !s) {
    std::fprintf(stderr, "%s\n", s.str().c_str());
    return 1;
  }
  const tape::FunctionSpec *fn = model->findFunction(argv[2]);
  if (!fn || !fn->inputs.empty()) {
    std::fprintf(stderr, "no function @%s without inputs\n", argv[2]);
    return 1;
  }
  tape::State state(*model);
  std::vector<tape::Tensor> outputs;
  std::vector<tape::Tensor *> outPtrs;
  for (const tape::TensorSpec &spec : fn->outputs)
    outputs.emplace_back(spec);
  for (tape::Tensor &t : outputs)
    outPtrs.push_back(&t);
  for (int k = 0; k < std::atoi(argv[3]); ++k) {
    if (tape::Status s = model->call(fn->name, state, {}, outPtrs); !s) {
      std::fprintf(stderr, "%s\n", s.str().c_str());
      return 1;
    }
    std::printf("Loss: %g", outputs[0].elementAsDouble(0));
    for (size_t i = 0; i < state.size(); ++i)
      if (state.variable(i).spec().shape.empty())
        std::printf(", %s: %g", model->variables()[i].name.c_str(),
                    state.variable(i).elementAsDouble(0));
    std::printf("\n");
  }
  return 0;
}
