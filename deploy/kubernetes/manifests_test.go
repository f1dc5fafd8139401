// Package kubernetes_test validates Rampart's Kubernetes manifests against
// the Kubernetes API types: every document decodes strictly (an unknown or
// misspelt field is an error, as `kubectl apply --validate=strict` would
// report), and the Rampart containers keep the promised hardening, probes,
// drain and resources. The configuration in each ConfigMap is parsed by
// Rampart's own decoder. It is a module of its own so that the Kubernetes
// API packages stay out of Rampart's dependencies.
package kubernetes_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/rampartsec/rampart/config"
)

type objects struct {
	deployments []appsv1.Deployment
	configMaps  []corev1.ConfigMap
	services    []corev1.Service
	pdbs        []policyv1.PodDisruptionBudget
}

// load decodes every document of a manifest into its API type, strictly.
func load(t *testing.T, path string) objects {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out objects
	for i, doc := range bytes.Split(b, []byte("\n---\n")) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s: document %d: %v", path, i, err)
		}
		strict := func(v any) {
			t.Helper()
			if err := yaml.UnmarshalStrict(doc, v); err != nil {
				t.Fatalf("%s: document %d (%s): %v", path, i, tm.Kind, err)
			}
		}
		switch tm.APIVersion + "/" + tm.Kind {
		case "apps/v1/Deployment":
			var d appsv1.Deployment
			strict(&d)
			out.deployments = append(out.deployments, d)
		case "v1/ConfigMap":
			var c corev1.ConfigMap
			strict(&c)
			out.configMaps = append(out.configMaps, c)
		case "v1/Service":
			var s corev1.Service
			strict(&s)
			out.services = append(out.services, s)
		case "policy/v1/PodDisruptionBudget":
			var p policyv1.PodDisruptionBudget
			strict(&p)
			out.pdbs = append(out.pdbs, p)
		case "networking.k8s.io/v1/NetworkPolicy":
			var n networkingv1.NetworkPolicy
			strict(&n)
		default:
			t.Fatalf("%s: document %d: unexpected %s %s", path, i, tm.APIVersion, tm.Kind)
		}
	}
	return out
}

func TestManifests(t *testing.T) {
	for _, tc := range []struct {
		file       string
		deployment string
		replicas   int32
	}{
		{"standalone.yaml", "rampart", 2},
		{"sidecar.yaml", "myapp", 2},
	} {
		t.Run(tc.file, func(t *testing.T) {
			objs := load(t, tc.file)
			if len(objs.configMaps) != 1 {
				t.Fatalf("%d ConfigMaps, want 1", len(objs.configMaps))
			}
			cfgText := objs.configMaps[0].Data["rampart.yaml"]
			if _, err := config.Parse(tc.file+": rampart.yaml", []byte(cfgText)); err != nil {
				t.Errorf("the ConfigMap's configuration is invalid:\n%v", err)
			}
			var dep *appsv1.Deployment
			for i := range objs.deployments {
				if objs.deployments[i].Name == tc.deployment {
					dep = &objs.deployments[i]
				}
			}
			if dep == nil {
				t.Fatalf("no Deployment %s", tc.deployment)
			}
			if dep.Spec.Replicas == nil || *dep.Spec.Replicas != tc.replicas {
				t.Errorf("replicas %v, want %d", dep.Spec.Replicas, tc.replicas)
			}
			if len(objs.pdbs) != 1 || objs.pdbs[0].Spec.MinAvailable == nil {
				t.Errorf("want one PodDisruptionBudget with minAvailable")
			} else if sel := objs.pdbs[0].Spec.Selector.MatchLabels; fmt.Sprint(sel) != fmt.Sprint(dep.Spec.Selector.MatchLabels) {
				t.Errorf("the PodDisruptionBudget selects %v, the Deployment %v", sel, dep.Spec.Selector.MatchLabels)
			}
			pod := dep.Spec.Template.Spec
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("the service account token is mounted: Rampart needs no Kubernetes API access")
			}
			if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
				psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Error("pod securityContext: want runAsNonRoot and the RuntimeDefault seccomp profile")
			}
			volumes := map[string]corev1.Volume{}
			for _, v := range pod.Volumes {
				volumes[v.Name] = v
			}
			var found bool
			for _, c := range pod.Containers {
				checkHardened(t, c)
				if c.Name != "rampart" {
					continue
				}
				found = true
				checkRampart(t, c, volumes)
			}
			if !found {
				t.Fatal("no rampart container")
			}
			if len(objs.services) == 0 || objs.services[0].Spec.Ports[0].TargetPort.StrVal != "http" {
				t.Error("the Service must target Rampart's http port, never the app's")
			}
		})
	}
}

func checkHardened(t *testing.T, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Privileged == nil || *sc.Privileged ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
		t.Errorf("container %s: securityContext must forbid escalation, drop ALL capabilities and mount the root read-only", c.Name)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("container %s: no CPU or memory request", c.Name)
	}
	if c.Resources.Limits.Memory().Cmp(resource.MustParse("0")) == 0 {
		t.Errorf("container %s: no memory limit", c.Name)
	}
}

func checkRampart(t *testing.T, c corev1.Container, volumes map[string]corev1.Volume) {
	t.Helper()
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.StrVal != "admin" {
			t.Errorf("%s probe: want GET %s on the admin port", name, path)
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("readiness", c.ReadinessProbe, "/readyz")
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds < 5 {
		t.Error("preStop: want a sleep drain (the image has no shell) of at least 5s")
	}
	if !strings.Contains(strings.Join(c.Args, " "), "--config /etc/rampart/config/rampart.yaml") {
		t.Errorf("args %q: want --config /etc/rampart/config/rampart.yaml", c.Args)
	}
	var cfgFromConfigMap, keysFromSecret, writableState bool
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		switch {
		case m.MountPath == "/etc/rampart/config" && v.ConfigMap != nil && m.ReadOnly:
			// A directory, not a subPath: subPath mounts never see the
			// ConfigMap's updates, and --watch would wait in vain.
			cfgFromConfigMap = m.SubPath == ""
		case strings.HasPrefix(m.MountPath, "/etc/rampart/keys") && v.Secret != nil && m.ReadOnly:
			keysFromSecret = true
			if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o077 != 0 {
				t.Error("the keys Secret is readable by group or others: set defaultMode 0400")
			}
		case m.MountPath == "/var/lib/rampart" && !m.ReadOnly:
			writableState = true
		}
	}
	if !cfgFromConfigMap || !keysFromSecret || !writableState {
		t.Errorf("mounts: config from a ConfigMap %v, keys from a Secret %v, writable /var/lib/rampart %v; want all",
			cfgFromConfigMap, keysFromSecret, writableState)
	}
}
