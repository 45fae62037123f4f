#!/usr/bin/env bash
# `make demo`: start the local cluster, check it, bootstrap Tide from a Git repository (a local
# controller standing in for its pods), and watch objects of ours go Ready — including one that
# starts broken and recovers. KEEP=1 leaves it all running.
set -euo pipefail
cd "$(dirname "$0")/.."
py="${TIDE_PYTHON:-python3}"

step() { printf '\n\033[1;36m==> %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

controller=""
gitserver=""
bootstrap=""
cleanup() {
  for pid in $bootstrap $controller $gitserver; do
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  if [ -z "${KEEP:-}" ]; then
    step "Stopping the local control plane (KEEP=1 make demo leaves it running)"
    tide dev down
  else
    printf '\nStill running. Use it with: eval "$(tide dev env)"; stop it with: tide dev down\n'
  fi
}
trap cleanup EXIT

step "Starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)"
run tide dev up
eval "$(tide dev env)"
export KUBECONFIG
run kubectl get nodes

step "Checking the cluster can run Tide (Kubernetes version, API groups)"
run tide check --pre

step "Serving a Git repository, a chart repository, an OCI registry and a Slack stand-in on loopback"
gitlog=$(mktemp -t tide-git.XXXXXX.log)
slack_received=$(mktemp -t tide-slack.XXXXXX.jsonl)
"$py" hack/demo_git.py "$slack_received" >"$gitlog" 2>&1 &
gitserver=$!
for _ in $(seq 1 300); do
  slack_url=$(sed -n 3p "$gitlog")
  case "$slack_url" in http*) break ;; esac
  kill -0 "$gitserver" 2>/dev/null || { cat "$gitlog" >&2; exit 1; }
  sleep 0.1
done
url=$(sed -n 1p "$gitlog")
registry=$(sed -n 2p "$gitlog")
printf 'repository: %s\nregistry:   %s (my-app:1.0.0)\nslack:      %s\n' "$url" "$registry" "$slack_url"
# The seed's notifications.yaml reads the Slack webhook address from this Secret.
kubectl create namespace flux-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl create secret generic slack-webhook -n flux-system --from-literal=address="$slack_url" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null

step "Bootstrapping: Tide's manifests committed to clusters/production/flux-system, installed, synced"
printf 'nodes are simulated, so no container runs: a local tide controller stands in for the\n'
printf "controllers' pods, started as soon as the bootstrap has installed the CRDs\n"
extra=image-reflector-controller,image-automation-controller,source-watcher
bootstrap_flags=(--url "$url" --branch main --path clusters/production --allow-insecure-http
  --components-extra "$extra")
printf '\033[2m$ tide bootstrap git %s\033[0m\n' "${bootstrap_flags[*]}"
tide bootstrap git "${bootstrap_flags[@]}" &
bootstrap=$!
until kubectl get crd kustomizations.kustomize.toolkit.fluxcd.io >/dev/null 2>&1; do
  kill -0 "$bootstrap" 2>/dev/null || { wait "$bootstrap"; exit 1; }
  sleep 0.2
done
kubectl wait --for=condition=established crd --all --timeout=60s >/dev/null

metrics_port=$("$py" -c 'from tide.testing._process import free_port; print(free_port())')
health_port=$("$py" -c 'from tide.testing._process import free_port; print(free_port())')
log=$(mktemp -t tide-controller.XXXXXX.log)
storage=$(mktemp -d -t tide-storage.XXXXXX)
tide controller --metrics-addr "127.0.0.1:${metrics_port}" --health-addr "127.0.0.1:${health_port}" \
  --storage-path "$storage" --storage-addr 127.0.0.1:0 --receiver-addr 127.0.0.1:0 \
  --events-addr 127.0.0.1:0 --cluster-name demo >"$log" 2>&1 &
controller=$!
ready=""
for _ in $(seq 1 150); do
  if ! kill -0 "$controller" 2>/dev/null; then
    printf 'the controller exited; its log says:\n' >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  if curl -fs "http://127.0.0.1:${health_port}/readyz" >/dev/null 2>&1; then
    ready=yes
    break
  fi
  sleep 0.2
done
[ -n "$ready" ] || { printf 'the controller did not become ready; log: %s\n' "$log" >&2; exit 1; }
printf 'stand-in controller ready (leader election on, metrics and probes on loopback; log: %s)\n' "$log"
wait "$bootstrap"
bootstrap=""
run tide check --components-extra "$extra"
run tide version
run kubectl get deployments -n flux-system

