"""Convolution fixtures: F.conv2d (groups 1, a few, one per channel), depthwise
F.conv2d (groups = C), F.conv_transpose2d and dilated causal F.conv1d.

Activations go in channels-last (x [N, H, W, C], sequences [N, T, C]);
weights stay in PyTorch's layout (conv2d [OC, C/groups, KH, KW], depthwise
[C, 1, KH, KW], transposed [C_in, OC, KH, KW], conv1d [OC, C, K]), which
hibiki's pack*Weight functions convert. Spatial sizes stay ≤ 16 so the file
stays small.
"""
import torch
import torch.nn.functional as F

from fixtures import nhwc

ACTS = {"none": lambda x: x, "relu": F.relu, "relu6": F.relu6, "gelu": F.gelu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def pair(v):
    return list(v) if isinstance(v, tuple) else [v, v]


def conv2d_case(name, n, c, oc, hw, k, stride=1, padding=0, dilation=1, groups=1, act="none", op="conv2d"):
    h, w = pair(hw)
    kh, kw = pair(k)
    x = torch.randn(n, c, h, w)
    weight = torch.randn(oc, c // groups, kh, kw) / (c // groups * kh * kw) ** 0.5
    bias = torch.randn(oc)
    y = ACTS[act](F.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups))
    params = {"stride": pair(stride), "padding": pair(padding), "dilation": pair(dilation), "groups": groups, "activation": act}
    return name, op, params, {"x": nhwc(x), "weight": weight, "bias": bias, "y": nhwc(y)}


def depthwise_case(name, n, c, hw, k, **kw):
    return conv2d_case(name, n, c, c, hw, k, groups=c, op="depthwise_conv2d", **kw)


def conv_transpose2d_case(name, n, c, oc, hw, k, stride=1, padding=0, output_padding=0, dilation=1, act="none"):
    h, w = pair(hw)
    kh, kw = pair(k)
    x = torch.randn(n, c, h, w)
    weight = torch.randn(c, oc, kh, kw) / (c * kh * kw) ** 0.5
    bias = torch.randn(oc)
    y = ACTS[act](F.conv_transpose2d(x, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
                                     dilation=dilation))
    params = {"stride": pair(stride), "padding": pair(padding), "outputPadding": pair(output_padding),
              "dilation": pair(dilation), "activation": act}
    return name, "conv_transpose2d", params, {"x": nhwc(x), "weight": weight, "bias": bias, "y": nhwc(y)}


def causal_conv1d_case(name, n, c, oc, t, k, dilation, act="none"):
    x = torch.randn(n, c, t)
    weight = torch.randn(oc, c, k) / (c * k) ** 0.5
    bias = torch.randn(oc)
    y = ACTS[act](F.conv1d(F.pad(x, ((k - 1) * dilation, 0)), weight, bias, dilation=dilation))
    # [N, C, T] -> [N, T, C]
    return name, "causal_conv1d", {"dilation": dilation, "activation": act}, {
        "x": x.transpose(1, 2).contiguous(), "weight": weight, "bias": bias, "y": y.transpose(1, 2).contiguous()}


def cases():
    # conv2d, groups = 1: odd channel counts, kernels 1/2/3/5, strides, paddings, dilations
    yield conv2d_case("conv2d_c1_oc3_k3_s1_p1", 1, 1, 3, 8, 3, padding=1)
    yield conv2d_case("conv2d_c3_oc7_k3_s2_p1_relu", 1, 3, 7, 9, 3, stride=2, padding=1, act="relu")
    yield conv2d_case("conv2d_c7_oc17_k5_p2_gelu", 1, 7, 17, 10, 5, padding=2, act="gelu")
    yield conv2d_case("conv2d_c17_oc33_k1_pointwise_relu6", 2, 17, 33, 7, 1, act="relu6")
    yield conv2d_case("conv2d_c33_oc7_k2_s2", 1, 33, 7, 11, 2, stride=2)
    yield conv2d_case("conv2d_c17_oc3_k3_p2_d2_tanh", 1, 17, 3, 12, 3, padding=2, dilation=2, act="tanh")
    yield conv2d_case("conv2d_c3_oc5_k5x3_s2x1_p2x1_d2x1_n2", 2, 3, 5, (13, 9), (5, 3), stride=(2, 1), padding=(2, 1),
                      dilation=(2, 1))
    yield conv2d_case("conv2d_c7_oc3_k1_s2", 1, 7, 3, 9, 1, stride=2)
    yield conv2d_case("conv2d_c33_oc64_k3_s1_p1_16x16_relu", 1, 33, 64, 16, 3, padding=1, act="relu")
    # grouped
    yield conv2d_case("conv2d_c34_oc14_g2_k3_s2_p1", 1, 34, 14, 10, 3, stride=2, padding=1, groups=2)
    yield conv2d_case("conv2d_c33_oc33_g3_k3_p1_sigmoid", 1, 33, 33, 8, 3, padding=1, groups=3, act="sigmoid")
    yield conv2d_case("conv2d_c6_oc9_g3_k1_pointwise", 2, 6, 9, 5, 1, groups=3)
    # groups = channels through conv2d (channel multiplier 2, so not the depthwise op)
    yield conv2d_case("conv2d_c17_oc34_g17_k3_p1", 1, 17, 34, 9, 3, padding=1, groups=17)
    yield conv2d_case("conv2d_c7_oc7_g7_k5_s2_p2_d2", 1, 7, 7, 16, 5, stride=2, padding=2, dilation=2, groups=7)

    # depthwise (groups = C, weight [C, 1, KH, KW])
    yield depthwise_case("dw_c1_k3_p1", 1, 1, 8, 3, padding=1)
    yield depthwise_case("dw_c3_k3_s2_p1_relu6", 1, 3, 9, 3, stride=2, padding=1, act="relu6")
    yield depthwise_case("dw_c7_k3_p0", 1, 7, 8, 3)
    yield depthwise_case("dw_c17_k3_p1_relu6_16x16", 1, 17, 16, 3, padding=1, act="relu6")
    yield depthwise_case("dw_c33_k5_s2_p2", 1, 33, 11, 5, stride=2, padding=2)
    yield depthwise_case("dw_c33_k3_p2_d2_gelu", 1, 33, 10, 3, padding=2, dilation=2, act="gelu")
    yield depthwise_case("dw_c8_k3_s2_p1_n2", 2, 8, 15, 3, stride=2, padding=1, act="relu")
    yield depthwise_case("dw_c12_k2_p0_sigmoid", 1, 12, 7, 2, act="sigmoid")
    yield depthwise_case("dw_c16_k3_p1_2x16", 1, 16, (2, 16), 3, padding=1, act="tanh")
    yield depthwise_case("dw_c32_k3_s2_p0x1_13x12", 1, 32, (13, 12), 3, stride=2, padding=(0, 1))

    # transposed
    yield conv_transpose2d_case("convt_c3_oc7_k3_s2_p1_op1", 1, 3, 7, 6, 3, stride=2, padding=1, output_padding=1)
    yield conv_transpose2d_case("convt_c17_oc3_k2_s2", 1, 17, 3, 8, 2, stride=2)
    yield conv_transpose2d_case("convt_c7_oc17_k5_s2_p2_op1_relu", 1, 7, 17, 5, 5, stride=2, padding=2, output_padding=1,
                                act="relu")
    yield conv_transpose2d_case("convt_c33_oc1_k3_p1_d2_sigmoid", 1, 33, 1, 7, 3, padding=1, dilation=2, act="sigmoid")
    yield conv_transpose2d_case("convt_c1_oc33_k1", 1, 1, 33, 4, 1)
    yield conv_transpose2d_case("convt_c17_oc7_k3_s2x1_p1x0_op1x0_n2", 2, 17, 7, (5, 6), 3, stride=(2, 1), padding=(1, 0),
                                output_padding=(1, 0))
    yield conv_transpose2d_case("convt_c7_oc3_k3_s3_d2_op2_tanh", 1, 7, 3, 4, 3, stride=3, dilation=2, output_padding=2,
                                act="tanh")

    # dilated causal conv1d: y[t] sees x[t − (K−1−k)·d]; T > (K−1)·d so the left zeros and the full window both occur
    yield causal_conv1d_case("causal_c1_oc3_k2_d1", 1, 1, 3, 20, 2, 1)
    yield causal_conv1d_case("causal_c3_oc7_k3_d2_tanh", 1, 3, 7, 30, 3, 2, act="tanh")
    yield causal_conv1d_case("causal_c7_oc17_k2_d64", 1, 7, 17, 100, 2, 64)
    yield causal_conv1d_case("causal_c17_oc33_k2_d32", 1, 17, 33, 80, 2, 32)
    yield causal_conv1d_case("causal_c33_oc7_k5_d16_relu", 1, 33, 7, 130, 5, 16, act="relu")
    yield causal_conv1d_case("causal_c32_oc64_k2_d64_n2", 2, 32, 64, 140, 2, 64)
    yield causal_conv1d_case("causal_c17_oc33_k1_sigmoid", 1, 17, 33, 10, 1, 1, act="sigmoid")
    yield causal_conv1d_case("causal_c3_oc5_k3_d64", 1, 3, 5, 200, 3, 64)
