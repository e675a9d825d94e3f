//! Reading `getStats()` into the figures the core rates.

use super::tasks::settled;
use wasm_bindgen::prelude::*;
use web_sys::RtcPeerConnection;

use super::js;
use crate::call::StatsSample;

/// Samples the connection: inbound RTP summed over audio and video, the worst jitter, and the
/// selected candidate pair's round-trip time.
pub async fn sample(pc: RtcPeerConnection) -> Result<StatsSample, JsValue> {
    let report = settled(&pc.get_stats()).await?;
    let mut sample = StatsSample::default();
    let number = |value: &JsValue, key: &str| js::get(value, key).as_f64();
    let entries =
        js_sys::try_iter(&report)?.ok_or_else(|| JsValue::from_str("stats not iterable"))?;
    for entry in entries {
        let entry = entry?;
        let stat = js::get(&entry, "1");
        match js::get(&stat, "type").as_string().as_deref() {
            Some("inbound-rtp") => {
                sample.packets_received += number(&stat, "packetsReceived").unwrap_or(0.0) as u64;
                sample.packets_lost += number(&stat, "packetsLost").unwrap_or(0.0).max(0.0) as u64;
                sample.bytes_received += number(&stat, "bytesReceived").unwrap_or(0.0) as u64;
                if let Some(jitter) = number(&stat, "jitter") {
                    let ms = jitter * 1000.0;
                    sample.jitter_ms = Some(sample.jitter_ms.map_or(ms, |j| j.max(ms)));
                }
            }
            Some("candidate-pair") => {
                let selected = js::get(&stat, "nominated").as_bool().unwrap_or(false)
                    && js::get(&stat, "state").as_string().as_deref() == Some("succeeded");
                if let (true, Some(rtt)) = (selected, number(&stat, "currentRoundTripTime")) {
                    sample.rtt_ms = Some(rtt * 1000.0);
                }
            }
            _ => {}
        }
    }
    Ok(sample)
}
