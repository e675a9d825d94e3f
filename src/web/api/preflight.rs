//! `preflight()`: the pre-call check, thin over `web::preflight`.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::types::PreflightOptions;
use crate::web::{options, preflight};

/// Checks what a call needs before one is placed: whether the microphone and camera open (and
/// the microphone's level), and whether a media path can be made through `iceServers` (a
/// loopback connection inside the page). Resolves with a `PreflightReport` in which each part
/// says what failed; rejects only for bad options (`invalid-option`).
#[wasm_bindgen(js_name = preflight, unchecked_return_type = "Promise<PreflightReport>")]
pub fn run_preflight(options: Option<PreflightOptions>) -> Promise {
    let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
    // The task owns everything it opens and ends by itself, within `timeoutMs` of the network
    // check and `listenMs` of the microphone's, so it needs no owner to end it.
    wasm_bindgen_futures::future_to_promise(async move {
        let options = options::preflight_options(&options)?;
        preflight::check(options).await.map(Into::into)
    })
}
