//! The fallback store where no OS keyring answers: one JSON file, mode 0600 in
//! a 0700 folder, replaced atomically under a lock (see `fsutil`). It survives
//! reboots; it is only as safe as the file permissions, which the warning says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::SecretStore;
use crate::error::Result;
use crate::fsutil;
use crate::secret::Secret;

pub const FILE_NAME: &str = "credentials.json";

pub struct FileStore {
    path: PathBuf,
}

#[derive(Default, Serialize, Deserialize)]
struct Document {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    credentials: BTreeMap<String, String>,
}

impl Drop for Document {
    fn drop(&mut self) {
        for secret in self.credentials.values_mut() {
            secret.zeroize();
        }
    }
}

impl FileStore {
    pub fn new(path: PathBuf) -> Self {
        FileStore { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Document> {
        fsutil::read_json(&self.path)
    }
}

impl SecretStore for FileStore {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        Ok(self
            .read()?
            .credentials
            .get(key)
            .map(|s| Zeroizing::new(s.clone())))
    }

    fn set(&self, key: &str, secret: &str) -> Result<()> {
        fsutil::update_json(&self.path, |doc: &mut Document| {
            doc.version = 1;
            if let Some(mut old) = doc.credentials.insert(key.to_string(), secret.to_string()) {
                old.zeroize();
            }
            Ok(((), true))
        })
    }

    fn delete(&self, key: &str) -> Result<bool> {
        if !self.path.exists() {
            return Ok(false);
        }
        fsutil::update_json(&self.path, |doc: &mut Document| {
            let removed = doc.credentials.remove(key).map(Zeroizing::new).is_some();
            Ok((removed, removed))
        })
    }

    fn list(&self) -> Result<Vec<(String, Secret)>> {
        Ok(self
            .read()?
            .credentials
            .iter()
            .map(|(k, v)| (k.clone(), Zeroizing::new(v.clone())))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_follows_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("tfx-auth").join(FILE_NAME));
        super::super::contract::run(&store, "https://example.com/f");
    }

    #[test]
    fn deleting_from_a_missing_file_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("tfx-auth").join(FILE_NAME));
        assert!(!store.delete("https://x").unwrap());
        assert!(!dir.path().join("tfx-auth").exists());
    }
}
