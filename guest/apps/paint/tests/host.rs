//! Without a framebuffer, paint fails cleanly: one line, exit status 1.

#[test]
fn paint_without_a_framebuffer() {
    if std::path::Path::new("/dev/fb0").exists() {
        eprintln!("skipped: this machine has /dev/fb0 (paint would draw on it)");
        return;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paint")).output().expect("cannot run paint");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "paint: cannot open /dev/fb0: No such file or directory\n");
    assert_eq!(out.status.code(), Some(1));
}
