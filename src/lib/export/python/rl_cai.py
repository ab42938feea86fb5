"""RL-CAI as the playground ran it: the SL-CAI policy answers each prompt twice, the feedback
model says which answer follows a sampled principle better (P(A) from the option log-probs,
averaged over both orders; clamped in chain-of-thought mode; pairs too close to call left out),
and the policy learns from them by the run's method (config.yaml's cai.rl.method): a reward model
(TRL's RewardTrainer), then PPO (trl.experimental.ppo), GRPO or RLOO against it; or DPO straight
on the labelled pairs, with no reward model.

    accelerate launch rl_cai.py                       # label, then the run's method
    accelerate launch rl_cai.py --algorithm dpo       # ... DPO (or ppo, grpo, rloo) instead
    accelerate launch rl_cai.py --from-export         # the run's own data/preferences.jsonl
    accelerate launch rl_cai.py --policy adapter      # start from the run's trained adapter

Reads out/sl_cai/policy/ (run sl_cai.py first) unless --policy says otherwise; writes
out/rl_cai/: data/preferences.jsonl, reward/ (the reward model) and policy/.
"""

import argparse
import math

from accelerate import PartialState
from datasets import Dataset
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification
from trl import (
    DPOConfig,
    DPOTrainer,
    GRPOConfig,
    GRPOTrainer,
    RewardConfig,
    RewardTrainer,
    RLOOConfig,
    RLOOTrainer,
)
from trl.experimental.ppo import PPOConfig, PPOTrainer

from cai_common import (
    HERE,
    OUT,
    chat_prompt,
    generate,
    load_config,
    load_constitution,
    load_policy,
    load_tokenizer,
    lora_config,
    map_across_processes,
    model_source,
    option_logprobs,
    read_jsonl,
    render,
    sample_principles,
    split_held_out,
    prompts_of,
    write_jsonl,
)


def probability_of_a(logprob_a: float, logprob_b: float) -> float:
    """P(A) from the options' total log-probs: a softmax over the two."""
    top = max(logprob_a, logprob_b)
    a, b = math.exp(logprob_a - top), math.exp(logprob_b - top)
    return a / (a + b)


def reasoning_prefix(text: str) -> str:
    """The reasoning up to its final option, which the options are scored as continuations of."""
    at = text.rfind("(")
    return text[:at] if at > 0 else f"{text.strip()} So the answer is "


def label_pairs(config: dict, constitution: dict, policy_path: str) -> list[dict]:
    """AI preference labels for pairs of the policy's answers, as the run's labels stage made them."""
    labels = config["cai"]["labels"]
    seed = config["cai"]["seeds"]["label"]
    prompts = [
        p for p in prompts_of("red-team") + prompts_of("ordinary") for _ in range(labels["pairs_per_prompt"])
    ]
    policy, policy_tokenizer = load_policy(policy_path)
    doubled = [p for p in prompts for _ in range(2)]
    answers = map_across_processes(
        len(doubled),
        lambda idx: generate(
            policy, policy_tokenizer, [doubled[i] for i in idx], config["cai"]["pair_sampling"], seed + (idx[0] if idx else 0)
        ),
    )
    del policy
    principles = sample_principles(constitution["principles"], len(prompts), 1, seed + 1)
    cot = labels["mode"] == "cot"
    template = constitution["templates"]["cotPreference" if cot else "preference"]
    feedback, tokenizer = load_policy(model_source(config["models"]["feedback"]))

    def judge(question: str, principle: str, first: str, second: str, i: int) -> tuple[float, str]:
        message = render(template, question=question, principle=principle, response_a=first, response_b=second)
        reasoning, prefix = "", ""
        if cot:
            reasoning = generate(feedback, tokenizer, [message], config["cai"]["reasoning"], seed + i)[0]
            prefix = reasoning_prefix(reasoning)
        la, lb = option_logprobs(feedback, tokenizer, message, [f"{prefix}(A)", f"{prefix}(B)"])
        return probability_of_a(la, lb), reasoning

    def label(idx: list[int]) -> list[dict | None]:
        records = []
        for i in idx:
            a, b = answers[2 * i].strip(), answers[2 * i + 1].strip()
            if a == b or not a or not b:
                records.append(None)
                continue
            shown, _ = judge(prompts[i], principles[i][0], a, b, i)
            swapped, _ = judge(prompts[i], principles[i][0], b, a, i)
            p = (shown + (1 - swapped)) / 2
            if abs(p - 0.5) < labels["min_margin"]:
                records.append(None)  # too close to call
                continue
            if cot:
                low, high = labels["cot_band"]
                p = min(high, max(low, p))
            a_wins = p >= 0.5
            records.append(
                {
                    "prompt": prompts[i],
                    "chosen": a if a_wins else b,
                    "rejected": b if a_wins else a,
                    "label": p if a_wins else 1 - p,
                    "principle": principles[i][0],
                }
            )
        return records

    done = [r for r in map_across_processes(len(prompts), label) if r is not None]
    del feedback
    return done


