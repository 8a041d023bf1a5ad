"""GANMM (Yu & Zhou, IJCAI 2018): a mixture of K WGANs with a classifier E-step; see docs/ganmm.md."""
