"""PyTorch peers of the benchmarks (`gluon-nst bench METHOD --peers`): each does the
work of our measurement module with the same network, weights and inputs, so the
times compare equal work.  They import torch (the `bench` extra) and never MXNet, and
run only as `python -m gluon_nst.peers.NAME` children.
"""
