//! Non-secret state: the default service URL, and per-URL choices (the URL as
//! the user typed it, and whether certificate checks are skipped for it).
//! Kept as real booleans in `settings.json` beside the file store, written
//! with the same lock-and-rename discipline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fsutil;
use crate::service_url::ServiceUrl;

pub const FILE_NAME: &str = "settings.json";

pub struct Settings {
    path: PathBuf,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_service_url: Option<String>,
    #[serde(default)]
    connections: BTreeMap<String, Connection>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    /// The URL as typed, for display and requests.
    url: String,
    #[serde(default)]
    skip_cert_validation: bool,
}

impl Settings {
    pub fn new(config_dir: &Path) -> Self {
        Settings {
            path: config_dir.join(FILE_NAME),
        }
    }

    fn read(&self) -> Result<Document> {
        fsutil::read_json(&self.path)
    }

    fn update<R>(&self, change: impl FnOnce(&mut Document) -> (R, bool)) -> Result<R> {
        fsutil::update_json(&self.path, |doc: &mut Document| {
            doc.version = 1;
            Ok(change(doc))
        })
    }

    /// The default service URL (as typed when it was set), if any.
    pub fn default_service_url(&self) -> Result<Option<String>> {
        Ok(self.read()?.default_service_url)
    }

    pub fn set_default(&self, url: &ServiceUrl) -> Result<()> {
        let typed = url.as_str().to_string();
        self.update(|doc| {
            let changed = doc.default_service_url.as_deref() != Some(typed.as_str());
            doc.default_service_url = Some(typed);
            ((), changed)
        })
    }

    /// The URL as typed when this login was stored, if remembered.
    pub fn typed_url(&self, key: &str) -> Result<Option<String>> {
        Ok(self.read()?.connections.get(key).map(|c| c.url.clone()))
    }

    pub fn skip_cert_validation(&self, url: &ServiceUrl) -> Result<bool> {
        Ok(self
            .read()?
            .connections
            .get(url.key())
            .is_some_and(|c| c.skip_cert_validation))
    }

    /// Records a login in one write, so it lands whole or not at all: the URL
    /// as typed, the certificate choice for this URL alone (`None` keeps the
    /// current one) and, when asked, the URL as the default.
    pub fn record_login(
        &self,
        url: &ServiceUrl,
        skip_cert_validation: Option<bool>,
        make_default: bool,
    ) -> Result<()> {
        let key = url.key().to_string();
        let typed = url.as_str().to_string();
        self.update(|doc| {
            let skip = skip_cert_validation.unwrap_or_else(|| {
                doc.connections
                    .get(&key)
                    .is_some_and(|c| c.skip_cert_validation)
            });
            let connection = Connection {
                url: typed.clone(),
                skip_cert_validation: skip,
            };
            let old = doc.connections.insert(key, connection.clone());
            let mut changed = old.is_none_or(|o| {
                o.url != connection.url || o.skip_cert_validation != connection.skip_cert_validation
            });
            if make_default && doc.default_service_url.as_deref() != Some(typed.as_str()) {
                doc.default_service_url = Some(typed);
                changed = true;
            }
            ((), changed)
        })
    }

    pub fn set_skip_cert_validation(&self, url: &ServiceUrl, skip: bool) -> Result<()> {
        let key = url.key().to_string();
        let typed = url.as_str().to_string();
        self.update(|doc| {
            let entry = doc.connections.entry(key).or_insert_with(|| Connection {
                url: typed,
                skip_cert_validation: false,
            });
            let changed = entry.skip_cert_validation != skip;
            entry.skip_cert_validation = skip;
            ((), changed)
        })
    }

    /// Forgets everything about `url`; clears the default if it pointed there.
    /// Returns whether anything was removed.
    pub fn forget(&self, url: &ServiceUrl) -> Result<bool> {
        if !self.path.exists() {
            return Ok(false);
        }
        let key = url.key().to_string();
        self.update(|doc| {
            let mut changed = doc.connections.remove(&key).is_some();
            if doc
                .default_service_url
                .as_deref()
                .and_then(|d| ServiceUrl::parse(d).ok())
                .is_some_and(|d| d.key() == key)
            {
                doc.default_service_url = None;
                changed = true;
            }
            (changed, changed)
        })
    }

    /// Clears the default when it points at `url`.
    pub fn clear_default_if(&self, url: &ServiceUrl) -> Result<()> {
        if !self.path.exists() {
            return Ok(());
        }
        let key = url.key().to_string();
        self.update(|doc| {
            let points_here = doc
                .default_service_url
                .as_deref()
                .and_then(|d| ServiceUrl::parse(d).ok())
                .is_some_and(|d| d.key() == key);
            if points_here {
                doc.default_service_url = None;
            }
            ((), points_here)
        })
    }

    /// Forgets every URL and the default.
    pub fn forget_all(&self) -> Result<bool> {
        if !self.path.exists() {
            return Ok(false);
        }
        self.update(|doc| {
            let changed = doc.default_service_url.is_some() || !doc.connections.is_empty();
            doc.default_service_url = None;
            doc.connections.clear();
            (changed, changed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> ServiceUrl {
        ServiceUrl::parse(s).unwrap()
    }

    #[test]
    fn skip_cert_is_per_url_and_a_real_boolean() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::new(dir.path());
        let a = url("https://a.example/Org");
        let b = url("https://b.example/org");
        settings.record_login(&a, Some(true), false).unwrap();
        settings.record_login(&b, Some(false), false).unwrap();
        assert!(
            settings
                .skip_cert_validation(&url("https://A.example/org/"))
                .unwrap()
        );
        assert!(!settings.skip_cert_validation(&b).unwrap());
        let raw = std::fs::read_to_string(&settings.path).unwrap();
        assert!(raw.contains("\"skipCertValidation\": true"), "{raw}");
        assert!(settings.forget(&a).unwrap());
        assert!(!settings.skip_cert_validation(&a).unwrap());
    }

    #[test]
    fn forgetting_the_default_url_clears_it() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::new(dir.path());
        let a = url("https://dev.azure.com/Org");
        settings.record_login(&a, Some(false), false).unwrap();
        settings.set_default(&a).unwrap();
        assert_eq!(
            settings.default_service_url().unwrap().as_deref(),
            Some("https://dev.azure.com/Org")
        );
        settings
            .forget(&url("https://dev.azure.com/other"))
            .unwrap();
        assert!(settings.default_service_url().unwrap().is_some());
        settings.forget(&url("https://dev.azure.com/org/")).unwrap();
        assert_eq!(settings.default_service_url().unwrap(), None);
    }
}
