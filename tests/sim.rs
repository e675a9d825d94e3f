//! The simulation: several `CallMachine`s (alice; bob on one or two devices; carol) run against
//! each other through a simulated network that delays, reorders, drops and duplicates messages,
//! with a fake executor standing in for the browser's media and peer connections. Many seeded
//! schedules are explored; after each, invariants are checked.
//!
//! Hold and call waiting run through every scenario (holds and resumes among the mid-call
//! actions, racing renegotiation, ICE restarts and blips) and have one of their own
//! (`Scenario::Waiting`: a third user calls a callee in a call, who declines, ends or holds the
//! current call to take it, and switches between them; or glare while a call is on hold; and
//! hangups of the held call by either side). Their invariants: at most one call of a client
//! has its senders on (the last `SetSending` of each call, sending from the start once its media
//! is there); a call on hold (by either side) never rates quality nor goes `reconnecting` on a
//! stats sample; each rating counts only the packets since the previous sample, before or after
//! a hold; a path never cut does not end `ice-failed`; a call rings as `waiting` exactly when
//! another is under way; and whenever no message is in flight and none was lost, each side's
//! own hold of a call that connected is what the other side shows of it.
//!
//! The data path runs through every scenario too. Each pair of connections that connected to each
//! other gets data channels, which the fake browser opens a while later (`DataOpen` at both ends)
//! and sometimes closes (both ends hear `DataClosed`; what is on its way is lost); they close
//! when either connection closes (a release, a glare reset). Frames arrive in order, each channel
//! on its own, once what the sender's `files` buffer held has drained at the schedule's rate;
//! each block's `FileBlockSent` reports that buffer (above high water after a few blocks on a
//! slow schedule, then `BufferLow` once it drains), and now and then a block cannot be read; the
//! receiving driver counts the bytes and reports `FileBytes`; now and then a frame is junk.
//! In half the schedules the users send messages (`Blob`s among them, some unreadable; bursts past
//! the queue limit; some too large), files (some empty, some of a few MB, some invalid) and
//! cancel transfers from either side (or ids that are none). Its invariants: messages go in
//! order, once, only while the channels are open, and arrive in order; each block is the next of
//! the transfer under way, one at a time, none while the buffer is above high water, and one file
//! at a time; every transfer ends exactly once on each side, with a cause that side has (its own
//! cancel, a channel close, its call's end, the peer's frame), none after its call's release, a
//! received file with exactly its size; the two ends of a transfer fit (received means sent,
//! remote-cancelled means the other side cancelled or failed); and once everything settled, a
//! call with open channels has nothing waiting and nothing under way, and one without has no
//! transfer under way.
//!
//! In a third of the schedules (and of the adversary and screening ones) every client connects
//! while its calls ring (`Config::preconnect`): the caller asks the first willing device, which
//! answers without media and later accepts; another device that answers gets a new connection
//! (`reoffer`, which resets both ends' fake connections). The fake browser connects such a
//! pair while the call rings, reports it and opens its data channels as for any pair, and the
//! machine holds those reports until the accept. On top of every invariant above, with it: no
//! media flows on a call before its callee accepted it (whenever two connections are connected to
//! each other, neither side's senders are on unless the callee's side went `connecting`), nothing
//! goes on its data channels before that either, and `Event::Preconnected` comes only for a
//! ringing call of a client that allows it.
//!
//! `PEERCALL_SIM_SCHEDULES=N` sets how many schedules run (default 100,000);
//! `PEERCALL_SIM_SEED=S` replays one schedule with a trace. The screening schedules (who may ring
//! bob) have their own count, `PEERCALL_SIM_SCREEN_SCHEDULES` (default 20,000).
//! `PEERCALL_SIM_PRECONNECT=0` turns preconnect off in every schedule, `=1` on in every one.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::fmt::Write as _;

use peercall::call::{
    Availability, CallHandle, CallId, CallKind, CallMachine, CallState, Command, DeviceKind,
    Direction, Effect, EffectResult, EndReason, Event, IceState, MediaError, Millis, Outgoing,
    Output, Screening, StatsSample, TransferEnd, BLOCK_BYTES, HIGH_WATER_BYTES, MAX_MESSAGE_BYTES,
};
use peercall::protocol::{Body, IceCandidate, MediaState, Message, PartyId, UserId};
use support::rng::Rng;
use support::{call_id_from, env_u64, Promises};

const DEFAULT_SCHEDULES: u64 = 100_000;

/// The ring timeout of every client here (the default), which is also its invites' lifetime.
const RING_TIMEOUT_MS: Millis = 30_000;

/// Every scripted action is over by 90 s; by this time every timer that ends or settles a call
/// (ring 30 s, connect 20 s, ICE give-up 20 s after the last blip) has fired.
const SETTLED_AT: Millis = 150_000;

// ----- the world ------------------------------------------------------------------------------

/// One client instance: a tab or device of a user.
struct Client {
    user: UserId,
    online: bool,
    machine: CallMachine,
    /// The machine's promises about its outputs, checked on each (`support::Promises`).
    promises: Promises,
    mic_error: Option<MediaError>,
    camera_error: Option<MediaError>,
    /// With screening on: what this client's app answers for each new invite, and how long it
    /// takes (`None`: it never answers).
    screen_plan: Option<(Option<Screening>, Millis)>,
    /// `Event::Missed` seen (do-not-disturb).
    missed: u64,
}