def conversational(row: dict) -> dict:
    """A preference row as TRL's conversational preference data (explicit prompt)."""
    return {
        "prompt": [{"role": "user", "content": row["prompt"]}],
        "chosen": [{"role": "assistant", "content": row["chosen"]}],
        "rejected": [{"role": "assistant", "content": row["rejected"]}],
    }


def scalar_model(path: str, tokenizer):
    """A model with a scalar head (a reward or value model) from a causal LM's folder."""
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model


def train_reward(config: dict, preferences: list[dict], policy_path: str, out) -> str:
    """The reward model: the SL-CAI policy with a scalar head, trained on the labelled pairs."""
    train, held_out = split_held_out(preferences, config["cai"]["reward"]["held_out_share"], config["cai"]["seeds"]["reward"])
    if len(train) < 2:
        raise SystemExit(f"Only {len(train)} preference pairs to train on: the reward model needs at least 2.")
    tokenizer = load_tokenizer(policy_path)
    peft = lora_config(config, task_type="SEQ_CLS")
    trainer = RewardTrainer(
        model=scalar_model(policy_path, tokenizer),
        args=RewardConfig(output_dir=str(out / "reward"), **config["reward"]),
        train_dataset=Dataset.from_list([conversational(r) for r in train]),
        eval_dataset=Dataset.from_list([conversational(r) for r in held_out]) if held_out else None,
        processing_class=tokenizer,
        peft_config=peft,
    )
    trainer.train()
    if held_out:
        print("Reward model, held-out pairs:", trainer.evaluate())
    path = out / "reward" / "model"
    trainer.save_model(str(out / "reward" / "adapter" if peft else path))
    state = PartialState()
    if state.is_main_process:
        if peft:  # the adapter and its head merged into a whole reward model
            model = PeftModel.from_pretrained(scalar_model(policy_path, tokenizer), str(out / "reward" / "adapter"))
            model.merge_and_unload().save_pretrained(path)
        tokenizer.save_pretrained(path)
    state.wait_for_everyone()
    return str(path)


def train_ppo(config: dict, policy_path: str, reward_path: str, out) -> None:
    """PPO on the red-team prompts (as the run did): a value model initialised from the reward
    model, a KL penalty to the frozen SL-CAI policy."""
    tokenizer = load_tokenizer(policy_path)

    def tokenized(prompts: list[str]) -> Dataset:
        ids = [tokenizer(chat_prompt(tokenizer, p), add_special_tokens=False)["input_ids"] for p in prompts]
        return Dataset.from_list([{"input_ids": i} for i in ids])

    peft = lora_config(config)
    trainer = PPOTrainer(
        args=PPOConfig(output_dir=str(out), **config["ppo"]),
        processing_class=tokenizer,
        model=AutoModelForCausalLM.from_pretrained(policy_path),
        ref_model=None if peft else AutoModelForCausalLM.from_pretrained(policy_path),
        reward_model=scalar_model(reward_path, tokenizer),
        value_model=scalar_model(reward_path, tokenizer),
        train_dataset=tokenized(prompts_of("red-team")),
        # Sample completions are shown for the held-out red-team prompts.
        eval_dataset=tokenized(prompts_of("red-team", "held_out") or prompts_of("red-team")),
        peft_config=peft,
    )
    trainer.train()
    trainer.save_model(str(out / "policy"))


