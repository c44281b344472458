"""Load an LST Lab model export (model.safetensors + config.json) into the PyTorch reference models of
../shared/peers/torch_lm_bench.py (BaseLM, LSTLM), and run it in PyTorch.

    import lab_torch
    model, cfg = lab_torch.load(run_dir)                   # a peer BaseLM / LSTLM holding the lab's weights
    logits = lab_torch.lab_logits(model, cfg, ids)         # the lab's forward (doc reset, windows), baseline
    logits = lab_torch.lab_logits(model, cfg, ids, patch_ids, target_patch_ids)   # LST, any patching
    logits = model(ids)                                     # the peer's own forward (see the differences below)

Parameter mapping (lab name -> peer name; every lab matrix is [in, out] and is transposed into nn.Linear's
[out, in]; embeddings [vocab, d] and norm gains [d] are copied as they are):
    embed.tokens / encoder.embed.tokens          -> emb.weight
    global.layers.i.{attnNorm.gain, attn.wqkv, attn.wo, mlpNorm.gain, mlp.w13, mlp.w2}
        -> blocks.i (baseline) / glob.i (LST) .{n1.weight, attn.qkv.weight, attn.o.weight, n2.weight,
           mlp.w13.weight, mlp.w2.weight}
    global.norm.gain                             -> norm.weight (baseline) / gnorm.weight (LST)
    head.weight / decoder.head                   -> head.weight
    encoder.layers.i.* / decoder.layers.i.*      -> enc.i.* / dec.i.*
    encoder.poolProj, encoder.toGlobal, decoder.kvProj -> pool_proj, to_global, dec_kv_proj (.weight)
    encoder.crossAttn / decoder.crossAttn.i .{qNorm.gain, kvNorm.gain, wq, wkv, wo}
        -> enc_xattn / dec_xattn.i .{nq.weight, nkv.weight, q.weight, kv.weight, o.weight}
    decoder.norm.gain                            -> norm.weight (LST)

The baseline is the same model in both. The peer's LSTLM differs from the lab's LST by design (it is a
minimal benchmark model):
  1. Decoder shift. The lab (BLT's `decoder_patch_lengths = patch_lengths[1:]`) predicts a target token of
     patch j from global patch j-1, so the last token of a patch reads that patch. The peer lets an *input*
     token of patch j read patch j-1, and patch 0 reads a learned vector `g_bos` the lab does not have (it is
     left at zero here).
  2. Patches. The peer has static patches of p over every token (T a multiple of p); the lab's come with the
     batch (text tokens and BOS are patches of 1, speech static / aligned / entropy patches).
  3. Documents. The lab's attention restarts after EOS (docReset); the peer's does not.
  4. The lab's options `lst.pooling = 'max'` and `lst.textPath = 'global'` have no peer counterpart.
The peer's forward therefore gives the lab's loss exactly only on a batch that has static patches of p, the
peer's shift (the lab batch's targetPatchIds = patchIds), patch 0's targets ignored, no EOS, and rows that
share their first patch, with g_bos set to that patch's global output (scripts/interop/check_model.py does
this); `lab_logits` gives the lab's logits on any lab batch, with the peer's modules and weights.
"""

import json
import math
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[2]
PEER_REL = Path("shared") / "peers" / "torch_lm_bench.py"


def peer_path():
    """../shared/peers/torch_lm_bench.py, looked up from the repo's parent upwards ($LST_PEER_LM overrides)."""
    if os.environ.get("LST_PEER_LM"):
        return Path(os.environ["LST_PEER_LM"])
    for up in REPO.parents:
        if (up / PEER_REL).is_file():
            return up / PEER_REL
    raise FileNotFoundError(f"the PyTorch reference ../{PEER_REL} was not found above {REPO.name}/: "
                            "set LST_PEER_LM to the path of torch_lm_bench.py")


def peer():
    """The reference module (imported once)."""
    if "torch_lm_bench" not in sys.modules:
        import importlib.util
        spec = importlib.util.spec_from_file_location("torch_lm_bench", peer_path())
        mod = importlib.util.module_from_spec(spec)
        sys.modules["torch_lm_bench"] = mod
        spec.loader.exec_module(mod)
    return sys.modules["torch_lm_bench"]