/// What a user does, at a scheduled time.
#[derive(Clone, Debug)]
enum Action {
    Call(&'static str, CallKind),
    /// Accept the call that rings here (from this user, if given).
    Accept(Option<&'static str>, bool),
    Reject,
    Hangup,
    Mute(bool),
    Camera(bool),
    ScreenShare(bool),
    Upgrade,
    RestartIce,
    SwitchCamera,
    /// Hold the call under way with this user (or the one not on hold, if `None`).
    Hold(Option<&'static str>),
    /// Resume the call with this user that this side holds (or any call it holds).
    Resume(Option<&'static str>),
    /// Start or stop recording the call under way.
    Record(bool),
    /// Hang up (or decline) the live call with this user.
    HangupWith(&'static str),
    /// Send `count` messages of `len` bytes on the call under way (`Blob`s still to read unless
    /// `ready`).
    Messages {
        count: u32,
        len: usize,
        ready: bool,
    },
    /// Send a file of this size on the call under way.
    File(u64),
    /// Cancel a transfer of the call under way: the one this number picks among those under
    /// way, or (now and then, and when none is) an id no transfer has.
    Cancel(u64),
}

#[derive(Clone, Debug)]
enum Ev {
    /// The adversary (see [`Adversary`]) sends one thing: an invite of her own, or anything.
    Adversary {
        invite: bool,
    },
    Deliver {
        to: usize,
        /// The sending client (the receiver only learns its user).
        sender: usize,
        from: UserId,
        json: String,
    },
    SendFailed {
        client: usize,
        call_id: CallId,
    },
    /// An effect's result. `pc` ties it to the peer connection it came from: the driver drops
    /// results of a connection that was reset or closed since.
    Result {
        client: usize,
        handle: CallHandle,
        pc: Option<usize>,
        result: EffectResult,
    },
    /// The browser reports an ICE state; dropped if the connection's state moved on meanwhile.
    Ice {
        pc: usize,
        state: IceState,
    },
    IceFailCheck {
        pc: usize,
        since: u64,
    },
    Action {
        client: usize,
        action: Action,
    },
    Link(bool),
    /// The hold agreement is checked if the network is quiet (see `check_hold_agreement`).
    Checkpoint,
    /// The app's screening answer for a held invite.
    Screen {
        client: usize,
        call_id: CallId,
        decision: Screening,
    },
    /// The data channels of a connected pair of connections open (both ends at once).
    DataOpen {
        chan: usize,
    },
    /// The browser closes a pair's data channels (an SCTP failure): both ends hear it.
    ChanClose {
        chan: usize,
    },
    /// One end of a pair hears that its channels closed.
    DataClosed {
        chan: usize,
        end: usize,
    },
    /// A frame arrives at end `to` of a pair's channels.
    Frame {
        chan: usize,
        to: usize,
        frame: Frame,
    },
    /// The driver has read a block of an outgoing file (`ok`), or could not.
    BlockDone {
        client: usize,
        handle: CallHandle,
        pc: usize,
        id: u64,
        len: u64,
        ok: bool,
    },
    /// The `files` channel of end `end` drained below the low-water mark, if nothing was sent
    /// on it since this report was due (`epoch`).
    BufferLow {
        chan: usize,
        end: usize,
        epoch: u64,
    },
}

/// A fake RTCPeerConnection: it connects when both sides hold each other's descriptions and at
/// least one side got a candidate, while the link is up; after `failed` it needs an ICE restart
/// (fresh descriptions on both sides).
#[derive(Debug)]
struct Pc {
    client: usize,
    handle: CallHandle,
    local: bool,
    remote: Option<usize>,
    got_candidates: bool,
    gathered: bool,
    closed: bool,
    connected: bool,
    failed: bool,
    restarted_local: bool,
    restarted_remote: bool,
    down_epoch: u64,
    /// Media packets received so far: they arrive only while the path is up, so a blip shows
    /// in the stats as it does in a browser.
    received: u64,
    /// When `received` was last brought up to date.
    counted_at: Millis,
    /// Its data channels, with the connection it connected to (see [`Chan`]).
    chan: Option<usize>,
}

/// What fed the input that ended a call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cause {
    /// A message from this client.
    ToldBy(usize),
    /// Anything else: the user, a timer, an effect's result, the browser, the transport.
    Own,
}

/// What the sim observed of one call handle.
#[derive(Debug, Default)]
struct Record {
    /// When the first event of the call was seen (for an incoming call: when its invite arrived).
    created_at: Option<Millis>,
    /// When the call first reported `connected`.
    connected_at: Option<Millis>,
    states: Vec<CallState>,
    ended: Option<EndReason>,
    /// What made the call end.
    cause: Option<Cause>,
    missed: bool,
    connected: bool,
    released: bool,
    releases: u32,
    media_live: bool,
    pc: Option<usize>,
    /// The last `SetSending` for the call: `None` until the first, which means sending (the
    /// senders carry the tracks from the start).
    sending: Option<bool>,
    /// The user declined it while it rang as a waiting call (another call was under way): its
    /// caller hears `busy`.
    declined_waiting: bool,
    /// The packets (received and lost) of the last stats sample fed to the machine.
    stats_total: Option<u64>,
    /// Its messages and file transfers.
    data: DataBook,
}

impl Record {
    /// The call's senders carry its local tracks: media is there, not released, and no hold
    /// (by either side) took them off.
    fn senders_on(&self) -> bool {
        self.media_live && !self.released && self.sending != Some(false)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    Basic,
    Glare,
    Busy,
    Chaos,
    /// Call waiting and hold: bob, in a call with alice, gets carol's call; or alice, holding
    /// bob, and carol call each other at once.
    Waiting,
}

struct Faults {
    drop: f64,
    duplicate: f64,
    max_delay: Millis,
    sdp_fail: f64,
}

struct World {
    now: Millis,
    rng: Rng,
    clients: Vec<Client>,
    queue: BinaryHeap<Reverse<(Millis, u64, usize)>>,
    events: Vec<Option<Ev>>,
    seq: u64,
    pcs: Vec<Pc>,
    link_up: bool,
    /// When the media path was first cut (a network blip), if ever.
    first_blip_at: Option<Millis>,
    /// When each call's invite was first sent.
    invites_sent: HashMap<CallId, Millis>,
    /// The device whose answer each caller took, and when it first said so (`select-answer`).
    selected: HashMap<CallId, (PartyId, Millis)>,
    /// Call ids a glare merge abandoned, the merging client, and when it first told the peer's
    /// devices (`hangup` with `answered-elsewhere`).
    merged_away: HashMap<CallId, (usize, Millis)>,
    /// What fed the input being handled.
    cause: Cause,
    /// Messages the network lost.
    dropped: u64,
    records: HashMap<(usize, CallHandle), Record>,
    faults: Faults,
    violations: Vec<String>,
    errors: BTreeMap<&'static str, u64>,
    placed: Vec<(usize, CallHandle)>,
    trace: Option<String>,
    sdp_counter: u64,
    steps: u64,
    /// Every message the network delivered, as text, for the adversary to replay.
    seen: Vec<String>,
    /// Messages each client sent for each call id.
    sent: HashMap<(usize, CallId), u32>,
    adversary: Option<Adversary>,
    /// The input being handled is a stats sample: the packets (received and lost) it adds to
    /// the call's previous sample (see the hold invariants in `observe`).
    feeding_stats: Option<u64>,
    /// Messages on the network, not yet delivered.
    in_flight: u64,
    /// What the hold and call-waiting invariants saw, for the summary.
    holds: HoldTally,
    /// Every pair of connections' data channels.
    chans: Vec<Chan>,
    /// The fake browser's data path: how fast a `files` channel's buffer drains (bytes a
    /// millisecond), the chance that a block cannot be read, and that a pair's channels close.
    drain_rate: u64,
    block_fail: f64,
    chan_close: f64,
    /// While an offer frame is fed: the sending call and its id for the transfer.
    offer_from: Option<(usize, CallHandle, u64)>,
    /// While a block's `FileBlockSent` is fed: the `bufferedAmount` it reports.
    feeding_buffered: Option<u64>,
    /// While a cancel runs: the transfer it cancels.
    cancelling: Option<(usize, CallHandle, u64)>,
    /// What the data path did, for the summary.
    data: DataTally,
    /// Every client connects while its calls ring (`Config::preconnect`).
    preconnect: bool,
    /// What the preconnect schedules did, for the summary.
    pre: PreTally,
    /// Pairs of connections already reported for media before the accept.
    early_media_seen: std::collections::HashSet<(usize, usize)>,
    /// The device each caller asked to preconnect.
    asked: HashMap<CallId, PartyId>,
}

/// Counts of what connecting while ringing did.
#[derive(Clone, Copy, Default, Debug)]
struct PreTally {
    /// Schedules with preconnect on.
    schedules: u64,
    /// `preconnect` messages sent (a caller asked a device).
    asked: u64,
    /// `preconnect-answer` messages sent.
    answered: u64,
    /// `Event::Preconnected`: a ringing call's path came up.
    preconnected: u64,
    /// `accept` messages sent (a preconnected device answered).
    accepted: u64,
    /// Calls connected on both sides with the very device their caller asked to preconnect
    /// (through its accept, or its usual answer if it accepted before the ask arrived).
    connected: u64,
    /// `reoffer` messages sent (another device answered than the preconnected one).
    reoffers: u64,
    /// Connected pairs of connections checked for media before the accept.
    media_checks: u64,
}

impl PreTally {
    fn add(&mut self, o: &PreTally) {
        self.schedules += o.schedules;
        self.asked += o.asked;
        self.answered += o.answered;
        self.preconnected += o.preconnected;
        self.accepted += o.accepted;
        self.connected += o.connected;
        self.reoffers += o.reoffers;
        self.media_checks += o.media_checks;
    }
}

/// Counts of what the schedules did with hold and call waiting.
#[derive(Clone, Copy, Default, Debug)]
struct HoldTally {
    /// `SetSending { sending: false }` effects: senders taken off by a hold (either side's).
    holds: u64,
    /// Calls that rang as waiting calls.
    waiting_rang: u64,
    /// Waiting calls declined (the caller hears `busy`).
    declined_waiting: u64,
    /// Quality events of calls not on hold.
    qualities: u64,
    /// Connected pairs whose hold states were compared once messages settled.
    pairs_agreed: u64,
}

/// A third user, `mallory`, on the same relay as the honest users: the relay stamps `from`
/// truthfully, so every message of hers arrives from `mallory`, whatever it claims inside. She
/// floods invites that ring for the longest lifetime, replays and duplicates what she saw on the
/// network, and spoofs messages for the honest call. She has her own random numbers and takes
/// none of the world's, and what is sent to her goes nowhere, so the honest traffic is drawn
/// exactly as in the same schedule without her: any difference in its outcome is her doing.
struct Adversary {
    rng: Rng,
    targets: Vec<usize>,
    sent: u64,
}

const ADVERSARY: &str = "mallory";

impl World {
    fn new(rng: Rng, faults: Faults, trace: bool) -> World {
        World {
            now: 0,
            rng,
            clients: Vec::new(),
            queue: BinaryHeap::new(),
            events: Vec::new(),
            seq: 0,
            pcs: Vec::new(),
            link_up: true,
            first_blip_at: None,
            invites_sent: HashMap::new(),
            selected: HashMap::new(),
            merged_away: HashMap::new(),
            cause: Cause::Own,
            dropped: 0,
            records: HashMap::new(),
            faults,
            violations: Vec::new(),
            errors: BTreeMap::new(),
            placed: Vec::new(),
            trace: trace.then(String::new),
            sdp_counter: 0,
            steps: 0,
            seen: Vec::new(),
            sent: HashMap::new(),
            adversary: None,
            feeding_stats: None,
            in_flight: 0,
            holds: HoldTally::default(),
            chans: Vec::new(),
            drain_rate: 100_000,
            block_fail: 0.0,
            chan_close: 0.0,
            offer_from: None,
            feeding_buffered: None,
            cancelling: None,
            data: DataTally::default(),
            preconnect: false,
            pre: PreTally::default(),
            early_media_seen: Default::default(),
            asked: HashMap::new(),
        }
    }

    /// Gives this client's app call waiting: a new invite during a call rings instead of being
    /// declined as busy.
    fn set_call_waiting(&mut self, client: usize) {
        let mut config = self.clients[client].machine.config().clone();
        config.call_waiting = true;
        self.clients[client].machine = support::machine(config);
    }

    fn add_client(&mut self, user: &str, party: &str) -> usize {
        let mut config = support::config(user, party);
        config.preconnect = self.preconnect;
        self.clients.push(Client {
            user: UserId::new(user).unwrap(),
            online: true,
            machine: support::machine(config),
            promises: Promises::default(),
            mic_error: None,
            camera_error: None,
            screen_plan: None,
            missed: 0,
        });
        self.clients.len() - 1
    }

    /// A client whose app screens new invites as `plan` says.
    fn add_screening_client(
        &mut self,
        user: &str,
        party: &str,
        plan: (Option<Screening>, Millis),
    ) -> usize {
        let client = self.add_client(user, party);
        let mut config = self.clients[client].machine.config().clone();
        config.screening = true;
        self.clients[client].machine = support::machine(config);
        self.clients[client].screen_plan = Some(plan);
        client
    }

    /// Whether every message got through: none was lost (a schedule with a loss rate may still
    /// lose none).
    fn lossless(&self) -> bool {
        self.dropped == 0
    }

    fn log(&mut self, line: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            let _ = writeln!(trace, "{:>7} {}", self.now, line());
        }
    }

    fn at(&mut self, time: Millis, ev: Ev) {
        self.seq += 1;
        self.events.push(Some(ev));
        self.queue
            .push(Reverse((time, self.seq, self.events.len() - 1)));
    }

    fn after(&mut self, lo: Millis, hi: Millis, ev: Ev) {
        let delay = self.rng.range(lo, hi);
        self.at(self.now + delay, ev);
    }

    fn action(&mut self, time: Millis, client: usize, action: Action) {
        self.at(time, Ev::Action { client, action });
    }

    /// Runs until nothing is scheduled before `until`.
    fn run(&mut self, until: Millis) {
        loop {
            let timer = self
                .clients
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.machine.poll_timeout().map(|t| (t, i)))
                .min();
            let event = self.queue.peek().map(|Reverse((t, _, _))| *t);
            let next = match (timer, event) {
                (Some((t, _)), Some(e)) => t.min(e),
                (Some((t, _)), None) => t,
                (None, Some(e)) => e,
                (None, None) => break,
            };
            if next > until {
                break;
            }
            self.steps += 1;
            if self.steps > 200_000 {
                self.violations.push("livelock: over 200,000 steps".into());
                break;
            }
            if next < self.now {
                self.violations.push(format!(
                    "time went backwards: deadline {next} < {}",
                    self.now
                ));
            }
            self.now = self.now.max(next);
            match (timer, event) {
                (Some((t, client)), e) if e.is_none_or(|e| t <= e) => {
                    self.log(|| format!("[{client}] timeout"));
                    self.cause = Cause::Own;
                    self.clients[client].machine.handle_timeout(self.now);
                    self.drain(client);
                }
                _ => {
                    let Reverse((_, _, index)) = self.queue.pop().unwrap();
                    let ev = self.events[index].take().unwrap();
                    self.process(ev);
                }
            }
            self.check_early_media();
        }
    }

    /// Nothing goes on a call's data channels before its callee accepted it (a preconnected
    /// call's channels may be open while it rings): the callee side of this call's connection
    /// pair went `connecting`.
    fn check_accepted(&mut self, client: usize, handle: CallHandle, what: &str) {
        let incoming = |w: &World, c: usize, h: CallHandle| {
            w.clients[c]
                .machine
                .call_info(h)
                .is_some_and(|i| i.direction == Direction::Incoming)
        };
        let callee = if incoming(self, client, handle) {
            Some((client, handle))
        } else {
            let remote = self.records[&(client, handle)]
                .pc
                .and_then(|pc| self.pcs[pc].remote)
                .map(|y| (self.pcs[y].client, self.pcs[y].handle));
            remote.filter(|&(c, h)| incoming(self, c, h))
        };
        let accepted = callee.is_some_and(|key| {
            self.records
                .get(&key)
                .is_some_and(|r| r.states.contains(&CallState::Connecting))
        });
        if !accepted {
            self.violations.push(format!(
                "[{client}] {handle:?} sent {what} before its callee {callee:?} accepted"
            ));
        }
    }

    /// No media flows on a call before its callee accepted it: whenever two connections are
    /// connected to each other (a preconnected call's, while it rings), neither side's senders
    /// carry tracks unless the callee's side of the pair was accepted (it went `connecting`).
    fn check_early_media(&mut self) {
        for x in 0..self.pcs.len() {
            // Each pair once: its connections name each other.
            let Some(y) = self.pcs[x].remote.filter(|&y| y > x) else {
                continue;
            };
            let (a, b) = (&self.pcs[x], &self.pcs[y]);
            if a.closed || b.closed || !a.connected || !b.connected || b.remote != Some(x) {
                continue;
            }
            let ends = [(a.client, a.handle), (b.client, b.handle)];
            let callee = ends.into_iter().find(|&(c, h)| {
                self.clients[c]
                    .machine
                    .call_info(h)
                    .is_some_and(|i| i.direction == Direction::Incoming)
            });
            let Some(callee) = callee else {
                self.violations.push(format!(
                    "connections {x} and {y} connected with no callee side: {ends:?}"
                ));
                continue;
            };
            let accepted = self
                .records
                .get(&callee)
                .is_some_and(|r| r.states.contains(&CallState::Connecting));
            if accepted {
                continue;
            }
            self.pre.media_checks += 1;
            let on: Vec<(usize, CallHandle)> = ends
                .into_iter()
                .filter(|key| self.records.get(key).is_some_and(Record::senders_on))
                .collect();
            if !on.is_empty() && self.early_media_seen.insert((x, y)) {
                self.violations.push(format!(
                    "connections {x} and {y} connected, callee [{}] {:?} not accepted, yet \
                     the senders of {on:?} are on: media before the accept",
                    callee.0, callee.1
                ));
            }
        }
    }

    fn process(&mut self, ev: Ev) {
        self.cause = Cause::Own;
        match ev {
            Ev::Deliver {
                to,
                sender,
                from,
                json,
            } => {
                self.in_flight -= 1;
                if !self.clients[to].online {
                    return;
                }
                self.cause = Cause::ToldBy(sender);
                self.log(|| format!("[{to}] <- {from}: {json}"));
                self.seen.push(json.clone());
                self.clients[to]
                    .machine
                    .handle_message(self.now, from.as_str(), &json);
                self.drain(to);
            }
            Ev::Adversary { invite } => self.adversary_sends(invite),
            Ev::SendFailed { client, call_id } => {
                self.log(|| format!("[{client}] send failed {call_id}"));
                self.clients[client]
                    .machine
                    .handle_send_failed(self.now, call_id);
                self.drain(client);
            }
            Ev::Result {
                client,
                handle,
                pc,
                result,
            } => {
                let record = self.records.entry((client, handle)).or_default();
                if record.released || (pc.is_some() && record.pc != pc) {
                    return; // The driver drops results of released calls and replaced connections.
                }
                if matches!(result, EffectResult::MediaAcquired { .. }) {
                    record.media_live = true;
                }
                // A `Blob` the driver could not read leaves the queue (its Promise rejects).
                if let EffectResult::MessageRead { id, ok: false } = result {
                    record.data.queued.retain(|&q| q != id);
                }
                self.feeding_stats = match &result {
                    EffectResult::Stats(sample) => {
                        let total = sample.packets_received + sample.packets_lost;
                        let before = record.stats_total.replace(total).unwrap_or(0);
                        Some(total.saturating_sub(before))
                    }
                    _ => None,
                };
                self.log(|| format!("[{client}] {handle:?} result {result:?}"));
                self.clients[client]
                    .machine
                    .handle_effect(self.now, handle, result);
                self.drain(client);
                self.feeding_stats = None;
            }
            Ev::Ice { pc, state } => {
                let p = &self.pcs[pc];
                let current = if p.connected {
                    IceState::Connected
                } else if p.failed {
                    IceState::Failed
                } else {
                    IceState::Disconnected
                };
                if p.closed || current != state {
                    return;
                }
                let (client, handle) = (p.client, p.handle);
                self.log(|| format!("[{client}] {handle:?} ice {state:?}"));
                self.clients[client].machine.handle_effect(
                    self.now,
                    handle,
                    EffectResult::IceStateChanged(state),
                );
                self.drain(client);
            }
            Ev::IceFailCheck { pc, since } => {
                let p = &mut self.pcs[pc];
                if !p.closed && !p.connected && p.down_epoch == since {
                    p.failed = true;
                    p.restarted_local = false;
                    p.restarted_remote = false;
                    self.after(
                        0,
                        5,
                        Ev::Ice {
                            pc,
                            state: IceState::Failed,
                        },
                    );
                }
            }
            Ev::Action { client, action } => self.act(client, action),
            Ev::Checkpoint => {
                let (disagree, pairs) = check_hold_agreement(self);
                self.violations.extend(disagree);
                self.holds.pairs_agreed += pairs;
            }
            Ev::Screen {
                client,
                call_id,
                decision,
            } => {
                self.log(|| format!("[{client}] app screens {call_id:?}: {decision:?}"));
                let now = self.now;
                self.clients[client].machine.screen(now, call_id, decision);
                self.drain(client);
            }
            Ev::DataOpen { chan } => self.data_open(chan),
            Ev::ChanClose { chan } => {
                self.log(|| format!("channels {chan} closed by the browser"));
                if !self.chans[chan].closed {
                    self.data.closed += 1;
                }
                self.close_chan(chan, None);
            }
            Ev::DataClosed { chan, end } => {
                if let Some((client, handle)) = self.live_pc(self.chans[chan].ends[end]) {
                    let book = self.book(client, handle);
                    book.closes += 1;
                    book.paused = false;
                    self.feed(client, handle, EffectResult::DataClosed);
                }
            }
            Ev::Frame { chan, to, frame } => self.frame_arrives(chan, to, frame),
            Ev::BlockDone {
                client,
                handle,
                pc,
                id,
                len,
                ok,
            } => self.block_done(client, handle, pc, id, len, ok),
            Ev::BufferLow { chan, end, epoch } => {
                let c = &self.chans[chan];
                if c.closed || c.pipes[end].low_epoch != epoch {
                    return;
                }
                if let Some((client, handle)) = self.live_pc(c.ends[end]) {
                    self.book(client, handle).paused = false;
                    self.feed(client, handle, EffectResult::BufferLow);
                }
            }
            Ev::Link(up) => {
                self.log(|| format!("link {}", if up { "up" } else { "down" }));
                self.link_up = up;
                if !up {
                    self.first_blip_at.get_or_insert(self.now);
                }
            }
        }
        self.update_links();
    }

    fn act(&mut self, client: usize, action: Action) {
        self.cause = Cause::Own;
        let now = self.now;
        self.log(|| format!("[{client}] user {action:?}"));
        let machine = &mut self.clients[client].machine;
        let live = |m: &CallMachine, pred: &dyn Fn(&peercall::call::CallInfo) -> bool| {
            m.calls()
                .filter_map(|h| m.call_info(h))
                .find(|i| !i.state.is_ended() && pred(i))
                .map(|i| i.handle)
        };
        let active = machine.active_call();
        let held_here = |i: &peercall::call::CallInfo| i.local_media.on_hold;
        let under_way = |i: &peercall::call::CallInfo| {
            !(i.direction == Direction::Incoming && i.state == CallState::Ringing)
        };
        // Declining a call that rings while another is under way: its caller hears `busy`.
        let declines_waiting = |m: &CallMachine, h: CallHandle| {
            m.call_info(h).is_some_and(|i| {
                !i.state.is_ended() && !under_way(&i) && m.active_call().is_some_and(|a| a != h)
            })
        };
        let mut declined = None;
        // The data path's actions concern the call under way, or any live one.
        let target = active.or_else(|| live(machine, &|_| true));
        let mut reads = Vec::new();
        let mut cancelled = None;
        let result = match action {
            Action::Messages { count, len, ready } => {
                if let Some(h) = target {
                    for _ in 0..count {
                        match machine.send_data(h, Outgoing::Message { len, ready }) {
                            Ok(id) => {
                                let book = &mut self.records.entry((client, h)).or_default().data;
                                book.queued.push(id);
                                if !ready {
                                    reads.push((h, id, !self.rng.chance(0.1)));
                                }
                            }
                            Err(error) => *self.errors.entry(error.code()).or_default() += 1,
                        }
                    }
                }
                Ok(())
            }
            Action::File(size) => match target {
                Some(h) => {
                    let file = Outgoing::File {
                        size,
                        name: "f.bin".into(),
                        mime: "application/octet-stream".into(),
                    };
                    machine.send_data(h, file).map(|id| {
                        let book = &mut self.records.entry((client, h)).or_default().data;
                        book.outgoing.insert(id, OutFile::new(size));
                    })
                }
                None => Ok(()),
            },
            Action::Cancel(pick) => match target {
                Some(h) => {
                    let book = self.records.get(&(client, h)).map(|r| &r.data);
                    let under_way: Vec<u64> =
                        book.map(|b| b.under_way().collect()).unwrap_or_default();
                    let id = match under_way.len() {
                        0 => 1_000_000 + pick % 1_000,
                        _ if pick % 8 == 0 => 1_000_000 + pick % 1_000,
                        n => under_way[(pick % n as u64) as usize],
                    };
                    let known = under_way.contains(&id);
                    self.cancelling = Some((client, h, id));
                    let result = machine.command(now, h, Command::CancelTransfer { id });
                    match (&result, known) {
                        (Err(error), true) => self.violations.push(format!(
                            "[{client}] {h:?} cancel of transfer {id}, under way, refused: {error}"
                        )),
                        (Ok(()), false) => self.violations.push(format!(
                            "[{client}] {h:?} cancel of transfer {id}, unknown, accepted"
                        )),
                        (Ok(()), true) => cancelled = Some((h, id)),
                        (Err(_), false) => {}
                    }
                    result
                }
                None => Ok(()),
            },
            Action::Call(to, kind) => {
                let id = call_id_from(self.rng.next_u64());
                match machine.place_call(now, to, kind, id, None) {
                    Ok(handle) => {
                        self.placed.push((client, handle));
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Action::Accept(from, video) => {
                match live(machine, &|i| {
                    i.direction == Direction::Incoming
                        && i.state == CallState::Ringing
                        && from.is_none_or(|f| i.peer.as_str() == f)
                }) {
                    Some(h) => machine.command(now, h, Command::Accept { video }),
                    None => Ok(()),
                }
            }
            Action::Reject => match live(machine, &|i| i.state == CallState::Ringing) {
                Some(h) => {
                    declined = declines_waiting(machine, h).then_some(h);
                    machine.command(now, h, Command::Reject)
                }
                None => Ok(()),
            },
            Action::Hangup => match active.or_else(|| live(machine, &|_| true)) {
                Some(h) => {
                    declined = declines_waiting(machine, h).then_some(h);
                    machine.command(now, h, Command::Hangup)
                }
                None => Ok(()),
            },
            Action::HangupWith(peer) => match live(machine, &|i| i.peer.as_str() == peer) {
                Some(h) => {
                    declined = declines_waiting(machine, h).then_some(h);
                    machine.command(now, h, Command::Hangup)
                }
                None => Ok(()),
            },
            Action::Hold(peer) => {
                let target = match peer {
                    Some(p) => live(machine, &|i| under_way(i) && i.peer.as_str() == p),
                    None => active,
                };
                match target {
                    Some(h) => machine.command(now, h, Command::Hold),
                    None => Ok(()),
                }
            }
            Action::Resume(peer) => {
                let target = live(machine, &|i| {
                    under_way(i) && held_here(i) && peer.is_none_or(|p| i.peer.as_str() == p)
                });
                match target {
                    Some(h) => machine.command(now, h, Command::Resume),
                    None => Ok(()),
                }
            }
            other => match active {
                Some(h) => {
                    let command = match other {
                        Action::Mute(m) => Command::SetMuted(m),
                        Action::Camera(on) => Command::SetVideoEnabled(on),
                        Action::ScreenShare(true) => Command::StartScreenShare,
                        Action::ScreenShare(false) => Command::StopScreenShare,
                        Action::Upgrade => Command::UpgradeToVideo,
                        Action::RestartIce => Command::RestartIce,
                        Action::Record(true) => Command::StartRecording,
                        Action::Record(false) => Command::StopRecording,
                        _ => Command::SwitchDevice {
                            kind: DeviceKind::Camera,
                            device_id: "cam-2".into(),
                        },
                    };
                    machine.command(now, h, command)
                }
                None => Ok(()),
            },
        };
        match result {
            Ok(()) => {
                if let Some(h) = declined {
                    self.records
                        .entry((client, h))
                        .or_default()
                        .declined_waiting = true;
                    self.holds.declined_waiting += 1;
                }
            }
            // Commands that do not fit are expected in random schedules; they must be typed.
            Err(error) => *self.errors.entry(error.code()).or_default() += 1,
        }
        for (handle, id, ok) in reads {
            let result = EffectResult::MessageRead { id, ok };
            let ev = Ev::Result {
                client,
                handle,
                pc: None,
                result,
            };
            self.after(1, 50, ev);
        }
        self.drain(client);
        self.cancelling = None;
        // A cancel ends its transfer at once.
        if let Some((h, id)) = cancelled {
            let book = &self.records[&(client, h)].data;
            let end = book.end_of(id);
            if end != Some(Fin::Ended(TransferEnd::Cancelled)) {
                self.violations.push(format!(
                    "[{client}] {h:?} cancelled transfer {id}, which ended {end:?}"
                ));
            }
        }
    }

    fn drain(&mut self, client: usize) {
        while let Some(output) = self.clients[client].machine.poll_output() {
            if let Err(problem) = self.clients[client].promises.observe(&output) {
                self.violations.push(format!("[{client}] {problem}"));
            }
            match output {
                Output::Send { to, message } => {
                    let (now, call_id) = (self.now, message.call_id);
                    *self.sent.entry((client, call_id)).or_default() += 1;
                    match &message.body {
                        Body::Invite { .. } => {
                            self.invites_sent.entry(call_id).or_insert(now);
                        }
                        Body::SelectAnswer { selected_party_id } => {
                            let selected = (selected_party_id.clone(), now);
                            self.selected.entry(call_id).or_insert(selected);
                        }
                        Body::Hangup {
                            reason: EndReason::AnsweredElsewhere,
                        } => {
                            self.merged_away.entry(call_id).or_insert((client, now));
                        }
                        Body::Preconnect => {
                            self.pre.asked += 1;
                            if let Some(device) = &message.to_party_id {
                                self.asked.insert(call_id, device.clone());
                            }
                        }
                        Body::PreconnectAnswer { .. } => self.pre.answered += 1,
                        Body::Accept => self.pre.accepted += 1,
                        Body::Reoffer { .. } => self.pre.reoffers += 1,
                        _ => {}
                    }
                    let json = message.to_json();
                    self.log(|| format!("[{client}] -> {to}: {json}"));
                    if to.as_str() == ADVERSARY {
                        continue; // She listens; nothing comes back into the world from it.
                    }
                    let from = self.clients[client].user.clone();
                    let targets: Vec<usize> = (0..self.clients.len())
                        .filter(|&i| self.clients[i].user == to && self.clients[i].online)
                        .collect();
                    if targets.is_empty() {
                        let call_id = message.call_id;
                        self.after(1, 20, Ev::SendFailed { client, call_id });
                    }
                    for to in targets {
                        if self.rng.chance(self.faults.drop) {
                            self.dropped += 1;
                            continue;
                        }
                        let copies = if self.rng.chance(self.faults.duplicate) {
                            2
                        } else {
                            1
                        };
                        for _ in 0..copies {
                            let ev = Ev::Deliver {
                                to,
                                sender: client,
                                from: from.clone(),
                                json: json.clone(),
                            };
                            self.in_flight += 1;
                            self.after(1, self.faults.max_delay, ev);
                        }
                    }
                }
                Output::Effect { call, effect } => self.execute(client, call, effect),
                Output::Event(event) => self.observe(client, event),
            }
        }
        // At most one call of a client sends media: hold the current call to take another.
        let on: Vec<CallHandle> = self
            .records
            .iter()
            .filter(|((c, _), r)| *c == client && r.senders_on())
            .map(|((_, h), _)| *h)
            .collect();
        if on.len() > 1 {
            self.violations.push(format!(
                "[{client}] senders on for {} calls: {on:?}",
                on.len()
            ));
        }
    }

    /// One message from mallory to an honest client: an invite of her own, a replay (once or
    /// several times) of a message the network carried, or a spoof for a call she saw.
    fn adversary_sends(&mut self, invite: bool) {
        let Some(adversary) = self.adversary.as_mut() else {
            return;
        };
        let rng = &mut adversary.rng;
        let to = *rng.pick(&adversary.targets);
        let seen = (!self.seen.is_empty())
            .then(|| self.seen[rng.below(self.seen.len() as u64) as usize].clone());
        let spoofed_call = seen
            .as_deref()
            .and_then(|text| Message::parse(text).ok())
            .map(|m| m.call_id);
        let mut texts = Vec::new();
        let kind = if invite { 0 } else { rng.below(4) };
        match (kind, seen, spoofed_call) {
            (1, Some(text), _) => texts.push(text),
            (2, Some(text), _) => {
                for _ in 0..rng.range(2, 20) {
                    texts.push(text.clone());
                }
            }
            (3, _, Some(call_id)) => {
                let body = match rng.below(11) {
                    0 => Body::Hangup {
                        reason: EndReason::Hangup,
                    },
                    1 => Body::Ringing { preconnect: false },
                    2 => Body::Answer {
                        sdp: "v=0\r\nm=audio mallory".into(),
                    },
                    3 => Body::Reject {
                        reason: EndReason::Busy,
                    },
                    4 => Body::SelectAnswer {
                        selected_party_id: PartyId::new("mallory-1").unwrap(),
                    },
                    5 => Body::Media {
                        seq: 1_000,
                        state: MediaState {
                            audio_muted: true,
                            video_muted: true,
                            screen_sharing: true,
                            // A spoofed hold, which must not silence the honest call.
                            on_hold: true,
                            // A spoofed recording, which must not reach the honest call's app.
                            recording: true,
                        },
                    },
                    6 => Body::Candidates {
                        candidates: vec![IceCandidate {
                            candidate: "candidate:9 1 udp 1 10.0.0.9 9 typ host".into(),
                            sdp_mid: Some("0".into()),
                            sdp_m_line_index: Some(0),
                        }],
                        end: true,
                    },
                    // Connecting while ringing: ask, answer, accept or reoffer in the honest
                    // users' place.
                    7 => Body::Preconnect,
                    8 => Body::PreconnectAnswer {
                        sdp: "v=0 mallory".into(),
                    },
                    9 => Body::Accept,
                    _ => Body::Reoffer {
                        sdp: "v=0\r\nm=audio mallory".into(),
                    },
                };
                let party_id = PartyId::new(if rng.coin() { "alice-1" } else { "bob-0" }).unwrap();
                texts.push(
                    Message {
                        call_id,
                        party_id,
                        to_party_id: None,
                        body,
                    }
                    .to_json(),
                );
            }
            _ => {
                let id = call_id_from(rng.next_u64());
                let body = Body::Invite {
                    kind: CallKind::Audio,
                    sdp: "v=0\r\nm=audio mallory".into(),
                    lifetime_ms: 600_000,
                    metadata: None,
                    // Her invite may offer to connect while it rings: bob says he would.
                    preconnect: rng.coin(),
                };
                let party_id = PartyId::new("mallory-1").unwrap();
                texts.push(
                    Message {
                        call_id: id,
                        party_id,
                        to_party_id: None,
                        body,
                    }
                    .to_json(),
                );
            }
        }
        adversary.sent += texts.len() as u64;
        self.cause = Cause::Own;
        for text in texts {
            self.log(|| format!("[{to}] <- {ADVERSARY}: {text}"));
            self.clients[to]
                .machine
                .handle_message(self.now, ADVERSARY, &text);
            self.drain(to);
        }
    }

    fn observe(&mut self, client: usize, event: Event) {
        self.log(|| format!("[{client}] event {event:?}"));
        let now = self.now;
        let call = match &event {
            Event::StateChanged { call, .. }
            | Event::Ended { call, .. }
            | Event::Incoming { call, .. } => Some(*call),
            _ => None,
        };
        if let Some(call) = call {
            let record = self.records.entry((client, call)).or_default();
            record.created_at.get_or_insert(now);
        }
        let held = |world: &World, call: CallHandle| {
            world.clients[client]
                .machine
                .call_info(call)
                .is_some_and(|i| i.local_media.on_hold || i.remote_media.on_hold)
        };
        match &event {
            Event::Quality { call, quality } => {
                if held(self, *call) {
                    self.violations
                        .push(format!("[{client}] {call:?} rated quality while on hold"));
                }
                // A rating covers the packets since the previous sample, held or not: never the
                // call's totals again after a hold.
                if self.feeding_stats != Some(quality.packets) {
                    self.violations.push(format!(
                        "[{client}] {call:?} rated {} packets; the sample added {:?}",
                        quality.packets, self.feeding_stats
                    ));
                }
                self.holds.qualities += 1;
            }
            Event::StateChanged {
                call,
                state: CallState::Reconnecting,
            } if self.feeding_stats.is_some() && held(self, *call) => {
                self.violations.push(format!(
                    "[{client}] {call:?} went reconnecting on a stats sample while on hold"
                ));
            }
            Event::Incoming { call, waiting, .. } => {
                let m = &self.clients[client].machine;
                let expected = m.active_call().is_some_and(|a| a != *call);
                let info_disagrees = m
                    .call_info(*call)
                    .is_some_and(|i| !i.state.is_ended() && i.waiting != *waiting);
                if *waiting != expected || info_disagrees {
                    self.violations.push(format!(
                        "[{client}] {call:?} rang with waiting {waiting}, another call under way: \
                         {expected}"
                    ));
                }
                if *waiting {
                    self.holds.waiting_rang += 1;
                }
            }
            _ => {}
        }
        self.observe_data(client, &event);
        match event {
            Event::StateChanged { call, state } => {
                let record = self.records.entry((client, call)).or_default();
                if record.ended.is_some() {
                    self.violations
                        .push(format!("[{client}] {call:?} changed state after it ended"));
                }
                record.states.push(state);
                // A call that stopped ringing is no longer preconnected (a call never rings again).
                if state != CallState::Ringing
                    && self.clients[client]
                        .machine
                        .call_info(call)
                        .is_some_and(|i| i.preconnected)
                {
                    self.violations.push(format!(
                        "[{client}] {call:?} still preconnected in {state:?}"
                    ));
                }
                if state == CallState::Connected {
                    record.connected = true;
                    record.connected_at.get_or_insert(now);
                }
            }
            Event::Ended {
                call,
                reason,
                missed,
            } => {
                let record = self.records.entry((client, call)).or_default();
                if record.ended.is_some() {
                    self.violations
                        .push(format!("[{client}] {call:?} ended twice"));
                }
                record.ended = Some(reason);
                record.cause = Some(self.cause);
                record.missed = missed;
            }
            Event::Error { error, .. } => {
                *self.errors.entry(error.code()).or_default() += 1;
            }
            Event::Screen { call_id, .. } => match self.clients[client].screen_plan {
                Some((Some(decision), delay)) => {
                    let ev = Ev::Screen {
                        client,
                        call_id,
                        decision,
                    };
                    self.at(now + delay, ev);
                }
                Some((None, _)) => {} // This app never answers.
                None => self
                    .violations
                    .push(format!("[{client}] asked to screen with screening off")),
            },
            Event::Missed { .. } => self.clients[client].missed += 1,
            Event::SpeakingWhileMuted { call } => {
                // Only a live call whose microphone is muted hears the user.
                let muted = self.clients[client]
                    .machine
                    .call_info(call)
                    .is_some_and(|i| i.local_media.audio_muted && !i.state.is_ended());
                if !muted {
                    self.violations.push(format!(
                        "[{client}] {call:?} told of speech while not muted"
                    ));
                }
            }
            Event::Preconnected { call } => {
                self.pre.preconnected += 1;
                // Only a ringing call of a client that allows it connects ahead.
                let info = self.clients[client].machine.call_info(call);
                let state = info.as_ref().map(|i| i.state);
                if !self.preconnect || state != Some(CallState::Ringing) {
                    self.violations.push(format!(
                        "[{client}] {call:?} preconnected in {state:?} (preconnect {})",
                        self.preconnect
                    ));
                }
                // The getter says what the event said.
                if !info.is_some_and(|i| i.preconnected) {
                    self.violations.push(format!(
                        "[{client}] {call:?} preconnected, but its info says not"
                    ));
                }
            }
            _ => {}
        }
    }

    fn new_pc(&mut self, client: usize, handle: CallHandle) -> usize {
        let record = self.records.entry((client, handle)).or_default();
        if let Some(pc) = record.pc {
            return pc;
        }
        self.pcs.push(Pc {
            client,
            handle,
            local: false,
            remote: None,
            got_candidates: false,
            gathered: false,
            closed: false,
            connected: false,
            failed: false,
            restarted_local: false,
            restarted_remote: false,
            down_epoch: 0,
            received: 0,
            counted_at: 0,
            chan: None,
        });
        let pc = self.pcs.len() - 1;
        self.records.get_mut(&(client, handle)).unwrap().pc = Some(pc);
        pc
    }

    fn sdp(&mut self, pc: usize) -> String {
        self.sdp_counter += 1;
        format!("v=0\r\nm=audio fake pc={pc} n={}", self.sdp_counter)
    }

    fn parse_pc(sdp: &str) -> Option<usize> {
        sdp.split(' ')
            .find_map(|part| part.strip_prefix("pc="))
            .and_then(|n| n.parse().ok())
    }

    fn gather(&mut self, client: usize, handle: CallHandle, pc: usize) {
        self.pcs[pc].gathered = true;
        let count = self.rng.range(1, 4);
        let mut delay = 0;
        for n in 0..count {
            delay += self.rng.range(1, 15);
            let result = EffectResult::LocalCandidate(IceCandidate {
                candidate: format!(
                    "candidate:{n} 1 udp 2122260223 127.0.0.1 {} typ host",
                    5000 + n
                ),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            });
            let ev = Ev::Result {
                client,
                handle,
                pc: Some(pc),
                result,
            };
            self.at(self.now + delay, ev);
        }
        let ev = Ev::Result {
            client,
            handle,
            pc: Some(pc),
            result: EffectResult::LocalCandidatesComplete,
        };
        let tail = self.rng.range(1, 30);
        self.at(self.now + delay + tail, ev);
    }

    fn sdp_result(&mut self, client: usize, handle: CallHandle, pc: usize, ok: EffectResult) {
        let op = match &ok {
            EffectResult::OfferCreated { op, .. }
            | EffectResult::AnswerCreated { op, .. }
            | EffectResult::AnswerApplied { op } => *op,
            _ => unreachable!(),
        };
        let result = if self.rng.chance(self.faults.sdp_fail) {
            EffectResult::SdpFailed {
                op,
                error: "InvalidStateError (injected)".into(),
            }
        } else {
            ok
        };
        let ev = Ev::Result {
            client,
            handle,
            pc: Some(pc),
            result,
        };
        self.after(1, 20, ev);
    }

    fn execute(&mut self, client: usize, handle: CallHandle, effect: Effect) {
        self.log(|| format!("[{client}] {handle:?} effect {effect:?}"));
        let record = self.records.entry((client, handle)).or_default();
        if record.released {
            self.violations.push(format!(
                "[{client}] {handle:?} effect {effect:?} issued after Release"
            ));
            return;
        }
        let plain = |result| Ev::Result {
            client,
            handle,
            pc: None,
            result,
        };
        match effect {
            Effect::AcquireMedia { video } => {
                let c = &self.clients[client];
                let result = match (&c.mic_error, video, &c.camera_error) {
                    (Some(e), _, _) => EffectResult::MediaFailed(e.clone()),
                    (None, true, Some(e)) => EffectResult::MediaAcquired {
                        video: false,
                        camera_error: Some(e.clone()),
                    },
                    (None, video, _) => EffectResult::MediaAcquired {
                        video,
                        camera_error: None,
                    },
                };
                self.after(1, 40, plain(result));
            }
            Effect::CreateOffer { op, ice_restart } => {
                let pc = self.new_pc(client, handle);
                let p = &mut self.pcs[pc];
                p.local = true;
                if p.failed && ice_restart {
                    p.restarted_local = true;
                }
                let gather = !p.gathered || ice_restart;
                let sdp = self.sdp(pc);
                self.sdp_result(client, handle, pc, EffectResult::OfferCreated { op, sdp });
                if gather {
                    self.gather(client, handle, pc);
                }
            }
            Effect::AcceptOffer { op, sdp } => {
                let pc = self.new_pc(client, handle);
                let p = &mut self.pcs[pc];
                p.remote = World::parse_pc(&sdp);
                p.local = true;
                if p.failed {
                    p.restarted_local = true;
                    p.restarted_remote = true;
                }
                let gather = !p.gathered || p.failed;
                let sdp = self.sdp(pc);
                self.sdp_result(client, handle, pc, EffectResult::AnswerCreated { op, sdp });
                if gather {
                    self.gather(client, handle, pc);
                }
            }
            Effect::ApplyAnswer { op, sdp } => {
                let Some(pc) = self.records[&(client, handle)].pc else {
                    self.violations.push(format!(
                        "[{client}] {handle:?} ApplyAnswer without a connection"
                    ));
                    return;
                };
                let p = &mut self.pcs[pc];
                p.remote = World::parse_pc(&sdp);
                if p.failed {
                    p.restarted_remote = true;
                }
                self.sdp_result(client, handle, pc, EffectResult::AnswerApplied { op });
            }
            Effect::AddRemoteCandidates { candidates, end } => {
                let pc = self.records[&(client, handle)].pc;
                match pc {
                    Some(pc) if self.pcs[pc].remote.is_some() => {
                        if !candidates.is_empty() {
                            self.pcs[pc].got_candidates = true;
                        }
                    }
                    _ => self.violations.push(format!(
                        "[{client}] {handle:?} candidates added before the remote description \
                         ({} candidates, end {end})",
                        candidates.len()
                    )),
                }
            }
            Effect::ResetPeerConnection => {
                let record = self.records.get_mut(&(client, handle)).unwrap();
                // The machine closes its data path itself: the connection's channels go with it.
                record.data.closes += 1;
                record.data.paused = false;
                if let Some(pc) = record.pc.take() {
                    self.pcs[pc].closed = true;
                    self.close_channels_of(pc);
                }
            }
            Effect::Release => {
                let record = self.records.get_mut(&(client, handle)).unwrap();
                record.released = true;
                record.releases += 1;
                record.media_live = false;
                // The driver drops the queued messages (their Promises reject) and its files.
                let book = &mut record.data;
                book.queued.clear();
                book.current = 0;
                book.receiving = None;
                if let Some(pc) = record.pc.take() {
                    self.pcs[pc].closed = true;
                    self.close_channels_of(pc);
                }
            }
            Effect::SendMessage { id } => {
                self.check_accepted(client, handle, "a message");
                self.send_message(client, handle, id)
            }
            Effect::SendFrame { frame } => {
                self.check_accepted(client, handle, "a file frame");
                self.send_frame(client, handle, frame)
            }
            Effect::SendFileBlock { id, offset, len } => {
                self.check_accepted(client, handle, "a file block");
                self.send_block(client, handle, id, offset, len)
            }
            Effect::ReceiveFile { id, size, .. } => {
                self.book(client, handle).receiving = Some((id, size, 0));
            }
            Effect::CollectStats => {
                // One packet a millisecond while the path is up and the peer sends (it does not
                // while either side holds the call), none otherwise.
                let received = match self.records[&(client, handle)].pc {
                    Some(pc) => {
                        let peer_sends = self.pcs[pc].remote.is_none_or(|y| {
                            let (c, h) = (self.pcs[y].client, self.pcs[y].handle);
                            self.records.get(&(c, h)).is_none_or(Record::senders_on)
                        });
                        let p = &mut self.pcs[pc];
                        if p.connected && peer_sends {
                            p.received += self.now.saturating_sub(p.counted_at);
                        }
                        p.counted_at = self.now;
                        p.received
                    }
                    None => 0,
                };
                let sample = StatsSample {
                    rtt_ms: Some(self.rng.range(1, 400) as f64),
                    jitter_ms: Some(self.rng.range(0, 50) as f64),
                    packets_received: received,
                    packets_lost: received / 100,
                    bytes_received: received * 100,
                };
                self.after(1, 10, plain(EffectResult::Stats(sample)));
            }
            Effect::StartScreenShare => {
                let result = if self.rng.chance(0.1) {
                    EffectResult::ScreenShareFailed(MediaError::PermissionDenied)
                } else {
                    EffectResult::ScreenShareStarted
                };
                self.after(10, 300, plain(result));
                self.after(20, 300, plain(EffectResult::NegotiationNeeded));
            }
            Effect::AcquireCamera => {
                let result = match &self.clients[client].camera_error {
                    Some(e) => EffectResult::CameraFailed(e.clone()),
                    None => EffectResult::CameraAcquired,
                };
                self.after(10, 100, plain(result));
                self.after(20, 120, plain(EffectResult::NegotiationNeeded));
            }
            // A recorder that cannot start, or (later) stops by itself.
            Effect::StartRecording if self.rng.chance(0.1) => {
                self.after(1, 20, plain(EffectResult::RecordingFailed));
            }
            Effect::StartRecording if self.rng.chance(0.05) => {
                self.after(100, 5_000, plain(EffectResult::RecordingStopped));
            }
            Effect::SwitchDevice { .. } if self.rng.chance(0.2) => {
                let failed = EffectResult::SwitchDeviceFailed(MediaError::DeviceNotFound);
                self.after(5, 50, plain(failed));
            }
            Effect::SetSending { sending } => {
                if !sending {
                    self.holds.holds += 1;
                }
                self.records.get_mut(&(client, handle)).unwrap().sending = Some(sending);
            }
            // A muted microphone: the fake browser's level samples, speech or silence, for two
            // seconds (the driver samples until the unmute; these may outlive it and the call).
            Effect::SetTrackEnabled {
                kind: DeviceKind::Microphone,
                enabled: false,
            } => {
                let level = if self.rng.coin() { 0.2 } else { 0.0 };
                for step in 1..=20 {
                    let sample = plain(EffectResult::MicrophoneLevel(level));
                    self.at(self.now + step * 100, sample);
                }
            }
            Effect::SetTrackEnabled { .. } | Effect::StopScreenShare => {}
            _ => {}
        }
    }

    /// Brings every connection's ICE state in line with the model and schedules the browser's
    /// reports of the changes.
    fn update_links(&mut self) {
        for x in 0..self.pcs.len() {
            if self.pcs[x].closed {
                continue;
            }
            let can_connect = self.link_up
                && match self.pcs[x].remote {
                    Some(y) => {
                        let (a, b) = (&self.pcs[x], &self.pcs[y]);
                        !b.closed
                            && b.remote == Some(x)
                            && a.local
                            && b.local
                            && (a.got_candidates || b.got_candidates)
                            && (!a.failed || (a.restarted_local && a.restarted_remote))
                            && (!b.failed || (b.restarted_local && b.restarted_remote))
                    }
                    None => false,
                };
            let p = &mut self.pcs[x];
            if can_connect && !p.connected {
                p.connected = true;
                p.failed = false;
                self.after(
                    5,
                    40,
                    Ev::Ice {
                        pc: x,
                        state: IceState::Connected,
                    },
                );
            } else if !can_connect && p.connected {
                p.connected = false;
                p.down_epoch += 1;
                let since = p.down_epoch;
                self.after(
                    500,
                    3_000,
                    Ev::Ice {
                        pc: x,
                        state: IceState::Disconnected,
                    },
                );
                self.after(8_000, 15_000, Ev::IceFailCheck { pc: x, since });
            }
        }
        // Two connections connected to each other: their data channels open a while later.
        for x in 0..self.pcs.len() {
            let Some(y) = self.pcs[x].remote.filter(|&y| y > x) else {
                continue;
            };
            let (a, b) = (&self.pcs[x], &self.pcs[y]);
            if a.connected
                && b.connected
                && b.remote == Some(x)
                && a.chan.is_none()
                && b.chan.is_none()
            {
                self.new_chan(x, y);
            }
        }
    }
}

// ----- the data path ------------------------------------------------------------------------------
//
// The fake browser's half: the two data channels of a pair of connected connections (`Chan`),
// which open together a while after the pair connects, may close (both ends hear it), and close
// when either connection does; frames arrive in order, each channel on its own, after what the
// sender's `files` buffer held drained at the schedule's rate; what is on its way when the
// channels close is lost. The driver's book of each call (`DataBook`) is what the sim checks the
// machine against: messages sent in order and once, one block in flight at the right offset and
// none while paused, each transfer ended once and for a reason this side can have, and at the
// end each transfer's two ends fitting each other (`pair_fits`).

/// The driver's `bufferedamountlow` threshold on the `files` channel (`src/web/data.rs`).
const LOW_WATER_BYTES: u64 = 256 * 1024;

/// One end's sending side of a pair's channels.
#[derive(Clone, Copy, Default, Debug)]
struct Pipe {
    /// The `files` channel's `bufferedAmount` at `at`; it drains at the schedule's rate.
    buffered: u64,
    at: Millis,
    /// When the last frame sent on the `files` channel arrives (frames arrive in order).
    files_arrive: Millis,
    /// Likewise on the `messages` channel.
    messages_arrive: Millis,
    /// Tags the one `bufferedamountlow` report due (each send that leaves the buffer above
    /// the threshold reschedules it).
    low_epoch: u64,
}

/// The data channels between two connections that connected to each other.
#[derive(Debug)]
struct Chan {
    /// The two connections (indexes into `pcs`): end 0 and end 1.
    ends: [usize; 2],
    open: bool,
    closed: bool,
    pipes: [Pipe; 2],
    /// The last message id each end received.
    last_message: [u64; 2],
}

/// What travels on a pair's channels.
#[derive(Clone, Debug)]
enum Frame {
    /// A text frame on `files`: an offer, a cancel, a refusal, or junk.
    Text(String),
    /// A block of a file's bytes on `files`.
    Bytes(u64),
    /// Message `id` on `messages`.
    Message(u64),
    /// Something on `messages` the driver cannot read.
    Junk,
}

/// How a transfer finished on one side.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fin {
    /// Sent or received in full.
    Done,
    Ended(TransferEnd),
}

/// A file a call sends, as the sim saw it.
#[derive(Debug)]
struct OutFile {
    size: u64,
    offered: bool,
    /// Bytes handed to the channel (its last progress).
    sent: u64,
    /// The call's `closes` when it was offered.
    closes_at_offer: u32,
    /// The driver reported a block of it failed.
    block_failed: bool,
    end: Option<Fin>,
    /// The receiving call and its id for the transfer, once it heard the offer.
    peer: Option<(usize, CallHandle, u64)>,
}

impl OutFile {
    fn new(size: u64) -> OutFile {
        OutFile {
            size,
            offered: false,
            sent: 0,
            closes_at_offer: 0,
            block_failed: false,
            end: None,
            peer: None,
        }
    }
}

/// A file a call receives.
#[derive(Debug)]
struct InFile {
    size: u64,
    closes_at_offer: u32,
    end: Option<Fin>,
}

/// One call's data path as the driver holds it, and what the sim checks against.
#[derive(Debug, Default)]
struct DataBook {
    /// Messages accepted, not yet sent nor dropped, in id order.
    queued: Vec<u64>,
    outgoing: BTreeMap<u64, OutFile>,
    incoming: BTreeMap<u64, InFile>,
    /// The transfer whose block the driver is reading, if any.
    block: Option<u64>,
    /// The driver's transfer whose blocks may go (0: none): a block read that completes after
    /// its transfer ended sends nothing.
    current: u64,
    /// The file the driver receives: its id, size and bytes so far.
    receiving: Option<(u64, u64, u64)>,
    /// The last block reported a buffer above the high-water mark, and nothing resumed since.
    paused: bool,
    /// Channel closes this call heard of (`DataClosed`, or its connection reset).
    closes: u32,
}

impl DataBook {
    /// The ids of the transfers under way (queued, sending or receiving).
    fn under_way(&self) -> impl Iterator<Item = u64> + '_ {
        let outgoing = self.outgoing.iter().filter(|(_, f)| f.end.is_none());
        let incoming = self.incoming.iter().filter(|(_, f)| f.end.is_none());
        outgoing
            .map(|(&id, _)| id)
            .chain(incoming.map(|(&id, _)| id))
    }

    fn end_of(&self, id: u64) -> Option<Fin> {
        let outgoing = self.outgoing.get(&id).map(|f| f.end);
        outgoing.or_else(|| self.incoming.get(&id).map(|f| f.end))?
    }
}

/// Counts of what the data path did, for the summary.
#[derive(Clone, Copy, Default, Debug)]
struct DataTally {
    /// Pairs whose channels opened, and that the browser closed.
    channels: u64,
    closed: u64,
    messages: u64,
    delivered: u64,
    blocks: u64,
    /// Blocks after which the transfer paused (buffer above high water).
    paused: u64,
    sent: u64,
    received: u64,
    /// Transfers ended before their last byte, per side: cancelled, remote-cancelled,
    /// call-ended, failed.
    ended: [u64; 4],
    /// Sender/receiver pairs whose ends were checked against each other.
    pairs: u64,
}

impl DataTally {
    fn add(&mut self, o: &DataTally) {
        self.channels += o.channels;
        self.closed += o.closed;
        self.messages += o.messages;
        self.delivered += o.delivered;
        self.blocks += o.blocks;
        self.paused += o.paused;
        self.sent += o.sent;
        self.received += o.received;
        for (a, b) in self.ended.iter_mut().zip(o.ended) {
            *a += b;
        }
        self.pairs += o.pairs;
    }
}

/// The offer frame's sender id, if `frame` is an offer.
fn offer_id(frame: &str) -> Option<u64> {
    let rest = frame.strip_prefix("{\"id\":")?;
    rest[..rest.find(',')?].parse().ok()
}

fn offer_size(frame: &str) -> Option<u64> {
    let rest = &frame[frame.find("\"size\":")? + 7..];
    rest[..rest.find(',')?].parse().ok()
}

/// Whether a sender's end and its receiver's fit: a file received in full was sent in full; a
/// receiver told of the sender's cancel has a sender that cancelled or failed (its `x`); a
/// sender told of the receiver's refusal has a receiver that cancelled (its `r`). The rest
/// (each side's own cancel, close or end, crossing the other's) is checked on each side.
fn pair_fits(sender: Fin, receiver: Fin) -> bool {
    use TransferEnd::{Cancelled, Failed, RemoteCancelled};
    match (sender, receiver) {
        (_, Fin::Done) => sender == Fin::Done,
        (_, Fin::Ended(RemoteCancelled)) => {
            matches!(sender, Fin::Ended(Cancelled) | Fin::Ended(Failed))
        }
        (Fin::Ended(RemoteCancelled), _) => receiver == Fin::Ended(Cancelled),
        _ => true,
    }
}

impl World {
    fn book(&mut self, client: usize, handle: CallHandle) -> &mut DataBook {
        &mut self.records.entry((client, handle)).or_default().data
    }

    fn violation(&mut self, client: usize, handle: CallHandle, what: String) {
        self.violations
            .push(format!("[{client}] {handle:?} {what}"));
    }

    /// The call whose driver holds connection `pc`, if it still does (not closed, replaced or
    /// released).
    fn live_pc(&self, pc: usize) -> Option<(usize, CallHandle)> {
        let p = &self.pcs[pc];
        let record = self.records.get(&(p.client, p.handle))?;
        (!p.closed && !record.released && record.pc == Some(pc)).then_some((p.client, p.handle))
    }

    fn feed(&mut self, client: usize, handle: CallHandle, result: EffectResult) {
        self.log(|| format!("[{client}] {handle:?} result {result:?}"));
        self.clients[client]
            .machine
            .handle_effect(self.now, handle, result);
        self.drain(client);
    }

    fn data_open_here(&self, client: usize, handle: CallHandle) -> bool {
        let machine = &self.clients[client].machine;
        machine.call_info(handle).is_some_and(|i| i.data_open)
    }

    fn new_chan(&mut self, x: usize, y: usize) {
        let chan = self.chans.len();
        self.chans.push(Chan {
            ends: [x, y],
            open: false,
            closed: false,
            pipes: [Pipe::default(); 2],
            last_message: [0; 2],
        });
        self.pcs[x].chan = Some(chan);
        self.pcs[y].chan = Some(chan);
        self.after(5, 300, Ev::DataOpen { chan });
        if self.rng.chance(self.chan_close) {
            self.after(300, 40_000, Ev::ChanClose { chan });
        }
        // Now and then a frame the driver cannot read, on either channel.
        if self.rng.chance(0.03) {
            let to = self.rng.index(2);
            let frame = if self.rng.coin() {
                Frame::Junk
            } else {
                Frame::Text(String::from("?junk"))
            };
            self.after(300, 30_000, Ev::Frame { chan, to, frame });
        }
    }

    fn data_open(&mut self, chan: usize) {
        if self.chans[chan].closed {
            return;
        }
        self.chans[chan].open = true;
        self.data.channels += 1;
        for end in 0..2 {
            if let Some((client, handle)) = self.live_pc(self.chans[chan].ends[end]) {
                self.feed(client, handle, EffectResult::DataOpen);
            }
        }
    }

    /// A pair's channels close: each end that saw them open, but the one closing (`closing`),
    /// hears it a moment later, and what is on its way is lost.
    fn close_chan(&mut self, chan: usize, closing: Option<usize>) {
        let c = &mut self.chans[chan];
        if c.closed {
            return;
        }
        c.closed = true;
        if !c.open {
            return;
        }
        for end in (0..2).filter(|&end| closing != Some(end)) {
            self.after(0, 50, Ev::DataClosed { chan, end });
        }
    }

    /// Connection `pc` closed: so do its channels.
    fn close_channels_of(&mut self, pc: usize) {
        if let Some(chan) = self.pcs[pc].chan {
            let end = usize::from(self.chans[chan].ends[1] == pc);
            self.close_chan(chan, Some(end));
        }
    }

    /// The open channels of this call's connection, and its end of them.
    fn chan_of(&self, client: usize, handle: CallHandle) -> Option<(usize, usize)> {
        let pc = self.records.get(&(client, handle))?.pc?;
        let chan = self.pcs[pc].chan?;
        let c = &self.chans[chan];
        (c.open && !c.closed).then_some((chan, usize::from(c.ends[1] == pc)))
    }

    /// Sends a frame from end `end`: text and bytes wait in the `files` buffer, messages go on
    /// their own channel. Returns the `files` channel's `bufferedAmount` after.
    fn transmit(&mut self, chan: usize, end: usize, frame: Frame) -> u64 {
        let (now, rate) = (self.now, self.drain_rate);
        let latency = self.rng.range(1, 30);
        let pipe = &mut self.chans[chan].pipes[end];
        let len = match &frame {
            Frame::Text(text) => text.len() as u64,
            Frame::Bytes(len) => *len,
            Frame::Message(_) | Frame::Junk => 0,
        };
        let mut low = None;
        let arrive = if let Frame::Message(_) = frame {
            let at = (now + latency).max(pipe.messages_arrive);
            pipe.messages_arrive = at;
            at
        } else {
            let drained = rate.saturating_mul(now - pipe.at);
            pipe.buffered = pipe.buffered.saturating_sub(drained) + len;
            pipe.at = now;
            let at = (now + pipe.buffered / rate + latency).max(pipe.files_arrive);
            pipe.files_arrive = at;
            if pipe.buffered > LOW_WATER_BYTES {
                pipe.low_epoch += 1;
                let low_at = now + (pipe.buffered - LOW_WATER_BYTES).div_ceil(rate);
                low = Some((low_at, pipe.low_epoch));
            }
            at
        };
        let buffered = pipe.buffered;
        if let Some((at, epoch)) = low {
            self.at(at, Ev::BufferLow { chan, end, epoch });
        }
        self.at(
            arrive,
            Ev::Frame {
                chan,
                to: 1 - end,
                frame,
            },
        );
        buffered
    }

    fn frame_arrives(&mut self, chan: usize, to: usize, frame: Frame) {
        let c = &self.chans[chan];
        if !c.open || c.closed {
            return; // Lost with the channels.
        }
        let sender = c.ends[1 - to];
        let Some((client, handle)) = self.live_pc(c.ends[to]) else {
            return;
        };
        match frame {
            Frame::Message(id) => {
                let last = &mut self.chans[chan].last_message[to];
                if id <= *last {
                    let last = *last;
                    self.violation(client, handle, format!("got message {id} after {last}"));
                }
                self.chans[chan].last_message[to] = id;
                self.data.delivered += 1;
            }
            Frame::Junk => self.feed(client, handle, EffectResult::BadMessageFrame),
            Frame::Text(text) => {
                let (c, h) = (self.pcs[sender].client, self.pcs[sender].handle);
                self.offer_from = offer_id(&text).map(|id| (c, h, id));
                self.feed(client, handle, EffectResult::FileFrame(text));
                self.offer_from = None;
            }
            Frame::Bytes(len) => {
                // Bytes of a transfer that ended on the way are dropped.
                if let Some((id, _, received)) = self.book(client, handle).receiving.as_mut() {
                    *received += len;
                    let (id, received) = (*id, *received);
                    self.feed(client, handle, EffectResult::FileBytes { id, received });
                }
            }
        }
    }

    fn send_message(&mut self, client: usize, handle: CallHandle, id: u64) {
        let open = self.data_open_here(client, handle);
        let book = self.book(client, handle);
        let first = book.queued.first().copied();
        book.queued.retain(|&q| q != id);
        if first != Some(id) {
            self.violation(
                client,
                handle,
                format!("sent message {id}, first in line {first:?}"),
            );
        }
        if !open {
            let what = format!("sent message {id} with its channels not open");
            self.violation(client, handle, what);
        }
        self.data.messages += 1;
        if let Some((chan, end)) = self.chan_of(client, handle) {
            self.transmit(chan, end, Frame::Message(id));
        }
    }

    fn send_frame(&mut self, client: usize, handle: CallHandle, frame: String) {
        if let Some(id) = offer_id(&frame) {
            let open = self.data_open_here(client, handle);
            let book = self.book(client, handle);
            let (closes, paused) = (book.closes, book.paused);
            let other = book
                .outgoing
                .iter()
                .find(|(&o, f)| o != id && f.offered && f.end.is_none())
                .map(|(&o, _)| o);
            let problem = match book.outgoing.get_mut(&id) {
                Some(f) if !f.offered && f.end.is_none() && offer_size(&frame) == Some(f.size) => {
                    f.offered = true;
                    f.closes_at_offer = closes;
                    None
                }
                f => Some(format!("{f:?}")),
            };
            let mut complain = |what: String| {
                self.violations
                    .push(format!("[{client}] {handle:?} offer {frame}: {what}"))
            };
            if let Some(f) = problem {
                complain(format!("the transfer is {f}"));
            }
            if let Some(other) = other {
                complain(format!("transfer {other} is still under way"));
            }
            if paused {
                complain("the buffer is above high water".into());
            }
            if !open {
                complain("the channels are not open".into());
            }
        }
        if let Some((chan, end)) = self.chan_of(client, handle) {
            self.transmit(chan, end, Frame::Text(frame));
        }
    }

    fn send_block(&mut self, client: usize, handle: CallHandle, id: u64, offset: u64, len: u64) {
        let open = self.data_open_here(client, handle);
        let pc = self.records.get(&(client, handle)).and_then(|r| r.pc);
        let book = self.book(client, handle);
        let mut problems = Vec::new();
        match book.outgoing.get(&id) {
            None => problems.push("of an unknown transfer".to_owned()),
            Some(f) if !f.offered || f.end.is_some() => {
                problems.push(format!("of a transfer not under way: {f:?}"))
            }
            Some(f) => {
                let expected = BLOCK_BYTES.min(f.size.saturating_sub(f.sent));
                if offset != f.sent || len != expected || len == 0 {
                    problems.push(format!("with {} bytes of {} sent", f.sent, f.size));
                }
            }
        }
        let unanswered = |b: &u64| book.outgoing.get(b).is_some_and(|f| f.end.is_none());
        if let Some(b) = book.block.filter(unanswered) {
            problems.push(format!("while a block of transfer {b} is in flight"));
        }
        if book.paused {
            problems.push("while the buffer is above high water".into());
        }
        if !open {
            problems.push("with the channels not open".into());
        }
        book.block = Some(id);
        book.current = id;
        for problem in problems {
            let what = format!("block {id} at {offset}, {len} bytes, {problem}");
            self.violation(client, handle, what);
        }
        let Some(pc) = pc else {
            return self.violation(client, handle, "block without a connection".into());
        };
        let ok = !self.rng.chance(self.block_fail);
        let ev = Ev::BlockDone {
            client,
            handle,
            pc,
            id,
            len,
            ok,
        };
        self.after(1, 15, ev);
    }

    /// The driver has read block `id` (`ok`) of a call's file: it sends it if the transfer is
    /// still the one under way, and reports.
    fn block_done(
        &mut self,
        client: usize,
        handle: CallHandle,
        pc: usize,
        id: u64,
        len: u64,
        ok: bool,
    ) {
        if self.live_pc(pc) != Some((client, handle)) {
            return; // Its connection is gone, and the task with it.
        }
        let book = self.book(client, handle);
        if book.block == Some(id) {
            book.block = None;
        }
        if book.current != id {
            return; // The transfer ended meanwhile: the driver sends nothing.
        }
        match ok.then(|| self.chan_of(client, handle)).flatten() {
            Some((chan, end)) => {
                let buffered = self.transmit(chan, end, Frame::Bytes(len));
                self.data.blocks += 1;
                self.feeding_buffered = Some(buffered);
                self.feed(client, handle, EffectResult::FileBlockSent { id, buffered });
                self.feeding_buffered = None;
            }
            None => {
                if let Some(f) = self.book(client, handle).outgoing.get_mut(&id) {
                    f.block_failed = true;
                }
                self.feed(client, handle, EffectResult::FileBlockFailed { id });
            }
        }
    }

    /// Checks a data event against the call's book, and keeps the driver's part of it.
    fn observe_data(&mut self, client: usize, event: &Event) {
        let mut problems = Vec::new();
        let (call, id) = match *event {
            Event::FileIncoming { call, id, size, .. } => {
                let from = self.offer_from;
                let book = self.book(client, call);
                let closes_at_offer = book.closes;
                let file = InFile {
                    size,
                    closes_at_offer,
                    end: None,
                };
                if book.incoming.insert(id, file).is_some() {
                    problems.push("offered twice".to_owned());
                }
                match from {
                    Some((c, h, sid)) => {
                        let sender = self.book(c, h).outgoing.get_mut(&sid);
                        match sender {
                            Some(f) if f.peer.is_none() && f.size == size => {
                                f.peer = Some((client, call, id));
                            }
                            f => problems.push(format!("offered; its sender's book has {f:?}")),
                        }
                    }
                    None => problems.push("offered without an offer frame".into()),
                }
                (call, id)
            }
            Event::Progress {
                call,
                id,
                direction,
                bytes,
                size,
            } => {
                let feeding = self.feeding_buffered;
                let book = self.book(client, call);
                match direction {
                    Direction::Outgoing => match book.outgoing.get_mut(&id) {
                        Some(f) if f.end.is_none() && f.size == size => {
                            if bytes > size || (bytes <= f.sent && size > 0) {
                                problems
                                    .push(format!("progress {bytes} of {size} after {}", f.sent));
                            }
                            f.sent = bytes;
                            if let Some(buffered) = feeding {
                                book.paused = buffered > HIGH_WATER_BYTES;
                                self.data.paused += u64::from(book.paused);
                            }
                        }
                        f => problems.push(format!("progress of {f:?}")),
                    },
                    Direction::Incoming => {
                        let receiving = book.receiving;
                        match book.incoming.get(&id) {
                            Some(f) if f.end.is_none() && f.size == size => {
                                if receiving != Some((id, size, bytes)) {
                                    problems.push(format!(
                                        "progress {bytes} of {size}; the driver has {receiving:?}"
                                    ));
                                }
                            }
                            f => problems.push(format!("progress of {f:?}")),
                        }
                    }
                }
                (call, id)
            }
            Event::FileSent { call, id } => {
                let book = self.book(client, call);
                match book.outgoing.get_mut(&id) {
                    Some(f) if f.end.is_none() && f.offered && f.sent == f.size => {
                        f.end = Some(Fin::Done)
                    }
                    f => problems.push(format!("sent: {f:?}")),
                }
                if book.current == id {
                    book.current = 0;
                }
                self.data.sent += 1;
                (call, id)
            }
            Event::FileReceived { call, id } => {
                let book = self.book(client, call);
                let receiving = book.receiving.take();
                match book.incoming.get_mut(&id) {
                    // Exactly its size arrived.
                    Some(f) if f.end.is_none() && receiving == Some((id, f.size, f.size)) => {
                        f.end = Some(Fin::Done)
                    }
                    f => problems.push(format!("received: {f:?}, the driver has {receiving:?}")),
                }
                self.data.received += 1;
                (call, id)
            }
            Event::TransferEnded {
                call,
                id,
                direction,
                reason,
            } => {
                let call_ended = self.clients[client]
                    .machine
                    .call_info(call)
                    .is_some_and(|i| i.state.is_ended());
                let cancelling = self.cancelling == Some((client, call, id));
                let book = self.book(client, call);
                let closes = book.closes;
                let (closed, offered, end) = match direction {
                    Direction::Outgoing => {
                        if book.current == id {
                            book.current = 0;
                        }
                        match book.outgoing.get_mut(&id) {
                            Some(f) => (
                                f.block_failed || closes > f.closes_at_offer,
                                f.offered,
                                &mut f.end,
                            ),
                            None => {
                                problems.push("ended, never sent".into());
                                return self.report(client, call, id, problems);
                            }
                        }
                    }
                    Direction::Incoming => {
                        if book.receiving.is_some_and(|(r, _, _)| r == id) {
                            book.receiving = None;
                        }
                        match book.incoming.get_mut(&id) {
                            Some(f) => (closes > f.closes_at_offer, true, &mut f.end),
                            None => {
                                problems.push("ended, never offered".into());
                                return self.report(client, call, id, problems);
                            }
                        }
                    }
                };
                if end.is_some() {
                    problems.push(format!("ended {reason:?} after {end:?}"));
                }
                *end = Some(Fin::Ended(reason));
                // The machine's pause ends with the transfer under way (not at the call's end).
                if direction == Direction::Outgoing && offered && reason != TransferEnd::CallEnded {
                    book.paused = false;
                }
                let fits = match reason {
                    TransferEnd::Cancelled => cancelling,
                    TransferEnd::CallEnded => call_ended,
                    TransferEnd::Failed => closed,
                    TransferEnd::RemoteCancelled => true,
                };
                if !fits {
                    problems.push(format!("ended {reason:?} by no cause of its own"));
                }
                let index = match reason {
                    TransferEnd::Cancelled => 0,
                    TransferEnd::RemoteCancelled => 1,
                    TransferEnd::CallEnded => 2,
                    TransferEnd::Failed => 3,
                };
                self.data.ended[index] += 1;
                (call, id)
            }
            _ => return,
        };
        self.report(client, call, id, problems);
    }

    fn report(&mut self, client: usize, call: CallHandle, id: u64, problems: Vec<String>) {
        for problem in problems {
            self.violation(client, call, format!("transfer {id}: {problem}"));
        }
    }
}

// ----- scenarios ------------------------------------------------------------------------------

const KINDS: [CallKind; 2] = [CallKind::Audio, CallKind::Video];

fn media_faults(world: &mut World, clients: &[usize]) {
    let rng = &mut world.rng.fork();
    for &c in clients {
        if rng.chance(0.04) {
            world.clients[c].mic_error = Some(if rng.coin() {
                MediaError::PermissionDenied
            } else {
                MediaError::DeviceBusy
            });
        }
        if rng.chance(0.08) {
            world.clients[c].camera_error = Some(MediaError::DeviceNotFound);
        }
    }
}

/// Random things a user does during a call, from either side.
fn mid_call_actions(world: &mut World, clients: &[usize], from: Millis, to: Millis) {
    let rng = &mut world.rng.fork();
    let count = rng.range(0, 4);
    for _ in 0..count {
        let client = *rng.pick(clients);
        let time = rng.range(from, to);
        let action = match rng.below(12) {
            0 => Action::Mute(true),
            1 => Action::Mute(false),
            2 => Action::Camera(false),
            3 => Action::ScreenShare(true),
            4 => Action::ScreenShare(false),
            5 => Action::Upgrade,
            6 => Action::RestartIce,
            7 => Action::Hold(None),
            8 => Action::Resume(None),
            9 => Action::Record(true),
            10 => Action::Record(false),
            _ => Action::SwitchCamera,
        };
        world.action(time, client, action);
    }
    if rng.chance(0.15) {
        let start = rng.range(from, to);
        let length = rng.range(300, 30_000);
        world.at(start, Ev::Link(false));
        world.at(start + length, Ev::Link(true));
    }
}

/// Messages, files and cancels during the calls (in half the schedules), and the fake browser's
/// data path settings: how fast a channel's buffer drains, whether blocks fail to read, and
/// whether the browser closes channels.
fn data_actions(world: &mut World, clients: &[usize], from: Millis, to: Millis) {
    let rng = &mut world.rng.fork();
    if !rng.coin() {
        return;
    }
    // Bytes a millisecond: at the slowest a few blocks fill the buffer past high water.
    world.drain_rate = *rng.pick(&[400, 4_000, 100_000]);
    world.block_fail = if rng.chance(0.2) { 0.05 } else { 0.0 };
    world.chan_close = if rng.chance(0.2) { 0.5 } else { 0.0 };
    for _ in 0..rng.range(1, 6) {
        let client = *rng.pick(clients);
        let time = rng.range(from, to);
        let action = match rng.below(10) {
            0..=2 => Action::Messages {
                count: rng.range(1, 3) as u32,
                len: rng.range(0, 2_000) as usize,
                ready: rng.chance(0.7),
            },
            // A burst of the largest messages, more than the queue holds if the channels are
            // not open yet; or one too large.
            3 => Action::Messages {
                count: 20,
                len: MAX_MESSAGE_BYTES + usize::from(rng.chance(0.2)),
                ready: true,
            },
            4..=7 => Action::File(match rng.below(8) {
                0 => 0,
                1 => rng.range(1, 1_000),
                2 => BLOCK_BYTES,
                3 => BLOCK_BYTES + 1,
                4 | 5 => rng.range(1, 2 * BLOCK_BYTES),
                6 => rng.range(1_000_000, 3_000_000),
                _ => u64::MAX, // invalid-file
            }),
            _ => Action::Cancel(rng.next_u64()),
        };
        // A file is often cancelled while it goes, by either side.
        if matches!(action, Action::File(_)) && rng.chance(0.4) {
            let by = *rng.pick(clients);
            world.action(
                time + rng.range(0, 3_000),
                by,
                Action::Cancel(rng.next_u64()),
            );
        }
        world.action(time, client, action);
    }
}

fn basic(world: &mut World) {
    let rng = &mut world.rng.fork();
    let alice = world.add_client("alice", "alice-1");
    let devices = if rng.chance(0.3) { 2 } else { 1 };
    let bobs: Vec<usize> = (0..devices)
        .map(|d| world.add_client("bob", &format!("bob-{d}")))
        .collect();
    if rng.chance(0.04) {
        for &b in &bobs {
            world.clients[b].online = false;
        }
    }
    let mut everyone = vec![alice];
    everyone.extend(&bobs);
    media_faults(world, &everyone);
    let kind = *rng.pick(&KINDS);
    world.action(rng.range(0, 100), alice, Action::Call("bob", kind));
    // Sometimes both devices answer within moments of each other: their answers race, and so
    // does whatever a device does right after answering.
    let close = rng.chance(0.25).then(|| rng.range(100, 36_000));
    for &bob in &bobs {
        let time = match close {
            Some(at) => at + rng.range(0, 300),
            None => rng.range(100, 36_000),
        };
        match rng.below(10) {
            0..=5 => {
                world.action(time, bob, Action::Accept(None, rng.coin()));
                // Now and then the device holds at once: its hold races its own answer (and,
                // with two devices, the other device's).
                if rng.chance(0.2) {
                    world.action(time + rng.range(30, 400), bob, Action::Hold(None));
                }
                // Now and then the device hangs up at once: its hangup races its own answer.
                if rng.chance(0.1) {
                    world.action(time + rng.range(0, 2_500), bob, Action::Hangup);
                }
            }
            6 | 7 => world.action(time, bob, Action::Reject),
            _ => {}
        }
    }
    if rng.chance(0.2) {
        world.action(rng.range(50, 36_000), alice, Action::Hangup);
    }
    mid_call_actions(world, &everyone, 500, 60_000);
    data_actions(world, &everyone, 500, 60_000);
    let who = *rng.pick(&everyone);
    world.action(rng.range(1_000, 70_000), who, Action::Hangup);
}

fn glare(world: &mut World) {
    let rng = &mut world.rng.fork();
    let alice = world.add_client("alice", "alice-1");
    let bob = world.add_client("bob", "bob-0");
    let mut everyone = vec![alice, bob];
    if rng.chance(0.3) {
        everyone.push(world.add_client("bob", "bob-1"));
    }
    media_faults(world, &everyone);
    let t0 = rng.range(0, 100);
    let (first, second) = if rng.coin() {
        (alice, bob)
    } else {
        (bob, alice)
    };
    let first_peer = if first == alice { "bob" } else { "alice" };
    let second_peer = if second == alice { "bob" } else { "alice" };
    world.action(t0, first, Action::Call(first_peer, *rng.pick(&KINDS)));
    let gap = rng.range(0, 400);
    world.action(
        t0 + gap,
        second,
        Action::Call(second_peer, *rng.pick(&KINDS)),
    );
    mid_call_actions(world, &[alice, bob], 2_000, 20_000);
    data_actions(world, &[alice, bob], 0, 20_000);
    let who = *rng.pick(&[alice, bob]);
    world.action(rng.range(5_000, 40_000), who, Action::Hangup);
}

fn busy(world: &mut World) {
    let rng = &mut world.rng.fork();
    let alice = world.add_client("alice", "alice-1");
    let bob = world.add_client("bob", "bob-0");
    let carol = world.add_client("carol", "carol-1");
    media_faults(world, &[alice, bob, carol]);
    world.action(0, alice, Action::Call("bob", *rng.pick(&KINDS)));
    world.action(
        rng.range(200, 3_000),
        bob,
        Action::Accept(Some("alice"), true),
    );
    let t = rng.range(0, 8_000);
    world.action(t, carol, Action::Call("bob", *rng.pick(&KINDS)));
    if rng.chance(0.3) {
        world.action(t + rng.range(100, 5_000), carol, Action::Hangup);
    }
    world.action(rng.range(5_000, 30_000), alice, Action::Hangup);
    world.action(rng.range(35_000, 40_000), carol, Action::Hangup);
    data_actions(world, &[alice, bob, carol], 0, 35_000);
}

fn chaos(world: &mut World) {
    let rng = &mut world.rng.fork();
    let mut clients = vec![
        world.add_client("alice", "alice-1"),
        world.add_client("bob", "bob-0"),
        world.add_client("carol", "carol-1"),
    ];
    if rng.coin() {
        clients.push(world.add_client("bob", "bob-1"));
    }
    media_faults(world, &clients);
    for &c in &clients {
        if rng.chance(0.3) {
            world.set_call_waiting(c);
        }
    }
    let users = ["alice", "bob", "carol"];
    let count = rng.range(5, 30);
    for _ in 0..count {
        let client = *rng.pick(&clients);
        let time = rng.range(0, 60_000);
        let action = match rng.below(8) {
            0 | 1 => Action::Call(users[rng.index(users.len())], *rng.pick(&KINDS)),
            2 | 3 => Action::Accept(None, rng.coin()),
            4 => Action::Reject,
            5 => Action::Hold(None),
            6 => Action::Resume(None),
            _ => Action::Hangup,
        };
        world.action(time, client, action);
    }
    mid_call_actions(world, &clients, 0, 60_000);
    data_actions(world, &clients, 0, 60_000);
    for &c in &clients {
        world.action(90_000, c, Action::Hangup);
    }
}

/// Call waiting and hold, racing renegotiation, ICE restarts and blips, with either side's
/// hangups of the held call.
fn waiting(world: &mut World) {
    let rng = &mut world.rng.fork();
    let alice = world.add_client("alice", "alice-1");
    let bob = world.add_client("bob", "bob-0");
    let carol = world.add_client("carol", "carol-1");
    let everyone = [alice, bob, carol];
    for &c in &everyone {
        if c == bob || rng.chance(0.5) {
            world.set_call_waiting(c);
        }
    }
    media_faults(world, &everyone);
    world.action(0, alice, Action::Call("bob", *rng.pick(&KINDS)));
    let accepted_at = rng.range(200, 3_000);
    world.action(accepted_at, bob, Action::Accept(Some("alice"), rng.coin()));
    if rng.chance(0.25) {
        // Glare during a hold: alice holds bob, then she and carol call each other at once.
        let held_at = accepted_at + rng.range(500, 6_000);
        world.action(held_at, alice, Action::Hold(Some("bob")));
        let t = held_at + rng.range(0, 3_000);
        let (first, second) = if rng.coin() {
            (alice, carol)
        } else {
            (carol, alice)
        };
        let peer = |c| if c == alice { "carol" } else { "alice" };
        world.action(t, first, Action::Call(peer(first), *rng.pick(&KINDS)));
        let gap = rng.range(0, 400);
        world.action(
            t + gap,
            second,
            Action::Call(peer(second), *rng.pick(&KINDS)),
        );
        if rng.coin() {
            let at = t + rng.range(2_000, 20_000);
            world.action(at, alice, Action::Hold(Some("carol")));
            world.action(at + rng.range(0, 3_000), alice, Action::Resume(Some("bob")));
        }
    } else {
        let t = rng.range(0, 8_000);
        world.action(t, carol, Action::Call("bob", *rng.pick(&KINDS)));
        let decide = t + rng.range(50, 10_000);
        match rng.below(6) {
            0 => world.action(decide, bob, Action::Reject),
            1 => {
                world.action(decide, bob, Action::HangupWith("alice"));
                let at = decide + rng.range(0, 2_000);
                world.action(at, bob, Action::Accept(Some("carol"), rng.coin()));
            }
            2 | 3 => {
                // Refused while alice's call goes on: then hold it and take carol's.
                if rng.coin() {
                    world.action(decide, bob, Action::Accept(Some("carol"), rng.coin()));
                }
                world.action(decide, bob, Action::Hold(Some("alice")));
                let at = decide + rng.range(0, 2_000);
                world.action(at, bob, Action::Accept(Some("carol"), rng.coin()));
                // Switch back and forth.
                let mut at = at + rng.range(1_000, 8_000);
                for _ in 0..rng.below(3) {
                    let (hold, resume) = if rng.coin() {
                        ("carol", "alice")
                    } else {
                        ("alice", "carol")
                    };
                    world.action(at, bob, Action::Hold(Some(hold)));
                    world.action(at + rng.range(0, 1_000), bob, Action::Resume(Some(resume)));
                    at += rng.range(1_000, 8_000);
                }
            }
            4 => world.action(decide, carol, Action::Hangup),
            _ => {} // It rings until the invite runs out.
        }
    }
    // alice holds and resumes too, now and then, and anyone may end a call.
    for _ in 0..rng.range(0, 3) {
        let at = rng.range(1_000, 40_000);
        world.action(at, alice, Action::Hold(Some("bob")));
        world.action(
            at + rng.range(0, 10_000),
            alice,
            Action::Resume(Some("bob")),
        );
    }
    mid_call_actions(world, &everyone, 500, 60_000);
    data_actions(world, &everyone, 500, 60_000);
    if rng.chance(0.5) {
        let (who, peer) = *rng.pick(&[
            (alice, "bob"),
            (bob, "alice"),
            (bob, "carol"),
            (carol, "bob"),
            (alice, "carol"),
            (carol, "alice"),
        ]);
        world.action(rng.range(3_000, 70_000), who, Action::HangupWith(peer));
    }
}

// ----- invariants ---------------------------------------------------------------------------

/// Where a callee device stands in a call, as the caller decided.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// The caller took this device's answer (its `select-answer` named it).
    Answered,
    /// The caller took no answer (it never sent `select-answer`).
    Unanswered,
    /// The caller took another device's answer, or glare merged away the call this device rang
    /// for: all it can still hear of the call is that.
    Lost,
}

/// How a device's end fits its caller's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Story {
    /// One side's message made the other end.
    Told,
    /// Each side ended by its own hand (its user, a timer, a failure) before the other side's
    /// message reached it. Every such end sends the other side a message, except a device's
    /// invite expiry, which comes after the caller's ring timeout anyway; so when no message is
    /// lost, the two ends are at most one network delay apart. When messages are lost there is
    /// no bound: a side whose peer's message was lost ends later by its own hand (in the end, by
    /// its ring timer or ICE giving up), and nothing else.
    Crossed,
}

// The agreement rule, written as what each side can end with by its own hand and what it
// reads from the other side's message. Spelled out per pair, with `>` for "tells":
//
//   caller                 device whose answer it took
//   hangup            >    remote-hangup
//   remote-hangup     <    hangup
//   ice-failed        <>   ice-failed
//   protocol-error    <>   protocol-error
//   hangup, ice-failed or protocol-error, crossed with one of those three
//
//   caller (no answer taken)                device that rang
//   cancelled, timeout                 >    the same (missed, unless it accepted)
//   rejected, busy, media-failed,      >    the same (relayed from another device)
//     remote-hangup, ice-failed,
//     protocol-error
//   rejected, media-failed, ice-failed, <   rejected, media-failed, ice-failed,
//     protocol-error, remote-hangup           protocol-error, hangup
//   any of those, crossed with the device's own rejected, media-failed, hangup,
//     protocol-error, ice-failed or timeout (its invite expired)
//
//   device that lost: answered-elsewhere (told by select-answer or by glare's hangup),
//     or one of its own ends, crossed with that message.
//
//   busy with no device that rang: a device busy-rejected the invite without ringing.

/// What a device reads from its caller's message when the caller ended with `caller`.
fn device_hears(role: Role, caller: EndReason) -> Option<EndReason> {
    use EndReason::*;
    match role {
        // Past the answer, the caller tells only the device it took.
        Role::Answered => match caller {
            Hangup => Some(RemoteHangup),
            IceFailed | ProtocolError => Some(caller),
            _ => None,
        },
        // Before it, the caller tells every device: its own cancel or ring timeout, or what a
        // device told it.
        Role::Unanswered => match caller {
            Cancelled | Timeout | Rejected | Busy | MediaFailed | RemoteHangup | IceFailed
            | ProtocolError => Some(caller),
            _ => None,
        },
        Role::Lost => Some(AnsweredElsewhere),
    }
}

/// What the caller reads from a device's message when the device ended with `device` (and
/// `declined_waiting`: its user declined it while another call was under way).
fn caller_hears(role: Role, device: EndReason, declined_waiting: bool) -> Option<EndReason> {
    use EndReason::*;
    match role {
        Role::Unanswered if device == Rejected && declined_waiting => Some(Busy),
        Role::Answered => match device {
            Hangup => Some(RemoteHangup),
            IceFailed | ProtocolError => Some(device),
            _ => None,
        },
        Role::Unanswered => match device {
            Rejected | MediaFailed | IceFailed | ProtocolError => Some(device),
            // It accepted, then hung up before its answer reached the caller.
            Hangup => Some(RemoteHangup),
            _ => None,
        },
        // The caller took another device: a losing device's messages change nothing.
        Role::Lost => None,
    }
}

/// Whether a caller can end with `reason` by its own hand. Its own `media-failed`,
/// `protocol-error` (of the first offer) and `unreachable` all come before any device rings;
/// once it asked a device to preconnect (`preconnected`), applying that device's answer may
/// fail too (`protocol-error`).
fn caller_own(answered: bool, rang: bool, preconnected: bool, reason: EndReason) -> bool {
    use EndReason::*;
    match (answered, rang) {
        (true, _) => matches!(reason, Hangup | IceFailed | ProtocolError),
        (false, true) if preconnected => matches!(reason, Cancelled | Timeout | ProtocolError),
        (false, true) => matches!(reason, Cancelled | Timeout),
        (false, false) => matches!(
            reason,
            Cancelled | Timeout | MediaFailed | ProtocolError | Unreachable
        ),
    }
}

/// Whether a device can end with `reason` by its own hand.
fn device_own(role: Role, reason: EndReason) -> bool {
    use EndReason::*;
    match role {
        Role::Answered => matches!(reason, Hangup | IceFailed | ProtocolError),
        // `hangup`: it accepted, then hung up; `ice-failed`: it answered and no path came in
        // time; `timeout`: its invite expired.
        Role::Unanswered | Role::Lost => matches!(
            reason,
            Rejected | MediaFailed | Hangup | ProtocolError | IceFailed | Timeout
        ),
    }
}

/// One side's end, as seen by the sim.
#[derive(Clone, Copy, Debug)]
struct End {
    client: usize,
    reason: EndReason,
    cause: Cause,
    at: Millis,
    /// A device's user declined it as a waiting call.
    declined_waiting: bool,
}

/// How a device's end fits its caller's (for `Lost`, the caller's is the moment it or the
/// merging side told the device, with `reason` unused), or why it cannot.
fn story(role: Role, caller: End, device: End) -> Result<Story, &'static str> {
    let told_device = device_hears(role, caller.reason);
    match (caller.cause, device.cause) {
        (_, Cause::ToldBy(x)) if x != caller.client => {
            Err("device told by a client not its caller")
        }
        (_, Cause::ToldBy(_)) if told_device != Some(device.reason) => {
            Err("device told something its caller's end does not say")
        }
        (Cause::ToldBy(x), Cause::ToldBy(_)) if x == device.client => {
            Err("caller and device each told by the other")
        }
        (_, Cause::ToldBy(_)) => Ok(Story::Told),
        (_, Cause::Own) if !device_own(role, device.reason) => {
            Err("device cannot end this way by its own hand")
        }
        (Cause::ToldBy(x), Cause::Own) if x == device.client => {
            if caller_hears(role, device.reason, device.declined_waiting) == Some(caller.reason) {
                Ok(Story::Told)
            } else {
                Err("caller told something the device's end does not say")
            }
        }
        // Both by their own hand, or the caller told by another device that it then relayed.
        (_, Cause::Own) => Ok(Story::Crossed),
    }
}

/// What the sim saw of one call on one client.
struct CallView {
    client: usize,
    party: PartyId,
    direction: Direction,
    call_id: CallId,
    end: Option<End>,
    created_at: Option<Millis>,
    connected: bool,
    /// It went to `connecting` (for an incoming call: the user accepted, or glare merged it).
    accepted: bool,
    missed: bool,
}

struct Outcome {
    scenario: Scenario,
    lossless: bool,
    caller_reasons: Vec<EndReason>,
    /// Caller/device pairs whose ends were checked against each other, by how they fit.
    stories: BTreeMap<&'static str, u64>,
    connected_pairs: usize,
    /// Glare: whether "exactly one call connects" was required in full (see `check_glare`), and
    /// when both callers' calls had connected.
    glare: Option<(bool, Option<Millis>)>,
    errors: BTreeMap<&'static str, u64>,
    steps: u64,
    holds: HoldTally,
    data: DataTally,
    pre: PreTally,
    /// It broke an invariant.
    failed: bool,
}

/// Once every timer that ends or settles a call has fired and the network has drained, nothing
/// is left calling, ringing, connecting or reconnecting: every call is over or connected.
/// Checked before the final hangups, which would otherwise hide a call stuck half way.
fn check_settled(world: &World) -> Vec<String> {
    let mut violations = Vec::new();
    for (index, client) in world.clients.iter().enumerate() {
        let machine = &client.machine;
        let (mut connected, mut current) = (0, 0);
        for handle in machine.calls() {
            let info = machine.call_info(handle).unwrap();
            match info.state {
                CallState::Ended(_) => {}
                CallState::Connected => {
                    connected += 1;
                    current += usize::from(!info.local_media.on_hold);
                }
                state => violations.push(format!(
                    "[{index}] {handle:?} left {state:?} at {SETTLED_AT} ms, after every timer fired"
                )),
            }
        }
        // Others may be connected but on hold here.
        if current > 1 {
            violations.push(format!(
                "[{index}] {current} calls connected at once and not on hold"
            ));
        }
        // A connected call samples stats on a timer; with none, nothing may still be waiting.
        if connected == 0 {
            if let Some(at) = machine.poll_timeout() {
                violations.push(format!(
                    "[{index}] no call connected at {SETTLED_AT} ms, yet a timer waits for {at} ms"
                ));
            }
        }
    }
    // With its channels open, a call has nothing waiting to go and no transfer under way: every
    // block was answered, every pause ended, every offer's bytes or cancel arrived. With them
    // closed (the grace long over), nothing is under way either: only what never started waits
    // for channels that may come.
    for (&(index, handle), record) in &world.records {
        let machine = &world.clients[index].machine;
        let Some(info) = machine.call_info(handle).filter(|i| !i.state.is_ended()) else {
            continue;
        };
        let chan_open = record
            .pc
            .and_then(|pc| world.pcs[pc].chan)
            .is_some_and(|c| world.chans[c].open && !world.chans[c].closed);
        let book = &record.data;
        let under_way: Vec<u64> = book.under_way().collect();
        let started: Vec<u64> = under_way
            .iter()
            .copied()
            .filter(|id| book.outgoing.get(id).is_none_or(|f| f.offered))
            .collect();
        let problem = match (info.data_open, chan_open) {
            (true, true) if !book.queued.is_empty() || !under_way.is_empty() => Some(format!(
                "channels open: messages {:?} wait, transfers {under_way:?} under way",
                book.queued
            )),
            (true, false) => Some("open, yet its channels closed or never opened".into()),
            (false, _) if !started.is_empty() => {
                Some(format!("channels closed, transfers {started:?} under way"))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            violations.push(format!(
                "[{index}] {handle:?} at {SETTLED_AT} ms: {problem}"
            ));
        }
    }
    let in_flight = world
        .events
        .iter()
        .flatten()
        .filter(|ev| matches!(ev, Ev::Deliver { .. } | Ev::SendFailed { .. }))
        .count();
    if in_flight > 0 {
        violations.push(format!(
            "{in_flight} messages still in flight at {SETTLED_AT} ms"
        ));
    }
    violations
}

/// A flag of a side's media state, named for the sentence of a violation.
type MediaFlag = (&'static str, fn(&MediaState) -> bool);

/// The flags both sides must agree on: hold and recording.
const MEDIA_FLAGS: [MediaFlag; 2] = [("holds", |m| m.on_hold), ("records", |m| m.recording)];

/// When the network is quiet (no message in flight) and none was lost, both sides of each call
/// that has connected agree on its hold and its recording: each side's own hold and recording
/// are what the other shows of it.
/// Returns the violations and how many pairs were compared. (A lost `media` message is not sent
/// again unless the transport reported the failure, so a lossy schedule may disagree.)
fn check_hold_agreement(world: &World) -> (Vec<String>, u64) {
    let mut violations = Vec::new();
    if !world.lossless() || world.in_flight > 0 {
        return (violations, 0);
    }
    let mut pairs = 0;
    // Connected (or reconnecting), so the callee's answer and the media state after it are out.
    let connected = |c: &Client| -> Vec<peercall::call::CallInfo> {
        c.machine
            .calls()
            .filter_map(|h| c.machine.call_info(h))
            .filter(|i| matches!(i.state, CallState::Connected | CallState::Reconnecting))
            .collect()
    };
    for (i, caller) in world.clients.iter().enumerate() {
        for call in connected(caller)
            .into_iter()
            .filter(|c| c.direction == Direction::Outgoing)
        {
            let Some((party, _)) = world.selected.get(&call.call_id) else {
                continue;
            };
            let device = world
                .clients
                .iter()
                .enumerate()
                .filter(|(_, c)| &c.machine.config().party_id == party)
                .flat_map(|(j, c)| connected(c).into_iter().map(move |info| (j, info)))
                .find(|(_, info)| {
                    info.call_id == call.call_id && info.direction == Direction::Incoming
                });
            let Some((j, other)) = device else { continue };
            pairs += 1;
            // Each side's own flag is what the other shows of it.
            for (what, flag) in MEDIA_FLAGS {
                let (mine, seen) = (flag(&call.local_media), flag(&call.remote_media));
                let (theirs, seen_there) = (flag(&other.local_media), flag(&other.remote_media));
                if mine != seen_there || seen != theirs {
                    violations.push(format!(
                        "call {}: [{i}] {what} {mine} and sees {seen}, [{j}] {what} {theirs} and sees {seen_there}",
                        call.call_id
                    ));
                }
            }
        }
    }
    (violations, pairs)
}

fn check(world: &World, scenario: Scenario) -> (Vec<String>, Outcome) {
    let mut violations = world.violations.clone();
    let mut views = Vec::new();
    for (index, client) in world.clients.iter().enumerate() {
        let machine = &client.machine;
        if let Err(problem) = client.promises.settled(machine) {
            violations.push(format!("[{index}] {problem}"));
        }
        for handle in machine.calls() {
            let info = machine.call_info(handle).unwrap();
            let record = world.records.get(&(index, handle));
            if !info.state.is_ended() {
                // Every client hung up its last call, and the peer heard it or ICE gave up.
                violations.push(format!(
                    "[{index}] {handle:?} left {:?} after the final hangup",
                    info.state
                ));
            }
            match record {
                Some(r) if info.state.is_ended() => {
                    if r.releases != 1 {
                        violations.push(format!(
                            "[{index}] {handle:?} ended with {} Release effects",
                            r.releases
                        ));
                    }
                    if r.media_live {
                        violations.push(format!("[{index}] {handle:?} ended with live tracks"));
                    }
                    if let CallState::Ended(reason) = info.state {
                        if r.ended != Some(reason) {
                            violations.push(format!("[{index}] {handle:?} Ended event disagrees"));
                        }
                    }
                }
                None if info.state.is_ended() => {
                    violations.push(format!("[{index}] {handle:?} ended without events"));
                }
                _ => {}
            }
            let end = match (info.state, info.ended_at, record.and_then(|r| r.cause)) {
                (CallState::Ended(reason), Some(at), Some(cause)) => Some(End {
                    client: index,
                    reason,
                    cause,
                    at,
                    declined_waiting: record.is_some_and(|r| r.declined_waiting),
                }),
                _ => None,
            };
            views.push(CallView {
                client: index,
                party: machine.config().party_id.clone(),
                direction: info.direction,
                call_id: info.call_id,
                end,
                created_at: record.and_then(|r| r.created_at),
                connected: record.is_some_and(|r| r.connected),
                accepted: record.is_some_and(|r| r.states.contains(&CallState::Connecting)),
                missed: record.is_some_and(|r| r.missed),
            });
        }
    }
    for view in &views {
        check_timing(world, view, &mut violations);
        // A path that was never cut does not fail once media flowed, however long a hold kept
        // it silent (the peer may stop sending before its hold message arrives).
        let ice_failed = view.end.is_some_and(|e| e.reason == EndReason::IceFailed);
        if ice_failed && view.connected && world.lossless() && world.first_blip_at.is_none() {
            violations.push(format!(
                "[{}] call {}: ended ice-failed after it connected, with the link never cut \
                 and no message lost",
                view.client, view.call_id
            ));
        }
    }

    // Both sides agree on the outcome. The tables hold on every schedule: a lost message
    // cannot make anyone end a way that no message and no own action explains. With no loss
    // every message arrives within `max_delay`, which bounds the time between a message's
    // sender ending and its receiver ending, and between two ends that crossed on the wire.
    let lossless = world.lossless();
    let max_delay = world.faults.max_delay;
    let mut stories: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut judge = |violations: &mut Vec<String>,
                     role: Role,
                     caller: End,
                     device: End,
                     what: &dyn Fn() -> String| {
        let (story, apart) = match story(role, caller, device) {
            Err(why) => {
                *stories.entry("impossible").or_default() += 1;
                violations.push(format!("{}: {why}", what()));
                return;
            }
            Ok(Story::Told) => {
                *stories.entry("told").or_default() += 1;
                let (teller, told) = match device.cause {
                    Cause::ToldBy(_) => (caller.at, device.at),
                    Cause::Own => (device.at, caller.at),
                };
                // Within one delay, even for a message held until its call's invite came:
                // the invite went out first.
                let ok = (1..=max_delay).contains(&told.wrapping_sub(teller));
                ("told", (!ok).then_some(told.wrapping_sub(teller)))
            }
            Ok(Story::Crossed) => {
                *stories.entry("crossed").or_default() += 1;
                let apart = caller.at.abs_diff(device.at);
                ("crossed", (apart > max_delay).then_some(apart))
            }
        };
        if let (true, Some(apart)) = (lossless, apart) {
            violations.push(format!(
                "{}: {story}, yet {apart} ms apart with no message lost and at most \
                 {max_delay} ms of delay",
                what()
            ));
        }
    };
    let mut caller_reasons = Vec::new();
    let mut connected_pairs = 0;
    let mut pre = world.pre;
    pre.schedules = u64::from(world.preconnect);
    for caller in views.iter().filter(|v| v.direction == Direction::Outgoing) {
        let devices: Vec<&CallView> = views
            .iter()
            .filter(|v| v.direction == Direction::Incoming && v.call_id == caller.call_id)
            .collect();
        let selected = world.selected.get(&caller.call_id);
        let role_of = |device: &CallView| match selected {
            Some((party, _)) if *party == device.party => Role::Answered,
            Some(_) => Role::Lost,
            None => Role::Unanswered,
        };
        if caller.connected && devices.iter().any(|c| c.connected) {
            connected_pairs += 1;
            let asked = world.asked.get(&caller.call_id);
            if asked.is_some() && selected.map(|(party, _)| party) == asked {
                pre.connected += 1;
            }
        }
        if caller.connected && selected.is_none() {
            violations.push(format!(
                "call {}: caller [{}] connected without taking an answer",
                caller.call_id, caller.client
            ));
        }
        for device in &devices {
            if device.connected && role_of(device) != Role::Answered {
                violations.push(format!(
                    "call {}: device [{}] connected, but the caller took {:?}",
                    caller.call_id,
                    device.client,
                    selected.map(|(party, _)| party)
                ));
            }
        }
        let Some(end) = caller.end else { continue };
        caller_reasons.push(end.reason);
        // The caller's own end, or what told it.
        match end.cause {
            Cause::Own => {
                let preconnected = world.asked.contains_key(&caller.call_id);
                if !caller_own(
                    selected.is_some(),
                    !devices.is_empty(),
                    preconnected,
                    end.reason,
                ) {
                    violations.push(format!(
                        "call {}: caller [{}] ended {} by its own hand ({} device rang, answer \
                         taken: {})",
                        caller.call_id,
                        caller.client,
                        end.reason,
                        devices.len(),
                        selected.is_some()
                    ));
                }
            }
            Cause::ToldBy(x) => {
                let teller = devices.iter().find(|d| d.client == x);
                let fits = match teller.and_then(|d| d.end.map(|e| (role_of(d), e))) {
                    // A device that busy-rejected the invite never rang.
                    None => teller.is_none() && end.reason == EndReason::Busy,
                    Some((role, e)) => {
                        e.cause == Cause::Own
                            && caller_hears(role, e.reason, e.declined_waiting) == Some(end.reason)
                    }
                };
                if !fits {
                    violations.push(format!(
                        "call {}: caller [{}] ended {} told by [{x}], which ended {:?}",
                        caller.call_id,
                        caller.client,
                        end.reason,
                        teller.and_then(|d| d.end)
                    ));
                }
            }
        }
        for device in &devices {
            let Some(device_end) = device.end else {
                continue;
            };
            let role = role_of(device);
            let what = || {
                format!(
                    "call {}: caller [{}] ended {} at {} ({:?}), device [{}] ({role:?}) ended {} \
                     at {} ({:?})",
                    caller.call_id,
                    caller.client,
                    end.reason,
                    end.at,
                    end.cause,
                    device.client,
                    device_end.reason,
                    device_end.at,
                    device_end.cause
                )
            };
            // A device that lost is measured against the `select-answer`, not the caller's end.
            let caller_end = match (role, selected) {
                (Role::Lost, Some((_, at))) => End { at: *at, ..end },
                _ => end,
            };
            judge(&mut violations, role, caller_end, device_end, &what);
        }
    }
    // Devices that rang for a call no client places any more: glare merged it away.
    for device in views.iter().filter(|v| {
        v.direction == Direction::Incoming
            && !views
                .iter()
                .any(|c| c.direction == Direction::Outgoing && c.call_id == v.call_id)
    }) {
        let Some(&(merger, merged_at)) = world.merged_away.get(&device.call_id) else {
            violations.push(format!(
                "call {}: device [{}] rang for a call nobody placed",
                device.call_id, device.client
            ));
            continue;
        };
        if device.connected {
            violations.push(format!(
                "call {}: device [{}] connected to a call glare merged away",
                device.call_id, device.client
            ));
        }
        if let Some(device_end) = device.end {
            let merge = End {
                client: merger,
                reason: EndReason::AnsweredElsewhere,
                cause: Cause::Own,
                at: merged_at,
                declined_waiting: false,
            };
            let what = || {
                format!(
                    "call {} (merged away by [{merger}] at {merged_at}): device [{}] ended {} at \
                     {} ({:?})",
                    device.call_id,
                    device.client,
                    device_end.reason,
                    device_end.at,
                    device_end.cause
                )
            };
            judge(&mut violations, Role::Lost, merge, device_end, &what);
        }
    }

    let mut data = world.data;
    data.pairs = check_transfers(world, &mut violations);
    let glare =
        (scenario == Scenario::Glare).then(|| check_glare(world, connected_pairs, &mut violations));
    let outcome = Outcome {
        scenario,
        lossless,
        caller_reasons,
        stories,
        connected_pairs,
        glare,
        errors: world.errors.clone(),
        steps: world.steps,
        holds: world.holds,
        data,
        pre,
        failed: false,
    };
    (violations, outcome)
}

/// Every call has ended: each transfer, on either side, ended once (`Promises` and the books
/// check the once), and each pair of ends fits (`pair_fits`). Returns how many pairs.
fn check_transfers(world: &World, violations: &mut Vec<String>) -> u64 {
    let mut pairs = 0;
    for (&(client, handle), record) in &world.records {
        let book = &record.data;
        for id in book.under_way() {
            violations.push(format!(
                "[{client}] {handle:?} transfer {id} never ended, yet its call did"
            ));
        }
        for (&id, file) in &book.outgoing {
            let (Some(sender), Some((rc, rh, rid))) = (file.end, file.peer) else {
                continue;
            };
            let receiver = world
                .records
                .get(&(rc, rh))
                .and_then(|r| r.data.incoming.get(&rid))
                .and_then(|f| f.end);
            let Some(receiver) = receiver else { continue };
            pairs += 1;
            if !pair_fits(sender, receiver) {
                violations.push(format!(
                    "[{client}] {handle:?} transfer {id} ended {sender:?}, its receiver \
                     [{rc}] {rh:?} (transfer {rid}) {receiver:?}"
                ));
            }
        }
    }
    pairs
}

/// Ring timeout and invite lifetime, and the missed-call flag: true on every schedule, as each
/// comes from one side's own timer.
fn check_timing(world: &World, view: &CallView, violations: &mut Vec<String>) {
    let Some(End {
        reason,
        at: ended_at,
        ..
    }) = view.end
    else {
        return;
    };
    let (index, id) = (view.client, view.call_id);
    let invite_sent = world.invites_sent.get(&id).copied();
    match view.direction {
        Direction::Outgoing => {
            if view.missed {
                violations.push(format!(
                    "[{index}] call {id}: an outgoing call marked missed"
                ));
            }
            // Only the caller's own ring timer ends a caller with `timeout`, exactly one ring
            // timeout after its invite went out.
            if reason == EndReason::Timeout
                && invite_sent.is_none_or(|sent| ended_at != sent + RING_TIMEOUT_MS)
            {
                violations.push(format!(
                    "[{index}] call {id}: caller timed out at {ended_at} ms, invite sent at \
                     {invite_sent:?}"
                ));
            }
        }
        Direction::Incoming => {
            let missed = !view.accepted && reason.is_missed();
            if view.missed != missed {
                violations.push(format!(
                    "[{index}] call {id}: ended {reason}, accepted {}, missed {} (expected {missed})",
                    view.accepted, view.missed
                ));
            }
            // A device stops ringing when the invite expires, if nothing ended it before.
            let rang = ended_at.saturating_sub(view.created_at.unwrap_or(0));
            if !view.accepted && rang > RING_TIMEOUT_MS {
                violations.push(format!(
                    "[{index}] call {id}: rang {rang} ms, past the invite lifetime"
                ));
            }
            // Neither the caller's ring timer nor the invite's expiry (counted from when the
            // device got it) can run out before one ring timeout after the invite was sent.
            if reason == EndReason::Timeout
                && invite_sent.is_none_or(|sent| ended_at <= sent + RING_TIMEOUT_MS)
            {
                violations.push(format!(
                    "[{index}] call {id}: device timed out at {ended_at} ms, invite sent at \
                     {invite_sent:?}"
                ));
            }
        }
    }
}

/// Glare: alice and bob's first device (clients 0 and 1) call each other at once; bob's second
/// device, if any, only rings. At most one call ever connects, on every schedule. Exactly one
/// connects, and it is each caller's own call, with no user action, whenever the protocol
/// guarantees it: whatever the delay (up to 2 s a message; the slowest chain of invite, answer
/// and candidates still connects before the first scripted hangup at 5 s, and the summary
/// prints the latest connect seen), reordering and duplication, camera errors, bob's second device, mid-call actions,
/// and network blips after the call connected. Excluded, each because it can legitimately stop
/// the call from connecting:
/// - a lost message (whatever the loss rate, a schedule that lost none is checked): an invite
///   and its repeat, or the answer, may never arrive;
/// - an SDP operation that failed: it ends the call with `protocol-error`;
/// - a caller without a microphone: no media, so no offer or answer (then nothing connects);
/// - a blip that cut the link before the call connected: no path forms while it is down, and it
///   may outlast the connect timeout or the scripted hangup.
///
/// Returns whether the full check applied, and when both callers' calls had connected.
fn check_glare(
    world: &World,
    connected_pairs: usize,
    violations: &mut Vec<String>,
) -> (bool, Option<Millis>) {
    if connected_pairs > 1 {
        violations.push(format!("glare: {connected_pairs} calls connected"));
    }
    let no_mic = world.clients[..2].iter().any(|c| c.mic_error.is_some());
    if no_mic && connected_pairs != 0 {
        violations.push("glare: a call connected without a microphone".into());
    }
    let placed_connected_at: Option<Vec<Millis>> = world
        .placed
        .iter()
        .map(|key| world.records.get(key).and_then(|r| r.connected_at))
        .collect();
    let all_connected_at = placed_connected_at.and_then(|at| at.into_iter().max());
    let blip_before_connected = world
        .first_blip_at
        .is_some_and(|blip| all_connected_at.is_none_or(|at| blip <= at));
    let sdp_failed = world.errors.contains_key("sdp-failed");
    let full = world.lossless() && !sdp_failed && !no_mic && !blip_before_connected;
    if full {
        if connected_pairs != 1 {
            violations.push(format!("glare: {connected_pairs} calls connected, not 1"));
        }
        if world.placed.len() != 2 {
            violations.push(format!("glare: {} calls placed, not 2", world.placed.len()));
        }
        for &(client, handle) in &world.placed {
            if !world
                .records
                .get(&(client, handle))
                .is_some_and(|r| r.connected)
            {
                violations.push(format!("glare: [{client}]'s own call never connected"));
            }
        }
    }
    (full, all_connected_at)
}

/// Every client hangs up each of its live calls.
fn hang_up_everything(world: &mut World) {
    for client in 0..world.clients.len() {
        let live = |w: &World| {
            let m = &w.clients[client].machine;
            m.calls()
                .filter(|&h| m.call_info(h).is_some_and(|i| !i.state.is_ended()))
                .count()
        };
        // Each hangup ends one call (the one `Action::Hangup` picks).
        for _ in 0..live(world) {
            world.act(client, Action::Hangup);
        }
    }
}

/// Whether the schedule of this seed connects while ringing (`Config::preconnect` on for all
/// its clients): a third of them, or as `PEERCALL_SIM_PRECONNECT` says (0: none, else all). Drawn
/// from a generator of its own, so each schedule's scenario, faults and actions stay what they
/// are with preconnect off.
fn preconnect_schedule(seed: u64) -> bool {
    match env_u64("PEERCALL_SIM_PRECONNECT") {
        Some(on) => on != 0,
        None => Rng::new(seed ^ 0x7072_6563_6f6e_6e65).chance(1.0 / 3.0),
    }
}

fn run_schedule(seed: u64, trace: bool) -> (Vec<String>, Outcome, Option<String>) {
    let mut rng = Rng::new(seed);
    let scenario = match rng.below(20) {
        0..=6 => Scenario::Basic,
        7..=10 => Scenario::Glare,
        11..=13 => Scenario::Busy,
        14..=16 => Scenario::Chaos,
        _ => Scenario::Waiting,
    };
    let faults = if rng.chance(0.5) {
        Faults {
            drop: 0.0,
            duplicate: if rng.coin() { 0.0 } else { 0.1 },
            max_delay: *rng.pick(&[5, 50, 300, 2_000]),
            sdp_fail: 0.0,
        }
    } else {
        Faults {
            drop: rng.range(0, 15) as f64 / 100.0,
            duplicate: rng.range(0, 15) as f64 / 100.0,
            max_delay: *rng.pick(&[5, 50, 300, 2_000]),
            sdp_fail: if rng.chance(0.2) { 0.02 } else { 0.0 },
        }
    };
    let mut world = World::new(rng, faults, trace);
    world.preconnect = preconnect_schedule(seed);
    match scenario {
        Scenario::Basic => basic(&mut world),
        Scenario::Glare => glare(&mut world),
        Scenario::Busy => busy(&mut world),
        Scenario::Chaos => chaos(&mut world),
        Scenario::Waiting => waiting(&mut world),
    }
    // The hold agreement needs no lost message: checked only where none can be lost.
    if world.faults.drop == 0.0 {
        for at in (4_000..=90_000).step_by(4_000) {
            world.at(at, Ev::Checkpoint);
        }
    }
    world.run(SETTLED_AT);
    let mut settled = check_settled(&world);
    let (disagree, pairs) = check_hold_agreement(&world);
    settled.extend(disagree);
    world.holds.pairs_agreed += pairs;
    // Then every client hangs up its calls (one may be on hold), so that leaks and releases can
    // be checked on calls that all ended; the peer hears it, or its ICE gives up.
    hang_up_everything(&mut world);
    world.run(SETTLED_AT + 250_000);
    let (mut violations, outcome) = check(&world, scenario);
    violations.splice(0..0, settled);
    (violations, outcome, world.trace.take())
}

#[test]
fn simulated_schedules_keep_every_invariant() {
    if let Some(seed) = env_u64("PEERCALL_SIM_SEED") {
        let (violations, _, trace) = run_schedule(seed, true);
        eprintln!("{}", trace.unwrap_or_default());
        assert!(violations.is_empty(), "seed {seed}: {violations:#?}");
        return;
    }
    let schedules = env_u64("PEERCALL_SIM_SCHEDULES").unwrap_or(DEFAULT_SCHEDULES);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let started = std::time::Instant::now();
    type Failures = Vec<(u64, Vec<String>)>;
    let results: Vec<(Failures, Vec<Outcome>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    let mut outcomes = Vec::new();
                    let mut seed = t;
                    while seed < schedules {
                        let (violations, mut outcome, _) = run_schedule(seed, false);
                        outcome.failed = !violations.is_empty();
                        if outcome.failed && failures.len() < 5 {
                            failures.push((seed, violations));
                        }
                        outcomes.push(outcome);
                        seed += threads;
                    }
                    (failures, outcomes)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let mut by_scenario: BTreeMap<String, u64> = BTreeMap::new();
    let mut reasons: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut errors: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut connected, mut steps, mut count, mut failed) = (0usize, 0u64, 0u64, 0u64);
    // Agreement checks by kind of schedule ("exact": no message lost, so ends are timed too).
    let mut stories: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    let (mut glare_full, mut glare, mut glare_latest) = (0u64, 0u64, 0);
    let mut holds = HoldTally::default();
    let mut data = DataTally::default();
    let mut pre = PreTally::default();
    let mut failures = Vec::new();
    for (fails, outcomes) in results {
        failures.extend(fails);
        for o in outcomes {
            count += 1;
            failed += u64::from(o.failed);
            *by_scenario.entry(format!("{:?}", o.scenario)).or_default() += 1;
            for r in o.caller_reasons {
                *reasons.entry(r.as_str()).or_default() += 1;
            }
            for (code, n) in o.errors {
                *errors.entry(code).or_default() += n;
            }
            connected += o.connected_pairs;
            steps += o.steps;
            holds.holds += o.holds.holds;
            holds.waiting_rang += o.holds.waiting_rang;
            holds.declined_waiting += o.holds.declined_waiting;
            holds.qualities += o.holds.qualities;
            holds.pairs_agreed += o.holds.pairs_agreed;
            data.add(&o.data);
            pre.add(&o.pre);
            let mode = if o.lossless { "exact" } else { "lossy" };
            for (story, n) in o.stories {
                *stories.entry((mode, story)).or_default() += n;
            }
            if let Some((full, connected_at)) = o.glare {
                glare += 1;
                if full {
                    glare_full += 1;
                    glare_latest = glare_latest.max(connected_at.unwrap_or(Millis::MAX));
                }
            }
        }
    }
    eprintln!(
        "simulation: {count} schedules ({failed} failed) in {:.1} s, {steps} steps, {connected} calls \
         connected on both sides",
        elapsed.as_secs_f64()
    );
    eprintln!("  scenarios: {by_scenario:?}");
    eprintln!("  caller outcomes: {reasons:?}");
    eprintln!("  ends of caller/device pairs checked against each other: {stories:?}");
    eprintln!(
        "  glare: exactly one connected call required in {glare_full} of {glare} schedules \
         (there, both callers connected by {glare_latest} ms at the latest)"
    );
    eprintln!(
        "  hold and call waiting: {} senders taken off by a hold, {} calls rang as waiting \
         ({} declined: busy), {} quality events (none on hold), {} connected pairs agreed on \
         their hold once messages settled",
        holds.holds,
        holds.waiting_rang,
        holds.declined_waiting,
        holds.qualities,
        holds.pairs_agreed
    );
    eprintln!(
        "  data path: {} pairs of channels opened ({} closed by the browser), {} messages sent \
         ({} arrived, in order), {} blocks ({} left the buffer above high water), {} files sent \
         and {} received in full; ended early (cancelled, remote-cancelled, call-ended, \
         failed): {:?}; {} sender/receiver pairs of ends checked",
        data.channels,
        data.closed,
        data.messages,
        data.delivered,
        data.blocks,
        data.paused,
        data.sent,
        data.received,
        data.ended,
        data.pairs
    );
    eprintln!(
        "  preconnect: {} schedules, {} devices asked, {} answered without media, {} paths up \
         while ringing, {} accepts, {} preconnected calls connected, {} reoffers to another \
         device; {} checks of a connected pair before its accept (no media flowed)",
        pre.schedules,
        pre.asked,
        pre.answered,
        pre.preconnected,
        pre.accepted,
        pre.connected,
        pre.reoffers,
        pre.media_checks
    );
    eprintln!("  typed errors reported (dropped messages, refused commands): {errors:?}");
    for (seed, violations) in &failures {
        eprintln!("  seed {seed}: {violations:?}");
    }
    if let Some((seed, violations)) = failures.first() {
        let (_, _, trace) = run_schedule(*seed, true);
        let trace = trace.unwrap_or_default();
        let tail: Vec<&str> = trace.lines().rev().take(80).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "{failed} schedules broke invariants; first seed {seed} (replay with PEERCALL_SIM_SEED={seed}):\n{violations:#?}\nlast trace lines:\n{}",
            tail.join("\n")
        );
    }
    assert!(count >= schedules, "ran {count} of {schedules} schedules");
    if schedules >= 20_000 {
        assert!(
            holds.holds > 0
                && holds.waiting_rang > 0
                && holds.declined_waiting > 0
                && holds.pairs_agreed > 0,
            "the schedules no longer reach hold or call waiting: {holds:?}"
        );
        assert!(
            data.received > 0
                && data.paused > 0
                && data.pairs > 0
                && data.ended.iter().all(|&n| n > 0),
            "the schedules no longer reach every part of the data path: {data:?}"
        );
        let preconnect_off = env_u64("PEERCALL_SIM_PRECONNECT") == Some(0);
        assert!(
            preconnect_off
                || pre.asked > 0
                    && pre.answered > 0
                    && pre.preconnected > 0
                    && pre.accepted > 0
                    && pre.connected > 0
                    && pre.reoffers > 0
                    && pre.media_checks > 0,
            "the schedules no longer reach every part of preconnect: {pre:?}"
        );
    }
}

// ----- the adversary --------------------------------------------------------------------------

/// What the honest users saw of their call: per client, each call with the other honest user,
/// its direction, how it ended, and whether media flowed.
type HonestOutcome = Vec<(usize, CallId, Direction, CallState, bool)>;

/// One schedule of an honest call (alice calls bob; bob answers or lets it ring; alice may hang
/// up), on the seed's network, with or without mallory. Bob only ever acts on alice's call, so a
/// user's own choices do not depend on what mallory rings.
fn adversary_schedule(seed: u64, with_adversary: bool) -> (HonestOutcome, u64, bool, World) {
    let mut rng = Rng::new(seed);
    let faults = Faults {
        drop: rng.range(0, 10) as f64 / 100.0,
        duplicate: rng.range(0, 15) as f64 / 100.0,
        max_delay: *rng.pick(&[5, 50, 300, 2_000]),
        sdp_fail: 0.0,
    };
    let mut world = World::new(rng, faults, false);
    world.preconnect = preconnect_schedule(seed);
    let plan = &mut world.rng.fork();
    let alice = world.add_client("alice", "alice-1");
    let bob = world.add_client("bob", "bob-0");
    world.action(
        plan.range(0, 100),
        alice,
        Action::Call("bob", *plan.pick(&KINDS)),
    );
    if plan.chance(0.7) {
        world.action(
            plan.range(100, 25_000),
            bob,
            Action::Accept(Some("alice"), plan.coin()),
        );
    }
    if plan.chance(0.3) {
        world.action(plan.range(2_000, 30_000), alice, Action::Mute(true));
    }
    world.action(plan.range(1_000, 70_000), alice, Action::Hangup);
    if with_adversary {
        let mut rng = Rng::new(seed ^ 0x6d61_6c6c_6f72_7921);
        // Often a burst of invites first, racing alice's (placed in the first 100 ms).
        for _ in 0..rng.range(0, 9) {
            let at = rng.range(0, 100);
            world.at(at, Ev::Adversary { invite: true });
        }
        for _ in 0..rng.range(10, 60) {
            let at = rng.range(0, 80_000);
            world.at(at, Ev::Adversary { invite: false });
        }
        world.adversary = Some(Adversary {
            rng,
            targets: vec![alice, bob],
            sent: 0,
        });
    }
    world.run(SETTLED_AT);
    let rang = world.clients[bob]
        .machine
        .calls()
        .filter_map(|h| world.clients[bob].machine.call_info(h))
        .any(|i| i.peer.as_str() == "alice");
    let mut outcome = HonestOutcome::new();
    for (index, client) in world.clients.iter().enumerate() {
        for handle in client.machine.calls() {
            let info = client.machine.call_info(handle).unwrap();
            if info.peer.as_str() != ADVERSARY {
                outcome.push((
                    index,
                    info.call_id,
                    info.direction,
                    info.state,
                    info.connected_at.is_some(),
                ));
            }
        }
    }
    let sent = world.adversary.as_ref().map_or(0, |a| a.sent);
    (outcome, sent, rang, world)
}

#[test]
fn an_adversary_changes_nothing_for_an_honest_call() {
    let schedules = env_u64("PEERCALL_SIM_ADVERSARY_SCHEDULES").unwrap_or(5_000);
    let (mut sent, mut connected, mut mallory_rang_at_most) = (0, 0, 0);
    for seed in 0..schedules {
        let (honest, _, rang_alone, _) = adversary_schedule(seed, false);
        let (attacked, by_mallory, rang, world) = adversary_schedule(seed, true);
        assert_eq!(
            honest, attacked,
            "seed {seed}: mallory's {by_mallory} messages changed the honest call's outcome"
        );
        assert_eq!(
            rang, rang_alone,
            "seed {seed}: alice rang at bob without mallory, not with her"
        );
        // Every call of mallory's at bob has ended by the time all is settled: none rang for
        // her 600 s lifetime.
        let bob = &world.clients[1].machine;
        let mallorys: Vec<_> = bob
            .calls()
            .filter_map(|h| bob.call_info(h))
            .filter(|i| i.peer.as_str() == ADVERSARY)
            .collect();
        assert!(
            mallorys.iter().all(|i| i.state.is_ended()),
            "seed {seed}: a call of mallory's still rings at {SETTLED_AT} ms"
        );
        mallory_rang_at_most = mallory_rang_at_most.max(mallorys.len());
        sent += by_mallory;
        connected += u64::from(honest.iter().any(|&(_, _, _, _, media)| media));
    }
    eprintln!(
        "adversary: {schedules} schedules, each run with and without mallory: {sent} messages from her, \
         the honest outcome the same in every one ({connected} calls connected); \
         at most {mallory_rang_at_most} of her calls rang at bob over one schedule (one at a time)"
    );
    assert!(
        sent > schedules * 10 && connected > 0,
        "the adversary or the honest calls did not run"
    );
}

// ----- who may ring bob ------------------------------------------------------------------------

/// What the screening schedules found, for the summary line.
#[derive(Default)]
struct ScreenTally {
    decisions: BTreeMap<String, u64>,
    caller_ends: BTreeMap<String, u64>,
    silent_devices: u64,
    missed: u64,
}

/// One screening schedule: alice calls bob, whose one or two devices screen her invite (each app
/// answers ring, decline, busy or ignore after a while, or never) or are on do-not-disturb; alice
/// may give up; the network delays, duplicates and loses messages. Returns the violations.
fn screening_schedule(seed: u64, tally: &mut ScreenTally) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let faults = Faults {
        drop: if rng.coin() {
            0.0
        } else {
            rng.range(0, 15) as f64 / 100.0
        },
        duplicate: rng.range(0, 15) as f64 / 100.0,
        max_delay: *rng.pick(&[5, 50, 300, 2_000]),
        sdp_fail: 0.0,
    };
    let mut world = World::new(rng, faults, false);
    world.preconnect = preconnect_schedule(seed);
    let rng = &mut world.rng.fork();
    let alice = world.add_client("alice", "alice-1");
    let devices = if rng.chance(0.3) { 2 } else { 1 };
    let decisions = [
        Some(Screening::Ring),
        Some(Screening::Decline),
        Some(Screening::Busy),
        Some(Screening::Ignore),
        None,
    ];
    let mut plans = Vec::new();
    for d in 0..devices {
        let party = format!("bob-{d}");
        let (bob, plan) = if rng.chance(0.15) {
            let bob = world.add_client("bob", &party);
            world.clients[bob]
                .machine
                .set_availability(Availability::DoNotDisturb);
            (bob, "do-not-disturb".to_owned())
        } else {
            let decision = *rng.pick(&decisions);
            let bob = world.add_screening_client("bob", &party, (decision, rng.range(0, 8_000)));
            if decision == Some(Screening::Ring) {
                // Once it rings, the person answers, declines or lets it ring.
                let time = rng.range(100, 36_000);
                match rng.below(3) {
                    0 => world.action(time, bob, Action::Accept(None, rng.coin())),
                    1 => world.action(time, bob, Action::Reject),
                    _ => {}
                }
            }
            (bob, format!("{decision:?}"))
        };
        *tally.decisions.entry(plan.clone()).or_default() += 1;
        plans.push((bob, plan));
    }
    let kind = *rng.pick(&KINDS);
    world.action(rng.range(0, 100), alice, Action::Call("bob", kind));
    let gives_up = rng.chance(0.2).then(|| rng.range(50, 36_000));
    if let Some(at) = gives_up {
        world.action(at, alice, Action::Hangup);
    }
    world.run(SETTLED_AT);
    let mut violations = check_settled(&world);
    let Some(&(_, handle)) = world.placed.first() else {
        return vec!["alice placed no call".into()];
    };
    let record = world.records.get(&(alice, handle));
    let ended = record.and_then(|r| r.ended);
    let rang = record.is_some_and(|r| r.states.contains(&CallState::Ringing));
    *tally.caller_ends.entry(format!("{ended:?}")).or_default() += 1;
    let call_id = world.clients[alice]
        .machine
        .call_info(handle)
        .unwrap()
        .call_id;
    let silent = |plan: &str| plan == "Some(Ignore)" || plan == "None";
    // A device whose app ignores the call, or never answers, says nothing at all to the caller.
    for (bob, plan) in &plans {
        let sent = world.sent.get(&(*bob, call_id)).copied().unwrap_or(0);
        if silent(plan) {
            tally.silent_devices += 1;
            if sent > 0 {
                violations.push(format!("[{bob}] {plan}: sent {sent} messages for the call"));
            }
        }
        if plan == "do-not-disturb" {
            tally.missed += world.clients[*bob].missed;
            let expected = u64::from(world.lossless() && world.invites_sent.contains_key(&call_id));
            if world.lossless() && world.clients[*bob].missed != expected {
                violations.push(format!(
                    "[{bob}] do-not-disturb: {} missed calls, expected {expected}",
                    world.clients[*bob].missed
                ));
            }
        }
    }
    // What alice hears, when nothing was lost and she did not give up first.
    let all = |f: &dyn Fn(&str) -> bool| plans.iter().all(|(_, p)| f(p));
    if all(&silent) {
        if rang {
            violations.push("alice heard `ringing` from devices that never answered".into());
        }
        let own = matches!(
            ended,
            Some(EndReason::Timeout | EndReason::Cancelled | EndReason::Hangup)
        );
        if !own {
            violations.push(format!(
                "alice ended {ended:?}; only her own end is possible"
            ));
        }
    } else if world.lossless() && gives_up.is_none() && world.invites_sent.contains_key(&call_id) {
        let expected = if all(&|p| p == "do-not-disturb" || p == "Some(Busy)") {
            Some(EndReason::Busy)
        } else if devices == 1 && plans[0].1 == "Some(Decline)" {
            Some(EndReason::Rejected)
        } else {
            None
        };
        if expected.is_some() && ended != expected {
            violations.push(format!(
                "alice ended {ended:?}, expected {expected:?} ({plans:?})"
            ));
        }
    }
    // Then everyone hangs up; every promise of the machines holds once it all settles.
    for client in 0..world.clients.len() {
        world.act(client, Action::Hangup);
    }
    world.run(SETTLED_AT + 250_000);
    for (index, client) in world.clients.iter().enumerate() {
        if let Err(problem) = client.promises.settled(&client.machine) {
            violations.push(format!("[{index}] {problem}"));
        }
        if client.machine.poll_timeout().is_some() {
            violations.push(format!(
                "[{index}] a timer still waits after everything ended"
            ));
        }
    }
    violations.extend(world.violations);
    violations
}

#[test]
fn screened_and_do_not_disturb_calls_keep_their_promises() {
    let schedules = env_u64("PEERCALL_SIM_SCREEN_SCHEDULES").unwrap_or(20_000);
    let mut tally = ScreenTally::default();
    let mut failures = Vec::new();
    for seed in 0..schedules {
        let violations = screening_schedule(seed, &mut tally);
        if !violations.is_empty() {
            failures.push((seed, violations));
        }
    }
    eprintln!(
        "screening: {schedules} schedules ({} failed); device plans {:?}; alice ended {:?}; \
         {} silent devices, {} missed calls reported",
        failures.len(),
        tally.decisions,
        tally.caller_ends,
        tally.silent_devices,
        tally.missed
    );
    if let Some((seed, violations)) = failures.first() {
        panic!(
            "{} screening schedules broke invariants; first seed {seed}: {violations:#?}",
            failures.len()
        );
    }
}
