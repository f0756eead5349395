#!/usr/bin/env bash
# One lent-GPU session, run from the repository root: the CUDA tests, then the shipped DeepGAN
# models continued on --device=cuda (generator and critic kept as networks checkpoints).
#   DATA: a folder with dollar_gds/xml.zip and kinect.txz (jk2017/kinect/training, tar + xz)
#   OUT:  where the logs and the two networks checkpoints go; GAN_SECONDS: time per model
set -uo pipefail
DATA=${DATA:-.gpudata}; OUT=${OUT:-logs/gpu}; GAN_SECONDS=${GAN_SECONDS:-150}
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY=$(command -v python3)
mkdir -p "$OUT" /tmp/gpudata/dollar_gds /tmp/gpuruns
cp "$DATA/xml.zip" /tmp/gpudata/dollar_gds/ && tar -C /tmp/gpudata -xJf "$DATA/kinect.txz"
nvidia-smi -L; $PY -c "import torch, numba; print('torch', torch.__version__, 'numba', numba.__version__)"
[ "${DEVICE:-cuda}" = cuda ] && timeout 200 $PY -m pytest -q -rs -p no:cacheprovider tests/test_cuda_device.py tests/test_soft_dtw_cuda.py 2>&1 \
  | tee "$OUT/gpu_tests.log" | tail -15
for ds in dollar-gds jk2017-kinect; do
  $PY main.py --resume="pretrained_models/DeepGAN/$ds/generator.pt" --fresh-critic --device="${DEVICE:-cuda}" \
    --epochs=100000 --time-limit="${GAN_SECONDS}s" --datapath=/tmp/gpudata --logdir="/tmp/gpuruns/$ds" \
    --use-tensorboard=0 --vis-frequency=0 2>&1 | tail -6
  run=$(ls -d /tmp/gpuruns/$ds/*/ | head -1)
  last=$(ls -t "$run"checkpoints/checkpoint-*.pt | head -1)
  $PY - "$last" "$OUT/$ds-networks.pt" <<'PYEOF'
import sys
from deepnag import checkpoint
state = checkpoint.load(sys.argv[1])
kept = checkpoint.networks_only(state)
kept["config"] = {**state["config"], "datapath": "data", "resume": None, "logdir": "logs", "device": "auto", "num_threads": 0}
checkpoint.save(kept, sys.argv[2])
print(sys.argv[1], "epoch", state["epoch"], "->", sys.argv[2])
PYEOF
  cp "$run/logs/train.log" "$OUT/$ds-train.log"
done
ls -la "$OUT"
