"""What sl_cai.py and rl_cai.py share: the exported folder's files, the run's prompt templates,
principle sampling, chat generation and option scoring, all as CAI Playground does them.

Reads only files in this folder: config.yaml, constitution.json and data/*.jsonl.
"""

import json
import random
import re
from pathlib import Path

import torch
import yaml  # PyYAML, installed with transformers and accelerate
from accelerate import PartialState
from accelerate.utils import gather_object
from peft import LoraConfig, PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def load_config() -> dict:
    """config.yaml: the run's models, seed, CAI settings and TRL arguments."""
    with open(HERE / "config.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_constitution() -> dict:
    """constitution.json: the principles and the six prompt templates, verbatim from the run."""
    with open(HERE / "constitution.json", encoding="utf-8") as f:
        constitution = json.load(f)
    if not constitution["principles"]:
        raise ValueError("constitution.json has no principles to sample.")
    return constitution


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def prompts_of(kind: str, split: str = "train") -> list[str]:
    """data/prompts.jsonl's prompts of one kind ("red-team" or "ordinary") and split ("train" or
    "held_out"), in order."""
    rows = read_jsonl(HERE / "data" / "prompts.jsonl")
    return [r["prompt"] for r in rows if r["kind"] == kind and r["split"] == split]


def format_constitution(principles: list[str]) -> str:
    """The constitution as the templates show it: one numbered principle per line."""
    return "\n".join(f"{i + 1}. {p}" for i, p in enumerate(principles))


VARIABLE = re.compile(r"\{([a-z_]+)\}")


def render(template: str, **values: str) -> str:
    """Fills {name} variables; a variable with no value is an error that names it."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"The template uses {{{name}}}, which has no value here.")
        return values[name]

    return VARIABLE.sub(fill, template)


def sample_principles(principles: list[str], count: int, rounds: int, seed: int) -> list[list[str]]:
    """A uniform draw from the constitution for each of `count` items and each round."""
    rng = random.Random(seed)
    return [[rng.choice(principles) for _ in range(rounds)] for _ in range(count)]


def split_held_out(rows: list, share: float, seed: int) -> tuple[list, list]:
    """A seeded split into (train, held_out), at least one held out when share > 0."""
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    count = max(1, round(share * len(rows))) if share > 0 and len(rows) > 1 else 0
    return shuffled[count:], shuffled[:count]


def model_source(model_id: str) -> str:
    """A Hub id as it is; "owner/name@revision" as that revision's local copy (downloaded
    once); a folder exported with the run (models/...) as its path here."""
    folder = HERE / model_id
    if folder.exists():
        return str(folder)
    if "@" in model_id:
        from huggingface_hub import snapshot_download

        repo_id, revision = model_id.split("@", 1)
        return snapshot_download(repo_id=repo_id, revision=revision)
    return model_id


def lora_config(config: dict, task_type: str = "CAUSAL_LM") -> LoraConfig | None:
    """The run's LoRA settings as PEFT's LoraConfig (for a reward or value model, task_type
    SEQ_CLS, so its score head trains too), or None for a full fine-tune."""
    lora = config.get("lora")
    return LoraConfig(**{**lora, "task_type": task_type}) if lora else None


def load_tokenizer(path: str):
    """A model's tokenizer, padding on the left (for batched generation), with a pad token."""
    tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_policy(path: str, adapter: str | None = None):
    """A causal LM and its tokenizer; with `adapter`, a PEFT folder merged into it."""
    tokenizer = load_tokenizer(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")
    if adapter:
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    model.to(PartialState().device).eval()
    return model, tokenizer


def chat_prompt(tokenizer, message: str) -> str:
    """One user turn in the model's chat format, the assistant's turn open."""
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": message}], tokenize=False, add_generation_prompt=True
    )


@torch.no_grad()
def generate(model, tokenizer, messages: list[str], sampling: dict, seed: int, batch: int = 8):
    """The model's answer to each user message: sampled at `temperature` (0 is greedy), at most
    `max_new_tokens`, in batches; each batch seeded from `seed` and its position."""
    answers = []
    for start in range(0, len(messages), batch):
        torch.manual_seed(seed + start)
        texts = [chat_prompt(tokenizer, m) for m in messages[start : start + batch]]
        inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        inputs = inputs.to(model.device)
        # Plain temperature sampling, as the playground samples (no top-p or top-k).
        how = (
            {"do_sample": False}
            if sampling["temperature"] == 0
            else {"do_sample": True, "temperature": sampling["temperature"], "top_p": 1.0, "top_k": 0}
        )
        out = model.generate(
            **inputs, **how, max_new_tokens=sampling["max_new_tokens"], pad_token_id=tokenizer.pad_token_id
        )
        new = out[:, inputs["input_ids"].shape[1] :]
        answers += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return answers


@torch.no_grad()
def option_logprobs(model, tokenizer, message: str, options: list[str]) -> list[float]:
    """The total log-probability of each option as the continuation of the assistant's turn."""
    prompt = tokenizer(chat_prompt(tokenizer, message), add_special_tokens=False)["input_ids"]
    totals = []
    for option in options:
        tail = tokenizer(option, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prompt + tail], device=model.device)
        logits = model(ids).logits[0, len(prompt) - 1 : -1].float()  # [len(tail), vocab]
        logprobs = torch.log_softmax(logits, dim=-1)
        totals.append(logprobs.gather(1, torch.tensor(tail, device=model.device)[:, None]).sum().item())
    return totals


def map_across_processes(count: int, work) -> list:
    """`work(indices)` (one result per index) with the indices 0..count-1 shared among
    accelerate's processes; every process gets all `count` results, in order."""
    state = PartialState()
    with state.split_between_processes(list(range(count))) as mine:
        done = list(zip(mine, work(mine)))
    return [r for _, r in sorted(gather_object(done), key=lambda pair: pair[0])]
