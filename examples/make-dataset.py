"""Builds examples/pbmc-demo.h5ad: a synthetic PBMC-like AnnData that matches
examples/pbmc-demo.cellucid-session (2,638 cells x 1,838 genes, dataset id
pbmc3k-demo). Cells are ordered by cluster, as in the bundle; each cluster
sits in its own region of a 2-D UMAP-like embedding.

    /usr/bin/python3 examples/make-dataset.py examples/pbmc-demo.h5ad
"""
import sys

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

N_OBS, N_VARS, N_CLUSTERS = 2638, 1838, 8
rng = np.random.default_rng(2638)

cluster = np.minimum(N_CLUSTERS - 1, (np.arange(N_OBS) / N_OBS * N_CLUSTERS).astype(int))
names = ["CD4 T", "CD4 T (memory)", "CD8 T", "B", "CD14+ Mono", "NK", "Dendritic", "Platelet"]
centers = rng.uniform(-8, 8, size=(N_CLUSTERS, 2))
umap = (centers[cluster] + rng.normal(0, 1.1, size=(N_OBS, 2))).astype(np.float32)
pca = rng.normal(0, 1, size=(N_OBS, 10)).astype(np.float32)
pca[:, :2] = umap / 3

# Sparse counts: ~2% of genes expressed per cell, markers per cluster.
density = 0.02
X = sp.random(N_OBS, N_VARS, density=density, format="csr", random_state=7, dtype=np.float32)
X.data = np.round(X.data * 5 + 1).astype(np.float32)
genes = [f"GENE{i:04d}" for i in range(N_VARS)]
for c in range(N_CLUSTERS):
    genes[c * 97] = ["IL7R", "CCR7", "CD8A", "MS4A1", "CD14", "GNLY", "FCER1A", "PPBP"][c]

barcodes = [
    "".join(rng.choice(list("ACGT"), 14)) + "-1" for _ in range(N_OBS)
]
obs = pd.DataFrame(
    {
        "leiden": pd.Categorical([str(c) for c in cluster]),
        "cell_type": pd.Categorical([names[c] for c in cluster], categories=names),
        "n_genes": np.asarray((X > 0).sum(axis=1)).ravel().astype(np.int64),
        "total_counts": np.asarray(X.sum(axis=1)).ravel().astype(np.float32),
        "is_doublet": rng.random(N_OBS) < 0.03,
    },
    index=pd.Index(barcodes, name=None),
)
var = pd.DataFrame(
    {
        "highly_variable": rng.random(N_VARS) < 0.2,
        "mean_counts": np.asarray(X.mean(axis=0)).ravel().astype(np.float32),
    },
    index=pd.Index(genes),
)
adata = ad.AnnData(X=X, obs=obs, var=var, obsm={"X_umap": umap, "X_pca": pca})
adata.uns["dataset_id"] = "pbmc3k-demo"
adata.write_h5ad(sys.argv[1] if len(sys.argv) > 1 else "examples/pbmc-demo.h5ad", compression="gzip")
