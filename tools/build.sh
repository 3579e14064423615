#!/usr/bin/env bash
# Builds the real tier's tools from the Go modules pinned under tools/ (one module per tool, each
# with its go.mod and go.sum) into a cache outside the work tree, then links them into out/tools/bin.
#
#   tools/build.sh            build (or reuse) every tool
#   tools/build.sh NAME...    only these (folder names under tools/)
#
# Each tool is cached under $CANARY_TOOLS_CACHE (default ~/.cache/canary-pipeline/tools) by a key
# made of its folder's files, its build function and the Go version: a warm run only links. A cold build
# of everything takes tens of minutes on two cores (README, "The real tier").
#
# Two plugins have no module the proxy serves: the Node.js language host and the command provider.
# They are built from their upstream sources in the folder $CANARY_PLUGIN_SOURCES names (a copy kept
# outside the project, checked against the tree pinned in tools/NAME/upstream.env).
#
# With CANARY_TOOLS_BIN set to a folder holding the same binaries (your own Pulumi CLI and
# plugins, Kubernetes and kwok builds), nothing is built and the tier uses those.
set -euo pipefail
if [ -n "${CANARY_TOOLS_BIN:-}" ]; then
  echo "tools/build.sh: using the tools in $CANARY_TOOLS_BIN" >&2
  exit 0
fi
cd "$(dirname "$0")"
tools_dir=$PWD
cache=${CANARY_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/canary-pipeline/tools}
bin_dir=$tools_dir/../out/tools/bin
export GOFLAGS="-mod=readonly -buildvcs=false -trimpath" CGO_ENABLED=0

all=(kubernetes etcd kwok pulumi pulumi-language-nodejs pulumi-kubernetes pulumi-command actionlint act argo-rollouts)
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${all[@]}")

# version MODULE: the version of MODULE that the current tool's go.mod selects.
version() { go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$1"; }

# Each build_NAME runs in tools/NAME and writes its binaries into $1.
build_kubernetes() {
  local v; v=$(version k8s.io/kubernetes); local minor=${v#v1.}; minor=${minor%%.*}
  local pkg=k8s.io/component-base/version
  go build -o "$1/" -ldflags "-s -w -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" tool
}
build_etcd() {
  go build -o "$1/etcd" -ldflags "-s -w" go.etcd.io/etcd/server/v3
}
build_kwok() {
  go build -o "$1/" -ldflags "-s -w" tool
}
build_pulumi() {
  local v; v=$(version github.com/pulumi/pulumi/pkg/v3)
  go build -o "$1/pulumi" -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}
build_pulumi-kubernetes() {
  local mod=github.com/pulumi/pulumi-kubernetes/provider/v4 v dir
  # `go list -m` names the module's folder only once it is downloaded.
  go mod download "$mod"
  v=$(version $mod); dir=$(go list -m -f '{{.Dir}}' $mod)/cmd/pulumi-resource-kubernetes
  # What the upstream `go generate` does: the schema with its version set, and the mapping minified.
  node -e '
    const fs = require("fs"); const [dir, version] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(dir + "/schema.json", "utf8")); schema.version = version;
    fs.writeFileSync("schema-embed.json", JSON.stringify(schema));
    fs.writeFileSync("terraform-mapping-embed.json", JSON.stringify(JSON.parse(fs.readFileSync(dir + "/terraform-mapping.json", "utf8"))));
  ' "$dir" "${v#v}"
  go build -o "$1/pulumi-resource-kubernetes" -ldflags "-s -w -X $mod/pkg/version.Version=${v#v}" .
}

# upstream_field NAME: a field of the current tool's upstream.env.
upstream_field() { sed -n "s/^$1=//p" upstream.env; }
# tree_hash DIR: the hash upstream.env pins a source folder to.
tree_hash() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64); }
# upstream_sources: the current tool's source folder under $CANARY_PLUGIN_SOURCES, checked.
upstream_sources() {
  local folder dir; folder=$(upstream_field folder); dir=${CANARY_PLUGIN_SOURCES:-}/$folder
  if [ -z "${CANARY_PLUGIN_SOURCES:-}" ] || [ ! -d "$dir" ]; then
    echo "tools/build.sh: $folder is built from its upstream sources, which the module proxy does not serve: set CANARY_PLUGIN_SOURCES to a folder holding $folder/ (README, \"The real tier\")" >&2
    return 2
  fi
  if [ "$(tree_hash "$dir")" != "$(upstream_field tree)" ]; then
    echo "tools/build.sh: $dir is not the source tree pinned in tools/$(basename "$PWD")/upstream.env" >&2
    return 2
  fi
  echo "$dir"
}
build_pulumi-language-nodejs() {
  local dir v; dir=$(upstream_sources); v=$(upstream_field version)
  (cd "$dir" && go build -o "$1/pulumi-language-nodejs" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" .)
}
build_pulumi-command() {
  local dir v; dir=$(upstream_sources); v=$(upstream_field version)
  (cd "$dir" && go build -o "$1/pulumi-resource-command" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$v" ./cmd/pulumi-resource-command)
}
build_actionlint() {
  local v; v=$(version github.com/rhysd/actionlint)
  go build -o "$1/" -ldflags "-s -w -X github.com/rhysd/actionlint.version=${v#v}" tool
}
# nektos/act: GitHub Actions' engine (expressions, matrices, outputs, timeouts), run in host mode.
build_act() {
  local v; v=$(version github.com/nektos/act)
  go build -o "$1/act" -ldflags "-s -w -X main.version=${v#v}" github.com/nektos/act
}
# Argo Rollouts: the controller and its kubectl plugin. The module's go.mod replaces the Kubernetes
# modules, so `go install` refuses it; tools/argo-rollouts/go.mod carries the same replace block.
build_argo-rollouts() {
  local v; v=$(version github.com/argoproj/argo-rollouts)
  go build -o "$1/" -ldflags "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=${v#v}" tool
  # The CustomResourceDefinitions of the same version, which the tier installs (kubectl apply --server-side).
  local crd
  for crd in "$(go list -m -f '{{.Dir}}' github.com/argoproj/argo-rollouts)"/manifests/crds/*-crd.yaml; do
    echo "---"; cat "$crd"
  done > "$1/argo-rollouts-crds.yaml"
}

# The cache key: the Go version, how the tool is built (its build_ function) and its folder's files.
key() {
  { go version; declare -f "build_$1"; cd "$tools_dir/$1" && find . -type f ! -name '*-embed.json' | sort | xargs cat; } |
    sha256sum | cut -c1-16
}

mkdir -p "$bin_dir" "$cache"
for name in "${selected[@]}"; do
  [ -d "$tools_dir/$name" ] || { echo "tools/build.sh: no tool named $name (one of: ${all[*]})" >&2; exit 2; }
  target=$cache/$name/$(key "$name")
  if [ ! -f "$target/.complete" ]; then
    echo "building $name into $target" >&2
    start=$SECONDS
    rm -rf "$target.tmp" && mkdir -p "$target.tmp"
    (cd "$tools_dir/$name" && "build_$name" "$target.tmp")
    touch "$target.tmp/.complete" && rm -rf "$target" && mv "$target.tmp" "$target"
    echo "built $name in $((SECONDS - start)) s" >&2
  fi
  for binary in "$target"/*; do ln -sfn "$binary" "$bin_dir/$(basename "$binary")"; done
done
