//! The committed ROM images are what their sources assemble to: with nasm installed
//! (CI installs it), every test-roms/*.asm is assembled and compared byte for byte with
//! the committed .bin.

mod common;

use std::process::Command;

#[test]
fn committed_images_match_their_sources() {
    if Command::new("nasm").arg("-v").output().is_err() {
        eprintln!("skipped: nasm is not installed, so the sources cannot be re-assembled");
        return;
    }
    let dir = common::rom_dir();
    let out_dir = std::env::temp_dir().join(format!("rx86-roms-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let src = e.unwrap().path();
        if src.extension().is_none_or(|x| x != "asm") {
            continue;
        }
        let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
        let out = out_dir.join(format!("{stem}.bin"));
        let st = Command::new("nasm")
            .current_dir(&dir)
            .args(["-f", "bin", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("run nasm");
        assert!(st.success(), "nasm failed on {stem}.asm");
        let built = std::fs::read(&out).unwrap();
        let committed = std::fs::read(dir.join(format!("{stem}.bin")))
            .unwrap_or_else(|_| panic!("{stem}.bin is not committed"));
        assert!(
            built == committed,
            "{stem}.bin is stale: run test-roms/build.sh"
        );
        checked += 1;
    }
    std::fs::remove_dir_all(&out_dir).ok();
    assert!(checked >= 10, "only {checked} ROM sources found");
}