def read_export(directory):
    """(tensors by lab name, the lab's ModelConfig dict) of an export or run dir."""
    d = Path(directory)
    tensors = load_file(str(d / "model.safetensors"))
    cfg = json.loads((d / "config.json").read_text())
    return tensors, cfg.get("model", cfg)


def ffn(cfg_ffn, d):
    return cfg_ffn if cfg_ffn > 0 else peer().ffn_hidden(d)


def _block_map(lab, torch_prefix):
    return {f"{lab}.attnNorm.gain": (f"{torch_prefix}.n1.weight", False),
            f"{lab}.attn.wqkv": (f"{torch_prefix}.attn.qkv.weight", True),
            f"{lab}.attn.wo": (f"{torch_prefix}.attn.o.weight", True),
            f"{lab}.mlpNorm.gain": (f"{torch_prefix}.n2.weight", False),
            f"{lab}.mlp.w13": (f"{torch_prefix}.mlp.w13.weight", True),
            f"{lab}.mlp.w2": (f"{torch_prefix}.mlp.w2.weight", True)}


def _xattn_map(lab, torch_prefix):
    return {f"{lab}.qNorm.gain": (f"{torch_prefix}.nq.weight", False),
            f"{lab}.kvNorm.gain": (f"{torch_prefix}.nkv.weight", False),
            f"{lab}.wq": (f"{torch_prefix}.q.weight", True),
            f"{lab}.wkv": (f"{torch_prefix}.kv.weight", True),
            f"{lab}.wo": (f"{torch_prefix}.o.weight", True)}


def name_map(cfg):
    """lab name -> (peer state_dict name, transpose?) for a lab ModelConfig."""
    m = {}
    if cfg["kind"] == "baseline":
        m["embed.tokens"] = ("emb.weight", False)
        for i in range(cfg["nLayers"]):
            m.update(_block_map(f"global.layers.{i}", f"blocks.{i}"))
        m["global.norm.gain"] = ("norm.weight", False)
        m["head.weight"] = ("head.weight", True)
        return m
    lst = cfg["lst"]
    if lst["textPath"] != "local" or lst["pooling"] != "avg":
        raise ValueError(f"lst.textPath '{lst['textPath']}' / lst.pooling '{lst['pooling']}': the peer's LSTLM has "
                         "text through the encoder and average pooling only; export a model with textPath 'local', pooling 'avg'")
    m["encoder.embed.tokens"] = ("emb.weight", False)
    for i in range(lst["encoderLayers"]):
        m.update(_block_map(f"encoder.layers.{i}", f"enc.{i}"))
    m["encoder.poolProj"] = ("pool_proj.weight", True)
    m.update(_xattn_map("encoder.crossAttn", "enc_xattn"))
    if lst["dLocal"] * lst["crossAttnK"] != cfg["dModel"]:
        m["encoder.toGlobal"] = ("to_global.weight", True)
    for i in range(cfg["nLayers"]):
        m.update(_block_map(f"global.layers.{i}", f"glob.{i}"))
    m["global.norm.gain"] = ("gnorm.weight", False)
    m["decoder.kvProj"] = ("dec_kv_proj.weight", True)
    for i in range(lst["decoderLayers"]):
        m.update(_xattn_map(f"decoder.crossAttn.{i}", f"dec_xattn.{i}"))
        m.update(_block_map(f"decoder.layers.{i}", f"dec.{i}"))
    m["decoder.norm.gain"] = ("norm.weight", False)
    m["decoder.head"] = ("head.weight", True)
    return m


