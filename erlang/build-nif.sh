#!/bin/sh
# Builds the hbstore_nif crate and puts the library where hbstore_nif.erl
# loads it from (priv/hbstore_nif.so). Run by rebar3 before it compiles,
# from this directory, whether this application is built here or as a
# dependency of a node (`git_subdir` of the hbstore repository).
set -eu
cd "$(dirname "$0")"
workspace="$(cd .. && pwd)"
# The workspace's target directory, wherever CARGO_TARGET_DIR points it.
target="$(cargo metadata --manifest-path "$workspace/Cargo.toml" --format-version 1 --no-deps \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
cargo build --manifest-path "$workspace/Cargo.toml" -p hbstore-nif --lib
mkdir -p priv
cp "$target/debug/libhbstore_nif.so" priv/hbstore_nif.so.tmp
mv priv/hbstore_nif.so.tmp priv/hbstore_nif.so
