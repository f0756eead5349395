#!/bin/bash
# #37: the generator's samples vetted by the seen writers' 1-NN (deepnag/generate/vetting.py), half of each class
# beside half chained real samples, on the 5-writer folds' 3x-trained generators (the harmed dollar-gds folds first)
# and the shipped chain-trained two-writer models; both recognisers, --metrics's seeds. Resumable.
# The folds' files go to OUT, the shipped models' to benchmarks/results/checkpoint_options/vetted_shipped.
#   bash benchmarks/augmentation_vetted.sh > benchmarks/results/augmentation/vetted/run.log 2>&1
cd "$(dirname "$0")/.."
OUT=benchmarks/results/augmentation/vetted
DATA=${DATA:-../shared/data}
OPTIONS="½ chain + ½ vetted generator 0.8,½ chain + ½ vetted generator 1"
for fold in dollar-gds-w5-f1 dollar-gds-w5-f0 jk2017-leap-w5-f0 jk2017-leap-w5-f1 jk2017-kinect-w5-f0 jk2017-kinect-w5-f1; do
  home=benchmarks/results/augmentation/learned/$fold/variants/long3x
  found=$home/$(python -c "import json,sys; print(json.load(open(sys.argv[1]))['checkpoint'])" $home/trained.json)
  python -m benchmarks.checkpoint_options "$found" --options "$OPTIONS" --out $OUT/$fold --datapath "$DATA"
done
for name in dollar-gds jk2017-leap jk2017-kinect; do
  python -m benchmarks.checkpoint_options pretrained_models/DeepNAG/$name-2-writers-chain4/generator.pt \
    --options "$OPTIONS" --out benchmarks/results/checkpoint_options/vetted_shipped --datapath "$DATA"
done