def build_peer(cfg, seq_len=None, patch=1):
    """An untrained peer model shaped like the lab config (seq_len defaults to maxSeqLen; LST static patch p)."""
    P = peer()
    T = seq_len or cfg["maxSeqLen"]
    if cfg["kind"] == "baseline":
        return P.BaseLM(cfg["vocabSize"], cfg["dModel"], cfg["nLayers"], cfg["nHeads"], T,
                        ffn(cfg["ffnDim"], cfg["dModel"]), cfg["ropeTheta"])
    lst = cfg["lst"]
    W = lst["localWindow"] if 0 < lst["localWindow"] < T and T % lst["localWindow"] == 0 else 0
    if 0 < lst["localWindow"] < T and W == 0:
        raise ValueError(f"the peer's windowed attention needs seq_len {T} to be a multiple of lst.localWindow {lst['localWindow']}")
    return P.LSTLM(cfg["vocabSize"], T, patch, lst["dLocal"], lst["nHeadsLocal"], ffn(lst["ffnDimLocal"], lst["dLocal"]), W,
                   lst["encoderLayers"], lst["decoderLayers"], cfg["dModel"], cfg["nLayers"], cfg["nHeads"],
                   ffn(cfg["ffnDim"], cfg["dModel"]), lst["crossAttnK"], cfg["ropeTheta"])


def load(directory, seq_len=None, patch=1):
    """(peer model with the lab's weights, lab config). Unmapped or missing names raise, naming them."""
    tensors, cfg = read_export(directory)
    model = build_peer(cfg, seq_len, patch)
    mapping = name_map(cfg)
    extra = sorted(set(tensors) - set(mapping))
    missing = sorted(set(mapping) - set(tensors))
    if extra or missing:
        raise KeyError(f"lab names without a peer parameter: {extra}; mapped names missing from the file: {missing}")
    state = {mapping[k][0]: (v.t().contiguous() if mapping[k][1] else v) for k, v in tensors.items()}
    own = model.state_dict()
    for k, v in state.items():
        if k in own and own[k].shape != v.shape:
            raise ValueError(f"{k}: the lab tensor is {tuple(v.shape)} after mapping, the peer expects {tuple(own[k].shape)}")
    if cfg["kind"] == "lst":
        state["g_bos"] = torch.zeros(cfg["dModel"])  # the peer's learned BOS patch; the lab has none (difference 1)
    model.load_state_dict(state, strict=True)
    return model.eval(), cfg


# ----------------------------------------------------------------------------------------------------------
# the lab's forward with the peer's modules (lib/model/baseline.ts, lst.ts, masks.ts)
# ----------------------------------------------------------------------------------------------------------

EOS = 2


def causal_mask(ends, window):
    """[B,1,n,n] bool: query i sees key j iff docStart(i) <= j <= i and i - j < window (0: no limit); ends [B,n]
    flags the positions after which a new document starts (None: one document)."""
    B, n = ends.shape
    i = torch.arange(n).view(n, 1)
    j = torch.arange(n).view(1, n)
    ok = (j <= i).unsqueeze(0).expand(B, n, n).clone()
    if 0 < window < n:
        ok &= (i - j < window).unsqueeze(0)
    if ends is not None:
        doc = torch.cumsum(torch.cat([torch.zeros(B, 1, dtype=torch.long), ends[:, :-1].long()], 1), 1)  # [B,n]
        ok &= doc.unsqueeze(2) == doc.unsqueeze(1)
    return ok.unsqueeze(1)


def attn_masked(sa, x, mask, theta):
    """The peer's SelfAttention `sa` with an explicit boolean mask [B|1,1,n,n]."""
    B, n, d = x.shape
    q, k, v = sa.qkv(x).view(B, n, 3, sa.h, sa.dh).permute(2, 0, 3, 1, 4)  # [B,H,n,dh] each
    rope = peer().Rope(sa.dh, n, theta)
    y = F.scaled_dot_product_attention(rope(q), rope(k), v, attn_mask=mask)
    return sa.o(y.transpose(1, 2).reshape(B, n, d))


def block_masked(blk, x, mask, theta):
    x = x + attn_masked(blk.attn, blk.n1(x), mask, theta)
    return x + blk.mlp(blk.n2(x))


def xattn_masked(xa, q_in, kv_in, key_ok=None):
    """The peer's CrossAttention with key_ok [G,nk] bool (None: every key)."""
    G, nq, d = q_in.shape
    nk = kv_in.shape[1]
    q = xa.q(xa.nq(q_in)).view(G, nq, xa.h, xa.dh).transpose(1, 2)
    k, v = xa.kv(xa.nkv(kv_in)).view(G, nk, 2, xa.h, xa.dh).permute(2, 0, 3, 1, 4)
    mask = None if key_ok is None else key_ok.view(G, 1, 1, nk)
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return xa.o(y.transpose(1, 2).reshape(G, nq, d))


