"""SL-CAI as the playground ran it: the policy answers the red-team and ordinary prompts, the
feedback model critiques each red-team answer under a sampled principle and revises it, round
after round, and the policy is fine-tuned (TRL's SFTTrainer) on the final revisions plus its own
answers to the ordinary prompts.

    accelerate launch sl_cai.py                 # generate, critique and revise, then SFT
    accelerate launch sl_cai.py --from-export   # SFT on the playground run's own data/sft.jsonl

Writes out/sl_cai/: the SFT policy (with LoRA: out/sl_cai/adapter/ and the merged
out/sl_cai/policy/), and the data it trained on (data/sft.jsonl, data/critiques.jsonl).
"""

import argparse

from accelerate import PartialState
from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from cai_common import (
    HERE,
    OUT,
    format_constitution,
    generate,
    load_config,
    load_constitution,
    load_policy,
    lora_config,
    map_across_processes,
    model_source,
    read_jsonl,
    render,
    sample_principles,
    split_held_out,
    prompts_of,
    write_jsonl,
)

CRITIQUE_TEMPLATE = {"plain": "critique", "strict": "strictCritique", "cot": "cotCritique"}


def answer_prompts(config: dict) -> tuple[list[str], list[dict]]:
    """The policy's answers to the red-team prompts, and its answers (several per prompt when
    the run asked for more) to the ordinary prompts."""
    cai = config["cai"]
    red_team = prompts_of("red-team")
    ordinary = [p for p in prompts_of("ordinary") for _ in range(cai["answers"]["answers_per_ordinary_prompt"])]
    prompts = red_team + ordinary
    model, tokenizer = load_policy(model_source(config["models"]["policy"]))
    texts = map_across_processes(
        len(prompts),
        lambda idx: generate(model, tokenizer, [prompts[i] for i in idx], cai["answers"], cai["seeds"]["generate"] + (idx[0] if idx else 0)),
    )
    del model
    helpful = [{"prompt": p, "text": t} for p, t in zip(ordinary, texts[len(red_team) :])]
    return texts[: len(red_team)], helpful


def critique_and_revise(config: dict, constitution: dict, answers: list[str]) -> list[dict]:
    """Each red-team answer through the run's rounds: a principle is drawn for each round, the
    feedback model critiques the latest response with it, then rewrites the response."""
    cai = config["cai"]
    prompts = prompts_of("red-team")
    rounds = cai["critique"]["rounds"]
    templates = constitution["templates"]
    shown = format_constitution(constitution["principles"])
    principles = sample_principles(constitution["principles"], len(prompts), rounds, cai["seeds"]["critique"])
    model, tokenizer = load_policy(model_source(config["models"]["feedback"]))
    chains = [{"prompt": p, "answer": a, "rounds": []} for p, a in zip(prompts, answers)]

    def run_round(r: int, idx: list[int]) -> list[dict]:
        current = [chains[i]["rounds"][-1]["revision"] if r else chains[i]["answer"] for i in idx]
        critique_prompts = [
            render(
                templates[CRITIQUE_TEMPLATE[cai["critique"]["mode"]]],
                constitution=shown,
                question=prompts[i],
                response=response,
                principle=principles[i][r],
            )
            for i, response in zip(idx, current)
        ]
        seed = cai["seeds"]["critique"] + 1000 * (r + 1) + (idx[0] if idx else 0)
        critiques = generate(model, tokenizer, critique_prompts, cai["critiques"], seed)
        revision_prompts = [
            render(templates["revision"], constitution=shown, question=prompts[i], response=response, critique=c)
            for i, response, c in zip(idx, current, critiques)
        ]
        revisions = generate(model, tokenizer, revision_prompts, cai["revisions"], seed + 500)
        return [
            {
                "principle": principles[i][r],
                "critique_prompt": cp,
                "critique": c,
                "revision_prompt": rp,
                "revision": rv,
            }
            for i, cp, c, rp, rv in zip(idx, critique_prompts, critiques, revision_prompts, revisions)
        ]

    for r in range(rounds):
        done = map_across_processes(len(prompts), lambda idx, r=r: run_round(r, idx))
        for chain, result in zip(chains, done):
            chain["rounds"].append(result)
    del model
    return chains


def critique_rows(chains: list[dict], mode: str) -> list[dict]:
    """The chains in the public CAI datasets' columns (as data/critiques.jsonl has them)."""
    return [
        {
            "init_prompt": c["prompt"],
            "init_response": c["answer"],
            "critic_prompt": r["critique_prompt"],
            "critic_response": r["critique"],
            "revision_prompt": r["revision_prompt"],
            "revision_response": r["revision"],
            "principle": r["principle"],
            "mode": mode,
        }
        for c in chains
        for r in c["rounds"]
    ]


def sft_rows(chains: list[dict], helpful: list[dict], every_round: bool) -> list[dict]:
    """The SL-CAI training set: each red-team prompt with its final revision (every round's with
    every_round), plus the policy's own answers to ordinary prompts; empty answers left out."""
    pairs = [(c["prompt"], r["revision"]) for c in chains for r in (c["rounds"] if every_round else c["rounds"][-1:])]
    pairs += [(h["prompt"], h["text"]) for h in helpful]
    return [
        {"messages": [{"role": "user", "content": p}, {"role": "assistant", "content": a.strip()}]}
        for p, a in pairs
        if a.strip()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from-export", action="store_true", help="train on data/sft.jsonl, the run's own SFT set")
    args = parser.parse_args()
    config = load_config()
    cai = config["cai"]
    out = OUT / "sl_cai"
    state = PartialState()
    if args.from_export:
        rows = read_jsonl(HERE / "data" / "sft.jsonl")
    else:
        constitution = load_constitution()
        answers, helpful = answer_prompts(config)
        chains = critique_and_revise(config, constitution, answers)
        rows = sft_rows(chains, helpful, cai["sft"]["every_round"])
        if state.is_main_process:
            write_jsonl(out / "data" / "critiques.jsonl", critique_rows(chains, cai["critique"]["mode"]))
            write_jsonl(out / "data" / "sft.jsonl", rows)
    train, held_out = split_held_out(rows, cai["sft"]["held_out_share"], cai["seeds"]["sft"])
    sft = dict(config["sft"])
    if not held_out:
        sft.pop("eval_strategy", None)
    trainer = SFTTrainer(
        model=model_source(config["models"]["policy"]),
        args=SFTConfig(output_dir=str(out), **sft),
        train_dataset=Dataset.from_list(train),
        eval_dataset=Dataset.from_list(held_out) if held_out else None,
        peft_config=lora_config(config),
    )
    trainer.train()
    lora = lora_config(config) is not None
    trainer.save_model(str(out / ("adapter" if lora else "policy")))
    state.wait_for_everyone()
    if state.is_main_process:
        if lora:  # the adapter merged into its base: the policy RL-CAI starts from
            model, tokenizer = load_policy(model_source(config["models"]["policy"]), str(out / "adapter"))
            model.save_pretrained(out / "policy")
            tokenizer.save_pretrained(out / "policy")
        else:
            trainer.processing_class.save_pretrained(out / "policy")
        print(f"SL-CAI: {len(train)} examples trained, {len(held_out)} held out; the policy is in {out / 'policy'}.")

if __name__ == "__main__":
    main()
