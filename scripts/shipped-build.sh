# Sourced by scripts/build-pkg.sh and scripts/size.sh: how the shipped wasm is compiled.
#
# core and alloc are rebuilt from the toolchain's own sources (rustup's rust-src component) with
# `-Cpanic=immediate-abort`: a panic is then a bare trap, and the formatting machinery, panic
# messages and source locations core's prebuilt panic paths carry (bounds checks, RefCell
# borrows, allocation failure, in our code and in js-sys and wasm-bindgen) are not in the wasm.
# The browser build already trapped on panic without printing, so nothing observable changes;
# 2.7 KB brotli go. Both are unstable flags of the installed stable toolchain, enabled with
# RUSTC_BOOTSTRAP for this build only (the native tests, clippy and tests/browser.rs build as
# usual), in a target directory of its own so it never thrashes theirs.
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=core,alloc
export RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort"
export CARGO_TARGET_DIR="$PWD/target/shipped"
