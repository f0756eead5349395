#!/bin/bash
# The folds of OUT: --recipe fast generators, epoch budgets = what 5 idle minutes buy
# (so other work on the machine does not change what each fold trains; --budget is only a cap).
# Resumable: finished folds (result.json) are skipped, and augmentation_options.py measures only missing options.
#   bash benchmarks/augmentation_fast.sh > benchmarks/results/augmentation/fast/run.log 2>&1
cd "$(dirname "$0")/.."
OUT=benchmarks/results/augmentation/fast
DATA=${DATA:-../shared/data}
for spec in "dollar-gds 2 3 70" "jk2017-kinect 2 5 450" "jk2017-kinect 5 3 200" "dollar-gds 5 3 45"; do
  set -- $spec
  python -m benchmarks.augmentation --datapath "$DATA" --datasets $1 --writers $2 --folds $3 \
    --budget 15m --train-flags="--recipe=fast --epochs=$4" --out $OUT
done
OPTIONS="python -m benchmarks.augmentation_options --datapath $DATA --out $OUT"
$OPTIONS --folds "*-w2-*"
$OPTIONS --folds "jk2017-kinect-w5-*"
# generators trained per fold with other flags (dollar-gds, two writers), each measured beside GPSR
V="$OPTIONS --folds dollar-gds-w2-*"
$V --variant seed-1235 --variant-flags=--seed=1235 --options "generator share 0.25"
$V --variant base --variant-flags=--seed=1234 --options "generator share 0.25"
$V --variant seed-1235 --variant-flags=--seed=1235 --options "generator share 0.25,ensemble with base"
$V --variant diversity-3 --variant-flags=--diversity-weight=3 --options "generator share 0.25"
$V --variant epochs-200 --variant-flags=--epochs=200 --options "generator share 0.25"
