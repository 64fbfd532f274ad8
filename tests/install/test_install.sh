#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds examples/ against it three ways:
# pkg-config (shared), pkg-config --static, and CMake's find_package(tvkit). Each example binary
# must run and produce output; the shared one must load libtvkit from the prefix (SONAME).
set -euo pipefail
build=$1 src=$2 san=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
prefix=$tmp/prefix
libdir=$(ls -d "$prefix"/lib*/ | head -1); libdir=${libdir%/}
test -f "$prefix/include/tvkit/tvkit.h" || { echo "FAIL: headers not installed"; exit 1; }
test -f "$libdir/libtvkit.a" || { echo "FAIL: static library not installed"; exit 1; }
soname=$(objdump -p "$libdir/libtvkit.so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libtvkit.so.0" ] || { echo "FAIL: SONAME is '$soname', want libtvkit.so.0"; exit 1; }
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pkg-config --exists tvkit || { echo "FAIL: tvkit.pc not found"; exit 1; }
fails=0
for ex in "$src"/examples/*.c; do
  name=$(basename "$ex" .c)
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Werror $san "$ex" -o "$tmp/$name-shared" $(pkg-config --cflags --libs tvkit)
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Werror $san "$ex" -o "$tmp/$name-static" $(pkg-config --cflags tvkit) \
     "$libdir/libtvkit.a" $(pkg-config --static --libs-only-l tvkit | sed 's/-ltvkit//')
  # (no `ldd | grep -q`: with pipefail, grep quitting early fails the pipeline through SIGPIPE)
  deps=$(LD_LIBRARY_PATH="$libdir" ldd "$tmp/$name-shared")
  grep -q "$libdir/libtvkit.so.0" <<<"$deps" ||
    { echo "FAIL: $name-shared does not load libtvkit from the prefix"; fails=1; }
done
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/decode_message-shared")
grep -q '^heartbeat k=7$' <<<"$out" || { echo "FAIL: shared example output: $out"; fails=1; }
grep -q 'sds_1 i=0 t=1728013500 o=356.1 h=363.6 l=355 c=361.4 v=207578' <<<"$out" ||
  { echo "FAIL: shared example bars: $out"; fails=1; }
out2=$("$tmp/decode_message-static")
[ "$out" = "$out2" ] || { echo "FAIL: static and shared examples differ"; fails=1; }
if [ -z "$san" ]; then
  cmake -S "$src/examples" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$tmp/cm" >/dev/null
  out3=$(LD_LIBRARY_PATH="$libdir" "$tmp/cm/decode_message")
  [ "$out" = "$out3" ] || { echo "FAIL: CMake-package example output differs"; fails=1; }
fi
[ $fails -eq 0 ] && echo "install_examples: OK (prefix $prefix, SONAME $soname)"
exit $fails
