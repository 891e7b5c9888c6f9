//! Secrets larger than a store can hold, split into parts and joined again.
//!
//! Windows Credential Manager caps a credential blob at 2,560 bytes, and
//! keyring stores write the password as UTF-16 there, so about 1,280
//! characters fit; an Entra login (access token, refresh token, authority)
//! is 3-7 KiB. [`ChunkedStore`] wraps such a store:
//!
//! - A secret that fits is stored as is, under its key (nothing changes for
//!   PATs and Basic logins, and other tools still read them).
//! - A larger one is cut, on character boundaries, into parts stored under
//!   `<key>#part-<generation>-<n>` (`#` never occurs in a key: service URLs
//!   with a fragment are rejected). Then the key itself gets a small head,
//!   `tfx-auth-parts:1:<generation>:<count>:<bytes>`, and only after that are
//!   the previous generation's parts deleted.
//! - A reader follows the head and checks the joined length. Because parts
//!   are written before the head that names them and never rewritten, a
//!   reader sees either the old secret or the new one, never a mix; a reader
//!   that lost a race with a writer (its parts deleted under it) reads again.
//! - `list` hides parts and answers heads from the same one search.
//! - A head is believed only within what a real login needs
//!   ([`MAX_JOINED_BYTES`], and the parts that takes): one planted by another
//!   program in the user's keyring cannot make us allocate without bound or
//!   loop over billions of part keys; it is `STORE_ERROR`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use super::SecretStore;
use crate::error::{Error, Result};
use crate::secret::{MAX_SECRET_LEN, Secret};

const HEAD: &str = "tfx-auth-parts:1:";
const PART: &str = "#part-";

/// The largest secret a head may name: an Entra login holds two tokens of at
/// most [`MAX_SECRET_LEN`] each, an authority URL and a few ids (< 40 KiB).
pub const MAX_JOINED_BYTES: usize = 4 * MAX_SECRET_LEN;

/// How a store measures a secret against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Two bytes per UTF-16 code unit (Windows).
    Utf16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max_bytes: usize,
    pub encoding: Encoding,
}

/// `CRED_MAX_CREDENTIAL_BLOB_SIZE`, holding UTF-16.
pub const WINDOWS_CREDENTIAL_MANAGER: Limit = Limit {
    max_bytes: 2560,
    encoding: Encoding::Utf16,
};

impl Limit {
    fn size(&self, s: &str) -> usize {
        match self.encoding {
            Encoding::Utf8 => s.len(),
            Encoding::Utf16 => s.encode_utf16().count() * 2,
        }
    }

    fn fits(&self, s: &str) -> bool {
        self.size(s) <= self.max_bytes
    }

    /// The most parts [`MAX_JOINED_BYTES`] is cut into: a part holds at
    /// least a quarter of the limit in UTF-8 bytes (half, less one
    /// character, in UTF-16; the limit is at least 64).
    fn max_parts(&self) -> usize {
        MAX_JOINED_BYTES.div_ceil(self.max_bytes / 4)
    }
}

/// Cuts `secret` into the fewest parts that each fit `limit`, never inside a
/// character (a UTF-16 surrogate pair stays together).
pub fn split(secret: &str, limit: Limit) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (i, c) in secret.char_indices() {
        let n = match limit.encoding {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16() * 2,
        };
        if size + n > limit.max_bytes && i > start {
            parts.push(&secret[start..i]);
            start = i;
            size = 0;
        }
        size += n;
    }
    if start < secret.len() {
        parts.push(&secret[start..]);
    }
    parts
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    generation: String,
    count: usize,
    bytes: usize,
}

/// What a stored value is to the chunked store.
#[derive(Debug, PartialEq, Eq)]
enum Stored {
    /// A secret stored as it is.
    Whole,
    Head(Head),
    /// Starts like a head but is none we would write: a count or size beyond
    /// what a login needs, or not the head's shape.
    Corrupt,
}

