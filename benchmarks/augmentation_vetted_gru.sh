#!/bin/bash
# #37: the learned recogniser over 12 seeds on the shipped chain-trained dollar-gds two-writer model: does
# `½ chain + ½ vetted generator 1` (--synthesizer=vetted-chain-mix) beat the chain alone, paired by seed? Joins the
# 12-seed file of benchmarks/results/checkpoint_options (its real, simple and study rows checked equal). Resumable.
#   bash benchmarks/augmentation_vetted_gru.sh > benchmarks/results/augmentation/vetted/run-gru.log 2>&1
cd "$(dirname "$0")/.."
python -m benchmarks.checkpoint_options pretrained_models/DeepNAG/dollar-gds-2-writers-chain4/generator.pt \
  --options "½ chain + ½ vetted generator 1" --out benchmarks/results/checkpoint_options --seeds 12 \
  --datapath "${DATA:-../shared/data}"
