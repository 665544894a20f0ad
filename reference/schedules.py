"""PyTorch's own numbers for the optimizer and schedule tests.

Prints what torch.optim.AdamW, torch.optim.lr_scheduler.ReduceLROnPlateau and
torch.nn.utils.clip_grad_norm_ give on the cases of Tests/OptimizersTests/OptimizerStepTests.swift
(DecayAndClippingTests) and Tests/VAETests/LearningRateScheduleTests.swift (TrainingMonitorTests).

    pip install torch
    python3 reference/schedules.py
"""
import torch


def adamw():
    # Three AdamW steps, lr 0.1, weight decay 0.1, in Double.
    p = torch.tensor([1.0, -0.5], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.AdamW([p], lr=0.1, weight_decay=0.1)
    for g in [[0.5, -2], [-1, 0.25], [0.3, 0.3]]:
        optimizer.zero_grad()
        p.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
        print("adamw", p.tolist())


def plateau():
    # factor 0.5, patience 1, min_lr 0.3 of a rate 1, fed the losses of the monitor test.
    q = torch.nn.Parameter(torch.ones(1))
    optimizer = torch.optim.SGD([q], lr=1.0)
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1, min_lr=0.3)
    rates = []
    for loss in [10, 9, 8.9995, 9.5, 8, 8, 8, 8, 8]:
        schedule.step(loss)
        rates.append(optimizer.param_groups[0]["lr"])
    print("plateau", rates)


def clipping():
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    a.grad, b.grad = torch.tensor([3.0, 4.0]), torch.tensor([0.0, 12.0])
    norm = torch.nn.utils.clip_grad_norm_([a, b], 6.5)
    print("clip", float(norm), a.grad.tolist(), b.grad.tolist())


if __name__ == "__main__":
    adamw()
    plateau()
    clipping()
