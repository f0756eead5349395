"""A HYPE∞ realism study in the browser (Zhou et al., NeurIPS 2019): people tell real gestures from generated ones.

`python main.py --realism-study=CKPT[,CKPT...]` builds the trials' samples (`trials`), keeps sessions and answers
in SQLite in the study's folder (`store`), serves the participants' page and the results page (`server`), and
computes HYPE∞ with bootstrap intervals into a CSV, a JSON and a PNG (`results`); `study` ties them together.
See docs/realism-study.md.
"""
