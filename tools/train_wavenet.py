#!/usr/bin/env python3
"""Trains the WaveNet that ships in models/wavenet-piano: piano notes,
conditioned on pitch, at 8 kHz.

Data: one note per MIDI pitch, rendered by fluidsynth from the FluidR3 GM
soundfont (Debian: fluidsynth, fluid-soundfont-gm) — sampled recordings of a
real piano. Each note is 1.5 s, preceded by silence, so the model learns to
start a note from nothing as generation does.

    apt-get install python3-torch python3-torchaudio fluidsynth fluid-soundfont-gm \\
      musescore-general-soundfont libopenblas0-pthread
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
      /usr/bin/python3 tools/train_wavenet.py --out models/wavenet-piano --minutes 45

Writes OUT/config.json, OUT/model.safetensors and OUT/training.json (the
command, steps, losses, time). The shipped weights came from four runs (a
40-minute run from scratch, two fine-tunes with --resume, a second
soundfont and --checkpoint-every, then --clock --seconds 6: the note clock
as local conditioning, on 6-second notes); models/wavenet-piano/training.json
has every command and which checkpoint was kept, chosen with
tools/wavenet-quality.ts --seed 500.
"""
import argparse
import copy
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
import torchaudio

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save  # noqa: E402
from wavenet_torch import CLOCK_CHANNELS, WaveNet, default_config, time_since_onset  # noqa: E402

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
LOWEST, HIGHEST = 48, 72  # C3 … C5: 25 pitches


def midi_note_file(path, pitch, seconds, velocity=100, program=0):
    """A one-note standard MIDI file (format 0, 480 ticks per quarter at 120 bpm)."""
    ticks = int(seconds * 960)

    def vlq(n):
        out = [n & 0x7F]
        n >>= 7
        while n:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        return bytes(reversed(out))

    events = (vlq(0) + bytes([0xC0, program]) + vlq(0) + bytes([0x90, pitch, velocity]) + vlq(ticks) +
              bytes([0x80, pitch, 0]) + vlq(480) + bytes([0xFF, 0x2F, 0x00]))
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480))
        f.write(b"MTrk" + struct.pack(">I", len(events)) + events)


def render_notes(sample_rate, seconds, velocity=100, soundfont=SOUNDFONT):
    """{pitch: float tensor of samples} rendered by fluidsynth, peak-normalised to 0.9."""
    notes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pitch in range(LOWEST, HIGHEST + 1):
            mid, wav = os.path.join(tmp, f"{pitch}.mid"), os.path.join(tmp, f"{pitch}.wav")
            midi_note_file(mid, pitch, seconds, velocity)
            subprocess.run(["fluidsynth", "-ni", "-g", "1.0", "-r", str(sample_rate), "-F", wav, soundfont, mid],
                           check=True, capture_output=True)
            audio, sr = torchaudio.load(wav)
            assert sr == sample_rate, (sr, sample_rate)
            audio = audio.mean(0)[: int(seconds * sample_rate)]
            notes[pitch] = 0.9 * audio / audio.abs().max()
    return notes


