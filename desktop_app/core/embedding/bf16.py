"""bfloat16 arithmetic for the towers' matrix products, on CPUs that multiply it natively.

On a CPU with AVX512-BF16 or AMX, a bfloat16 matrix product runs two to three times as fast as a
float32 one (an AMD EPYC of these sessions: 414 against 127 GFLOPS for a tower's layer), and the
ViT-B-32 towers encode about twice the passages and pictures a second, with vectors within a
cosine of 1e-4 of float32's. Elsewhere bfloat16 is emulated and slower, so it is used only where
a product of a tower's shape, timed once per process, is at least ``MIN_SPEEDUP`` times faster;
and a tower switches to it only when a probe through that tower agrees with float32.

The residual stream and the layer norms stay in float32: only the inputs of the four products of
each block (and the attention itself) are rounded to bfloat16.

``LUMEN_BF16=0`` keeps float32 everywhere (``1`` uses bfloat16 without timing it).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

ENVIRONMENT = "LUMEN_BF16"
MIN_SPEEDUP = 1.5
# A probe's vectors through the bfloat16 tower against float32's (measured: 0.99997 for
# ViT-B-32 passages, 0.99999 for its pictures; the numpy encoders are held to 0.9999).
MIN_COSINE = 0.9998

_local = threading.local()


def _setting() -> bool | None:
    """``LUMEN_BF16``'s word: True (on), False (off), None (decide by measuring)."""
    setting = os.environ.get(ENVIRONMENT, "").strip().lower()
    if setting in {"0", "off", "no", "false"}:
        return False
    if setting in {"1", "on", "yes", "true"}:
        return True
    return None


def wanted() -> bool:
    """Whether this process's towers should try bfloat16: asked for by ``LUMEN_BF16``, or
    measured to pay on this CPU."""
    setting = _setting()
    return setting if setting is not None else measured_speedup() >= MIN_SPEEDUP


def describe() -> str:
    """Whether the towers multiply in bfloat16 on this CPU, and why (for `lumen doctor`)."""
    setting = _setting()
    if setting is not None:
        return f"bfloat16 products {'on' if setting else 'off'} by {ENVIRONMENT}={setting:d}"
    speedup = measured_speedup()
    if speedup >= MIN_SPEEDUP:
        return f"bfloat16 products on, {speedup:.1f}× as fast as float32 here"
    return f"bfloat16 products off, emulated here ({speedup:.1f}× float32's speed)"


@functools.cache
def measured_speedup() -> float:
    """How many times faster a bfloat16 product of a tower's shape runs than float32's here
    (about 50 ms to measure; 0.0 where bfloat16 products fail)."""
    import torch

    rows, width = torch.randn(128, 768), torch.randn(3072, 768)

    def fastest(dtype: torch.dtype) -> float:
        x, w = rows.to(dtype), width.to(dtype)
        torch.nn.functional.linear(x, w)  # (the first call picks and prepares the kernel)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            torch.nn.functional.linear(x, w)
            times.append(time.perf_counter() - started)
        return min(times)

    try:
        with torch.inference_mode():
            speedup = fastest(torch.float32) / max(fastest(torch.bfloat16), 1e-9)
    except RuntimeError as exc:  # a build or CPU without bfloat16 kernels
        log.debug("bfloat16 products failed: %s", exc)
        return 0.0
    log.debug("bfloat16 products run %.2f× as fast as float32 here", speedup)
    return speedup


def compute_dtype(block: Any) -> torch.dtype | None:
    """The dtype ``block`` multiplies in now: None for its plain float32 path (also inside
    ``exact()`` on this thread)."""
    dtype: torch.dtype | None = getattr(block, "compute", None)
    if dtype is None or getattr(_local, "exact", False):
        return None
    return dtype


@contextmanager
def exact() -> Iterator[None]:
    """On this thread, the towers compute in float32 (a reference another encoder is checked
    against: the numpy encoders' probes)."""
    before = getattr(_local, "exact", False)
    _local.exact = True
    try:
        yield
    finally:
        _local.exact = before


def block_forward(block: Any, x: torch.Tensor, attn_mask: torch.Tensor | None) -> torch.Tensor:
    """One transformer block (pre-norm attention, then the MLP) with its products in
    ``block.compute``; ``x`` and the result are float32."""
    import torch.nn.functional as F

    dtype = block.compute
    batch, length, width = x.shape
    heads = block.attn.num_heads
    attn, mlp = block.attn, block.mlp

    def product(rows: torch.Tensor, layer_weight: Any, bias: Any) -> torch.Tensor:
        return F.linear(rows, layer_weight.to(dtype), bias.to(dtype))

    h = block.ln_1(x).to(dtype).reshape(batch * length, width)
    qkv = product(h, attn.in_proj_weight, attn.in_proj_bias)
    q, k, v = qkv.reshape(batch, length, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
    mask = attn_mask.to(dtype) if attn_mask is not None else None
    mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    mixed = mixed.transpose(1, 2).reshape(batch * length, width)
    x = x + product(mixed, attn.out_proj.weight, attn.out_proj.bias).reshape(x.shape).float()
    h = block.ln_2(x).to(dtype).reshape(batch * length, width)
    h = mlp.gelu(product(h, mlp.c_fc.weight, mlp.c_fc.bias))
    out: torch.Tensor = x + product(h, mlp.c_proj.weight, mlp.c_proj.bias).reshape(x.shape).float()
    return out


def adopt(model: Any, visual: bool) -> bool:
    """Switch the text tower (or, ``visual``, the image tower) of Lumen's own CLIP ``model`` to
    bfloat16 if a probe through it agrees with float32; whether it did. The tower's weights
    must be loaded."""
    import torch

    blocks = list((model.visual.transformer if visual else model.transformer).resblocks)
    generator = torch.Generator().manual_seed(0)
    if visual:
        size = int(model.visual.image_size)
        probe = torch.randn(1, 3, size, size, generator=generator)
    else:  # start token, words, end token (the highest id): what the tokenizer makes
        words = torch.randint(300, 49000, (2, 14), generator=generator)
        probe = torch.cat([torch.full((2, 1), 49406), words, torch.full((2, 1), 49407)], 1)
    encode = model.encode_image if visual else model.encode_text
    with torch.inference_mode():
        reference = _unit(encode(probe))
        for block in blocks:
            block.compute = torch.bfloat16
        cosine = float((_unit(encode(probe)) * reference).sum(-1).min())
    if cosine < MIN_COSINE:
        for block in blocks:
            block.compute = None
        log.info(
            "bfloat16 %s tower differs from float32 (cosine %.5f): float32 kept",
            "image" if visual else "text",
            cosine,
        )
        return False
    log.debug(
        "The %s tower multiplies in bfloat16 (probe cosine %.6f)",
        "image" if visual else "text",
        cosine,
    )
    return True


def _unit(vectors: torch.Tensor) -> torch.Tensor:
    """Unit rows, in float32."""
    import torch

    return torch.nn.functional.normalize(vectors.float(), dim=-1)
