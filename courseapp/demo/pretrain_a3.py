"""How A3's pretrained network was made: ``python -m courseapp.demo.pretrain_a3`` writes
``assignments/a3/digits_0_4.safetensors``, a small network trained on the digits 0-4 of
scikit-learn's ``load_digits``; A3 reuses its layers for the digits 5-9.

Seeded, on the CPU, so that running it again gives the same network on the same machine (floating
point sums may round differently on another CPU; the shipped file is the one that counts). The
class is the one in A3's notebook and in its reference (``a3_reference.DigitNet``).
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent / "assignments" / "a3" / "digits_0_4.safetensors"


def digit_net():
    """A new ``DigitNet``, the class of A3's notebook, from A3's reference file (kept beside it)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("a3_reference", OUT.parent / "a3_reference.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    return reference.DigitNet()


def pretrain(denoise_epochs: int = 200, epochs: int = 20):
    """The network, trained on every image of the digits 0-4 (pixels scaled to [0, 1]): first its
    hidden layers as the encoder of a denoising autoencoder (unsupervised pretraining: features
    general enough to be worth reusing), then all of it as a classifier of shifted images."""
    import torch
    from sklearn.datasets import load_digits
    from torch.nn import functional as F

    torch.manual_seed(0)
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16
    y = torch.tensor(digits.target, dtype=torch.int64)
    keep = y < 5
    x, y = x[keep], y[keep]
    net = digit_net()
    decoder = torch.nn.Linear(32, 64)
    generator = torch.Generator().manual_seed(0)

    def encode(z):
        for layer in net.hidden:
            z = torch.relu(layer(z))
        return z

    def shifted(batch):  # by up to a pixel in each direction
        dx, dy = torch.randint(-1, 2, (2,), generator=generator).tolist()
        return torch.roll(batch.view(-1, 8, 8), (dx, dy), (1, 2)).view(-1, 64)

    params = [*net.hidden.parameters(), *decoder.parameters()]
    opt = torch.optim.AdamW(params, lr=5e-3, weight_decay=0.01)
    for _ in range(denoise_epochs):
        for batch in torch.randperm(len(y), generator=generator).split(64):
            noisy = x[batch] + 0.2 * torch.randn(x[batch].shape, generator=generator)
            opt.zero_grad()
            F.mse_loss(torch.sigmoid(decoder(encode(noisy))), x[batch]).backward()
            opt.step()
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=0.01)
    for _ in range(epochs):
        for batch in torch.randperm(len(y), generator=generator).split(64):
            opt.zero_grad()
            F.cross_entropy(net(shifted(x[batch])), y[batch]).backward()
            opt.step()
    with torch.no_grad():
        accuracy = float((net(x).argmax(1) == y).float().mean())
    return net, accuracy


def main() -> None:
    from safetensors.torch import save_file

    net, accuracy = pretrain()
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, OUT)
    print(f"wrote {OUT} (training accuracy on the digits 0-4: {accuracy:.4f})")


if __name__ == "__main__":
    main()