step "The GitRepository turned the repository into a verified artifact"
run kubectl get gitrepository flux-system -n flux-system
artifact=$(kubectl get gitrepository flux-system -n flux-system -o jsonpath='{.status.artifact.url}')
printf 'artifact %s holds (default exclusions drop .github/):\n' "$artifact"
curl -fs "$artifact" | tar tzf - | sed 's/^/  /'

step "The cluster's Kustomization applies clusters/production: Tide itself and the apps Kustomization"
run kubectl get kustomization flux-system -n flux-system
for _ in $(seq 1 100); do
  kubectl get kustomization apps -n flux-system >/dev/null 2>&1 && break
  sleep 0.1
done
printf 'apps/production (overlay of apps/base/my-app, replicas patched to 3), applied and waited on:\n'
run kubectl wait --for=condition=ready kustomization/apps -n flux-system --timeout=120s
run tide get all
run tide tree kustomization apps
run kubectl get deployment,service -n my-app

step "The infrastructure Kustomization installs ingress-nginx with a HelmRelease (the seed's infrastructure/base)"
printf 'a local chart repository stands in for the public ingress-nginx one (chart 4.8.3, version range 4.8.x)\n'
for _ in $(seq 1 100); do
  kubectl get kustomization infrastructure -n flux-system >/dev/null 2>&1 && break
  sleep 0.1
done
run kubectl wait --for=condition=ready kustomization/infrastructure -n flux-system --timeout=180s
run kubectl wait --for=condition=ready helmrelease/ingress-nginx -n ingress-nginx --timeout=180s
run kubectl get helmrepositories,helmcharts -n flux-system
run kubectl get helmreleases -n ingress-nginx
run kubectl get deployment,service -n ingress-nginx
printf 'the release is stored where Helm stores it, so helm list / helm history see it:\n'
run kubectl get secrets -n ingress-nginx -l owner=helm

step "Pushing a commit (replicas 3 -> 5 in the production overlay); a reconcile request picks it up"
work=$(mktemp -d -t tide-clone.XXXXXX)
git clone -q "$url" "$work/fleet"
sed -i 's/replicas: 3/replicas: 5/' "$work/fleet/apps/production/replicas.yaml"
git -C "$work/fleet" -c user.name=demo -c user.email=demo@example.invalid \
  commit -qam "Scale my-app to 5 in production"
run git -C "$work/fleet" push -q origin main
pushed=$(git -C "$work/fleet" rev-parse HEAD)
run tide reconcile source git flux-system
revision=$(kubectl get gitrepository flux-system -n flux-system -o jsonpath='{.status.artifact.revision}')
printf 'status.artifact.revision = %s\n' "$revision"
run tide events --for GitRepository/flux-system
for _ in $(seq 1 300); do
  applied=$(kubectl get kustomization apps -n flux-system -o jsonpath='{.status.lastAppliedRevision}')
  ready=$(kubectl get deployment my-app -n my-app -o jsonpath='{.status.readyReplicas}')
  [ "$applied" = "main@sha1:${pushed}" ] && [ "$ready" = "5" ] && break
  sleep 0.2
done
[ "$applied" = "main@sha1:${pushed}" ] || { printf 'the pushed commit did not reach the cluster\n' >&2; exit 1; }
run tide get kustomizations
run kubectl get deployment my-app -n my-app
run tide events --for Kustomization/apps

step "Image automation: a new tag in the registry becomes a commit in Git and a rollout"
run tide get images all
printf 'a release pipeline pushes my-app:1.0.1 to the registry\n'
kill -USR1 "$gitserver"
run tide reconcile image repository my-app
for _ in $(seq 1 300); do
  tag=$(kubectl get imagepolicy my-app -n flux-system -o jsonpath='{.status.latestRef.tag}')
  [ "$tag" = "1.0.1" ] && break
  sleep 0.2
done
[ "$tag" = "1.0.1" ] || { printf 'the ImagePolicy did not pick 1.0.1\n' >&2; exit 1; }
run tide get images policy
for _ in $(seq 1 300); do
  image=$(kubectl get deployment my-app -n my-app -o jsonpath='{.spec.template.spec.containers[0].image}')
  [ "$image" = "${registry}/my-app:1.0.1" ] && break
  sleep 0.2
done
[ "$image" = "${registry}/my-app:1.0.1" ] || { printf 'the new image did not reach the cluster\n' >&2; exit 1; }
git -C "$work/fleet" pull -q origin main
printf 'the commit the automation pushed:\n'
run git -C "$work/fleet" log -1 --format='%h %an <%ae>%n    %s' -- apps
run git -C "$work/fleet" show --format= -U0 HEAD -- apps/base/my-app/deployment.yaml
printf 'rolled out: %s\n' "$image"
run tide get images update

