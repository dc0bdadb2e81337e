"""Save random full-size ViT-B-32 weights where open_clip/Hugging Face look for the real ones.

Lets the default model's own lookup (``HF_HUB_OFFLINE=1``, no download) and its real speed be
measured on machines that cannot reach the model hub. The vectors are meaningless.
"""

from __future__ import annotations

import argparse
from pathlib import Path

FAKE_REVISION = "0" * 40


def make_fake_cache(
    cache_dir: Path, architecture: str = "ViT-B-32", tag: str = "laion2b_s34b_b79k"
) -> Path:
    """Write random weights for ``architecture``/``tag`` in HF cache layout; returns the file."""
    import open_clip
    from safetensors.torch import save_file

    hub = open_clip.get_pretrained_cfg(architecture, tag)["hf_hub"]
    repo = hub.rstrip("/").split("/")
    repo_dir = cache_dir / f"models--{repo[0]}--{repo[1]}"
    target = repo_dir / "snapshots" / FAKE_REVISION / "open_clip_model.safetensors"
    if target.exists():
        return target
    model = open_clip.create_model(architecture)
    target.parent.mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs" / "main").write_text(FAKE_REVISION)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(target))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cache_dir", type=Path, help="e.g. ~/.local/share/Lumen/models")
    args = parser.parse_args()
    print(make_fake_cache(args.cache_dir))


if __name__ == "__main__":
    main()
