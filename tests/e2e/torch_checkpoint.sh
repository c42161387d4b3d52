#!/usr/bin/env bash
# tests/e2e/torch_checkpoint.sh NNFPGA TMPDIR [FASHION_DIR]
#
# PyTorch interoperability, against PyTorch itself (Debian's python3-torch and
# PyPI's safetensors for /usr/bin/python3, installed by scripts/bootstrap; a
# missing PyTorch fails this test rather than skipping it):
#   - a checkpoint written by `nnfpga train` loads in PyTorch unconverted and
#     its float logits there equal libnnf's (`nnfpga infer --float`) image by
#     image, logit by logit, within the float32 rounding bound that
#     scripts/torch_check.py derives and states;
#     (also for CNNs, a residual one (add, from=) among them, and for recurrent
#     networks: GRU, LSTM, RNN, and Transformer encoders, trained with --float;
#     the encoders also as torch.nn.TransformerEncoder);
#   - scripts/check_safetensors.py accepts it, by the format's rules and by
#     safetensors.torch.load_file;
#   - and both oracles can fail: logits moved by 1e-2 on one image (about 5
#     times their bound), a truncated file and a header whose offsets overlap
#     are refused.
set -u
nnfpga=$1
tmp=$2
data=${3:-/usr/share/datasets/fashion-mnist}
py=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
scripts=$here/../../scripts
mkdir -p "$tmp"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

ck=$tmp/torch.safetensors
"$nnfpga" train --device host --data "$data" --limit 3000 --epochs 1 --test-limit 0 --seed 2 --quiet \
  --out "$ck" >/dev/null || { echo "FAIL: nnfpga train"; exit 1; }

# 1. the float forwards agree logit by logit (2000 test images)
"$py" "$scripts/torch_check.py" "$ck" --nnfpga "$nnfpga" --data "$data" --limit 2000
rc=$?
[ $rc -eq 77 ] && fail "PyTorch or safetensors missing for $py: run scripts/bootstrap"
[ $rc -ne 0 ] && fail "torch_check.py exited $rc"

# ... and not whatever nnfpga prints: one image's logits moved by 1e-2 must fail
cat >"$tmp/nnfpga_off" <<EOS
#!/usr/bin/env bash
"$nnfpga" "\$@" | $py -c '
import json, sys
rows = json.load(sys.stdin)
rows[7]["logits"] = [v + 1e-2 for v in rows[7]["logits"]]
json.dump(rows, sys.stdout)'
EOS
chmod +x "$tmp/nnfpga_off"
out=$("$py" "$scripts/torch_check.py" "$ck" --nnfpga "$tmp/nnfpga_off" --data "$data" --limit 2000)
rc=$?
[ $rc -eq 1 ] && grep -q "image 7" <<<"$out" || fail "torch_check.py accepted logits moved by 1e-2 (exit $rc): $out"

# ... and a network with Dropout layers (its architecture metadata) loads too
ckd=$tmp/torch_dropout.safetensors
"$nnfpga" train --device host --data "$data" --layers 784,dropout:0.2,64,dropout:0.5,10 --limit 2000 \
  --epochs 1 --test-limit 0 --seed 3 --quiet --out "$ckd" >/dev/null || fail "nnfpga train with dropout"
out=$("$py" "$scripts/torch_check.py" "$ckd" --nnfpga "$nnfpga" --data "$data" --limit 500)
[ $? -eq 0 ] || fail "torch_check.py on a dropout network: $out"
echo "$out" | tail -1

# ... and a CNN (--arch): Conv2d with and without bias, stride 2, padding, max,
# average and global pooling, Flatten, as PyTorch's modules of the same names
ckc=$tmp/torch_cnn.safetensors
"$nnfpga" train --device host --data "$data" --limit 2000 --epochs 1 --test-limit 0 --seed 4 --quiet \
  --arch "conv(6,5,pad=2),relu,maxpool(2),conv(10,3,stride=2,pad=1,bias=0),relu6,avgpool(2,stride=1,pad=1),conv(12,1),relu,gap,flatten,dense(10)" \
  --out "$ckc" >/dev/null || fail "nnfpga train --arch"
