//! An in-process store for tests of the layers above the store. It can be told
//! to fail the next call, to exercise error paths without a broken keyring.

use std::collections::BTreeMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

use super::SecretStore;
use crate::error::{Error, Result};
use crate::secret::Secret;

#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<String, Secret>>,
    fail_next: Mutex<Option<Error>>,
}

impl MemoryStore {
    /// The next call (of any kind) fails with `err`.
    pub fn fail_next(&self, err: Error) {
        *self.fail_next.lock().unwrap() = Some(err);
    }

    fn check(&self) -> Result<()> {
        match self.fail_next.lock().unwrap().take() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.check()?;
        Ok(self.items.lock().unwrap().get(key).cloned())
    }

    fn set(&self, key: &str, secret: &str) -> Result<()> {
        self.check()?;
        self.items
            .lock()
            .unwrap()
            .insert(key.to_string(), Zeroizing::new(secret.to_string()));
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<bool> {
        self.check()?;
        Ok(self.items.lock().unwrap().remove(key).is_some())
    }

    fn list(&self) -> Result<Vec<(String, Secret)>> {
        self.check()?;
        Ok(self
            .items
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_store_follows_the_contract() {
        super::super::contract::run(&super::MemoryStore::default(), "https://example.com/m");
    }
}
