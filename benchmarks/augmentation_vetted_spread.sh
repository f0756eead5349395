#!/bin/bash
# #37 step 2 for the learned recogniser: half of each class the generator's samples from a wider latent (N(0, S²)),
# half chained real samples, on the shipped chain-trained two-writer models over 12 seeds (the generator's samples
# spread less than the real ones); joins the 12-seed files of benchmarks/results/checkpoint_options.
# Resumable; NAMES picks the models (default: dollar-gds jk2017-leap).
#   bash benchmarks/augmentation_vetted_spread.sh > benchmarks/results/augmentation/vetted/run-spread.log 2>&1
cd "$(dirname "$0")/.."
for name in ${NAMES:-dollar-gds jk2017-leap}; do
  python -m benchmarks.checkpoint_options pretrained_models/DeepNAG/$name-2-writers-chain4/generator.pt \
    --options "½ chain + ½ spread 1.5" \
    --out benchmarks/results/checkpoint_options --seeds 12 --datapath "${DATA:-../shared/data}"
done
