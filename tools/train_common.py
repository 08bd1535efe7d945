"""What the image trainers (tools/train_unet.py, tools/train_digits_densenet.py)
share: the flags each takes, the setup, the command they record, and the
training loop."""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(__file__), "..")


def parser(doc, *, out, fixture, samples, epochs, batch, lr, threads):
    """--out, --fixture, --samples (paths under the repository), --seed, --epochs, --batch, --lr, --threads."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(ROOT, out))
    p.add_argument("--fixture", default=os.path.join(ROOT, fixture))
    p.add_argument("--samples", default=os.path.join(ROOT, samples))
    p.add_argument("--seed", type=int, default=1, help="weights and shuffling")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--threads", type=int, default=threads)
    return p


def start(args):
    """Threads and seed set; returns the start time."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return time.time()


def command():
    """The command line that ran, as one would type it again."""
    return "LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 " + " ".join(sys.argv)


def fit(model, x, y, args, augment, report, pct_start=0.3):
    """Cross-entropy, AdamW (weight decay 1e-4) on a one-cycle schedule peaking at args.lr; each epoch one
    shuffled pass in batches of args.batch (the last one smaller), each through augment(x, y);
    report(epoch, mean loss per example) after each. Returns the epochs' mean losses."""
    per_epoch = (len(x) + args.batch - 1) // args.batch
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, args.lr, total_steps=args.epochs * per_epoch, pct_start=pct_start)
    losses = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(x))
        total = 0.0
        for b in range(per_epoch):
            idx = order[b * args.batch:(b + 1) * args.batch]
            xb, yb = augment(x[idx], y[idx])
            loss = F.cross_entropy(model(xb), yb)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(idx)
        losses.append(total / len(x))
        report(epoch, losses[-1])
    return losses
