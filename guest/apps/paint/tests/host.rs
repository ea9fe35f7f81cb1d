//! Without a framebuffer, paint fails cleanly: one line, exit status 1.

#[test]
fn paint_without_a_framebuffer() {
    assert!(
        !std::path::Path::new("/dev/fb0").exists(),
        "this test checks how paint fails without a framebuffer, and this machine has /dev/fb0 (paint would draw on it): run it where there is none (build machines and CI have none)"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paint")).output().expect("cannot run paint");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "paint: cannot open /dev/fb0: No such file or directory\n");
    assert_eq!(out.status.code(), Some(1));
}