@torch.no_grad()
def lab_logits(model, cfg, ids, patch_ids=None, target_patch_ids=None):
    """The lab's logits [B,T,V] for input ids [B,T] (and, for LST, the batch's patchIds / targetPatchIds [B,T],
    -1 for padding), exactly as lib/model computes them."""
    theta, reset = cfg["ropeTheta"], cfg["docReset"]
    ends = (ids == EOS) if reset else torch.zeros_like(ids, dtype=torch.bool)
    B, T = ids.shape
    if cfg["kind"] == "baseline":
        h = model.emb(ids)
        mask = causal_mask(ends, cfg["slidingWindow"])
        for blk in model.blocks:
            h = block_masked(blk, h, mask, theta)
        return model.head(model.norm(h))
    lst = cfg["lst"]
    dl, k = lst["dLocal"], lst["crossAttnK"]
    P = int(patch_ids.max()) + 1
    # patch layout (lst.ts lstBatchLayout / patchSpans): start and length of every patch of every row
    length = torch.zeros(B, P, dtype=torch.long)
    start = torch.zeros(B, P, dtype=torch.long)
    patch_end = torch.zeros(B, P, dtype=torch.bool)
    for b in range(B):
        for t in range(T):
            p = int(patch_ids[b, t])
            if p < 0:
                continue
            if length[b, p] == 0:
                start[b, p] = t
            length[b, p] += 1
            patch_end[b, p] = bool(ids[b, t] == EOS)
    lmax = max(1, int(length.max()))
    slot = torch.arange(lmax).view(1, 1, lmax)
    idx = start.unsqueeze(2) + torch.minimum(slot, (length - 1).clamp(min=0).unsqueeze(2))  # [B,P,lmax] token index
    valid = slot < length.clamp(min=1).unsqueeze(2)                                       # [B,P,lmax]
    local_mask = causal_mask(ends, lst["localWindow"])
    h = model.emb(ids)
    for blk in model.enc:
        h = block_masked(blk, h, local_mask, theta)
    span = torch.gather(h, 1, idx.view(B, P * lmax, 1).expand(B, P * lmax, dl)).view(B, P, lmax, dl)
    pooled = (span * valid.unsqueeze(3)).sum(2) / valid.sum(2, keepdim=True)             # [B,P,dl]
    q0 = model.pool_proj(pooled).view(B * P, k, dl)
    z = q0 + xattn_masked(model.enc_xattn, q0, span.view(B * P, lmax, dl), valid.view(B * P, lmax))
    z = z.reshape(B, P, k * dl)
    if model.to_global is not None:
        z = model.to_global(z)
    gmask = causal_mask(patch_end if reset else torch.zeros_like(patch_end), cfg["slidingWindow"])
    for blk in model.glob:
        z = block_masked(blk, z, gmask, theta)
    kv = model.dec_kv_proj(model.gnorm(z)).view(B, P, k, dl)
    read = (target_patch_ids - 1).clamp(min=0)                                            # [B,T], the lab's shift
    keys = torch.gather(kv, 1, read.view(B, T, 1, 1).expand(B, T, k, dl)).view(B * T, k, dl)
    y = h
    for xa, blk in zip(model.dec_xattn, model.dec):
        y = y + xa(y.reshape(B * T, 1, dl), keys).view(B, T, dl)
        y = block_masked(blk, y, local_mask, theta)
    return model.head(model.norm(y))


def mean_nll(logits, targets):
    """Mean next-token NLL over targets != -1, and the per-position NLL (0 where ignored)."""
    V = logits.shape[-1]
    nll = F.cross_entropy(logits.reshape(-1, V).double(), targets.reshape(-1).clamp(min=0), reduction="none")
    keep = (targets.reshape(-1) >= 0).double()
    nll = nll * keep
    return float(nll.sum() / keep.sum()), nll.view(targets.shape)
