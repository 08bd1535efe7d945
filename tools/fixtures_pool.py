"""Pooling and upsampling fixtures: F.max_pool2d (with return_indices), F.avg_pool2d,
adaptive_avg_pool2d(x, 1), F.max_unpool2d and F.interpolate (nearest, bilinear)."""
import torch
import torch.nn.functional as F

from fixtures import nhwc


def pair(v):
    return list(v) if isinstance(v, tuple) else [v, v]


def pool_params(k, s, p, d=1, ceil=False):
    return {"kernel": pair(k), "stride": pair(s), "padding": pair(p), "dilation": pair(d), "ceil_mode": ceil}


def max_pool_cases():
    # name, (N, C, H, W), kernel, stride, padding, dilation, ceil_mode, input kind
    for name, shape, k, s, p, d, ceil, kind in [
        ("c1_k2s2", (1, 1, 8, 8), 2, 2, 0, 1, False, "randn"),
        ("c3_k3s2p1", (2, 3, 9, 11), 3, 2, 1, 1, False, "randn"),
        ("c7_k3s2_ceil", (1, 7, 10, 10), 3, 2, 0, 1, True, "randn"),
        # ceil mode where the last window would start in the right padding: PyTorch drops it
        ("c17_k3s3p1_ceil_drop", (1, 17, 5, 8), 3, 3, 1, 1, True, "randn"),
        ("c33_k3s1p1_d2", (1, 33, 9, 9), 3, 1, 1, 2, False, "randn"),
        ("c3_k2x3_d64x2", (1, 3, 70, 9), (2, 3), (1, 2), (1, 1), (64, 2), False, "randn"),
        ("c5_k3x2_s2x1_p1x0_ceil", (2, 5, 7, 6), (3, 2), (2, 1), (1, 0), 1, True, "randn"),
        ("c7_ties", (1, 7, 9, 9), 3, 2, 1, 1, False, "ties"),
        ("c5_nan", (1, 5, 8, 8), 3, 2, 1, 1, False, "nan"),
        ("c17_k2s2_d2_nan_ties", (1, 17, 9, 10), 2, 2, 1, 2, True, "nan_ties"),
    ]:
        x = torch.randn(*shape)
        if "ties" in kind:
            x = torch.randint(-2, 3, shape).float()
        if "nan" in kind:
            x[torch.rand(*shape) < 0.1] = float("nan")
        y, idx = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
        yield f"maxpool_{name}", "maxpool2d", pool_params(k, s, p, d, ceil), {
            "x": nhwc(x), "y": nhwc(y), "indices": nhwc(idx).int()}


def avg_pool_cases():
    for name, shape, k, s, p, ceil in [
        ("c1_k2s2", (1, 1, 8, 8), 2, 2, 0, False),
        ("c3_k3s2p1", (2, 3, 9, 11), 3, 2, 1, False),
        # ceil mode with padding: the last window is cut at H + p, shrinking its divisor
        ("c7_k3s2p1_ceil", (1, 7, 10, 9), 3, 2, 1, True),
        # ceil mode without padding: a window hanging past the input
        ("c17_k2s2_ceil", (1, 17, 7, 7), 2, 2, 0, True),
        ("c33_k3s1p1", (1, 33, 6, 6), 3, 1, 1, False),
        ("c5_k3x2_s2x1_p1", (2, 5, 7, 6), (3, 2), (2, 1), 1, True),
    ]:
        x = torch.randn(*shape)
        for cip in (True, False):
            y = F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=cip)
            params = {**pool_params(k, s, p, 1, ceil), "count_include_pad": cip}
            yield f"avgpool_{name}_{'incl' if cip else 'excl'}", "avgpool2d", params, {"x": nhwc(x), "y": nhwc(y)}


def global_avg_pool_cases():
    for shape in [(1, 33, 7, 7), (2, 1, 3, 3), (1, 17, 5, 4), (2, 3, 1, 1), (1, 64, 7, 7)]:
        x = torch.randn(*shape)
        y = F.adaptive_avg_pool2d(x, 1).flatten(1)
        yield f"global_avgpool_{'x'.join(map(str, shape))}", "global_avgpool", {}, {"x": nhwc(x), "y": y}


def max_unpool_cases():
    # name, (N, C, H, W) of the pooled input, kernel, stride, padding, output_size
    for name, shape, k, s, p, out in [
        ("c3_k2s2", (1, 3, 8, 8), 2, 2, 0, None),
        ("c7_k3s2p1", (2, 7, 9, 9), 3, 2, 1, None),
        ("c1_k2s2_size9", (1, 1, 9, 9), 2, 2, 0, [9, 9]),
        ("c17_k3s3", (1, 17, 9, 6), 3, 3, 0, None),
    ]:
        pooled, idx = F.max_pool2d(torch.randn(*shape), k, s, p, return_indices=True)
        y = F.max_unpool2d(pooled, idx, k, s, p, output_size=out)
        params = {"kernel": pair(k), "stride": pair(s), "padding": pair(p), "output_size": out}
        yield f"maxunpool_{name}", "maxunpool2d", params, {"x": nhwc(pooled), "indices": nhwc(idx).int(), "y": nhwc(y)}


def interpolate_cases():
    sizes = [  # name, (N, C, H, W), size or None, scale_factor or None
        ("c3_7to10", (1, 3, 7, 7), [10, 10], None),
        ("c7_10to7", (1, 7, 10, 10), [7, 7], None),
        ("c1_5to10", (2, 1, 5, 5), [10, 10], None),
        ("c17_same", (1, 17, 6, 6), [6, 6], None),
        ("c33_4x6to9x4", (1, 33, 4, 6), [9, 4], None),
        ("c5_3to1", (1, 5, 3, 3), [1, 1], None),
        ("c3_1to4", (1, 3, 1, 1), [4, 4], None),
        ("c3_sf2", (1, 3, 5, 4), None, [2.0, 2.0]),
        ("c7_sf1.5", (1, 7, 7, 7), None, [1.5, 1.5]),
        ("c17_sf0.7", (1, 17, 10, 10), None, [0.7, 0.7]),
        ("c1_sf2.5x1.3", (2, 1, 6, 7), None, [2.5, 1.3]),
        ("c7_sf1.05", (1, 7, 10, 10), None, [1.05, 1.05]),
    ]
    for name, shape, size, sf in sizes:
        x = torch.randn(*shape)
        params = {"size": size, "scale_factor": sf}
        y = F.interpolate(x, size=size, scale_factor=sf, mode="nearest")
        yield f"nearest_{name}", "upsample_nearest", params, {"x": nhwc(x), "y": nhwc(y)}
        for align in (False, True):
            y = F.interpolate(x, size=size, scale_factor=sf, mode="bilinear", align_corners=align)
            yield (f"bilinear_{name}{'_align' if align else ''}", "upsample_bilinear", {**params, "align_corners": align},
                   {"x": nhwc(x), "y": nhwc(y)})


def cases():
    yield from max_pool_cases()
    yield from avg_pool_cases()
    yield from global_avg_pool_cases()
    yield from max_unpool_cases()
    yield from interpolate_cases()
