"""Compare a lab model export with the lab's own numbers on one batch, in PyTorch (test/interop/torch.test.ts).

    python scripts/interop/check_model.py <export dir> <batch.json> [<export dir> <batch.json> ...]

batch.json: { B, T, inputs, targets, patchIds?, targetPatchIds?, forward: "peer" | "lab", patch?, nll, loss }
with the lab's per-position NLL (`nll`, [B*T], 0 where ignored) and mean loss. `forward` "peer" runs the
reference model's own forward (`model(ids)`, static patches of `patch`; for LST, g_bos is set to the global
output of the rows' shared first patch, see below); "lab" runs lab_torch.lab_logits.
Prints one JSON line per pair: the PyTorch loss, the relative difference, and where the two differ (the positions
with the largest NLL differences, and per-row maxima), so a mismatch names its place.
"""

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lab_torch  # noqa: E402


def set_g_bos_to_first_patch(model, ids, p):
    """The peer's tokens of patch 0 read its learned g_bos; the lab's read global patch 0 (the lab has no g_bos,
    and its decoder's self-attention carries patch 0 into later positions). On a batch whose rows share their
    first patch, global patch 0 is one vector: set g_bos to it, and the peer's own forward is the lab's."""
    if not bool((ids[:, :p] == ids[:1, :p]).all()):
        raise ValueError("forward 'peer' for LST needs rows that share their first patch (see set_g_bos_to_first_patch)")
    seen = {}
    hook = model.gnorm.register_forward_hook(lambda mod, inp, out: seen.setdefault("g", out))
    model(ids[:1])
    hook.remove()
    model.g_bos.data.copy_(seen["g"][0, 0])


def check(export_dir, batch_file):
    b = json.loads(Path(batch_file).read_text())
    B, T = b["B"], b["T"]
    ids = torch.tensor(b["inputs"], dtype=torch.long).view(B, T)
    targets = torch.tensor(b["targets"], dtype=torch.long).view(B, T)
    model, cfg = lab_torch.load(export_dir, seq_len=T, patch=b.get("patch", 1))
    with torch.no_grad():
        if b["forward"] == "peer":
            if cfg["kind"] == "lst":
                set_g_bos_to_first_patch(model, ids, b["patch"])
            logits = model(ids)
        else:
            pid = tid = None
            if cfg["kind"] == "lst":
                pid = torch.tensor(b["patchIds"], dtype=torch.long).view(B, T)
                tid = torch.tensor(b["targetPatchIds"], dtype=torch.long).view(B, T)
            logits = lab_torch.lab_logits(model, cfg, ids, pid, tid)
    loss, nll = lab_torch.mean_nll(logits, targets)
    lab_nll = torch.tensor(b["nll"], dtype=torch.float64).view(B, T)
    diff = (nll - lab_nll).abs()
    worst = torch.argsort(diff.view(-1), descending=True)[:8]
    return {
        "kind": cfg["kind"],
        "forward": b["forward"],
        "torch": torch.__version__,
        "peer": str(lab_torch.peer_path().name),
        "loss": loss,
        "lab_loss": b["loss"],
        "rel_diff": abs(loss - b["loss"]) / abs(b["loss"]),
        "max_nll_diff": float(diff.max()),
        "worst_positions": [{"row": int(i) // T, "t": int(i) % T, "torch": float(nll.view(-1)[i]),
                             "lab": float(lab_nll.view(-1)[i])} for i in worst],
        "max_diff_by_row": [float(x) for x in diff.max(1).values],
        "diff": [float(x) for x in diff.view(-1)],
    }


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit("usage: check_model.py <export dir> <batch.json> [<export dir> <batch.json> ...]")
    for i in range(0, len(args), 2):
        print(json.dumps(check(args[i], args[i + 1])), flush=True)


if __name__ == "__main__":
    main()
