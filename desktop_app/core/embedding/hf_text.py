"""Models whose text tower is a Hugging Face model (the multilingual XLM-RoBERTa one).

Such a model needs the ``transformers`` package, and besides its weights file the text model's
configuration and tokenizer from the Hugging Face hub (a few MB). They are fetched once into
Lumen's model cache, like the weights; the model's open_clip configuration is then registered
again pointing at that local copy, so later starts need no network.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

from desktop_app.core.errors import ModelUnavailableError

log = logging.getLogger(__name__)

# What the text tower needs from its hub repository (not its weights: Lumen's file has them).
TEXT_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentencepiece.bpe.model",
)
INSTALL_HINT = "pip install 'lumen-search[multilingual]' (or: pip install transformers)"


def hf_text_model(architecture: str) -> str | None:
    """The hub name (or local folder) of the architecture's Hugging Face text model, if any."""
    import open_clip

    config: dict[str, Any] | None = open_clip.get_model_config(architecture)
    if not config:
        return None
    name = config.get("text_cfg", {}).get("hf_model_name")
    return str(name) if name else None


def prepare_hf_text(architecture: str, cache_dir: Path) -> None:
    """Make a Hugging Face text tower loadable offline: check ``transformers`` is installed,
    fetch its configuration and tokenizer into ``cache_dir`` once, and point the architecture's
    open_clip configuration at them. Nothing to do for plain CLIP text towers."""
    import open_clip

    name = hf_text_model(architecture)
    if name is None:
        return
    if importlib.util.find_spec("transformers") is None:
        raise ModelUnavailableError(
            f"The model {architecture} reads queries with a Hugging Face text model, which needs "
            f"the transformers package: {INSTALL_HINT}"
        )
    if Path(name).is_dir():
        return  # a local copy already
    local = _fetch(name, cache_dir)
    config = copy.deepcopy(open_clip.get_model_config(architecture))
    config["text_cfg"]["hf_model_name"] = str(local)
    if config["text_cfg"].get("hf_tokenizer_name") == name:
        config["text_cfg"]["hf_tokenizer_name"] = str(local)
    target = cache_dir / "configs" / f"{architecture}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(config, indent=2), encoding="utf-8")
    open_clip.add_model_config(target)


def _fetch(name: str, cache_dir: Path) -> Path:
    """The hub repository ``name``'s text files in ``cache_dir`` (downloaded the first time)."""
    from huggingface_hub import snapshot_download

    wanted = list(TEXT_FILES)
    try:  # fetched by an earlier start: no network
        return Path(
            snapshot_download(
                name, allow_patterns=wanted, cache_dir=str(cache_dir), local_files_only=True
            )
        )
    except Exception:
        log.info("Fetching the tokenizer of %s into %s", name, cache_dir)
    try:
        return Path(snapshot_download(name, allow_patterns=wanted, cache_dir=str(cache_dir)))
    except Exception as exc:  # offline, hub unreachable, repository gone
        raise ModelUnavailableError(
            f"The tokenizer and text-model settings of {name} (a few MB, fetched once from the "
            f"Hugging Face hub into {cache_dir}) could not be fetched: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. "
            "Connect to the internet once, or copy the files of "
            f"https://huggingface.co/{name} ({', '.join(TEXT_FILES[:3])}) there."
        ) from exc
