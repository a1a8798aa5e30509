"""The lowerings, registered per torch function, Tensor method and
nn.Module class (see core.py)."""
from . import (activations, conv, dropout, elementwise, embedding, linear,  # noqa: F401
               losses, normalization, pooling, reductions, shape)
