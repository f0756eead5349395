#!/bin/bash
# The folds of this folder: --recipe fast generators, epoch budgets = what 5 idle minutes buy
# (so other work on the machine does not change what each fold trains; --budget is only a cap).
# Resumable: finished folds (result.json) are skipped, and augmentation_options.py measures only missing options.
cd "$(dirname "$0")/../../.."
OUT=benchmarks/results/augmentation-fast
DATA=${DATA:-../shared/data}
for spec in "dollar-gds 2 3 70" "jk2017-kinect 2 5 450" "jk2017-kinect 5 3 200" "dollar-gds 5 3 45"; do
  set -- $spec
  python benchmarks/augmentation.py --datapath "$DATA" --datasets $1 --writers $2 --folds $3 \
    --budget 15m --train-flags="--recipe=fast --epochs=$4" --out $OUT
done
python benchmarks/augmentation_options.py --datapath "$DATA" --out $OUT --folds "*-w2-*"