out=$("$py" "$scripts/torch_check.py" "$ckc" --nnfpga "$nnfpga" --data "$data" --limit 500)
[ $? -eq 0 ] || fail "torch_check.py on a CNN: $out"
echo "$out" | tail -1
ckf=$tmp/torch_cnn_flat.safetensors
"$nnfpga" train --device host --data "$data" --limit 2000 --epochs 1 --test-limit 0 --seed 5 --quiet \
  --arch "conv(8,3,pad=1),relu,maxpool(2),conv(8,3,pad=1),relu,maxpool(2),flatten,dense(10)" --out "$ckf" >/dev/null ||
  fail "nnfpga train --arch (flatten + dense)"
out=$("$py" "$scripts/torch_check.py" "$ckf" --nnfpga "$nnfpga" --data "$data" --limit 500)
[ $? -eq 0 ] || fail "torch_check.py on a CNN with flatten + dense: $out"
echo "$out" | tail -1
out=$("$py" "$scripts/torch_check.py" "$ckf" --nnfpga "$tmp/nnfpga_off" --data "$data" --limit 500)
[ $? -eq 1 ] || fail "torch_check.py accepted a CNN's logits moved by 1e-2: $out"
# ... and a depthwise-separable CNN: ZeroPad2d, a rectangular kernel with
# strides per axis, depthwise and grouped Conv2d (groups=)
ckd2=$tmp/torch_dw.safetensors
"$nnfpga" train --device host --data "$data" --limit 2000 --epochs 1 --test-limit 0 --seed 6 --quiet \
  --arch "zeropad(0,1,0,1),conv(8,kh=5,kw=3,sh=2,sw=1,ph=2,pw=1),relu,dwconv(3,pad=1),relu6,conv(16,1,groups=4),relu,dwconv(3,stride=2,bias=0),gap,flatten,dense(10)" \
  --out "$ckd2" >/dev/null || fail "nnfpga train --arch (depthwise)"
out=$("$py" "$scripts/torch_check.py" "$ckd2" --nnfpga "$nnfpga" --data "$data" --limit 500)
[ $? -eq 0 ] || fail "torch_check.py on a depthwise CNN: $out"
echo "$out" | tail -1
# ... and a residual CNN (a graph: add(K), from=K): an identity shortcut, and a
# stride-2 block whose 1x1 stride-2 shortcut conv reads layer 6's output and
# is joined by an Add that itself reads from=9; torch_check.py runs the same
# graph (its Graph module) and states the edges it built
ckg=$tmp/torch_residual.safetensors
"$nnfpga" train --device host --data "$data" --limit 2000 --epochs 1 --test-limit 0 --seed 8 --quiet --input-shape 1,28,28 \
  --arch "conv(8,3,stride=2,pad=1),relu,conv(8,3,pad=1),relu,conv(8,3,pad=1),add(1),relu,conv(16,3,stride=2,pad=1),relu,conv(16,3,pad=1),conv(16,1,stride=2,from=6),add(10,from=9),relu,gap,flatten,dense(10)" \
  --out "$ckg" >/dev/null || fail "nnfpga train --arch (residual)"
out=$("$py" "$scripts/torch_check.py" "$ckg" --nnfpga "$nnfpga" --data "$data" --limit 500)
[ $? -eq 0 ] || fail "torch_check.py on a residual CNN: $out"
grep -q "a graph: layer 5 adds layer 1's output; layer 10 reads layer 6's output; layer 11 reads layer 9's output and adds layer 10's output" <<<"$out" ||
  fail "torch_check.py did not build the residual graph: $out"
echo "$out"

# ... and recurrent networks (trained in float: they have no int8 form yet):
# GRU, LSTM with every step's output into a second LSTM, a ReLU RNN, as
# subclasses of torch.nn.GRU / LSTM / RNN over rows of T steps (the state_dict
# names are the modules' own: 0.weight_ih_l0, ...), loaded strict
for arch in "gru(24),dense(10)" "lstm(12,seq=1),lstm(16),relu,dense(10)" "rnn(20,act=relu),dense(10)"; do
  ckr=$tmp/torch_rnn.safetensors
  "$nnfpga" train --float --data "$data" --limit 1000 --epochs 1 --test-limit 0 --seed 6 --quiet --arch "$arch" \
    --out "$ckr" >/dev/null || fail "nnfpga train --float --arch $arch"
  out=$("$py" "$scripts/torch_check.py" "$ckr" --nnfpga "$nnfpga" --data "$data" --limit 300)
  [ $? -eq 0 ] || fail "torch_check.py on $arch: $out"
  echo "$out" | tail -1
