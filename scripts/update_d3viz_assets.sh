#!/usr/bin/env bash
# Refresh the graph-layout assets that opcore.d3viz inlines into its HTML pages, from the npm
# registry: bash scripts/update_d3viz_assets.sh [CYTOSCAPE_VERSION] [DAGRE_VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
cy=${1:-3.34.4}
dg=${2:-3.1.3}
dest=opcore/d3viz/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "cytoscape@$cy" "@dagrejs/dagre@$dg" >/dev/null)
tar xzf "$tmp/cytoscape-$cy.tgz" -C "$tmp" && mv "$tmp/package" "$tmp/cy"
tar xzf "$tmp/dagrejs-dagre-$dg.tgz" -C "$tmp" && mv "$tmp/package" "$tmp/dg"
cp "$tmp/cy/dist/cytoscape.min.js" "$dest/cytoscape.min.js"
cp "$tmp/cy/LICENSE" "$dest/LICENSE.cytoscape"
cp "$tmp/dg/dist/dagre.min.js" "$dest/dagre.min.js"
cp "$tmp/dg/LICENSE" "$dest/LICENSE.dagre"
echo "updated $dest: cytoscape $cy, @dagrejs/dagre $dg (edit the versions in $dest/README.md)"
