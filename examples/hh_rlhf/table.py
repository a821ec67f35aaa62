"""The per-round table of examples/hh_rlhf/run.sh's two arms.

    table.py VANILLA_ROUNDS_JSONL METARM_ROUNDS_JSONL
"""
import json
import sys

COLUMNS = [("judge_reward_mean", "judge", "{:.3f}"),
           ("sft_judge_reward_mean", "SFT judge", "{:.3f}"),
           ("win", "win", "{:.2f}"), ("tie", "tie", "{:.2f}"),
           ("lose", "lose", "{:.2f}"),
           ("proxy_reward_mean", "proxy", "{:.3f}"),
           ("rm_acc_original", "RM acc orig", "{:.3f}"),
           ("rm_acc_shifted", "RM acc shifted", "{:.3f}"),
           ("reward_gap_mean", "gap", "{:.3f}"),
           ("kl_to_reference", "KL", "{:.3f}"),
           ("response_length_mean", "length", "{:.1f}")]


def main(paths):
    header = ["arm", "round"] + [title for _, title, _ in COLUMNS]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for arm, path in zip(("VANILLA", "METARM"), paths):
        for line in open(path):
            row = json.loads(line)
            cells = [arm, str(row["round"])]
            for key, _, fmt in COLUMNS:
                cells.append(fmt.format(row[key]) if key in row else "")
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