done
out=$("$py" "$scripts/torch_check.py" "$ckr" --nnfpga "$tmp/nnfpga_off" --data "$data" --limit 300)
[ $? -eq 1 ] || fail "torch_check.py accepted a recurrent network's logits moved by 1e-2: $out"

# ... and a Transformer encoder (trained in float: attention has no int8 form yet):
# a token embedding, positional embedding, two pre-norm GELU
# TransformerEncoderLayers, mean pooling; and a class token, a post-norm
# ReLU layer, a final LayerNorm and GELU; as scripts/attn_modules.py's modules over rows of 28 tokens,
# loaded strict, and each run of encoder layers also loaded into PyTorch's
# torch.nn.TransformerEncoder (torch_check.py compares its outputs)
for arch in "embed(16),posembed(28),encoder(16,4,ff=32,act=gelu,norm_first=1),encoder(16,4,ff=32,act=gelu,norm_first=1),meanpool,dense(10)" \
  "embed(16),clstoken,posembed(29),encoder(16,2,ff=24),layernorm,gelu(approx=tanh),clspool,dense(10)"; do
  cka=$tmp/torch_attn.safetensors
  "$nnfpga" train --float --data "$data" --limit 1000 --epochs 1 --test-limit 0 --seed 7 --quiet --arch "$arch" \
    --out "$cka" >/dev/null || fail "nnfpga train --float --arch $arch"
  out=$("$py" "$scripts/torch_check.py" "$cka" --nnfpga "$nnfpga" --data "$data" --limit 300)
  [ $? -eq 0 ] || fail "torch_check.py on $arch: $out"
  grep -q "torch.nn.TransformerEncoder" <<<"$out" || fail "torch_check.py did not load the encoder layers into torch.nn.TransformerEncoder: $out"
  echo "$out" | tail -2
done
out=$("$py" "$scripts/torch_check.py" "$cka" --nnfpga "$tmp/nnfpga_off" --data "$data" --limit 300)
[ $? -eq 1 ] || fail "torch_check.py accepted an attention network's logits moved by 1e-2: $out"

# 2. the file by the format's rules and by safetensors.torch
out=$("$py" "$scripts/check_safetensors.py" "$ck") || fail "check_safetensors.py refused the checkpoint: $out"
grep -q "safetensors.torch.load_file agrees" <<<"$out" || fail "check_safetensors.py did not compare with safetensors.torch: $out"
echo "$out" | head -1

# ... and it refuses broken files: 4 bytes short, and two tensors' offsets overlapping
size=$(stat -c %s "$ck")
head -c $((size - 4)) "$ck" >"$tmp/short.safetensors"
out=$("$py" "$scripts/check_safetensors.py" "$tmp/short.safetensors")
[ $? -eq 1 ] && grep -q REFUSED <<<"$out" || fail "check_safetensors.py accepted a truncated file: $out"
"$py" - "$ck" "$tmp/overlap.safetensors" <<'EOS'
import json, struct, sys
blob = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", blob[:8])[0]
head = json.loads(blob[8:8 + n])
names = sorted((k for k in head if k != "__metadata__"), key=lambda k: head[k]["data_offsets"][0])
# the second tensor starts 4 bytes early (into the first) and ends 4 bytes early
head[names[1]]["data_offsets"] = [o - 4 for o in head[names[1]]["data_offsets"]]
text = json.dumps(head).encode()
text += b" " * (-len(text) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(text)) + text + blob[8 + n:])
EOS
out=$("$py" "$scripts/check_safetensors.py" "$tmp/overlap.safetensors")
[ $? -eq 1 ] && grep -q REFUSED <<<"$out" || fail "check_safetensors.py accepted overlapping tensors: $out"

[ $fails -eq 0 ] && echo "torch_checkpoint: all checks passed"
exit $((fails > 0))
