//! The napi layer of `ConnectOptions`: converts them, checks them in the core
//! (`timeoutMs`), and links the caller's AbortSignal to a cancellation flag.

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::{Error as CoreError, Result as CoreResult};
use crate::http::{Cancel, ConnectOptions as CoreOptions, timeout_from_millis};

/// How to reach the server for one call.
#[napi(object, object_to_js = false)]
pub struct ConnectOptions {
    /// `http://[user:password@]host:port`; overrides HTTPS_PROXY / HTTP_PROXY.
    pub proxy: Option<String>,
    /// Extra trusted certificate authorities: PEM text or paths to PEM files
    /// (regular files of at most 1 MiB).
    pub ca_certificates: Option<Vec<String>>,
    /// Skip certificate checks for this call (and, with `login`, for this URL only).
    pub skip_cert_validation: Option<bool>,
    /// Total time allowed for the request: a whole number of milliseconds
    /// from 1 to 600000 (10 minutes); default 30000. Anything else rejects
    /// with `INVALID_ARGUMENT`.
    pub timeout_ms: Option<f64>,
    /// Aborts the request; the promise then rejects with code `ABORTED`.
    /// tfx-auth listens with `addEventListener`: the signal's `onabort` stays yours.
    #[napi(ts_type = "AbortSignalLike")]
    pub signal: Option<Object<'static>>,
}

/// Converts the options and links the AbortSignal to a cancellation flag (a
/// signal already aborted cancels at once: its event has fired). The core's
/// verdict on the options comes back as a result, for the promise to reject with.
pub(super) fn options_from_js(
    env: &Env,
    options: Option<Object>,
) -> napi::Result<(CoreResult<CoreOptions>, Arc<Cancel>)> {
    let cancel = Arc::new(Cancel::default());
    let Some(object) = options else {
        return Ok((Ok(CoreOptions::default()), cancel));
    };
    let options = unsafe { ConnectOptions::from_napi_value(env.raw(), object.raw()) }?;
    if let Some(signal) = &options.signal
        && let Err(e) = listen_for_abort(env, signal, &cancel)
    {
        return Ok((Err(e), cancel));
    }
    let checked = options
        .timeout_ms
        .map(timeout_from_millis)
        .transpose()
        .map(|timeout| CoreOptions {
            proxy: options.proxy,
            ca_certificates: options.ca_certificates.unwrap_or_default(),
            skip_cert_validation: options.skip_cert_validation.unwrap_or(false),
            timeout,
        });
    Ok((checked, cancel))
}

/// `EventTarget.prototype.addEventListener(type, listener, options)`.
type AddEventListener<'a> =
    Function<'a, FnArgs<(&'a str, Function<'a, (), ()>, Object<'a>)>, Unknown<'a>>;

/// `signal.addEventListener('abort', …, { once: true })`. Not napi's
/// `AbortSignal`, which takes the signal's `onabort` property for itself and
/// so silently drops a handler the caller set there.
fn listen_for_abort(env: &Env, signal: &Object, cancel: &Arc<Cancel>) -> CoreResult<()> {
    let not_a_signal = || CoreError::invalid_argument("`signal` must be an AbortSignal");
    if signal
        .get_named_property::<Option<bool>>("aborted")
        .map_err(|_| not_a_signal())?
        == Some(true)
    {
        cancel.cancel();
        return Ok(());
    }
    let add: AddEventListener = signal
        .get_named_property("addEventListener")
        .map_err(|_| not_a_signal())?;
    let flag = Arc::clone(cancel);
    let listener = env
        .create_function_from_closure::<(), (), _>("tfxAuthAbort", move |_| {
            flag.cancel();
            Ok(())
        })
        .map_err(|_| not_a_signal())?;
    let mut once = Object::new(env).map_err(|_| not_a_signal())?;
    once.set_named_property("once", true)
        .map_err(|_| not_a_signal())?;
    add.apply(signal, FnArgs::from(("abort", listener, once)))
        .map_err(|_| not_a_signal())?;
    Ok(())
}
