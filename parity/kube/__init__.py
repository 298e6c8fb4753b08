"""The Kubernetes side: reading manifests and predicting what the kubelet writes."""
