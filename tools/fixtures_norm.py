"""Normalisation fixtures: F.batch_norm in eval mode (with random running statistics),
conv2d followed by batch norm (for folding the norm into the conv), F.layer_norm and
F.instance_norm."""
import torch
import torch.nn.functional as F

from fixtures import nhwc

ACTS = {"none": lambda x: x, "relu": F.relu, "relu6": F.relu6}


def bn_stats(c):
    return {
        "weight": torch.randn(c) * 0.5 + 1,
        "bias": torch.randn(c) * 0.5,
        "running_mean": torch.randn(c) * 0.5,
        "running_var": torch.rand(c) * 2 + 0.1,
    }


def batch_norm_cases():
    for c, act, eps, affine in [(1, "none", 1e-5, True), (3, "relu", 1e-5, True), (7, "relu6", 1e-3, True),
                                (17, "none", 1e-5, False), (33, "relu", 1e-5, True)]:
        x = torch.randn(2, c, 5, 6) * 2
        bn = bn_stats(c)
        weight, bias = (bn["weight"], bn["bias"]) if affine else (None, None)
        y = ACTS[act](F.batch_norm(x, bn["running_mean"], bn["running_var"], weight, bias, training=False, eps=eps))
        tensors = {"x": nhwc(x), "running_mean": bn["running_mean"], "running_var": bn["running_var"], "y": nhwc(y)}
        if affine:
            tensors.update(weight=weight, bias=bias)
        params = {"eps": eps, "activation": act, "affine": affine}
        yield f"batchnorm_c{c}_{act}{'' if affine else '_noaffine'}", "batchnorm", params, tensors


def conv_bn_cases():
    # name, in channels, out channels, groups, kernel, stride, padding, conv bias, activation
    for name, cin, oc, groups, k, s, p, has_bias, act in [
        ("c3_oc17_k3s2p1", 3, 17, 1, 3, 2, 1, True, "relu"),
        ("c7_oc33_k1", 7, 33, 1, 1, 1, 0, False, "none"),
        ("dw_c17_k3s1p1", 17, 17, 17, 3, 1, 1, False, "relu6"),
    ]:
        x = torch.randn(1, cin, 9, 8)
        weight = torch.randn(oc, cin // groups, k, k) / (cin // groups * k * k) ** 0.5
        conv_bias = torch.randn(oc) * 0.5 if has_bias else None
        bn = bn_stats(oc)
        eps = 1e-5
        z = F.conv2d(x, weight, conv_bias, s, p, groups=groups)
        y = ACTS[act](F.batch_norm(z, bn["running_mean"], bn["running_var"], bn["weight"], bn["bias"], False, eps=eps))
        tensors = {"x": nhwc(x), "conv_weight": weight, **bn, "y": nhwc(y)}
        if has_bias:
            tensors["conv_bias"] = conv_bias
        params = {"groups": groups, "stride": s, "padding": p, "eps": eps, "activation": act, "conv_bias": has_bias}
        yield f"conv_bn_{name}", "conv_bn", params, tensors


def layer_norm_cases():
    for c, lead, affine, eps in [(1, (3,), "both", 1e-5), (7, (2, 5), "both", 1e-5), (7, (4,), "none", 1e-5),
                                 (33, (3, 2), "weight", 1e-6), (33, (6,), "both", 1e-5), (512, (4,), "both", 1e-5),
                                 (512, (2, 3), "none", 1e-12)]:
        # Offset inputs: the statistics must not lose precision to a large mean.
        x = torch.randn(*lead, c) * 2 + 3
        weight = torch.randn(c) * 0.5 + 1 if affine in ("both", "weight") else None
        bias = torch.randn(c) * 0.5 if affine == "both" else None
        y = F.layer_norm(x, (c,), weight, bias, eps)
        tensors = {"x": x, "y": y}
        if weight is not None:
            tensors["weight"] = weight
        if bias is not None:
            tensors["bias"] = bias
        params = {"eps": eps, "weight": weight is not None, "bias": bias is not None}
        yield f"layernorm_c{c}_{'x'.join(map(str, lead))}_{affine}", "layernorm", params, tensors


def instance_norm_cases():
    for c, hw, affine, eps in [(1, (5, 6), True, 1e-5), (3, (4, 4), False, 1e-5), (7, (3, 9), True, 1e-3),
                               (17, (6, 5), True, 1e-5), (33, (4, 3), False, 1e-5)]:
        x = torch.randn(2, c, *hw) * 1.5 - 4
        weight = torch.randn(c) * 0.5 + 1 if affine else None
        bias = torch.randn(c) * 0.5 if affine else None
        y = F.instance_norm(x, weight=weight, bias=bias, eps=eps)
        tensors = {"x": nhwc(x), "y": nhwc(y)}
        if affine:
            tensors.update(weight=weight, bias=bias)
        params = {"eps": eps, "weight": affine, "bias": affine}
        yield f"instancenorm_c{c}_{hw[0]}x{hw[1]}{'_affine' if affine else ''}", "instancenorm", params, tensors


def cases():
    yield from batch_norm_cases()
    yield from conv_bn_cases()
    yield from layer_norm_cases()
    yield from instance_norm_cases()
