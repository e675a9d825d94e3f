//! One RTCPeerConnection and the listeners that report what it does.

use crate::prelude::*;
use alloc::rc::Rc;
use core::future::Future;

use wasm_bindgen::prelude::*;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use super::bindings::PeerConnectionExt as _;
use super::data::Channels;
use super::js;
use super::listener::EventListener;
use super::tasks::{settled, Scope, Tasks};
use crate::call::{EffectResult, IceState};
use crate::protocol::IceCandidate;

/// What a peer connection reports on its own.
pub enum PeerEvent {
    /// A result for the call machine.
    Result(EffectResult),
    /// A remote track arrived.
    Track(MediaStreamTrack),
    /// A frame arrived on the `messages` channel.
    Message(JsValue),
    /// Bytes arrived on the `files` channel.
    FileChunk(js_sys::ArrayBuffer),
}

/// A peer connection, closed (and its listeners removed) on drop; tasks started with
/// [`PeerHandle::spawn`] end with it.
pub struct Peer {
    pub pc: RtcPeerConnection,
    /// The data channels; `None` if the browser refused them (the call goes on without).
    pub channels: Option<Channels>,
    _listeners: Vec<EventListener>,
    tasks: Tasks,
}

impl Peer {
    /// Creates the connection with the local tracks and starts reporting its events.
    pub fn new(
        config: &js_sys::Object,
        local: Option<&MediaStream>,
        report: Rc<dyn Fn(PeerEvent)>,
    ) -> Result<Peer, JsValue> {
        let pc =
            RtcPeerConnection::new_with_configuration(config.unchecked_ref::<RtcConfiguration>())?;
        if let Some(stream) = local {
            for track in stream.get_tracks().iter() {
                if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                    pc.add_track_0(&track, stream);
                }
            }
        }
        // Before the first offer, so that it carries them.
        let channels = Channels::open(&pc, &report).ok();
        let target: &web_sys::EventTarget = pc.as_ref();
        let on_candidate = report.clone();
        let on_ice = report.clone();
        let ice_pc = pc.clone();
        let on_dtls = report.clone();
        let dtls_pc = pc.clone();
        let on_negotiation = report.clone();
        let on_track = report;
        let listeners = vec![
            EventListener::new(target, "icecandidate", move |event| {
                let Ok(event) = event.dyn_into::<RtcPeerConnectionIceEvent>() else {
                    return;
                };
                let result = match event.candidate() {
                    Some(c) if !c.candidate().is_empty() => {
                        EffectResult::LocalCandidate(IceCandidate {
                            candidate: c.candidate(),
                            sdp_mid: c.sdp_mid(),
                            sdp_m_line_index: c.sdp_m_line_index(),
                        })
                    }
                    Some(_) => return, // An empty candidate marks one m-line's end.
                    None => EffectResult::LocalCandidatesComplete,
                };
                on_candidate(PeerEvent::Result(result));
            }),
            EventListener::new(target, "iceconnectionstatechange", move |_| {
                if let Some(state) = path_state(&ice_pc) {
                    on_ice(PeerEvent::Result(EffectResult::IceStateChanged(state)));
                }
            }),
            // The DTLS handshake ends after ICE connects: the path is up only then.
            EventListener::new(target, "connectionstatechange", move |_| {
                if let Some(state) = path_state(&dtls_pc) {
                    on_dtls(PeerEvent::Result(EffectResult::IceStateChanged(state)));
                }
            }),
            EventListener::new(target, "negotiationneeded", move |_| {
                on_negotiation(PeerEvent::Result(EffectResult::NegotiationNeeded));
            }),
            EventListener::new(target, "track", move |event| {
                if let Ok(event) = event.dyn_into::<RtcTrackEvent>() {
                    on_track(PeerEvent::Track(event.track()));
                }
            }),
        ];
        Ok(Peer {
            pc,
            channels,
            _listeners: listeners,
            tasks: Tasks::default(),
        })
    }
}

