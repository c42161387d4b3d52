"""attn_modules.py - PyTorch modules for libnnf's attention layers (host/lib/nnf_attn.c).

libnnf lays a sequence out as one row of T tokens of d features (PyTorch's
batch_first (B, T, d) tensor, flattened); each module here takes such rows,
reshapes them to (B, T, d), runs the PyTorch module of the same name and
flattens its output again, so a libnnf checkpoint's architecture (the
entries nnf_attn.c's describe writes) becomes a torch.nn.Sequential whose
state_dict names are the checkpoint's:

    TokenLinear(in,d)               torch.nn.Linear(in, d) on every token: weight, bias
    PositionalEmbedding(P,d)        x + weight[:T], weight [P, d]
    ClassToken(d)                   cat(class_token, x) over the tokens, class_token [1, 1, d]
    TokenPool(d,mode='mean'|'cls')  the tokens' mean, or the first token
    LayerNorm(d,eps=E)              torch.nn.LayerNorm(d, eps) over each token
    GELU, GELU(approximate='tanh')  torch.nn.GELU
    MultiheadAttention(d,h,batch_first=True)    self-attention: in_proj_weight, ...
    TransformerEncoderLayer(d,h,dim_feedforward=F,dropout=0.0,activation='gelu',
        layer_norm_eps=E,batch_first=True,norm_first=True)  torch.nn.TransformerEncoderLayer

Used by scripts/torch_check.py (checkpoints) and scripts/gen_attn_ref.py
(the reference values of tests/host/test_attn.c).
"""

NAMES = ("TokenLinear", "PositionalEmbedding", "ClassToken", "TokenPool", "LayerNorm", "GELU",
         "MultiheadAttention", "TransformerEncoderLayer")


def parse_args(args):
    """Constructor arguments: positional integers, then key=value (integers,
    floats, 'strings', True / False)."""
    pos, kw = [], {}
    for part in (a for a in args.split(",") if a):
        key, eq, val = part.partition("=")
        v = val if eq else key
        if v in ("True", "False"):
            v = v == "True"
        elif v.startswith("'"):
            v = v.strip("'")
        else:
            v = float(v) if any(c in v for c in ".e") else int(v)
        if eq:
            kw[key] = v
        else:
            pos.append(v)
    return pos, kw


def attn_module(torch, name, args):
    """The module of one entry (name, the text inside its parentheses); None
    for another layer."""
    nn = torch.nn
    if name not in NAMES:
        return None
    pos, kw = parse_args(args)

    def tokens(x, d):
        return x.reshape(x.shape[0], -1, d)

    if name == "TokenLinear":
        class TokenLinear(nn.Linear):
            def forward(self, x):
                return super().forward(tokens(x, self.in_features)).flatten(1)
        mod = TokenLinear(*pos)
    elif name == "PositionalEmbedding":
        class PositionalEmbedding(nn.Module):
            def __init__(self, positions, d):
                super().__init__()
                self.d = d
                self.weight = nn.Parameter(torch.empty(positions, d).normal_(std=0.02))

            def forward(self, x):
                x = tokens(x, self.d)
                return (x + self.weight[:x.shape[1]]).flatten(1)
        mod = PositionalEmbedding(*pos)
    elif name == "ClassToken":
        class ClassToken(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.d = d
                self.class_token = nn.Parameter(torch.zeros(1, 1, d))

            def forward(self, x):
                x = tokens(x, self.d)
                return torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1).flatten(1)
        mod = ClassToken(*pos)
    elif name == "TokenPool":
        class TokenPool(nn.Module):
            def __init__(self, d, mode):
                super().__init__()
                self.d, self.mode = d, mode

            def forward(self, x):
                x = tokens(x, self.d)
                return x.mean(dim=1) if self.mode == "mean" else x[:, 0]
        mod = TokenPool(*pos, **kw)
    elif name == "LayerNorm":
        class LayerNorm(nn.LayerNorm):
            def forward(self, x):
                return super().forward(tokens(x, self.normalized_shape[0])).flatten(1)
        mod = LayerNorm(*pos, **kw)
    elif name == "GELU":
        mod = nn.GELU(**kw)
    elif name == "MultiheadAttention":
        class MultiheadAttention(nn.MultiheadAttention):
            def forward(self, x):
                x = tokens(x, self.embed_dim)
                return super().forward(x, x, x, need_weights=False)[0].flatten(1)
        mod = MultiheadAttention(*pos, **kw)
    else:
        class TransformerEncoderLayer(nn.TransformerEncoderLayer):
            def forward(self, x):
                return super().forward(tokens(x, self.self_attn.embed_dim)).flatten(1)
        mod = TransformerEncoderLayer(*pos, **kw)
        mod.nnf_kwargs = (pos, kw)  # to build torch.nn.TransformerEncoder alike
    mod.nnf_attention = True
    return mod