def periodicity(wave, pitch, sample_rate):
    """How steady a note is: the normalised autocorrelation at the pitch period (best of the period ±1 sample),
    averaged over 100 ms frames from 0.1 s on. 1.0 is a perfectly periodic tone; FluidR3's piano zone around
    MIDI 63–66 scores about 0.91, where its samples carry more noise than tone."""
    lag = round(sample_rate / (440 * 2 ** ((pitch - 69) / 12)))
    frame = sample_rate // 10
    scores = []
    for start in range(sample_rate // 10, wave.numel() - frame - lag - 1, frame // 2):
        a = wave[start:start + frame]
        scores.append(max(float((a * wave[start + l:start + l + frame]).sum() /
                                (a.norm() * wave[start + l:start + l + frame].norm() + 1e-9))
                          for l in (lag - 1, lag, lag + 1)))
    return sum(scores) / len(scores)


def render_steady_notes(sample_rate, seconds, velocity, soundfonts, steady_below):
    """{pitch: samples} from the first soundfont, except where its note is less periodic than steady_below:
    there the most periodic of all the soundfonts' notes is taken. Returns (notes, {pitch: soundfont})."""
    rendered = [render_notes(sample_rate, seconds, velocity, font) for font in soundfonts]
    notes, chosen = {}, {}
    for pitch in rendered[0]:
        scores = [periodicity(r[pitch], pitch, sample_rate) for r in rendered]
        best = 0
        if scores[0] < steady_below and len(rendered) > 1:
            best = max(range(len(rendered)), key=lambda i: scores[i])  # the first stays where no fallback is steadier
        notes[pitch], chosen[pitch] = rendered[best][pitch], soundfonts[best]
        if best:
            print(f"pitch {pitch}: {soundfonts[0]} periodicity {scores[0]:.3f}, "
                  f"taking {soundfonts[best]} ({scores[best]:.3f})", flush=True)
    return notes, chosen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="models/wavenet-piano")
    parser.add_argument("--minutes", type=float, default=45)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop", type=int, default=1536)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--resume", help="continue from the weights in this model directory")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--soundfont", default=SOUNDFONT,
                        help="the instrument samples: FluidR3 GM (MIT) by default; MuseScore General (MIT, Debian's "
                             "musescore-general-soundfont, /usr/share/sounds/sf3/MuseScore_General.sf3) has steadier piano "
                             "samples. A comma-separated list makes the later ones fallbacks (see --steady-below)")
    parser.add_argument("--steady-below", type=float, default=0.97,
                        help="with several soundfonts: a pitch whose note from the first one is less periodic than this "
                             "(normalised autocorrelation at the pitch period) is taken from the most periodic fallback")
    parser.add_argument("--seconds", type=float, default=1.5,
                        help="length of each rendered note (the key held throughout); 6 lets a model learn the decay")
    parser.add_argument("--clock", action="store_true",
                        help="condition on the time since the onset (config local_condition_features "
                             "\"time_since_onset\", 4 channels every 10 ms; hibiki computes it when generating), so "
                             "the model knows where in the note it is; with --resume, the new layers start at zero")
    parser.add_argument("--start-fraction", type=float, default=0.5,
                        help="share of the crops that start in the silence before the onset (the rest start anywhere)")
    parser.add_argument("--lr-floor", type=float, default=2e-4, help="the learning rate decays ×0.7 every 500 steps down to this")
    parser.add_argument("--velocities", default="100", help="MIDI velocities to render each pitch at, e.g. 70,100,120")
    parser.add_argument("--input-noise", type=float, default=0.0,
                        help="fraction of input classes shifted by ±1–2 during training (against exposure bias)")
    parser.add_argument("--balance", action="store_true",
                        help="draw notes in proportion to their running loss, so the hard ones (FluidR3's noisier "
                             "sample zones) get more of the steps")
    parser.add_argument("--focus", default="",
                        help="comma-separated MIDI pitches that get --focus-share of the crops (drawn evenly among "
                             "them), e.g. the pitches whose notes the selection seeds found out of tune")
    parser.add_argument("--focus-share", type=float, default=0.5, help="share of each batch drawn from --focus")
    parser.add_argument("--wave-noise", type=float, default=0.0,
                        help="largest std of Gaussian noise added to the input waveform (each crop draws its own "
                             "std in [0, this]); targets stay clean, so the model learns to steer noisy context "
                             "back to the note, as generation needs")
    parser.add_argument("--checkpoint-every", type=int, default=0,
                        help="also write the weights every N steps to OUT/checkpoints/step-N (and step-N-ema with --ema), "
                             "so a run can be judged by where it went, not only where it ended")
    parser.add_argument("--ema", type=float, default=0.0,
                        help="keep an exponential moving average of the weights with this decay (e.g. 0.995) and "
                             "write it as the final model; generation samples its own output, so weights that "
                             "jitter from step to step show up as notes that collapse")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    config = default_config()
    config["global_condition_classes"] = HIGHEST - LOWEST + 1
    config["global_condition_labels"] = [str(p) for p in range(LOWEST, HIGHEST + 1)]
    config["global_condition_name"] = "midi_pitch"
    sr = config["sample_rate"]
    previous = None
    if args.resume:
        with open(os.path.join(args.resume, "config.json")) as f:
            config = json.load(f)
        with open(os.path.join(args.resume, "training.json")) as f:
            previous = json.load(f)
    if args.clock:
        config.pop("min_temperature", None)  # measured again for the new weights (wavenet-quality.ts --silence)
        config.update({"local_condition_channels": CLOCK_CHANNELS, "local_condition_hop": sr // 100,
                       "local_condition_features": "time_since_onset"})
    model = WaveNet(config)
    if args.resume:
        from wavenet_bench import load_model
        model = load_model(args.resume, config).train()
    rf = model.receptive_field()
    hop = config.get("local_condition_hop", 1)

    # Silence first (the receptive field, rounded up to whole clock frames), then the note; one take per pitch
    # and velocity.
    lead = -(-rf // hop) * hop
    pitches, waves = [], []
    soundfonts = args.soundfont.split(",")
    chosen = {}
    for velocity in [int(v) for v in args.velocities.split(",")]:
        notes, chosen[velocity] = render_steady_notes(sr, args.seconds, velocity, soundfonts, args.steady_below)
        for p in sorted(notes):
            pitches.append(p)
            waves.append(torch.cat([torch.zeros(lead), notes[p]]))
    classes = [torchaudio.functional.mu_law_encoding(w, 256) for w in waves]
    clock = None
    if args.clock:
        # Input t predicts sample t + 1, and generation steps sample n (from the onset) with frame n // hop's
        # features: input t carries the features of frame (t + 1 - lead) // hop, zeros before the onset.
        length = classes[0].numel()
        frames = time_since_onset(-(-(length - lead) // hop) + 1, hop, sr)  # (C_l, frames)
        clock = torch.zeros(CLOCK_CHANNELS, length)
        note = torch.arange(lead - 1, length)  # inputs whose next sample is in the note
        clock[:, note] = frames[:, (note + 1 - lead) // hop]
    conditions = torch.tensor([p - LOWEST for p in pitches])
    focus = [i for i, p in enumerate(pitches) if str(p) in args.focus.split(",")]
    unknown = sorted(set(args.focus.split(",")) - {str(p) for p in pitches} - {""})
    if unknown:
        sys.exit(f"--focus: {', '.join(unknown)} not among the trained pitches {LOWEST}-{HIGHEST}")
    print(f"{len(classes)} notes at {sr} Hz, receptive field {rf} samples, "
          f"{sum(p.numel() for p in model.parameters())} parameters", flush=True)

    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    ema = copy.deepcopy(model).eval() if args.ema else None

    def write_model(out, net):
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        save(os.path.join(out, "model.safetensors"), net.state_dict_for_hibiki(),
             {"generator": "tools/train_wavenet.py", "torch": torch.__version__})

    note_loss = torch.full((len(pitches),), 5.0)
    started = time.time()
    deadline = started + args.minutes * 60
    losses = []
    step = 0
    while time.time() < deadline:
        if args.balance:
            idx = torch.multinomial(note_loss, args.batch, replacement=True)
        else:
            idx = torch.randint(len(pitches), (args.batch,))
        if focus:
            # The first --focus-share of the batch comes from the focus pitches instead.
            n = round(args.batch * args.focus_share)
            idx[:n] = torch.tensor(focus)[torch.randint(len(focus), (n,))]
        crops, noisy, crop_starts = [], [], []
        for i in idx.tolist():
            seq = classes[i]
            # Some crops start at the silence before the onset (--start-fraction), the rest anywhere.
            start = 0 if torch.rand(()) < args.start_fraction else int(torch.randint(seq.numel() - args.crop - 1, ()))
            crops.append(seq[start:start + args.crop + 1])
            crop_starts.append(start)
            if args.wave_noise > 0:
                wave = waves[i][start:start + args.crop]
                std = float(torch.rand(())) * args.wave_noise
                noisy.append(torchaudio.functional.mu_law_encoding((wave + std * torch.randn_like(wave)).clamp(-1, 1), 256))
        batch = torch.stack(crops)
        inputs = torch.stack(noisy) if noisy else batch[:, :-1]
        if args.input_noise > 0:
            shift = torch.randint(-2, 3, inputs.shape) * (torch.rand(inputs.shape) < args.input_noise)
            inputs = (inputs + shift).clamp(0, 255)
        if clock is not None:
            starts = [int(s) for s in crop_starts]
            local = torch.stack([clock[:, s:s + args.crop] for s in starts])  # (B, C_l, crop)
            logits = model(inputs, conditions[idx], local, local_per_sample=True)
        else:
            logits = model(inputs, conditions[idx])
        # Score only positions with a full receptive field of real context or the silence before it.
        per_row = F.cross_entropy(logits, batch[:, 1:], reduction="none").mean(1)
        loss = per_row.mean()
        with torch.no_grad():  # running loss per note (each note's last few batches)
            for i, l in zip(idx.tolist(), per_row.tolist()):
                note_loss[i] = 0.9 * note_loss[i] + 0.1 * l
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if ema is not None:
            with torch.no_grad():
                for e, p in zip(ema.parameters(), model.parameters()):
                    e.lerp_(p, 1 - args.ema)
        if args.checkpoint_every and step % args.checkpoint_every == 0:
            write_model(os.path.join(args.out, "checkpoints", f"step-{step}"), model)
            if ema is not None:
                write_model(os.path.join(args.out, "checkpoints", f"step-{step}-ema"), ema)
        losses.append(float(loss))
        if step % 50 == 0:
            elapsed = time.time() - started
            print(f"step {step} loss {sum(losses[-50:]) / 50:.3f} ({elapsed / 60:.1f} min)", flush=True)
            if step % 500 == 0:
                for g in opt.param_groups:
                    g["lr"] = max(args.lr_floor, g["lr"] * 0.7)

    write_model(args.out, ema if ema is not None else model)
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump({"command": " ".join(sys.argv), "steps": step, "minutes": (time.time() - started) / 60,
                   "previous": previous,
                   "final_loss": sum(losses[-100:]) / min(100, len(losses)), "batch": args.batch, "crop": args.crop,
                   "seed": args.seed, "wave_noise": args.wave_noise, "balance": args.balance, "input_noise": args.input_noise,
                   "velocities": args.velocities, "seconds": args.seconds, "clock": args.clock,
                   "start_fraction": args.start_fraction, "focus": args.focus, "focus_share": args.focus_share, "lr_floor": args.lr_floor, "lr": args.lr, "ema": args.ema, "torch": torch.__version__, "soundfont": args.soundfont,
                   "steady_below": args.steady_below, "soundfont_per_pitch": chosen,
                   "pitches": [LOWEST, HIGHEST]}, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out} after {step} steps", flush=True)


if __name__ == "__main__":
    main()