/// The media path's state as the core sees it: ICE's, except that `connected` waits for the
/// DTLS handshake (`connectionState`, where the browser has it), so that media can flow.
fn path_state(pc: &RtcPeerConnection) -> Option<IceState> {
    let ice = js::get(pc, "iceConnectionState").as_string();
    Some(match ice.as_deref()? {
        "new" | "checking" => IceState::Checking,
        "connected" | "completed" => {
            let dtls = js::get(pc, "connectionState").as_string();
            if dtls.is_some_and(|state| state != "connected") {
                return None;
            }
            IceState::Connected
        }
        "disconnected" => IceState::Disconnected,
        "failed" => IceState::Failed,
        _ => return None,
    })
}

impl Peer {
    /// The connection and the scope of its tasks, for code that outlives the borrow of this
    /// `Peer`.
    pub fn handle(&self) -> PeerHandle {
        PeerHandle {
            pc: self.pc.clone(),
            tasks: self.tasks.scope(),
        }
    }
}

/// A peer connection as a task holds it: the connection and the scope its tasks run in.
pub struct PeerHandle {
    pub pc: RtcPeerConnection,
    tasks: Scope,
}

impl PeerHandle {
    /// Spawns `task`, which awaits promises of `pc`; it is dropped if the connection closes
    /// first (see [`tasks`](super::tasks)).
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.tasks.spawn(task);
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Its tasks end next, when the `tasks` field is dropped.
        self.pc.close();
    }
}

fn description(kind: RtcSdpType, sdp: &str) -> RtcSessionDescriptionInit {
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(sdp);
    init
}

fn local_sdp(pc: &RtcPeerConnection) -> Result<String, JsValue> {
    pc.local_description()
        .map(|d| d.sdp())
        .ok_or_else(|| JsValue::from_str("no local description"))
}

/// Creates and sets a local offer in one operation; returns its SDP.
pub async fn create_offer(pc: RtcPeerConnection, ice_restart: bool) -> Result<String, JsValue> {
    if ice_restart {
        pc.restart_ice();
    }
    settled(&pc.set_local_description_auto()).await?;
    local_sdp(&pc)
}

/// Sets a remote offer, then creates and sets the answer; returns its SDP.
pub async fn accept_offer(
    pc: RtcPeerConnection,
    sdp: String,
    send_receive: bool,
) -> Result<String, JsValue> {
    settled(&pc.set_remote_description(&description(RtcSdpType::Offer, &sdp))).await?;
    if send_receive {
        for transceiver in pc.transceivers() {
            transceiver.set_direction("sendrecv");
        }
    }
    settled(&pc.set_local_description_auto()).await?;
    if send_receive {
        // Empty senders still send in Firefox (a video frame a second): off until the accept.
        for transceiver in pc.transceivers() {
            if let Some(done) = super::hold::set_active(&transceiver.sender(), false) {
                let _ = done.await;
            }
        }
    }
    local_sdp(&pc)
}

/// Sets a remote answer.
pub async fn apply_answer(pc: RtcPeerConnection, sdp: String) -> Result<(), JsValue> {
    settled(&pc.set_remote_description(&description(RtcSdpType::Answer, &sdp))).await?;
    Ok(())
}

/// Adds remote candidates; one that the browser refuses is skipped (others may still work).
pub async fn add_candidates(pc: RtcPeerConnection, candidates: Vec<IceCandidate>) {
    for candidate in candidates {
        let init = RtcIceCandidateInit::new(&candidate.candidate);
        init.set_sdp_mid(candidate.sdp_mid.as_deref());
        init.set_sdp_m_line_index(candidate.sdp_m_line_index);
        let promise = pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
        let _ = settled(&promise).await;
    }
}

/// The sender currently carrying a track of `kind` ("audio"/"video"), if any.
pub fn sender_of_kind(pc: &RtcPeerConnection, kind: &str) -> Option<web_sys::RtcRtpSender> {
    pc.get_senders().iter().find_map(|sender| {
        let sender: web_sys::RtcRtpSender = sender.dyn_into().ok()?;
        let track = sender.track()?;
        (track.kind() == kind).then_some(sender)
    })
}
