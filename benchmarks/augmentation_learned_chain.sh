#!/bin/bash
# #37: generators trained on chain-augmented data (--chain-variants=4), one per 2-writer fold of OUT, with
# the fold's flags and a fifth of its epochs (5x the samples per epoch: the same optimiser steps), measured with
# both recognisers (the GRU over 2 seeds) at 160 added per class. Needs OUT's folds and their
# learned-options.json (augmentation_options --learned-seeds 2). The epochs, not the clock, end the training
# (--time-limit=30m lifts the folds' 4-minute budget, so other work on the machine changes nothing). Resumable.
# (OUT's folds are those that benchmarks/augmentation_learned.sh trains.)
cd "$(dirname "$0")/.."
OUT=benchmarks/results/augmentation/learned
DATA=${DATA:-../shared/data}
for spec in "dollar-gds 6" "jk2017-kinect 36" "jk2017-leap 56"; do
  set -- $spec
  python -m benchmarks.augmentation_options --out $OUT --datapath "$DATA" --folds "$1-w2-*" --learned-seeds 2 \
    --counts 160 --variant chain4 --variant-flags="--chain-variants=4 --epochs=$2 --time-limit=30m"
done