def red_team_prompts() -> Dataset:
    return Dataset.from_list([{"prompt": [{"role": "user", "content": p}]} for p in prompts_of("red-team")])


def train_online(config: dict, algorithm: str, policy_path: str, reward_path: str, out) -> None:
    """GRPO or RLOO on the red-team prompts: several answers per prompt scored by the reward
    model, each compared with its group (GRPO) or with the others' mean (RLOO)."""
    trainer_class, config_class = {"grpo": (GRPOTrainer, GRPOConfig), "rloo": (RLOOTrainer, RLOOConfig)}[algorithm]
    trainer = trainer_class(
        model=policy_path,
        reward_funcs=reward_path,
        args=config_class(output_dir=str(out), **config[algorithm]),
        train_dataset=red_team_prompts(),
        peft_config=lora_config(config),
    )
    trainer.train()
    trainer.save_model(str(out / "policy"))


def train_dpo(config: dict, preferences: list[dict], policy_path: str, out) -> None:
    """DPO on the labelled pairs, the SL-CAI policy as the reference (no reward model). TRL takes
    one label_smoothing for all pairs: with soft labels, the mean of 1 - p over them."""
    cai = config["cai"]["dpo"]
    train, held_out = split_held_out(preferences, cai["held_out_share"], config["dpo"]["seed"])
    args = dict(config["dpo"])
    if cai["soft_labels"]:
        args["label_smoothing"] = sum(1 - r["label"] for r in train) / len(train)
    if held_out:
        args["eval_strategy"] = "epoch"
    trainer = DPOTrainer(
        model=policy_path,
        args=DPOConfig(output_dir=str(out), **args),
        train_dataset=Dataset.from_list([conversational(r) for r in train]),
        eval_dataset=Dataset.from_list([conversational(r) for r in held_out]) if held_out else None,
        processing_class=load_tokenizer(policy_path),
        peft_config=lora_config(config),
    )
    trainer.train()
    trainer.save_model(str(out / "policy"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--algorithm", choices=["ppo", "dpo", "grpo", "rloo"], help="default: the run's method (cai.rl.method)"
    )
    parser.add_argument("--from-export", action="store_true", help="use data/preferences.jsonl, the run's own labels")
    parser.add_argument(
        "--policy",
        default=str(OUT / "sl_cai" / "policy"),
        help="the SL-CAI policy (a model folder), or 'adapter' for the run's trained adapter on its base",
    )
    args = parser.parse_args()
    config = load_config()
    out = OUT / "rl_cai"
    state = PartialState()
    policy_path = args.policy
    if args.policy == "adapter":
        policy_path = str(out / "start")
        if state.is_main_process:
            model, tokenizer = load_policy(model_source(config["models"]["policy"]), str(HERE / "adapter"))
            model.save_pretrained(policy_path)
            tokenizer.save_pretrained(policy_path)
        state.wait_for_everyone()
    if args.from_export:
        preferences = read_jsonl(HERE / "data" / "preferences.jsonl")
    else:
        preferences = label_pairs(config, load_constitution(), policy_path)
        if state.is_main_process:
            write_jsonl(out / "data" / "preferences.jsonl", preferences)
    algorithm = args.algorithm or config["cai"]["rl"]["method"]
    if algorithm == "dpo":
        train_dpo(config, preferences, policy_path, out)
    else:
        reward_path = train_reward(config, preferences, policy_path, out)
        if algorithm == "ppo":
            train_ppo(config, policy_path, reward_path, out)
        else:
            train_online(config, algorithm, policy_path, reward_path, out)
    if state.is_main_process:
        print(f"RL-CAI ({algorithm}): the policy is in {out / 'policy'}.")


if __name__ == "__main__":
    main()
