//! tfx-cli's plaintext logins: `~/.tfx/<escaped URL>/.allusers` holding
//! `pat:<token>` or `basic:<user>:<password>`, plus `~/.tfx/cache/.connection`
//! (the last login URL) and `.skipCertValidation`. We only read and delete.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::service_url::{ServiceUrl, legacy_escape, legacy_unescape};

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
    /// Which URL the folder belongs to, as far as can be told.
    pub owner: Owner,
}

impl LegacyDir {
    /// `home` is the user's home folder; tfx-cli keeps everything in `home/.tfx`.
    pub fn new(home: &Path) -> Self {
        LegacyDir {
            root: home.join(".tfx"),
        }
    }

    /// The plaintext login tfx-cli left for `url`, if any, and only when the
    /// folder is certainly `url`'s ([`owner_of`]): tfx-cli's escaping drops
    /// every `:`, so `http://127.0.0.1:18081/x` and `http://127.0.0.11:8081/x`
    /// share a folder, and a login must never reach a host it was not made for.
    /// tfx-cli kept the URL's case, so folders match case-insensitively.
    pub fn find(&self, url: &ServiceUrl) -> Result<Option<(PathBuf, Credential)>> {
        let names = url.legacy_names();
        let cached = self.cached_connection();
        for file in self.all()? {
            // A link, FIFO or device is no login to use (the migration reports it).
            let plain = fs::symlink_metadata(&file.path).is_ok_and(|m| m.file_type().is_file());
            if plain
                && names.iter().any(|n| n.eq_ignore_ascii_case(&file.name))
                && owner_of(&file.name, cached.as_deref()).is_owned_by(url)
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
        let cached = self.cached_connection();
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path().join(USER_FILE);
            // Neither a linked folder nor a linked file: through a link another
            // URL's login would be read for this one, and deleted after.
            // (`DirEntry::file_type` and `symlink_metadata` do not follow links.)
            let real_folder = entry.file_type().is_ok_and(|t| t.is_dir());
            let listed = fs::symlink_metadata(&path).is_ok_and(|m| !m.file_type().is_dir());
            if name != "cache" && real_folder && listed {
                files.push(LegacyFile {
                    owner: owner_of(&name, cached.as_deref()),
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

    /// `cache/<name>`, when `cache` is a real folder (not a link elsewhere).
    fn cache_file(&self, name: &str) -> Option<PathBuf> {
        let cache = self.root.join("cache");
        let real = fs::symlink_metadata(&cache).is_ok_and(|m| m.file_type().is_dir());
        real.then(|| cache.join(name))
    }

    /// tfx-cli's last login URL (`cache/.connection`).
    pub fn cached_connection(&self) -> Option<String> {
        let raw = read_own(&self.cache_file(".connection")?).ok()??;
        let url = raw.trim();
        (!url.is_empty()).then(|| url.to_string())
    }

    /// Deletes tfx-cli's `cache/.connection` and `cache/.skipCertValidation`
    /// (and the `cache` folder when that leaves it empty).
    pub fn remove_cached_connection(&self) -> Result<()> {
        let cache = self.root.join("cache");
        for name in [".connection", ".skipCertValidation"] {
            let Some(path) = self.cache_file(name) else {
                return Ok(());
            };
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("cannot delete {}", path.display()), e)),
            }
        }
        // Fails harmlessly when tfx-cli keeps other files there (`--save`).
        let _ = fs::remove_dir(&cache);
        Ok(())
    }

    /// tfx-cli's `.skipCertValidation` flag, read as the boolean it meant.
    pub fn cached_skip_cert_validation(&self) -> bool {
        self.cache_file(".skipCertValidation")
            .and_then(|path| read_own(&path).ok())
            .flatten()
            .is_some_and(|s| s.trim() == "true")
    }
}

/// Which URL a plaintext login folder belongs to. tfx-cli named the folder
/// after the URL with every `:` removed and `/` turned into `_`, so a name
/// can stand for several URLs; this is the one rule both the migration of
/// every login and the migration on first use follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Exactly one URL: the name reads back one way, or tfx-cli's
    /// `cache/.connection` (its last login) names a URL with this very folder.
    Url(String),
    /// One origin (normalised `scheme://host[:port]`), but a `_` in the path
    /// may have been a `/` or a `_`: the URL in use on that origin tells which;
    /// without one, `likely_url` is the reading tfx-cli accepts (a path of one
    /// segment, or `/tfs/<collection>`: lib/connection.js).
    Origin { origin: String, likely_url: String },
    /// Not even the host can be told: a port glued to a host ending in
    /// digits (`127.0.0.118081` is `127.0.0.1:18081` or `127.0.0.11:8081`),
    /// or a name that is no escaped http(s) URL.
    Unknown,
}

impl Owner {
    /// Whether a login for `url` may be taken from this folder: only when the
    /// folder certainly belongs to `url`'s host, never on a guess.
    pub fn is_owned_by(&self, url: &ServiceUrl) -> bool {
        match self {
            Owner::Url(owner) => ServiceUrl::parse(owner).is_ok_and(|o| o.key() == url.key()),
            Owner::Origin { origin, .. } => *origin == url.origin_key(),
            Owner::Unknown => false,
        }
    }
}

/// The owner of the folder `name`. The host part of a name is read up to its
/// first `_`, unless the name could also be read with a longer host holding
/// `_` (`tfs.my_host.local8080_x`): then the host is not certain.
pub fn owner_of(name: &str, cached_connection: Option<&str>) -> Owner {
    // The tie-breaker: tfx-cli wrote this folder for its last login's URL.
    if let Some(cached) = cached_connection
        && (legacy_escape(cached) == name || legacy_escape(cached.trim_end_matches('/')) == name)
    {
        return Owner::Url(cached.to_string());
    }
    let Some(read) = legacy_unescape(name) else {
        return Owner::Unknown;
    };
    if host_may_hold_underscores(name) {
        return Owner::Unknown;
    }
    // `legacy_unescape` read every `_` of the path as `/`.
    let path = name
        .split_once("__")
        .and_then(|(_, rest)| rest.split_once('_'))
        .map(|(_, path)| path);
    let Some(path) = path.filter(|p| p.contains('_')) else {
        return Owner::Url(read);
    };
    let Ok(url) = ServiceUrl::parse(&read) else {
        return Owner::Unknown;
    };
    let origin = url.origin_key();
    let likely_path = match path.strip_prefix("tfs_") {
        Some(collection) => format!("tfs/{collection}"),
        None => path.to_string(),
    };
    let scheme_host = &read[..read.len() - path.len()];
    Owner::Origin {
        likely_url: format!("{scheme_host}{likely_path}"),
        origin,
    }
}

/// Whether a longer host than the one before the first `_` is a plausible
/// reading of `name`: a dotted name whose last label is a top-level domain
/// (letters, before any glued port). Single-label hosts holding `_` are not
/// told apart (a known limit: such names are rare, and stock tfx-cli itself
/// reads the folder for either URL).
fn host_may_hold_underscores(name: &str) -> bool {
    let Some((_, rest)) = name.split_once("__") else {
        return false;
    };
    let chunks: Vec<&str> = rest.split('_').collect();
    (2..=chunks.len()).any(|n| {
        let host = chunks[..n].join("_");
        let last_label = host.rsplit('.').next().unwrap_or_default();
        let tld = last_label.trim_end_matches(|c: char| c.is_ascii_digit());
        host.contains('.') && !tld.is_empty() && tld.chars().all(|c| c.is_ascii_alphabetic())
    })
}

/// Reads a file of tfx-cli's; `Ok(None)` when it is missing or belongs to
/// another user (who could otherwise plant a login, a default URL or the
/// certificate choice in a `~/.tfx` they can write).
/// tfx-cli's files hold a URL, a flag or one login: a few KiB at most.
const MAX_LEGACY_FILE_BYTES: u64 = 64 * 1024;

/// A file of tfx-cli's, read as [`crate::fsutil::read_regular_file`] reads
/// (no link, FIFO or device; at most [`MAX_LEGACY_FILE_BYTES`]). One another
/// user owns is not ours to read: `Ok(None)`, as if absent.
fn read_own(path: &Path) -> std::io::Result<Option<Zeroizing<String>>> {
    let raw = match crate::fsutil::read_regular_file(path, MAX_LEGACY_FILE_BYTES) {
        Ok(Some(raw)) => raw,
        Ok(None) => return Ok(None),
        Err(e) if e.kind() == ErrorKind::PermissionDenied && e.raw_os_error().is_none() => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let text = std::str::from_utf8(&raw)
        .map_err(|_| std::io::Error::new(ErrorKind::InvalidData, "not UTF-8 text"))?;
    Ok(Some(Zeroizing::new(text.to_string())))
}

fn read_login(path: &Path) -> Result<Option<Credential>> {
    let raw: Secret = match read_own(path) {
        Ok(Some(text)) => text,
        Ok(None) => return Ok(None),
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
        assert_eq!(
            files[0].owner,
            Owner::Url("https://dev.azure.com/Org".into())
        );
    }

    #[test]
    fn a_folder_is_only_as_certain_as_its_name() {
        let cases = [
            (
                "https__dev.azure.com_org",
                Some("https://dev.azure.com/org"),
            ),
            (
                "http__tfs.contoso.com8080_tfs_DefaultCollection",
                Some("http://tfs.contoso.com:8080/tfs/DefaultCollection"),
            ),
            // A port glued to an address: 127.0.0.1:18081 or 127.0.0.11:8081.
            ("http__127.0.0.118081_x", None),
            // `tfs.my_host.local:8080/x`, or `tfs.my/host.local8080/x`.
            ("http__tfs.my_host.local8080_x", None),
            ("cache", None),
        ];
        for (name, expected) in cases {
            let owner = owner_of(name, None);
            let url = match &owner {
                Owner::Url(u) => Some(u.as_str()),
                Owner::Origin { likely_url, .. } => Some(likely_url.as_str()),
                Owner::Unknown => None,
            };
            assert_eq!(url, expected, "{name}");
        }
        let named = owner_of("http__127.0.0.118081_x", Some("http://127.0.0.1:18081/x"));
        assert_eq!(named, Owner::Url("http://127.0.0.1:18081/x".into()));
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

#[cfg(all(test, unix))]
mod planted;
