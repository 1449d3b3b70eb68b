#!/usr/bin/env bash
# Times `npm start` in a clone to the devnet's first summary, then stops it with SIGINT (README, "How long it takes").
#   scripts/time-start.sh [clone dir] [subnet]
#   e.g. git clone . /tmp/x && cp -a node_modules /tmp/x && scripts/time-start.sh /tmp/x   # a fresh clone
set -u
dir=$(cd "${1:-.}" && pwd)
subnet=${2:-127.0.27}
out=$(mktemp)
work=$(mktemp -d)
cd "$dir" && source scripts/node-env.sh >/dev/null 2>&1
start=$(date +%s.%N)
setsid npm start -- --subnet "$subnet" --work-dir "$work" >"$out" 2>&1 &
pid=$!
while ! grep -q 'name@height/aANCHORED' "$out"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "npm start exited before its first summary:" && tail -5 "$out"
    exit 1
  fi
  sleep 0.25
done
echo "first summary after $(echo "$(date +%s.%N) - $start" | bc) s (output: $out)"
kill -INT -"$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$work"
