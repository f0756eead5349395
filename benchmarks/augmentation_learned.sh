#!/bin/bash
# The folds of OUT: --recipe fast generators, epoch caps = what about 2 idle minutes buy per data set and
# writer count (so other work on the machine does not change what each fold trains; --budget is only a cap);
# both recognisers (1-NN over 5 sampling seeds, the GRU over 2 training seeds per fold), 2 folds each.
# Resumable: finished folds (result.json) are skipped.
#   bash benchmarks/augmentation_learned.sh > benchmarks/results/augmentation/learned/run.log 2>&1
cd "$(dirname "$0")/.."
OUT=benchmarks/results/augmentation/learned
DATA=${DATA:-../shared/data}
for spec in "dollar-gds 2 28" "jk2017-kinect 2 180" "jk2017-leap 2 280" "dollar-gds 5 18" "jk2017-kinect 5 80" \
            "jk2017-leap 5 125"; do
  set -- $spec
  python -m benchmarks.augmentation --datapath "$DATA" --datasets $1 --writers $2 --folds 2 --learned-seeds 2 \
    --budget 4m --train-flags="--recipe=fast --epochs=$3" --out $OUT
done
python -m benchmarks.augmentation --datapath "$DATA" --folds 2 --out $OUT   # the summary of every fold
