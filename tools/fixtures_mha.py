#!/usr/bin/env python3
"""Parity fixtures for src/nn/attention.ts's multiHeadSelfAttention: PyTorch's
own nn.MultiheadAttention (batch_first, eval) on seeded weights and inputs,
written to test/fixtures/mha.safetensors. Per case NAME: the module's state
dict under NAME.* (in_proj_weight, in_proj_bias, out_proj.weight,
out_proj.bias), NAME.x [B, T, d] and NAME.y; metadata "cases" (JSON: name,
heads, causal). Causal cases pass PyTorch a float mask of −inf above the
diagonal.

    /usr/bin/python3 tools/fixtures_mha.py
"""
import json
import os

import torch

from safetensors_io import save

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "mha.safetensors")
CASES = [("d48_h6_b2_t7", 48, 6, 2, 7, False), ("d32_h4_t9_causal", 32, 4, 1, 9, True), ("d8_h1_b3_t1", 8, 1, 3, 1, False),
         ("d64_h8_t33_causal", 64, 8, 1, 33, True)]


def main():
    torch.manual_seed(20261128)
    torch.set_grad_enabled(False)
    tensors, meta = {}, []
    for name, d, heads, B, T, causal in CASES:
        mha = torch.nn.MultiheadAttention(d, heads, batch_first=True).eval()
        with torch.no_grad():  # a non-zero bias, unlike the default initialisation
            mha.in_proj_bias.uniform_(-0.5, 0.5)
            mha.out_proj.bias.uniform_(-0.5, 0.5)
        x = torch.randn(B, T, d)
        mask = torch.triu(torch.full((T, T), float("-inf")), 1) if causal else None
        y, _ = mha(x, x, x, attn_mask=mask, need_weights=False)
        for k, v in mha.state_dict().items():
            tensors[f"{name}.{k}"] = v.contiguous()
        tensors[f"{name}.x"], tensors[f"{name}.y"] = x, y.contiguous()
        meta.append({"name": name, "heads": heads, "causal": causal})
    save(OUT, tensors, {"cases": json.dumps(meta)})
    print(f"{len(CASES)} cases -> {OUT} ({os.path.getsize(OUT) // 1024} KB)")


if __name__ == "__main__":
    main()
