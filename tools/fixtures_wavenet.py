#!/usr/bin/env python3
"""WaveNet parity fixtures: a small random-weights WaveNet (kernel sizes 2
and 3, global conditioning) in test/fixtures/wavenet-k{2,3}/, with
parity.safetensors holding, from PyTorch:
  x, cond, logits      teacher-forced logits [T, classes] for a class sequence
  gen_classes          classes sampled step by step from silence, recomputing
                       the whole causal stack each step (the slow, obviously
                       right way), sampling with hibiki's PRNG and rule
and mu-law cases checked against torchaudio in test/fixtures/mulaw.safetensors.

    /usr/bin/python3 tools/fixtures_wavenet.py
    /usr/bin/python3 tools/fixtures_wavenet.py --trained models/wavenet-piano   # the shipped model's parity
"""
import math
import os
import sys

import torch
import torchaudio

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save, write_model_dir  # noqa: E402
from wavenet_torch import WaveNet, default_config, mulberry32, sample_class, time_since_onset  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures")
GEN_STEPS, SEED, TEMPERATURE = 40, 1234, 0.8


def random_model(name, seed, **overrides):
    """A small WaveNet with seeded random weights, written as a hibiki model directory."""
    torch.manual_seed(seed)
    config = default_config()
    config.update(residual_channels=8, dilation_channels=8, skip_channels=16, **overrides)
    model = WaveNet(config).eval()
    with torch.no_grad():
        for p in model.parameters():  # larger than the default init, so the stack does not wash out
            p.mul_(2.0)
    out = os.path.join(OUT, name)
    write_model_dir(out, config, model.state_dict_for_hibiki(), {"generator": "tools/fixtures_wavenet.py"})
    return model, out


def wavenet_case(kernel):
    model, out = random_model(f"wavenet-k{kernel}", 10 + kernel, kernel_size=kernel, dilation_cycle=[1, 2, 4, 8],
                              stacks=2, global_condition_classes=3, global_condition_labels=["low", "mid", "high"])

    x = torch.randint(0, 256, (300,))
    cond = torch.tensor([1])
    with torch.no_grad():
        logits = model(x[None], cond)[0].T.contiguous()  # (T, classes)
        rng = mulberry32(SEED)
        seq = [128]  # silence
        for _ in range(GEN_STEPS):
            step_logits = model(torch.tensor([seq]), torch.tensor([2]))[0, :, -1]
            seq.append(sample_class(step_logits, TEMPERATURE, rng()))
    save(os.path.join(out, "parity.safetensors"), {
        "x": x.to(torch.int32), "cond": cond.to(torch.int32), "logits": logits,
        "gen_classes": torch.tensor(seq[1:], dtype=torch.int32),
    }, {"gen_condition": "2", "gen_seed": str(SEED), "gen_temperature": str(TEMPERATURE), "torch": torch.__version__})
    print(f"{out}: receptive field {model.receptive_field()}")


def local_case():
    """Global and local conditioning together: features at a quarter of the sample rate."""
    model, out = random_model("wavenet-local", 21, dilation_cycle=[1, 2, 4], stacks=2, global_condition_classes=2,
                              local_condition_channels=5, local_condition_hop=4)
    x = torch.randint(0, 256, (101,))
    local = torch.randn(1, 5, 26)  # (B, C_l, frames): 26 frames × hop 4 ≥ 101 samples
    cond = torch.tensor([1])
    with torch.no_grad():
        logits = model(x[None], cond, local)[0].T.contiguous()
        rng = mulberry32(SEED)
        seq = [128]
        for _ in range(30):
            step_logits = model(torch.tensor([seq]), cond, local)[0, :, -1]
            seq.append(sample_class(step_logits, TEMPERATURE, rng()))
    save(os.path.join(out, "parity.safetensors"), {
        "x": x.to(torch.int32), "cond": cond.to(torch.int32), "local": local[0].T.contiguous(), "logits": logits,
        "gen_classes": torch.tensor(seq[1:], dtype=torch.int32),
    }, {"gen_condition": "1", "gen_seed": str(SEED), "gen_temperature": str(TEMPERATURE), "torch": torch.__version__})
    print(f"{out}: local conditioning")


