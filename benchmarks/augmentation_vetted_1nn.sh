#!/bin/bash
# #37: the 5-writer folds' 3x-trained generators, the 1-NN recogniser alone over 20 sampling seeds (the first 5 those
# of augmentation_vetted.sh): is `½ chain + ½ vetted generator R` (and the study's mixes) at least as accurate as real alone?
# FOLDS picks the folds (default: the dollar-gds ones, where vetting is recommended). Resumable.
#   bash benchmarks/augmentation_vetted_1nn.sh > benchmarks/results/augmentation/vetted/run-1nn.log 2>&1
#   FOLDS="jk2017-kinect-w5-f0 jk2017-kinect-w5-f1" bash benchmarks/augmentation_vetted_1nn.sh \
#     > benchmarks/results/augmentation/vetted/run-1nn-kinect.log 2>&1
cd "$(dirname "$0")/.."
OUT=benchmarks/results/augmentation/vetted
DATA=${DATA:-../shared/data}
OPTIONS="½ chain + ½ vetted generator 0.8,½ chain + ½ vetted generator 1"
for fold in ${FOLDS:-dollar-gds-w5-f1 dollar-gds-w5-f0}; do
  home=benchmarks/results/augmentation/learned/$fold/variants/long3x
  found=$home/$(python -c "import json,sys; print(json.load(open(sys.argv[1]))['checkpoint'])" $home/trained.json)
  python -m benchmarks.checkpoint_options "$found" --options "$OPTIONS" --out $OUT/$fold --datapath "$DATA" \
    --seeds 20 --learned-seeds 0
done
