"""parity: make Docker/Compose give each container the files the kubelet gives it in Kubernetes."""

__version__ = "0.1.0"
