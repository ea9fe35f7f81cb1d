// A static executable with its own `_start` (ulib's): no C start files, no
// libc, no dynamic loader. Only the binary gets these flags (test and host
// builds of the libraries stay ordinary).
fn main() {
    println!("cargo:rustc-link-arg-bins=-nostartfiles");
    println!("cargo:rustc-link-arg-bins=-static");
    println!("cargo:rustc-link-arg-bins=-no-pie");
    println!("cargo:rerun-if-changed=build.rs");
}
