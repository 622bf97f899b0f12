"""One way to reach the model inside the wrappers that training puts around it."""

from __future__ import annotations

from torch import nn


def unwrap(model: nn.Module, adapters: bool = True) -> nn.Module:
    """The model inside `accelerate`'s wrappers (DDP, FSDP, DeepSpeed, `torch.compile`), as
    `Accelerator.unwrap_model` gives it; with `adapters=False` also the plain model inside a PEFT (LoRA) wrapper."""
    from accelerate.utils import extract_model_from_parallel

    model = extract_model_from_parallel(model)
    if not adapters and hasattr(model, "get_base_model"):
        model = model.get_base_model()
    return model


__all__ = ["unwrap"]
