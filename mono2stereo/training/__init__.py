"""Training: data, preprocessing, the accelerate loop, fine-tuning and the codec."""