def mulaw_case():
    torch.manual_seed(3)
    x = torch.cat([torch.linspace(-1, 1, 20001), torch.rand(5000) * 2 - 1, torch.randn(2000) * 1e-3,
                   torch.tensor([0.0, -0.0, 1.0, -1.0, 1e-8, -1e-8, 0.5, -0.5])])
    classes = torchaudio.functional.mu_law_encoding(x, 256)
    decoded = torchaudio.functional.mu_law_decoding(torch.arange(256), 256)
    save(os.path.join(OUT, "mulaw.safetensors"), {"x": x, "classes": classes.to(torch.int32), "decoded": decoded},
         {"torchaudio": torchaudio.__version__})
    print("mulaw: ", x.numel(), "values")


def pitch_prompt(config, midi_pitch):
    """hibiki's pitchPrompt: config.json "pitch_prompt"'s samples of amplitude * sin(2 pi f0 n / rate) at the
    equal-tempered frequency of the pitch, as mu-law classes."""
    prompt = config["pitch_prompt"]
    hz = 440 * 2 ** ((midi_pitch - 69) / 12)
    n = torch.arange(prompt["samples"], dtype=torch.float64)
    wave = prompt["amplitude"] * torch.sin(2 * math.pi * hz * n / config["sample_rate"])
    return torchaudio.functional.mu_law_encoding(wave.float(), config["quantization_channels"])


def trained_case(model_dir):
    """Parity of the shipped model: PyTorch's logits on a real note, and sampled steps as hibiki generates a
    request by default: after the model's pitch prompt, with its min-p. A model with the note clock
    (local_condition_features "time_since_onset") gets it as hibiki computes it when a request brings no
    features: the input starts with the silence before the onset, and every prompt step is on the note's
    first frame."""
    from wavenet_bench import load_model
    model = load_model(model_dir)
    torch.manual_seed(5)
    c = model.config
    # A rendered note as the teacher-forced input: what the model was trained on.
    from train_wavenet import render_notes
    note = render_notes(c["sample_rate"], 0.2)[60]
    x = torchaudio.functional.mu_law_encoding(torch.cat([torch.zeros(1), note[:399]]), 256)
    cond = torch.tensor([60 - 48])
    local = None
    clock = c.get("local_condition_features") == "time_since_onset"
    hop = c.get("local_condition_hop", 1)
    if clock:
        local = time_since_onset(-(-x.numel() // hop), hop, c["sample_rate"])[None]  # (1, 4, frames)
    # hibiki samples with the model's min-p unless a request names another (config.json "min_p").
    min_p = c.get("min_p", 0.0)
    prompt = pitch_prompt(c, 60).tolist() if "pitch_prompt" in c else []
    steps = 150
    gen_local = None
    if clock:
        frames = time_since_onset(-(-steps // hop) + 1, hop, c["sample_rate"])  # (4, frames)
        gen_local = torch.cat([frames[:, :1].repeat(1, len(prompt) // hop), frames], 1)[None]
    with torch.no_grad():
        logits = model(x[None], cond, local)[0].T.contiguous()
        rng = mulberry32(SEED)
        seq = [128] + prompt
        for _ in range(steps):
            inputs = torch.tensor([seq])
            step_local = gen_local[:, :, :-(-len(seq) // hop)] if clock else None
            step_logits = model(inputs, cond, step_local)[0, :, -1]
            seq.append(sample_class(step_logits, TEMPERATURE, rng(), min_p))
    path = os.path.join(OUT, "wavenet-piano-parity.safetensors")
    save(path, {"x": x.to(torch.int32), "cond": cond.to(torch.int32), "logits": logits,
                "gen_classes": torch.tensor(seq[1 + len(prompt):], dtype=torch.int32)},
         {"gen_condition": str(int(cond)), "gen_seed": str(SEED), "gen_temperature": str(TEMPERATURE),
          "gen_min_p": str(min_p), "gen_prompt": str(len(prompt)), "model": model_dir, "torch": torch.__version__})
    print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) > 2 and sys.argv[1] == "--trained":
        trained_case(sys.argv[2])
    else:
        wavenet_case(2)
        wavenet_case(3)
        local_case()
        mulaw_case()
