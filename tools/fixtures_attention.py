"""Attention fixtures: scaled dot-product attention softmax(scale·q·kᵀ + masks)·v.

torch 1.13 has no F.scaled_dot_product_attention (it came in 2.0), so the
reference is the plain math in float64, cast to f32 when written. One case
is also checked against F.multi_head_attention_forward with identity
projections, an independent PyTorch path, before anything is written.

q [B, H, Tq, D], k [B, H, Tk, D], v [B, H, Tk, Dv] and y [B, H, Tq, Dv] are
stored as is (the kernel's layout is PyTorch's); key_padding_mask [B, Tk] as
int32, 1 = padding. causal is bottom-right aligned: query i sees keys
j <= i + Tk - Tq (PyTorch's is_causal when Tq == Tk; the KV-cache shape when
Tq < Tk). No case hides every key from a query: PyTorch gives NaN there and
hibiki zeros, which the TypeScript tests check by hand.
"""
import torch
import torch.nn.functional as F


def hidden_keys(B, Tq, Tk, causal, key_padding_mask):
    """Bool [B, 1, Tq, Tk], True where a query may not see a key."""
    hidden = torch.zeros(B, 1, Tq, Tk, dtype=torch.bool)
    if causal:
        i = torch.arange(Tq).unsqueeze(1)
        j = torch.arange(Tk).unsqueeze(0)
        hidden |= (j > i + Tk - Tq).view(1, 1, Tq, Tk)
    if key_padding_mask is not None:
        hidden |= key_padding_mask.bool().view(B, 1, 1, Tk)
    return hidden


def attention(q, k, v, scale, causal, key_padding_mask):
    B, _, Tq, _ = q.shape
    Tk = k.shape[2]
    scores = q.double() @ k.double().transpose(-1, -2) * scale
    scores = scores.masked_fill(hidden_keys(B, Tq, Tk, causal, key_padding_mask), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v.double()


def padding_mask(Tk, lengths):
    """[B, Tk] int32: keys at or past each item's length are padding."""
    return (torch.arange(Tk).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)).to(torch.int32)


def check_against_mha(q, k, v, causal, key_padding_mask):
    """The same attention through F.multi_head_attention_forward (identity projections, float64)."""
    B, H, Tq, D = q.shape
    Tk = k.shape[2]
    E = H * D
    # MHA takes [T, B, E] with the heads side by side in E.
    to_tbe = lambda t: t.double().permute(2, 0, 1, 3).reshape(t.shape[2], B, E)
    eye, zeros = torch.eye(E, dtype=torch.float64), torch.zeros(3 * E, dtype=torch.float64)
    attn_mask = hidden_keys(1, Tq, Tk, causal, None).view(Tq, Tk) if causal else None
    out, _ = F.multi_head_attention_forward(
        to_tbe(q), to_tbe(k), to_tbe(v), E, H, None, zeros, None, None, False, 0.0, eye, zeros[:E],
        training=False, key_padding_mask=key_padding_mask.bool() if key_padding_mask is not None else None,
        need_weights=False, attn_mask=attn_mask, use_separate_proj_weight=True,
        q_proj_weight=eye, k_proj_weight=eye, v_proj_weight=eye)
    ours = attention(q, k, v, D ** -0.5, causal, key_padding_mask)
    mha = out.reshape(Tq, B, H, D).permute(1, 2, 0, 3)
    err = (mha - ours).abs().max().item()
    assert err < 1e-12, f"plain attention and F.multi_head_attention_forward differ by {err}"


# name, B, H, Tq, Tk, D, Dv, causal, key lengths per batch item (None: no mask), scale (None: 1/sqrt(D))
CASES = [
    ("d1", 1, 1, 5, 7, 1, 1, False, None, None),
    ("d3_h2", 1, 2, 4, 9, 3, 3, False, None, None),
    ("d7_square", 1, 1, 7, 7, 7, 7, False, None, None),
    ("d17_h8_tq_gt_tk", 1, 8, 17, 11, 17, 17, False, None, None),
    ("d33_tq3", 1, 1, 3, 33, 33, 33, False, None, None),
    ("d64_h8", 1, 8, 20, 24, 64, 64, False, None, None),
    ("dv19_d8", 1, 2, 6, 10, 8, 19, False, None, None),
    ("dv5_d17_rows18", 1, 3, 18, 13, 17, 5, False, None, None),
    ("scale0.3", 1, 2, 5, 6, 4, 4, False, None, 0.3),
    ("pad_b2", 2, 2, 9, 12, 16, 16, False, [12, 5], None),
    ("pad_b2_rows20_h8", 2, 8, 20, 20, 8, 8, False, [13, 20], None),
    ("pad_b3_d3", 3, 1, 4, 7, 3, 3, False, [1, 7, 4], None),
    ("causal_t10", 1, 2, 10, 10, 8, 8, True, None, None),
    ("causal_t33_d16", 1, 1, 33, 33, 16, 16, True, None, None),
    ("causal_kv_tq1_tk20", 1, 8, 1, 20, 16, 16, True, None, None),
    ("causal_kv_tq3_tk20", 1, 8, 3, 20, 16, 16, True, None, None),
    ("causal_kv_tq17_tk20_d7", 1, 2, 17, 20, 7, 12, True, None, None),
    ("causal_pad_b2_t18", 2, 2, 18, 18, 8, 8, True, [18, 11], None),
]


def cases():
    for name, B, H, Tq, Tk, D, Dv, causal, lengths, scale in CASES:
        q = torch.randn(B, H, Tq, D)
        k = torch.randn(B, H, Tk, D)
        v = torch.randn(B, H, Tk, Dv)
        mask = padding_mask(Tk, lengths) if lengths else None
        if name == "causal_pad_b2_t18":
            check_against_mha(q, k, v, causal, mask)
        y = attention(q, k, v, scale if scale is not None else D ** -0.5, causal, mask)
        tensors = {"q": q, "k": k, "v": v, "y": y}
        if mask is not None:
            tensors["key_padding_mask"] = mask
        yield name, "scaled_dot_product_attention", {"causal": causal, "scale": scale, "masked": mask is not None}, tensors
