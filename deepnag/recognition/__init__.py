"""Gesture recognisers: the 1-NN matchers (Protractor, Jackknife-style DTW) and a learned GRU.

Used to measure synthetic samples (`deepnag.evaluation`) and to vet them (`deepnag.generate.vetting`), so they sit
below both.
"""