step "A monorepo split: an ArtifactGenerator publishes apps/base/my-app as its own artifact"
cat <<YAML | run kubectl apply -f -
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: fleet
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: my-app-base
      originRevision: "@repo"
      copy:
        - from: "@repo/apps/base/my-app/**"
          to: "@artifact/"
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: preview
  namespace: flux-system
spec:
  interval: 10m
  sourceRef:
    kind: ExternalArtifact
    name: my-app-base
  path: ./
  targetNamespace: preview
  prune: true
  wait: true
  timeout: 2m
YAML
run kubectl wait --for=condition=ready artifactgenerator/fleet -n flux-system --timeout=60s
for _ in $(seq 1 100); do
  kubectl get externalartifact my-app-base -n flux-system >/dev/null 2>&1 && break
  sleep 0.1
done
run kubectl get artifactgenerators,externalartifacts -n flux-system
printf 'the artifact root built with targetNamespace (path ./), applied and waited on:\n'
run kubectl wait --for=condition=ready kustomization/preview -n flux-system --timeout=120s
run kubectl get deployment,service -n preview
run kubectl get kustomization preview -n flux-system \
  -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}'

step "Applying a Receiver and its token Secret"
run kubectl apply -f docs/examples/receiver.yaml
run kubectl wait --for=condition=ready receiver/github-receiver -n flux-system --timeout=60s
run kubectl get receivers -n flux-system

step "Bad input: a Receiver whose Secret is missing gets a precise reason, not a crash"
run kubectl apply -f docs/examples/receiver-missing-secret.yaml
for _ in $(seq 1 100); do
  reason=$(kubectl get receiver gitlab-receiver -n flux-system -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')
  [ -n "$reason" ] && [ "$reason" != "Progressing" ] && break
  sleep 0.1
done
run tide why receiver gitlab-receiver || true
run tide events --for Receiver/gitlab-receiver

step "Fixing it: create the Secret, and the retry picks it up by itself"
run kubectl create secret generic gitlab-token -n flux-system --from-literal=token=another-token
run kubectl wait --for=condition=ready receiver/gitlab-receiver -n flux-system --timeout=60s
run kubectl get receivers -n flux-system

step "Asking for an immediate reconcile, as 'flux reconcile' does"
run tide reconcile receiver github-receiver

step "Notifications: what the seed's Slack Alert posted (a loopback webhook stands in for Slack)"
for _ in $(seq 1 100); do
  [ -s "$slack_received" ] && break
  sleep 0.1
done
[ -s "$slack_received" ] || { printf 'no notification reached the Slack stand-in\n' >&2; exit 1; }
run tide get alerts
run tide get alert-providers
printf '%s messages received in #deployments; the last five:\n' "$(wc -l <"$slack_received")"
"$py" - "$slack_received" <<'PY'
import json, sys
for line in open(sys.argv[1]).read().splitlines()[-5:]:
    body = json.loads(line)
    for attachment in body.get("attachments", []):
        fields = {f["title"]: f["value"] for f in attachment.get("fields", [])}
        text = str(attachment.get("text", "")).replace("\n", "\n      ")
        print(f"  [{body.get('channel')}] {attachment.get('author_name')}: {text}")
        if fields:
            print("      " + ", ".join(f"{k}={v}" for k, v in fields.items()))
PY

step "Metrics and leader election"
curl -s "http://127.0.0.1:${metrics_port}/metrics" | grep -E '^gotk_reconcile_duration_seconds_count'
run kubectl get lease -n tide-system

step "The web dashboard: tide dashboard, as the kubeconfig's user"
dashboard_port=$("$py" -c 'from tide.testing._process import free_port; print(free_port())')
dashboard_log=$(mktemp -t tide-dashboard.XXXXXX.log)
nohup tide dashboard --address "127.0.0.1:${dashboard_port}" >"$dashboard_log" 2>&1 &
dashboard=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:${dashboard_port}/api/kinds" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:${dashboard_port}/api/kinds" >/dev/null ||
  { printf 'the dashboard did not answer; log: %s\n' "$dashboard_log" >&2; exit 1; }
printf 'dashboard: http://127.0.0.1:%s/ (log: %s)\n' "$dashboard_port" "$dashboard_log"
if [ -z "${KEEP:-}" ]; then
  trap 'kill -TERM "$dashboard" 2>/dev/null || true; cleanup' EXIT
fi
