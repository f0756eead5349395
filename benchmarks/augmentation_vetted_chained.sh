#!/bin/bash
# #37 step 2 for the learned recogniser: the chain applied to the generator's (vetted) samples, half of each class
# beside half chained real samples, on the shipped chain-trained two-writer models over 12 seeds; joins the 12-seed
# files of benchmarks/results/checkpoint_options (their real, simple and study rows checked equal), each option
# paired with `chain + generator share 0` (the chain of the same draws). Resumable.
#   bash benchmarks/augmentation_vetted_chained.sh > benchmarks/results/augmentation/vetted/run-chained.log 2>&1
cd "$(dirname "$0")/.."
for name in dollar-gds jk2017-leap jk2017-kinect; do
  python -m benchmarks.checkpoint_options pretrained_models/DeepNAG/$name-2-writers-chain4/generator.pt \
    --options "½ chain + ½ vetted generator 1 → chain,½ chain + ½ generator → chain" \
    --out benchmarks/results/checkpoint_options --seeds 12 --datapath "${DATA:-../shared/data}"
done
