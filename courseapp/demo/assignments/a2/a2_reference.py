"""Reference schedules of A2 that torch.optim.lr_scheduler has no class for as such. Kept from
students; run by the worker (never in the sandbox)."""

from torch.optim.lr_scheduler import LambdaLR, ReduceLROnPlateau


def ConstantSchedule(optimizer):  # noqa: N802 - named as the student's class
    return LambdaLR(optimizer, lambda epoch: 1.0)


def PowerSchedule(optimizer, s, c=1.0):  # noqa: N802
    return LambdaLR(optimizer, lambda epoch: 1 / (1 + epoch / s) ** c)


def PerformanceSchedule(optimizer, factor=0.1, patience=2):  # noqa: N802
    return ReduceLROnPlateau(optimizer, mode="min", factor=factor, patience=patience, threshold=0.0)


def NesterovSGD(params, lr, momentum):  # noqa: N802
    from torch.optim import SGD

    return SGD(params, lr=lr, momentum=momentum, nesterov=True)
