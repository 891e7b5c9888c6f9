//! Access tokens from the Azure CLI: `az account get-access-token --resource
//! 499b84ac-1321-427f-aa17-267ca6975798 --output json` when `az` is on PATH.
//! JSON rather than `--query accessToken -o tsv`, because it also carries the
//! expiry (`expires_on`, az 2.54 and later; else the token's `exp` claim).
//! Where the token may go is [`crate::entra::hosts`]' rule, as for every Entra token.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::credential::EntraToken;
use crate::entra::RESOURCE;
use crate::error::{Error, Result};

/// `az` starts Python and may renew its own token over the network.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// The `az` executable on `path`, if any (`az.cmd` / `az.exe` on Windows).
pub fn find_az(path: Option<&OsStr>) -> Option<PathBuf> {
    let names: &[&str] = if cfg!(windows) {
        &["az.cmd", "az.exe", "az.bat"]
    } else {
        &["az"]
    };
    std::env::split_paths(path?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|candidate| candidate.is_file())
}

/// The arguments after `az`.
pub fn arguments(tenant: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = [
        "account",
        "get-access-token",
        "--resource",
        RESOURCE,
        "--output",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(tenant) = tenant {
        args.extend(["--tenant".to_string(), tenant.to_string()]);
    }
    args
}

/// An access token from the Azure CLI; `Ok(None)` when `az` is not on PATH.
///
/// # Errors
/// `AZURE_CLI_ERROR` when `az` fails (not logged in, no access), hangs past
/// [`TIMEOUT`], or prints something that is not a token.
pub async fn token(path: Option<&OsStr>, tenant: Option<&str>) -> Result<Option<EntraToken>> {
    let Some(az) = find_az(path) else {
        return Ok(None);
    };
    let mut command = command_for(&az);
    command
        .args(arguments(tenant))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let failed = |reason: String| Error::AzureCli { reason };
    let child = command
        .spawn()
        .map_err(|e| failed(format!("cannot run {} ({e})", az.display())))?;
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| failed(format!("az did not answer within {} s", TIMEOUT.as_secs())))?
        .map_err(|e| failed(format!("cannot read what az printed ({e})")))?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(failed(format!(
            "az account get-access-token failed ({})",
            first_line(&output.stderr).unwrap_or_else(|| output.status.to_string())
        )));
    }
    parse_output(&stdout).map(Some)
}

fn command_for(az: &Path) -> tokio::process::Command {
    if cfg!(windows) {
        // az is a batch file there; only cmd.exe runs those.
        let mut command = tokio::process::Command::new("cmd.exe");
        command.arg("/d").arg("/c").arg(az);
        command
    } else {
        tokio::process::Command::new(az)
    }
}

/// Reads `az account get-access-token --output json`.
///
/// # Errors
/// `AZURE_CLI_ERROR` when there is no usable access token in it.
pub fn parse_output(stdout: &[u8]) -> Result<EntraToken> {
    let unusable = || Error::AzureCli {
        reason: "az printed no usable access token".into(),
    };
    let mut value: serde_json::Value = serde_json::from_slice(stdout).map_err(|_| unusable())?;
    let access_token = match value.get_mut("accessToken").map(serde_json::Value::take) {
        Some(serde_json::Value::String(token)) => Zeroizing::new(token),
        _ => return Err(unusable()),
    };
    let expires_on = value.get("expires_on").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    });
    EntraToken::access_only(access_token.as_str(), expires_on).map_err(|_| unusable())
}

/// The first non-empty line of what a program printed, fit for a message.
fn first_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(crate::text::printable(line).chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::entra::tests::jwt;

    #[test]
    fn the_token_and_its_expiry_are_read() {
        let with_epoch = br#"{"accessToken":"eyJ0.eyJ1.c2ln","expiresOn":"2024-05-01 10:00:00.000000","expires_on":1714557600,"subscription":"s","tenant":"t","tokenType":"Bearer"}"#;
        let token = parse_output(with_epoch).unwrap();
        assert_eq!(token.access_token.as_str(), "eyJ0.eyJ1.c2ln");
        assert_eq!(token.expires_at, Some(1_714_557_600));
        assert!(token.refresh.is_none());

        let old_az = format!(
            r#"{{"accessToken":"{}","expiresOn":"2024-05-01 10:00:00.000000"}}"#,
            jwt(r#"{"exp":1714557000}"#)
        );
        assert_eq!(
            parse_output(old_az.as_bytes()).unwrap().expires_at,
            Some(1_714_557_000)
        );

        for bad in [
            &b""[..],
            b"null",
            br#"{"accessToken":""}"#,
            br#"{"accessToken":42}"#,
            b"ERROR: Please run 'az login'",
        ] {
            assert_eq!(parse_output(bad).unwrap_err().code(), "AZURE_CLI_ERROR");
        }
    }

    #[test]
    fn az_is_found_on_path_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let name = if cfg!(windows) { "az.cmd" } else { "az" };
        std::fs::write(dir.path().join(name), "").unwrap();
        let path = std::env::join_paths([empty.path(), dir.path()]).unwrap();
        assert_eq!(find_az(Some(&path)), Some(dir.path().join(name)));
        let without = std::env::join_paths([empty.path()]).unwrap();
        assert_eq!(find_az(Some(&without)), None);
        assert_eq!(find_az(None), None);
    }

    #[test]
    fn the_resource_is_azure_devops() {
        assert_eq!(
            arguments(Some("t1")).join(" "),
            "account get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798 --output json --tenant t1"
        );
    }

    #[test]
    fn messages_take_one_clean_line() {
        assert_eq!(
            first_line(b"\n  ERROR: Please run 'az login' to setup account.\x1b[0m\nmore")
                .as_deref(),
            Some("ERROR: Please run 'az login' to setup account.")
        );
        assert_eq!(first_line(b"  \n"), None);
    }
}
