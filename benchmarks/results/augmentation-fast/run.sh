#!/bin/bash
# The folds of this folder: --recipe fast generators on 2 writers, epoch budgets = what 5 idle minutes buy
# (so other work on the machine does not change what each fold trains; --budget is only a cap).
# Resumable: finished folds (result.json) are skipped. Then: python benchmarks/augmentation_options.py --out "$OUT"
cd "$(dirname "$0")/../../.."
OUT=benchmarks/results/augmentation-fast
DATA=${DATA:-../shared/data}
for spec in "dollar-gds 2 70" "jk2017-kinect 2 450"; do
  set -- $spec
  python benchmarks/augmentation.py --datapath "$DATA" --datasets $1 --writers $2 --folds 3 \
    --budget 15m --train-flags="--recipe=fast --epochs=$3" --out $OUT
done