impl Head {
    fn parse(stored: &str, limit: Limit) -> Stored {
        let Some(rest) = stored.strip_prefix(HEAD) else {
            return Stored::Whole;
        };
        Self::fields(rest)
            .filter(|h| {
                // Every part holds something, and no more parts than the limit needs.
                (1..=limit.max_parts()).contains(&h.count)
                    && (h.count..=MAX_JOINED_BYTES).contains(&h.bytes)
            })
            .map_or(Stored::Corrupt, Stored::Head)
    }

    fn fields(rest: &str) -> Option<Self> {
        let mut fields = rest.split(':');
        let generation = fields.next()?.to_string();
        let count = fields.next()?.parse().ok()?;
        let bytes = fields.next()?.parse().ok()?;
        (fields.next().is_none() && !generation.is_empty() && generation.len() <= 64).then_some(
            Head {
                generation,
                count,
                bytes,
            },
        )
    }

    fn render(&self) -> String {
        format!("{HEAD}{}:{}:{}", self.generation, self.count, self.bytes)
    }

    fn part_key(&self, key: &str, n: usize) -> String {
        format!("{key}{PART}{}-{n}", self.generation)
    }
}

pub struct ChunkedStore {
    inner: Arc<dyn SecretStore>,
    limit: Limit,
}

impl ChunkedStore {
    pub fn new(inner: Arc<dyn SecretStore>, limit: Limit) -> Self {
        assert!(
            limit.max_bytes >= 64,
            "a limit this small cannot hold a head"
        );
        ChunkedStore { inner, limit }
    }

