"""Baseline clustering methods of the paper's Table 1 (K-means, GMM, GANMM), behind ganem's Method interface."""
