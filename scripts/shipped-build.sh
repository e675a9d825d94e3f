# Sourced by scripts/build-pkg.sh and scripts/size.sh: how the shipped wasm is compiled.
#
# core and alloc are rebuilt from the toolchain's own sources (rustup's rust-src component) with
# `-Cpanic=immediate-abort`: a panic is then a bare trap, and the formatting machinery, panic
# messages and source locations core's prebuilt panic paths carry (bounds checks, RefCell
# borrows, allocation failure, in our code and in js-sys and wasm-bindgen) are not in the wasm.
# `-Zlocation-detail=none` drops the source file names and lines those paths still referenced.
# The browser build already trapped on panic without printing, so nothing observable changes;
# 3.0 KB brotli go (2.75 KB and 0.25 KB). These are unstable flags of the installed stable
# toolchain, enabled with RUSTC_BOOTSTRAP for this build only (the native tests, clippy and
# tests/browser.rs build as usual), in a target directory of its own so it never thrashes theirs.
# Measured and not taken: core's `optimize_for_size` feature (+3 B), opt-level "s" (+3.4 KB),
# `-Zinline-mir=no` (0 B), an LLVM inline threshold of 0 (+136 B).
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=core,alloc
export RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"
export CARGO_TARGET_DIR="$PWD/target/shipped"
