#!/bin/bash
# #37, five writers: the 5-writer folds' generators trained 3x longer (the folds' flags with 3x their epochs; the
# epochs, not the clock, end the training: --time-limit=60m lifts the 4-minute budget), measured with both
# recognisers (the GRU over 2 seeds) at 160 added per class beside real, GPSR and chain. Fold by fold: first the
# fold's own rows with both recognisers (learned-options.json, no extra options), then the variant. Resumable.
cd "$(dirname "$0")/.."
OUT=benchmarks/results/augmentation/learned
DATA=${DATA:-../shared/data}
for spec in "jk2017-kinect 240" "dollar-gds 54" "jk2017-leap 372"; do
  set -- $spec
  for fold in 0 1; do
    python -m benchmarks.augmentation_options --out $OUT --datapath "$DATA" --folds "$1-w5-f$fold" --learned-seeds 2 \
      --options ""
    python -m benchmarks.augmentation_options --out $OUT --datapath "$DATA" --folds "$1-w5-f$fold" --learned-seeds 2 \
      --counts 160 --variant long3x --variant-flags="--epochs=$2 --time-limit=60m"
  done
done
