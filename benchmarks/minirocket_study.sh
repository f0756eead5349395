#!/usr/bin/env bash
# MiniRocket's rows of the held-out study (#54): --metrics=study with --recognizer=minirocket (1-NN and MiniRocket,
# 5 seeds each; the GRU's rows of the same models are in benchmarks/results/metrics_table/shipped/) on the shipped
# two-writer models of the three data sets. Resumable: a model whose metrics file exists is skipped.
# Usage: bash benchmarks/minirocket_study.sh DATA_DIR [OUT_DIR]
set -euo pipefail
data=${1:?usage: bash benchmarks/minirocket_study.sh DATA_DIR [OUT_DIR]}
out=${2:-benchmarks/results/minirocket}
mkdir -p "$out"
for model in dollar-gds-2-writers jk2017-kinect-2-writers jk2017-leap-2-writers; do
  [ -f "$out/$model.metrics.json" ] && continue
  python main.py --generate="pretrained_models/DeepNAG/$model/generator.pt" --datapath="$data" \
    --output="$out/$model" --metrics=study --recognizer=minirocket 2>&1 | tee "$out/$model.log"
  rm -f "$out/$model.npz"
done
