"""gitops-gen: compose, validate, render and diff the Kustomize tree of a GPU Kubernetes fleet."""

__version__ = "0.1.0"
