#!/usr/bin/env bash
# Builds the container image (cli's Maven profile "image": Jib on scratch with a jlinked JVM, no
# registry or daemon needed) and runs its entrypoint the way a container runtime would: the layers
# unpacked into an empty root, the image's own entrypoint, user and working directory, chrooted
# (as root, with /proc mounted as a runtime does; otherwise run from outside the root). Prints the image's size.
#   deploy/image/check.sh [extra mvn args, e.g. -o]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
mvn -B -q -Pimage -pl cli -am package -DskipTests -Dmaven.test.skip=true "$@"
tar_file="$root/cli/target/jib-image.tar"
work="$(mktemp -d)"
trap 'umount "$work/rootfs/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/image" "$work/rootfs"
tar -xf "$tar_file" -C "$work/image" 2>/dev/null
read -r -a layers < <(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$work/image/manifest.json")
for layer in "${layers[@]}"; do tar -xzf "$work/image/$layer" -C "$work/rootfs" 2>/dev/null; done
config="$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/manifest.json"))[0]; print(sys.argv[1]+"/"+m["Config"])' "$work/image")"
mapfile -t entrypoint < <(python3 -c 'import json,sys; [print(a) for a in json.load(open(sys.argv[1]))["config"]["Entrypoint"]]' "$config")
user="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"].get("User",""))' "$config")"
echo "image: $(du -h "$tar_file" | cut -f1) as a tar, $(du -sh "$work/rootfs" | cut -f1) unpacked; entrypoint: ${entrypoint[*]}; user: $user" >&2
mkdir -p "$work/rootfs/tmp" "$work/rootfs/proc"
# The JVM finds its own libraries through /proc/self/exe ($ORIGIN), which every runtime mounts.
if [ "$(id -u)" -eq 0 ] && command -v chroot >/dev/null && mount -t proc proc "$work/rootfs/proc" 2>/dev/null; then
  out="$(chroot --userspec="$user" "$work/rootfs" "${entrypoint[@]}" --help)"
else
  # No chroot without root: the image's JVM and jars, from outside the root.
  cp="$(sed "s#/app/#$work/rootfs/app/#g" "$work/rootfs/app/jib-classpath-file")"
  out="$("$work/rootfs${entrypoint[0]}" -cp "$cp" "${entrypoint[@]:3}" --help)"
fi
echo "$out" | head -5
echo "$out" | grep -q "control-plane" || { echo "image check: the entrypoint did not list the commands" >&2; exit 1; }
echo "image check: entrypoint ran" >&2
