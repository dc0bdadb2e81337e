"""A tiny multilingual model: an XLM-RoBERTa-style Hugging Face text tower and tokenizer, built
locally and put in a model cache the way the hub's files land there (random weights)."""

from __future__ import annotations

import json
from pathlib import Path

TINY_ARCHITECTURE = "lumen-tiny-xlmr"
TINY_REPO = "lumen-test/tiny-xlm-roberta"
_REVISION = "0" * 40
_SENTENCES = (
    "sunset at the sea",
    "Sonnenuntergang am Meer",
    "海边的日落",
    "夕阳 大海 沙滩 孩子",
    "a red circle on the left",
    "un cercle rouge à gauche",
    "ein roter Kreis links",
    "红色的圆圈在左边",
    "kids on a beach",
    "Kinder am Strand",
)


def tiny_multilingual_model(base: Path, cache_dir: Path) -> Path:
    """Register ``TINY_ARCHITECTURE`` with open_clip, put its text files in ``cache_dir`` as the
    hub repository ``TINY_REPO`` would, and return its weights file (written under ``base``)."""
    import open_clip
    from safetensors.torch import save_file
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import XLMRobertaConfig, XLMRobertaTokenizerFast

    snapshot = cache_dir / f"models--{TINY_REPO.replace('/', '--')}" / "snapshots" / _REVISION
    snapshot.mkdir(parents=True, exist_ok=True)
    refs = snapshot.parent.parent / "refs"
    refs.mkdir(exist_ok=True)
    (refs / "main").write_text(_REVISION)
    tokens = Tokenizer(models.Unigram())
    tokens.normalizer = normalizers.NFKC()
    tokens.pre_tokenizer = pre_tokenizers.Metaspace()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = trainers.UnigramTrainer(vocab_size=200, special_tokens=specials, unk_token="<unk>")
    tokens.train_from_iterator(list(_SENTENCES) * 20, trainer)
    tokens.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    XLMRobertaTokenizerFast(
        tokenizer_object=tokens,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        cls_token="<s>",
        sep_token="</s>",
    ).save_pretrained(snapshot)
    XLMRobertaConfig(
        vocab_size=tokens.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=40,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    ).save_pretrained(snapshot)
    config = {
        "embed_dim": 32,
        "vision_cfg": {
            "image_size": 32,
            "layers": 1,
            "width": 32,
            "head_width": 16,
            "patch_size": 8,
        },
        "text_cfg": {
            "hf_model_name": str(snapshot),
            "hf_tokenizer_name": str(snapshot),
            "hf_proj_type": "mlp",
            "hf_pooler_type": "mean_pooler",
            "context_length": 32,
        },
    }
    base.mkdir(parents=True, exist_ok=True)
    local = base / "local" / f"{TINY_ARCHITECTURE}.json"
    local.parent.mkdir(exist_ok=True)
    local.write_text(json.dumps(config))
    open_clip.add_model_config(local)
    model = open_clip.create_model(TINY_ARCHITECTURE, pretrained_hf=False)
    weights = base / f"{TINY_ARCHITECTURE}.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    # As shipped: the text model named by its hub repository, as open_clip's own configs do.
    config["text_cfg"]["hf_model_name"] = config["text_cfg"]["hf_tokenizer_name"] = TINY_REPO
    shipped = base / f"{TINY_ARCHITECTURE}.json"
    shipped.write_text(json.dumps(config))
    open_clip.add_model_config(shipped)
    return weights
