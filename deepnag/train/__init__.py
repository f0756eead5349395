"""Training: the DeepNAG and DeepGAN methods, the shared loop, run directories, torchrun and CUDA graphs."""
