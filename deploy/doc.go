// Package deploy holds Rampart's deployment files — the systemd unit under
// systemd/, the Kubernetes manifests under kubernetes/ (validated by their
// own module there) — and the tests that keep them, and the Dockerfile at
// the repository's root, valid and hardened. It has no Go API.
package deploy
