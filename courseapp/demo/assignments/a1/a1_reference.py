"""Reference solutions of A1 for the checks that PyTorch has no single function for. Kept from
students; run by the worker (never in the sandbox)."""

import torch


def forward(x, W1, b1, W2, b2):  # noqa: N803 - the slides' names
    return torch.sigmoid(torch.relu(x @ W1.T + b1) @ W2.T + b2)


def gd_step(theta, grad, lr, lam):
    return theta - lr * (grad + 2 * lam * theta)
