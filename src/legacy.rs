//! tfx-cli's plaintext logins: `~/.tfx/<escaped URL>/.allusers` holding
//! `pat:<token>` or `basic:<user>:<password>`, plus `~/.tfx/cache/.connection`
//! (the last login URL) and `.skipCertValidation`. We only read and delete.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::credential::{Credential, Secret};
use crate::error::{Error, Result};
use crate::service_url::{ServiceUrl, legacy_unescape};

/// tfx-cli's only "user" name.
const USER_FILE: &str = ".allusers";
/// tfx-cli treats a stored string shorter than this as missing.
const MIN_STORED_LEN: usize = 7;

pub struct LegacyDir {
    root: PathBuf,
}

/// One plaintext login file.
pub struct LegacyFile {
    pub path: PathBuf,
    /// The folder name (tfx-cli's escaped URL).
    pub name: String,
    /// The URL read back from the folder name, when unambiguous.
    pub url: Option<String>,
}

impl LegacyDir {
    /// `home` is the user's home folder; tfx-cli keeps everything in `home/.tfx`.
    pub fn new(home: &Path) -> Self {
        LegacyDir {
            root: home.join(".tfx"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The plaintext login tfx-cli would have used for `url`, if any.
    /// tfx-cli kept the URL's case, so after the exact names a folder whose
    /// name matches case-insensitively counts too.
    pub fn find(&self, url: &ServiceUrl) -> Result<Option<(PathBuf, Credential)>> {
        let names = url.legacy_names();
        for name in &names {
            let path = self.root.join(name).join(USER_FILE);
            if let Some(credential) = read_login(&path)? {
                return Ok(Some((path, credential)));
            }
        }
        for file in self.all()? {
            if names.iter().any(|n| n.eq_ignore_ascii_case(&file.name))
                && let Some(credential) = read_login(&file.path)?
            {
                return Ok(Some((file.path, credential)));
            }
        }
        Ok(None)
    }

    /// Every plaintext login file under `~/.tfx`.
    pub fn all(&self) -> Result<Vec<LegacyFile>> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(format!("cannot list {}", self.root.display()), e)),
        };
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path().join(USER_FILE);
            if name != "cache" && path.is_file() {
                files.push(LegacyFile {
                    url: legacy_unescape(&name),
                    path,
                    name,
                });
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }

    /// Reads one plaintext login; `Ok(None)` when absent or too short for tfx-cli.
    pub fn read(&self, file: &LegacyFile) -> Result<Option<Credential>> {
        read_login(&file.path)
    }

    /// Deletes a plaintext login file and its folder when that is left empty.
    pub fn remove(&self, path: &Path) -> Result<()> {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("cannot delete {}", path.display()), e)),
        }
        if let Some(folder) = path.parent() {
            // Fails harmlessly when the folder still holds something else.
            let _ = fs::remove_dir(folder);
        }
        Ok(())
    }

    /// tfx-cli's last login URL (`cache/.connection`).
    pub fn cached_connection(&self) -> Option<String> {
        let raw = fs::read_to_string(self.root.join("cache").join(".connection")).ok()?;
        let url = raw.trim();
        (!url.is_empty()).then(|| url.to_string())
    }

    /// tfx-cli's `.skipCertValidation` flag, read as the boolean it meant.
    pub fn cached_skip_cert_validation(&self) -> bool {
        fs::read_to_string(self.root.join("cache").join(".skipCertValidation"))
            .map(|s| s.trim() == "true")
            .unwrap_or(false)
    }
}

fn read_login(path: &Path) -> Result<Option<Credential>> {
    let raw: Secret = match fs::read_to_string(path) {
        Ok(s) => Zeroizing::new(s),
        Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
            return Ok(None);
        }
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    let stored = raw.trim_end_matches(['\r', '\n']);
    if stored.len() < MIN_STORED_LEN {
        return Ok(None);
    }
    Credential::from_stored(stored).map(Some).map_err(|e| {
        Error::store(
            format!(
                "the tfx-cli login in {} cannot be read ({e})",
                path.display()
            ),
            None,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_tfx_login(home: &Path, url: &str, stored: &str) -> PathBuf {
        let dir = home
            .join(".tfx")
            .join(crate::service_url::legacy_escape(url));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(USER_FILE);
        fs::write(&path, stored).unwrap();
        path
    }

    #[test]
    fn finds_the_login_tfx_wrote_for_a_url() {
        let home = tempfile::tempdir().unwrap();
        write_tfx_login(home.path(), "https://dev.azure.com/Org", "pat:legacy-token");
        let legacy = LegacyDir::new(home.path());
        let url = ServiceUrl::parse("https://dev.azure.com/Org/").unwrap();
        let (_, cred) = legacy.find(&url).unwrap().unwrap();
        assert_eq!(cred.secret(), "legacy-token");
        let files = legacy.all().unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].url.as_deref(), Some("https://dev.azure.com/Org"));
    }

    #[test]
    fn short_strings_count_as_missing_like_tfx() {
        let home = tempfile::tempdir().unwrap();
        write_tfx_login(home.path(), "https://x.example/o", "pat:ab");
        let url = ServiceUrl::parse("https://x.example/o").unwrap();
        assert!(LegacyDir::new(home.path()).find(&url).unwrap().is_none());
    }

    #[test]
    fn remove_deletes_the_file_and_its_empty_folder() {
        let home = tempfile::tempdir().unwrap();
        let path = write_tfx_login(home.path(), "https://x.example/o", "pat:abcdefgh");
        LegacyDir::new(home.path()).remove(&path).unwrap();
        assert!(!path.exists());
        assert!(!path.parent().unwrap().exists());
    }
}
