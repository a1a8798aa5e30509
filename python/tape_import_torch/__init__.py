"""tape-import-torch: a PyTorch nn.Module, its loss and its torch.optim
optimizer as a tape train step (docs/ImportTorch.md).

    from tape_import_torch import TensorSpec, import_model
    imported = import_model(model, [TensorSpec("x", (64, 784), torch.float32)],
                            [TensorSpec("target", (64,), torch.int64)],
                            lambda out, t: F.cross_entropy(out, t),
                            torch.optim.SGD(model.parameters(), lr=0.1))
    imported.mlir      # the module: @train_step, @predict, @evaluate
    imported.weights   # {variable name: numpy array}, for tape-run --init
"""
from .errors import ImportFailure
from .program import Imported, TensorSpec, build as import_model

__all__ = ["ImportFailure", "Imported", "TensorSpec", "import_model"]