    fn new_generation() -> String {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!(
            "{:x}{:x}{:x}",
            nanos,
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn head_of(&self, key: &str) -> Result<Option<(Secret, Stored)>> {
        Ok(self.inner.get(key)?.map(|stored| {
            let head = Head::parse(&stored, self.limit);
            (stored, head)
        }))
    }

    /// The head stored under `key`, if any; a corrupt one has no parts we
    /// could know, so there are none to delete.
    fn previous_head(&self, key: &str) -> Result<Option<Head>> {
        Ok(match self.head_of(key)? {
            Some((_, Stored::Head(head))) => Some(head),
            _ => None,
        })
    }

    /// Joins the parts a head names; `Ok(None)` when one is missing.
    fn join(
        &self,
        key: &str,
        head: &Head,
        listed: Option<&HashMap<String, Secret>>,
    ) -> Result<Option<Secret>> {
        let mut joined = Zeroizing::new(String::with_capacity(head.bytes));
        for n in 0..head.count {
            let part_key = head.part_key(key, n);
            let part = match listed {
                Some(map) => map.get(&part_key).cloned(),
                None => self.inner.get(&part_key)?,
            };
            match part {
                Some(part) => joined.push_str(&part),
                None => return Ok(None),
            }
        }
        Ok((joined.len() == head.bytes).then_some(joined))
    }

    fn delete_parts(&self, key: &str, head: &Head) -> Result<()> {
        for n in 0..head.count {
            self.inner.delete(&head.part_key(key, n))?;
        }
        Ok(())
    }
}

fn corrupt(key: &str) -> Error {
    Error::store(
        format!(
            "the stored login for {key} is damaged (its parts header is not one tfx-auth writes); log out and log in again"
        ),
        None,
    )
}

fn incomplete(key: &str) -> Error {
    Error::store(
        format!("the stored login for {key} is incomplete (a part is missing); log in again"),
        None,
    )
}

impl SecretStore for ChunkedStore {
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        // Twice: a writer may replace the parts between our reading the head and them.
        for _ in 0..2 {
            let Some((stored, head)) = self.head_of(key)? else {
                return Ok(None);
            };
            let head = match head {
                Stored::Whole => return Ok(Some(stored)),
                Stored::Corrupt => return Err(corrupt(key)),
                Stored::Head(head) => head,
            };
            if let Some(joined) = self.join(key, &head, None)? {
                return Ok(Some(joined));
            }
        }
        Err(incomplete(key))
    }

    fn set(&self, key: &str, secret: &str) -> Result<()> {
        if secret.len() > MAX_JOINED_BYTES {
            return Err(Error::store(
                format!("the login for {key} is larger than {MAX_JOINED_BYTES} bytes"),
                None,
            ));
        }
        let previous = self.previous_head(key)?;
        if self.limit.fits(secret) {
            self.inner.set(key, secret)?;
        } else {
            let parts = split(secret, self.limit);
            let head = Head {
                generation: Self::new_generation(),
                count: parts.len(),
                bytes: secret.len(),
            };
            for (n, part) in parts.iter().enumerate() {
                self.inner.set(&head.part_key(key, n), part)?;
            }
            self.inner.set(key, &head.render())?;
        }
        match previous {
            Some(old) => self.delete_parts(key, &old),
            None => Ok(()),
        }
    }

    fn delete(&self, key: &str) -> Result<bool> {
        let previous = self.previous_head(key)?;
        let removed = self.inner.delete(key)?;
        if let Some(old) = previous {
            self.delete_parts(key, &old)?;
        }
        Ok(removed)
    }

    fn list(&self) -> Result<Vec<(String, Secret)>> {
        let all: HashMap<String, Secret> = self.inner.list()?.into_iter().collect();
        let mut logins = Vec::new();
        for (key, stored) in &all {
            if key.contains(PART) {
                continue;
            }
            match Head::parse(stored, self.limit) {
                // A damaged login is listed as it is: a logout must still find it.
                Stored::Whole | Stored::Corrupt => logins.push((key.clone(), stored.clone())),
                Stored::Head(head) => match self.join(key, &head, Some(&all))? {
                    Some(joined) => logins.push((key.clone(), joined)),
                    // Written or deleted while we searched: read it on its own.
                    None => {
                        if let Some(secret) = self.get(key)? {
                            logins.push((key.clone(), secret));
                        }
                    }
                },
            }
        }
        Ok(logins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    const SMALL: Limit = Limit {
        max_bytes: 64,
        encoding: Encoding::Utf8,
    };

    fn store(limit: Limit) -> (Arc<MemoryStore>, ChunkedStore) {
        let inner = Arc::new(MemoryStore::default());
        (inner.clone(), ChunkedStore::new(inner, limit))
    }

    /// An Entra login's size: two JWT-like tokens and the rest.
    fn entra_like(len: usize) -> String {
        let token: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        format!(r#"entra:{{"v":1,"accessToken":"{token}","refreshToken":"{token}"}}"#)
    }

    #[test]
    fn chunked_store_follows_the_contract() {
        let (_, chunked) = store(SMALL);
        crate::store::contract::run(&chunked, "https://example.com/c");
        let (_, windows) = store(WINDOWS_CREDENTIAL_MANAGER);
        crate::store::contract::run(&windows, "https://example.com/w");
    }

    #[test]
    fn splits_respect_the_limit_and_character_boundaries() {
        let utf16 = Limit {
            max_bytes: 64,
            encoding: Encoding::Utf16,
        };
        for (text, limit) in [
            ("a".repeat(1000), SMALL),
            ("ä€😀x".repeat(100), SMALL),
            ("ä€😀x".repeat(100), utf16),
            ("😀".repeat(33), utf16),
            (entra_like(3000), WINDOWS_CREDENTIAL_MANAGER),
        ] {
            let parts = split(&text, limit);
            assert_eq!(parts.concat(), text);
            assert!(parts.iter().all(|p| !p.is_empty() && limit.fits(p)));
            // The fewest parts: each but the last is full up to one character.
            for p in &parts[..parts.len() - 1] {
                assert!(
                    limit.size(p) + 4 > limit.max_bytes,
                    "{} of {}",
                    limit.size(p),
                    limit.max_bytes
                );
            }
        }
        assert!(split("", SMALL).is_empty());
    }

    #[test]
    fn an_entra_login_round_trips_through_the_windows_limit() {
        let (inner, chunked) = store(WINDOWS_CREDENTIAL_MANAGER);
        let secret = entra_like(2600);
        chunked.set("https://dev.azure.com/org", &secret).unwrap();
        assert_eq!(
            chunked
                .get("https://dev.azure.com/org")
                .unwrap()
                .unwrap()
                .as_str(),
            secret
        );
        let items = inner.list().unwrap();
        assert_eq!(items.len(), 1 + secret.len().div_ceil(1280));
        assert!(
            items
                .iter()
                .all(|(_, s)| WINDOWS_CREDENTIAL_MANAGER.fits(s))
        );
        let listed = chunked.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].1.as_str(), secret);
    }

    #[test]
    fn small_secrets_are_stored_as_they_are() {
        let (inner, chunked) = store(WINDOWS_CREDENTIAL_MANAGER);
        chunked.set("k", "pat:abc").unwrap();
        assert_eq!(inner.get("k").unwrap().unwrap().as_str(), "pat:abc");
        assert_eq!(inner.list().unwrap().len(), 1);
    }

    #[test]
    fn replacing_removes_the_old_parts_whatever_the_sizes() {
        let (inner, chunked) = store(SMALL);
        let big = "b".repeat(300);
        let bigger = "c".repeat(500);
        chunked.set("k", &big).unwrap();
        chunked.set("k", &bigger).unwrap();
        assert_eq!(inner.list().unwrap().len(), 1 + 8);
        assert_eq!(chunked.get("k").unwrap().unwrap().as_str(), bigger);
        chunked.set("k", "small").unwrap();
        assert_eq!(inner.list().unwrap().len(), 1);
        chunked.set("k", &big).unwrap();
        assert!(chunked.delete("k").unwrap());
        assert!(inner.list().unwrap().is_empty());
        assert!(!chunked.delete("k").unwrap());
    }

    #[test]
    fn a_missing_part_is_a_store_error_not_a_wrong_secret() {
        let (inner, chunked) = store(SMALL);
        chunked.set("k", &"d".repeat(300)).unwrap();
        let part = inner
            .list()
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .find(|k| k.contains(PART))
            .unwrap();
        inner.delete(&part).unwrap();
        assert_eq!(chunked.get("k").unwrap_err().code(), "STORE_ERROR");
        assert_eq!(chunked.list().unwrap_err().code(), "STORE_ERROR");
    }

    #[test]
    fn a_reader_never_sees_a_mix_of_two_writes() {
        // The parts a head names are written before it and never rewritten:
        // after any prefix of a second write, a reader gets one whole secret.
        let (inner, chunked) = store(SMALL);
        let first = "1".repeat(200);
        let second = "2".repeat(260);
        chunked.set("k", &first).unwrap();
        let head = Head {
            generation: "next".into(),
            count: 0,
            bytes: second.len(),
        };
        for (n, part) in split(&second, SMALL).iter().enumerate() {
            inner.set(&head.part_key("k", n), part).unwrap();
            assert_eq!(chunked.get("k").unwrap().unwrap().as_str(), first);
        }
    }

    #[test]
    fn heads_are_parsed_strictly() {
        let head = Head {
            generation: "ab12".into(),
            count: 3,
            bytes: 70,
        };
        assert_eq!(Head::parse(&head.render(), SMALL), Stored::Head(head));
        assert_eq!(
            Head::parse("pat:tfx-auth-parts:1:g:1:1", SMALL),
            Stored::Whole
        );
        for bad in [
            "tfx-auth-parts:1:",
            "tfx-auth-parts:1:g:0:5",
            "tfx-auth-parts:1:g:x:5",
            "tfx-auth-parts:1:g:2:5:9",
            "tfx-auth-parts:1:g:3:2",
            "tfx-auth-parts:1:g:1:18446744073709551615",
            "tfx-auth-parts:1:g:18446744073709551615:18446744073709551615",
            "tfx-auth-parts:1:g:18446744073709551616:5",
        ] {
            assert_eq!(Head::parse(bad, SMALL), Stored::Corrupt, "{bad}");
        }
    }

    mod planted;
}
