"""The classic update rules of the tutorials, written as plain numpy loops, on the saddle
f(x, y) = x^2 - y^2 (gradient (2x, -2y)): ravine reproduces them step for step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from support import catalog

START = (-1.0, 1e-3)  # y0 != 0, so the trajectory can leave the saddle
STEPS = 60


def grad(w: np.ndarray) -> np.ndarray:
    return np.array([2 * w[0], -2 * w[1]])


def classic_momentum(lr=0.01, mu=0.9):
    w, v = np.array(START), np.zeros(2)
    for _ in range(STEPS):
        v = mu * v - lr * grad(w)
        w = w + v
        yield w


def classic_nag(lr=0.01, mu=0.9):
    w, v = np.array(START), np.zeros(2)
    for _ in range(STEPS):
        v = mu * v - lr * grad(w + mu * v)
        w = w + v
        yield w


def classic_adagrad(lr=0.1, eps=1e-8):
    w, cache = np.array(START), np.zeros(2)
    for _ in range(STEPS):
        dx = grad(w)
        cache += dx**2
        w = w - lr * dx / (np.sqrt(cache) + eps)
        yield w


def classic_rmsprop(lr=0.01, decay=0.9, eps=1e-8):
    w, cache = np.array(START), np.zeros(2)
    for _ in range(STEPS):
        dx = grad(w)
        cache = decay * cache + (1 - decay) * dx**2
        w = w - lr * dx / (np.sqrt(cache) + eps)
        yield w


def classic_adadelta(rho=0.9, eps=1e-6):
    w, Eg2, Edx2 = np.array(START), np.zeros(2), np.zeros(2)
    for _ in range(STEPS):
        g = grad(w)
        Eg2 = rho * Eg2 + (1 - rho) * g**2
        dx = -np.sqrt(Edx2 + eps) / np.sqrt(Eg2 + eps) * g
        Edx2 = rho * Edx2 + (1 - rho) * dx**2
        w = w + dx
        yield w


def classic_adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    w, m, v = np.array(START), np.zeros(2), np.zeros(2)
    for t in range(1, STEPS + 1):
        dx = grad(w)
        m = beta1 * m + (1 - beta1) * dx
        v = beta2 * v + (1 - beta2) * dx**2
        mt = m / (1 - beta1**t)
        vt = v / (1 - beta2**t)
        w = w - lr * mt / (np.sqrt(vt) + eps)
        yield w


# catalog variant -> (the classic loop, the hyperparameters it runs at)
CASES = {
    "momentum": (classic_momentum, {"lr": 0.01, "momentum": 0.9}),
    "nesterov-lookahead": (classic_nag, {"lr": 0.01, "momentum": 0.9}),
    "adagrad": (classic_adagrad, {"lr": 0.1, "eps": 1e-8}),
    "rmsprop": (classic_rmsprop, {"lr": 0.01, "decay": 0.9, "eps": 1e-8}),
    "adadelta": (classic_adadelta, {"lr": 1.0, "decay": 0.9, "eps": 1e-6}),
    "adam": (classic_adam, {"lr": 0.01}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_reproduces_the_classic_loop(name: str) -> None:
    classic, hyperparameters = CASES[name]
    w = torch.nn.Parameter(torch.tensor(START))
    opt = catalog.variant(name).make([w], **hyperparameters)

    def closure():
        opt.zero_grad()
        loss = w[0] ** 2 - w[1] ** 2
        loss.backward()
        return loss

    for step, expected in enumerate(classic(), start=1):
        opt.step(closure)
        np.testing.assert_allclose(
            w.detach().numpy(), expected, rtol=1e-12, atol=1e-15, err_msg=f"step {step}"
        )
    assert abs(float(w[1].detach())) > 10 * abs(START[1]), "should be leaving the saddle"
