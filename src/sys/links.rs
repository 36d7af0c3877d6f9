//! Symbolic links written atomically: a temporary link next to the final name, then
//! `rename(2)` over it. A crash at any point leaves the old link or the new one, never
//! neither.

use std::io;
use std::os::unix::fs::symlink;
use std::path::Path;

/// Makes `link` a symbolic link to `target`, replacing whatever `link` was.
pub fn replace_symlink(target: &Path, link: &Path) -> io::Result<()> {
    let tmp = crate::sys::temporary_sibling(link)?;
    let _ = std::fs::remove_file(&tmp);
    symlink(target, &tmp)?;
    std::fs::rename(&tmp, link).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_links_and_files() {
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("S10x");
        replace_symlink(Path::new("../init.d/a"), &link).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("../init.d/a"));
        replace_symlink(Path::new("../init.d/b"), &link).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("../init.d/b"));
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "no temporary left behind"
        );
        let err =
            replace_symlink(Path::new("x"), &tmp.path().join("missing-dir/link")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
