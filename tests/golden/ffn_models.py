"""The FeedForward blocks (classic and LLaMA's gated form) as PyTorch modules, named as
tapegrad names their parameters (w1, w2, w3), for the golden scripts."""
import torch


def llama_hidden(hidden, multiple_of):
    hidden = int(2 * hidden / 3)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


class Classic(torch.nn.Module):
    """ACT(x W1 + b1) W2 + b2."""

    def __init__(self, dim, hidden, act, dtype):
        super().__init__()
        self.w1 = torch.nn.Linear(dim, hidden, dtype=dtype)
        self.w2 = torch.nn.Linear(hidden, dim, dtype=dtype)
        self.act = act

    def forward(self, x):
        return self.w2(self.act(self.w1(x)))


class Gated(torch.nn.Module):
    """LLaMA's FeedForward: w2(ACT(w1 x) * w3 x), no biases, dropout after."""

    def __init__(self, dim, hidden, multiple_of, act, dtype, dropout=0.0):
        super().__init__()
        hidden = llama_hidden(hidden, multiple_of)
        self.w1 = torch.nn.Linear(dim, hidden, bias=False, dtype=dtype)
        self.w2 = torch.nn.Linear(hidden, dim, bias=False, dtype=dtype)
        self.w3 = torch.nn.Linear(dim, hidden, bias=False, dtype=dtype)
        self.dropout = torch.nn.Dropout(dropout)
        self.act = act

    def forward(self, x):
        return self.dropout(self.w2(self.act(self.w1(x)) * self.w3(x)))
