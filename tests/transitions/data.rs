//! The data path: in-call messages and file transfers over the call's two data channels.
//! Messages wait in order for the channels and go out at `DataOpen`, within their size and queue
//! limits, a `Blob` holding back those after it until it is read; files go one at a time as an
//! offer frame then blocks of `BLOCK_BYTES`, one block in flight, paused while the buffer is
//! above the high-water mark; incoming offers and bytes, checked; cancels from either side
//! (`x` and `r` frames); malformed frames; and what a closed channel, the call's end, glare and
//! an ICE restart do to all of it. Frames travel between the two machines as the `files` channel
//! carries them: each `SendFrame` of one side is fed to the other as a `FileFrame`, in order.

use super::*;
use peercall::call::{
    Outgoing, TransferEnd, BLOCK_BYTES, CLOSE_GRACE_MS, HIGH_WATER_BYTES, MAX_FILE_BYTES,
    MAX_FILE_NAME_BYTES, MAX_MESSAGE_BYTES, MAX_QUEUED_BYTES, MAX_QUEUED_FILES,
};

use Direction::{Incoming, Outgoing as Out};

// ----- helpers ---------------------------------------------------------------------------------

/// A message of `len` bytes at hand (a string, JSON or bytes).
fn text(len: usize) -> Outgoing {
    Outgoing::Message { len, ready: true }
}

/// A `Blob` message of `len` bytes, still being read.
fn blob(len: usize) -> Outgoing {
    Outgoing::Message { len, ready: false }
}

/// A file `a.png` of `size` bytes.
fn file(size: u64) -> Outgoing {
    Outgoing::File {
        size,
        name: "a.png".into(),
        mime: "image/png".into(),
    }
}

/// The offer frame of `file(size)` under the sender's id `id`.
fn offer(id: u64, size: u64) -> String {
    format!(r#"{{"id":{id},"size":{size},"name":"a.png","type":"image/png"}}"#)
}

/// `who` queues `outgoing` on `call`, which must be accepted: its id and the outputs.
fn queue(net: &mut Net, who: Who, call: CallHandle, outgoing: Outgoing) -> (u64, Outs) {
    let description = format!("{outgoing:?}");
    let id = net
        .machine(who)
        .send_data(call, outgoing)
        .unwrap_or_else(|e| panic!("{who:?} send_data {description}: {e}"));
    (id, net.drain(who))
}

/// `who` queues `outgoing` on `call`, which must be refused with no output: the error.
#[track_caller]
fn refused(net: &mut Net, who: Who, call: CallHandle, outgoing: Outgoing) -> CommandError {
    let error = net
        .machine(who)
        .send_data(call, outgoing)
        .expect_err("send_data refused");
    assert!(!error.to_string().is_empty());
    net.drain(who).assert_empty();
    error
}

/// `who` cancels transfer `id`, which must be refused with no output: the error.
#[track_caller]
fn cancel_refused(net: &mut Net, who: Who, call: CallHandle, id: u64) -> CommandError {
    let error = net
        .cmd(who, call, Command::CancelTransfer { id })
        .expect_err("cancel refused");
    net.drain(who).assert_empty();
    error
}

fn sends_message(call: CallHandle, id: u64) -> Output {
    effect(call, Effect::SendMessage { id })
}

fn frame(call: CallHandle, text: &str) -> Output {
    effect(call, Effect::SendFrame { frame: text.into() })
}

fn block(call: CallHandle, id: u64, offset: u64, len: u64) -> Output {
    effect(call, Effect::SendFileBlock { id, offset, len })
}

fn progress(call: CallHandle, id: u64, direction: Direction, bytes: u64, size: u64) -> Output {
    event(Event::Progress {
        call,
        id,
        direction,
        bytes,
        size,
    })
}

fn file_sent(call: CallHandle, id: u64) -> Output {
    event(Event::FileSent { call, id })
}

fn file_received(call: CallHandle, id: u64) -> Output {
    event(Event::FileReceived { call, id })
}

fn transfer_ended(call: CallHandle, id: u64, direction: Direction, reason: TransferEnd) -> Output {
    event(Event::TransferEnded {
        call,
        id,
        direction,
        reason,
    })
}

/// What an offer of `file(size)` gives the receiver: the app's event and the driver's effect.
fn incoming_file(call: CallHandle, id: u64, size: u64) -> Vec<Output> {
    vec![
        event(Event::FileIncoming {
            call,
            id,
            name: "a.png".into(),
            mime: "image/png".into(),
            size,
        }),
        effect(
            call,
            Effect::ReceiveFile {
                id,
                size,
                name: "a.png".into(),
                mime: "image/png".into(),
            },
        ),
    ]
}

fn block_sent(id: u64, buffered: u64) -> EffectResult {
    EffectResult::FileBlockSent { id, buffered }
}

fn bytes(id: u64, received: u64) -> EffectResult {
    EffectResult::FileBytes { id, received }
}

fn bad_frame(call: CallHandle) -> Output {
    error(Some(call), CallError::BadFrame)
}

/// The frames `outs` sends on the `files` channel, in order.
fn frames(outs: &Outs) -> Vec<String> {
    outs.effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::SendFrame { frame } => Some(frame.clone()),
            _ => None,
        })
        .collect()
}

/// Feeds each frame `outs` sends to `to`'s call `call`, in order, as the `files` channel
/// delivers them: everything that produced.
fn carry(net: &mut Net, to: Who, call: CallHandle, outs: &Outs) -> Outs {
    let mut all = Vec::new();
    for frame in frames(outs) {
        all.extend(net.feed(to, call, EffectResult::FileFrame(frame)).0);
    }
    Outs(all)
}

/// Both channels open on both sides of `c` (nothing waits).
fn open(net: &mut Net, c: &Connected) {
    net.feed(Alice, c.a, EffectResult::DataOpen).assert_empty();
    net.feed(Bob, c.b, EffectResult::DataOpen).assert_empty();
    assert!(net.info(Alice, c.a).data_open);
    assert!(net.info(Bob, c.b).data_open);
}

/// alice and bob in a connected video call, with the stats timer ages away (so the only timer
/// soon is the data path's own), their channels not open yet.
fn quiet_pair() -> (Net, Connected) {
    let mut net = Net::with_config(&[Alice, Bob], |c| c.stats_interval_ms = 10_000_000);
    let c = connect(&mut net, Alice, Bob, CallKind::Video, ID);
    assert_eq!(timer(&mut net, Alice), None);
    assert_eq!(timer(&mut net, Bob), None);
    (net, c)
}

/// `who`'s next deadline, leaving out the stats timer of [`quiet_pair`] ages away.
fn timer(net: &mut Net, who: Who) -> Option<Millis> {
    let soon = net.now + 1_000_000;
    net.poll_timeout(who).filter(|&at| at < soon)
}

/// alice and bob connected, their channels open.
fn open_pair() -> (Net, Connected) {
    let (mut net, c) = quiet_pair();
    open(&mut net, &c);
    (net, c)
}

/// On an open pair, alice sends `file(size)` (her id `id`) and bob hears its offer: bob's id.
/// alice's first block is out.
fn offered(net: &mut Net, c: &Connected, id: u64, size: u64) -> u64 {
    let (sent_id, outs) = queue(net, Alice, c.a, file(size));
    assert_eq!(sent_id, id);
    assert_eq!(
        outs.0,
        vec![
            frame(c.a, &offer(id, size)),
            block(c.a, id, 0, BLOCK_BYTES.min(size))
        ]
    );
    let told = carry(net, Bob, c.b, &outs);
    let Some(Event::FileIncoming { id: theirs, .. }) = told.events().first().copied() else {
        panic!("no FileIncoming in {told:#?}");
    };
    assert_eq!(told.0, incoming_file(c.b, *theirs, size));
    *theirs
}

// ----- messages ----------------------------------------------------------------------------------

#[test]
fn messages_sent_before_the_channels_open_wait_and_go_out_in_order_at_data_open() {
    let (mut net, c) = quiet_pair();
    assert!(!net.info(Alice, c.a).data_open);
    let ids: Vec<u64> = [10, 0, 2_000]
        .into_iter()
        .map(|len| {
            let (id, outs) = queue(&mut net, Alice, c.a, text(len));
            outs.assert_empty();
            id
        })
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::DataOpen).0,
        vec![
            sends_message(c.a, 1),
            sends_message(c.a, 2),
            sends_message(c.a, 3)
        ]
    );
    assert!(net.info(Alice, c.a).data_open);
    // Once open, a message goes at once.
    let (id, outs) = queue(&mut net, Alice, c.a, text(5));
    assert_eq!(outs.0, vec![sends_message(c.a, id)]);
    assert_eq!(id, 4);
    // The other side's own messages are its own: bob's channels are not open yet.
    let (id, outs) = queue(&mut net, Bob, c.b, text(5));
    assert_eq!(id, 1);
    outs.assert_empty();
    assert_eq!(
        net.feed(Bob, c.b, EffectResult::DataOpen).0,
        vec![sends_message(c.b, 1)]
    );
}

#[test]
fn a_message_queued_while_the_call_rings_goes_once_the_call_connects_and_its_channels_open() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, ID);
    let b = r.on(Bob);
    let (id, outs) = queue(&mut net, Alice, r.caller, text(100));
    outs.assert_empty();
    // The callee may queue too, before it answers.
    let (bid, outs) = queue(&mut net, Bob, b, text(1));
    outs.assert_empty();
    let c = answer_and_connect(&mut net, Alice, Bob, r.caller, b, false);
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::DataOpen).0,
        vec![sends_message(c.a, id)]
    );
    assert_eq!(
        net.feed(Bob, c.b, EffectResult::DataOpen).0,
        vec![sends_message(c.b, bid)]
    );
}

#[test]
fn a_message_over_max_message_bytes_is_refused_with_message_too_large() {
    let (mut net, c) = open_pair();
    let error = refused(&mut net, Alice, c.a, text(MAX_MESSAGE_BYTES + 1));
    assert_eq!(error, CommandError::MessageTooLarge);
    assert_eq!(error.code(), "message-too-large");
    // A Blob too: its size is known before it is read.
    assert_eq!(
        refused(&mut net, Alice, c.a, blob(MAX_MESSAGE_BYTES + 1)),
        CommandError::MessageTooLarge
    );
    // The largest one goes, under the next id: a refused message takes none.
    let (id, outs) = queue(&mut net, Alice, c.a, text(MAX_MESSAGE_BYTES));
    assert_eq!(id, 1);
    assert_eq!(outs.0, vec![sends_message(c.a, 1)]);
}

#[test]
fn queued_bytes_over_max_queued_bytes_are_refused_with_send_queue_full_and_nothing_is_lost() {
    let (mut net, c) = quiet_pair();
    let fits = MAX_QUEUED_BYTES / MAX_MESSAGE_BYTES;
    for n in 1..=fits {
        let (id, outs) = queue(&mut net, Alice, c.a, text(MAX_MESSAGE_BYTES));
        assert_eq!(id, n as u64);
        outs.assert_empty();
    }
    // Exactly the limit waits; one byte more does not, whether ready or a Blob.
    let error = refused(&mut net, Alice, c.a, text(1));
    assert_eq!(error, CommandError::SendQueueFull);
    assert_eq!(error.code(), "send-queue-full");
    assert_eq!(
        refused(&mut net, Alice, c.a, blob(1)),
        CommandError::SendQueueFull
    );
    // Files have a queue of their own.
    let (_, outs) = queue(&mut net, Alice, c.a, file(10));
    outs.assert_empty();
    // Every message accepted goes, in order, then the file.
    let outs = net.feed(Alice, c.a, EffectResult::DataOpen);
    let expected: Vec<Output> = (1..=fits as u64)
        .map(|id| sends_message(c.a, id))
        .chain([frame(c.a, &offer(1, 10)), block(c.a, 1, 0, 10)])
        .collect();
    assert_eq!(outs.0, expected);
    // The queue is empty again.
    let (id, outs) = queue(&mut net, Alice, c.a, text(MAX_MESSAGE_BYTES));
    assert_eq!(outs.0, vec![sends_message(c.a, id)]);
    assert_eq!(id, fits as u64 + 1);
}

#[test]
fn a_blob_not_yet_read_holds_back_the_messages_after_it_until_message_read() {
    let (mut net, c) = open_pair();
    let (one, outs) = queue(&mut net, Alice, c.a, text(3));
    assert_eq!(outs.0, vec![sends_message(c.a, one)]);
    let (two, outs) = queue(&mut net, Alice, c.a, blob(5_000));
    outs.assert_empty();
    let (three, outs) = queue(&mut net, Alice, c.a, text(3));
    outs.assert_empty();
    // A read of a message that is not there changes nothing.
    net.feed(Alice, c.a, EffectResult::MessageRead { id: 99, ok: true })
        .assert_empty();
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::MessageRead { id: two, ok: true })
            .0,
        vec![sends_message(c.a, two), sends_message(c.a, three)]
    );
    // Read again (a stale report): nothing goes twice.
    net.feed(Alice, c.a, EffectResult::MessageRead { id: two, ok: true })
        .assert_empty();
}

#[test]
fn a_blob_read_before_the_channels_open_waits_for_them() {
    let (mut net, c) = quiet_pair();
    let (one, _) = queue(&mut net, Alice, c.a, blob(10));
    let (two, _) = queue(&mut net, Alice, c.a, text(10));
    net.feed(Alice, c.a, EffectResult::MessageRead { id: one, ok: true })
        .assert_empty();
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::DataOpen).0,
        vec![sends_message(c.a, one), sends_message(c.a, two)]
    );
}

#[test]
fn a_blob_that_cannot_be_read_is_dropped_and_frees_its_place_in_the_queue() {
    let (mut net, c) = open_pair();
    let (one, _) = queue(&mut net, Alice, c.a, blob(MAX_MESSAGE_BYTES));
    let mut behind = Vec::new();
    for _ in 1..MAX_QUEUED_BYTES / MAX_MESSAGE_BYTES {
        let (id, outs) = queue(&mut net, Alice, c.a, text(MAX_MESSAGE_BYTES));
        outs.assert_empty();
        behind.push(id);
    }
    assert_eq!(
        refused(&mut net, Alice, c.a, text(1)),
        CommandError::SendQueueFull
    );
    // The driver rejected the app's Promise itself; the queue moves on without it.
    let outs = net.feed(Alice, c.a, EffectResult::MessageRead { id: one, ok: false });
    let expected: Vec<Output> = behind.iter().map(|&id| sends_message(c.a, id)).collect();
    assert_eq!(outs.0, expected);
    // A late success for it sends nothing.
    net.feed(Alice, c.a, EffectResult::MessageRead { id: one, ok: true })
        .assert_empty();
    let (id, outs) = queue(&mut net, Alice, c.a, text(MAX_MESSAGE_BYTES));
    assert_eq!(outs.0, vec![sends_message(c.a, id)]);
}

#[test]
fn a_malformed_frame_on_the_messages_channel_is_a_typed_bad_frame_and_changes_nothing() {
    let (mut net, c) = open_pair();
    let (id, outs) = queue(&mut net, Alice, c.a, blob(10));
    outs.assert_empty();
    let outs = net.feed(Bob, c.b, EffectResult::BadMessageFrame);
    assert_eq!(outs.0, vec![bad_frame(c.b)]);
    let Output::Event(Event::Error { error, .. }) = &outs.0[0] else {
        unreachable!()
    };
    assert_eq!(error.code(), "bad-frame");
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
    assert!(net.info(Bob, c.b).data_open);
    // On the sending side too: the waiting message still goes.
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::BadMessageFrame).0,
        vec![bad_frame(c.a)]
    );
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::MessageRead { id, ok: true })
            .0,
        vec![sends_message(c.a, id)]
    );
}

// ----- files out ---------------------------------------------------------------------------------

#[test]
fn a_file_goes_as_an_offer_frame_then_blocks_of_block_bytes_one_in_flight() {
    let (mut net, c) = open_pair();
    let size = 2 * BLOCK_BYTES + 100;
    let (id, outs) = queue(&mut net, Alice, c.a, file(size));
    assert_eq!(id, 1);
    assert_eq!(
        outs.0,
        vec![frame(c.a, &offer(1, size)), block(c.a, 1, 0, BLOCK_BYTES)]
    );
    // One block in flight: nothing more goes until it is handed to the channel, whatever else
    // is asked meanwhile (a message goes on its own channel).
    let (m, outs) = queue(&mut net, Alice, c.a, text(1));
    assert_eq!(outs.0, vec![sends_message(c.a, m)]);
    // Reports of another transfer are not this block's.
    net.feed(Alice, c.a, block_sent(7, 0)).assert_empty();
    net.feed(Alice, c.a, EffectResult::FileBlockFailed { id: 7 })
        .assert_empty();
    assert_eq!(
        net.feed(Alice, c.a, block_sent(1, 0)).0,
        vec![
            progress(c.a, 1, Out, BLOCK_BYTES, size),
            block(c.a, 1, BLOCK_BYTES, BLOCK_BYTES)
        ]
    );
    assert_eq!(
        net.feed(Alice, c.a, block_sent(1, BLOCK_BYTES)).0,
        vec![
            progress(c.a, 1, Out, 2 * BLOCK_BYTES, size),
            block(c.a, 1, 2 * BLOCK_BYTES, 100)
        ]
    );
    assert_eq!(
        net.feed(Alice, c.a, block_sent(1, 0)).0,
        vec![progress(c.a, 1, Out, size, size), file_sent(c.a, 1)]
    );
    // A repeated report after the last block changes nothing.
    net.feed(Alice, c.a, block_sent(1, 0)).assert_empty();
}

#[test]
fn blocks_are_block_bytes_and_the_last_one_is_the_rest() {
    for (size, blocks) in [
        (1, vec![1]),
        (BLOCK_BYTES, vec![BLOCK_BYTES]),
        (BLOCK_BYTES + 1, vec![BLOCK_BYTES, 1]),
    ] {
        let (mut net, c) = open_pair();
        let (id, outs) = queue(&mut net, Alice, c.a, file(size));
        assert_eq!(
            outs.effects()[1],
            &Effect::SendFileBlock {
                id,
                offset: 0,
                len: blocks[0]
            }
        );
        let mut offset = blocks[0];
        for &len in &blocks[1..] {
            let outs = net.feed(Alice, c.a, block_sent(id, 0));
            assert_eq!(
                outs.0[1],
                block(c.a, id, offset, len),
                "size {size}: {outs:#?}"
            );
            offset += len;
        }
        assert_eq!(
            net.feed(Alice, c.a, block_sent(id, 0)).0,
            vec![progress(c.a, id, Out, size, size), file_sent(c.a, id)],
            "size {size}"
        );
    }
}

#[test]
fn a_file_sent_before_the_channels_open_waits_for_them() {
    let (mut net, c) = quiet_pair();
    let (id, outs) = queue(&mut net, Alice, c.a, file(10));
    outs.assert_empty();
    // Nothing of the buffer matters while nothing is out.
    net.feed(Alice, c.a, EffectResult::BufferLow).assert_empty();
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::DataOpen).0,
        vec![frame(c.a, &offer(id, 10)), block(c.a, id, 0, 10)]
    );
}

#[test]
fn files_go_one_at_a_time_the_next_offer_after_the_last_block_of_the_one_before() {
    let (mut net, c) = open_pair();
    let (one, _) = queue(&mut net, Alice, c.a, file(10));
    let (two, outs) = queue(&mut net, Alice, c.a, file(20));
    outs.assert_empty();
    assert_eq!((one, two), (1, 2));
    assert_eq!(
        net.feed(Alice, c.a, block_sent(one, 10)).0,
        vec![
            progress(c.a, one, Out, 10, 10),
            file_sent(c.a, one),
            frame(c.a, &offer(two, 20)),
            block(c.a, two, 0, 20)
        ]
    );
}

#[test]
fn a_buffer_above_high_water_pauses_the_transfer_until_buffer_low() {
    let (mut net, c) = open_pair();
    let size = 3 * BLOCK_BYTES;
    let (id, _) = queue(&mut net, Alice, c.a, file(size));
    // At the mark, not above it: the next block goes.
    assert_eq!(
        net.feed(Alice, c.a, block_sent(id, HIGH_WATER_BYTES)).0,
        vec![
            progress(c.a, id, Out, BLOCK_BYTES, size),
            block(c.a, id, BLOCK_BYTES, BLOCK_BYTES)
        ]
    );
    // Above it: the transfer waits.
    assert_eq!(
        net.feed(Alice, c.a, block_sent(id, HIGH_WATER_BYTES + 1)).0,
        vec![progress(c.a, id, Out, 2 * BLOCK_BYTES, size)]
    );
    // Messages do not wait for the files channel, and a file queued meanwhile waits its turn.
    let (m, outs) = queue(&mut net, Alice, c.a, text(10));
    assert_eq!(outs.0, vec![sends_message(c.a, m)]);
    let (_, outs) = queue(&mut net, Alice, c.a, file(1));
    outs.assert_empty();
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::BufferLow).0,
        vec![block(c.a, id, 2 * BLOCK_BYTES, BLOCK_BYTES)]
    );
    // Not paused: a low buffer changes nothing.
    net.feed(Alice, c.a, EffectResult::BufferLow).assert_empty();
}

#[test]
fn a_transfer_cancelled_while_paused_leaves_the_next_file_waiting_for_buffer_low() {
    // The buffer is still full when the paused transfer is cancelled: the next file's offer and
    // first block would only add to it, so they wait for the buffer to drain, whoever cancels.
    let (mut net, c) = open_pair();
    let size = 3 * BLOCK_BYTES;
    let (one, _) = queue(&mut net, Alice, c.a, file(size));
    let (two, _) = queue(&mut net, Alice, c.a, file(20));
    net.feed(Alice, c.a, block_sent(one, HIGH_WATER_BYTES + 1));
    assert_eq!(
        net.ok(Alice, c.a, Command::CancelTransfer { id: one }).0,
        vec![
            frame(c.a, &format!("x{one}")),
            transfer_ended(c.a, one, Out, TransferEnd::Cancelled)
        ]
    );
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::BufferLow).0,
        vec![frame(c.a, &offer(two, 20)), block(c.a, two, 0, 20)]
    );
}

#[test]
fn a_buffer_above_high_water_after_a_last_block_holds_back_the_next_offer() {
    let (mut net, c) = open_pair();
    let (one, _) = queue(&mut net, Alice, c.a, file(10));
    let (two, _) = queue(&mut net, Alice, c.a, file(20));
    assert_eq!(
        net.feed(Alice, c.a, block_sent(one, HIGH_WATER_BYTES + 1))
            .0,
        vec![progress(c.a, one, Out, 10, 10), file_sent(c.a, one)]
    );
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::BufferLow).0,
        vec![frame(c.a, &offer(two, 20)), block(c.a, two, 0, 20)]
    );
}

#[test]
fn at_most_max_queued_files_wait_and_the_next_is_refused_with_send_queue_full() {
    let (mut net, c) = quiet_pair();
    for n in 1..=MAX_QUEUED_FILES as u64 {
        let (id, outs) = queue(&mut net, Alice, c.a, file(n));
        assert_eq!(id, n);
        outs.assert_empty();
    }
    assert_eq!(
        refused(&mut net, Alice, c.a, file(1)),
        CommandError::SendQueueFull
    );
    // Messages have a queue of their own.
    let (_, outs) = queue(&mut net, Alice, c.a, text(1));
    outs.assert_empty();
    // The one under way counts.
    let outs = net.feed(Alice, c.a, EffectResult::DataOpen);
    assert_eq!(
        outs.0,
        vec![
            sends_message(c.a, 1),
            frame(c.a, &offer(1, 1)),
            block(c.a, 1, 0, 1)
        ]
    );
    assert_eq!(
        refused(&mut net, Alice, c.a, file(1)),
        CommandError::SendQueueFull
    );
    // Once one is done, another fits.
    net.feed(Alice, c.a, block_sent(1, 0));
    let (id, _) = queue(&mut net, Alice, c.a, file(1));
    assert_eq!(id, MAX_QUEUED_FILES as u64 + 1);
    assert_eq!(
        refused(&mut net, Alice, c.a, file(1)),
        CommandError::SendQueueFull
    );
}

#[test]
fn a_file_with_a_name_or_type_too_long_or_too_large_is_refused_with_invalid_file() {
    let (mut net, c) = open_pair();
    let long = "n".repeat(MAX_FILE_NAME_BYTES + 1);
    for outgoing in [
        Outgoing::File {
            size: 1,
            name: long.clone(),
            mime: String::new(),
        },
        Outgoing::File {
            size: 1,
            name: String::new(),
            mime: long.clone(),
        },
        // Counted in UTF-8 bytes: 128 two-byte characters.
        Outgoing::File {
            size: 1,
            name: "é".repeat(128),
            mime: String::new(),
        },
        Outgoing::File {
            size: MAX_FILE_BYTES + 1,
            name: String::new(),
            mime: String::new(),
        },
        Outgoing::File {
            size: u64::MAX,
            name: String::new(),
            mime: String::new(),
        },
    ] {
        let error = refused(&mut net, Alice, c.a, outgoing);
        assert_eq!(error, CommandError::InvalidFile);
        assert_eq!(error.code(), "invalid-file");
    }
    // At the limits, it goes: the largest size, the longest name and type, or empty ones.
    let name = format!("{}a", "é".repeat(127));
    assert_eq!(name.len(), MAX_FILE_NAME_BYTES);
    let mime = "t".repeat(MAX_FILE_NAME_BYTES);
    let (id, outs) = queue(
        &mut net,
        Alice,
        c.a,
        Outgoing::File {
            size: MAX_FILE_BYTES,
            name: name.clone(),
            mime: mime.clone(),
        },
    );
    assert_eq!(id, 1, "refused files take no id");
    let offer_frame =
        format!(r#"{{"id":1,"size":{MAX_FILE_BYTES},"name":"{name}","type":"{mime}"}}"#);
    assert_eq!(
        outs.0,
        vec![frame(c.a, &offer_frame), block(c.a, 1, 0, BLOCK_BYTES)]
    );
    // The peer reads the same offer.
    let told = carry(&mut net, Bob, c.b, &outs);
    assert_eq!(
        told.events()[0],
        &Event::FileIncoming {
            call: c.b,
            id: 1,
            name,
            mime,
            size: MAX_FILE_BYTES
        }
    );
    let (id, outs) = queue(
        &mut net,
        Alice,
        c.a,
        Outgoing::File {
            size: 3,
            name: String::new(),
            mime: String::new(),
        },
    );
    assert_eq!(id, 2);
    outs.assert_empty();
}

#[test]
fn an_empty_file_is_offered_and_done_at_once_on_both_sides() {
    let (mut net, c) = open_pair();
    let (id, outs) = queue(&mut net, Alice, c.a, file(0));
    assert_eq!(
        outs.0,
        vec![
            frame(c.a, &offer(id, 0)),
            progress(c.a, id, Out, 0, 0),
            file_sent(c.a, id)
        ]
    );
    let told = carry(&mut net, Bob, c.b, &outs);
    let expected = [
        incoming_file(c.b, 1, 0),
        vec![progress(c.b, 1, Incoming, 0, 0), file_received(c.b, 1)],
    ]
    .concat();
    assert_eq!(told.0, expected);
    // The next file follows straight away.
    let (two, outs) = queue(&mut net, Alice, c.a, file(0));
    assert_eq!(outs.0[0], frame(c.a, &offer(two, 0)));
}

#[test]
fn a_block_that_cannot_be_read_or_sent_fails_the_transfer_and_tells_the_peer() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    let (two, _) = queue(&mut net, Alice, c.a, file(5));
    let outs = net.feed(Alice, c.a, EffectResult::FileBlockFailed { id: 1 });
    assert_eq!(
        outs.0,
        vec![
            frame(c.a, "x1"),
            transfer_ended(c.a, 1, Out, TransferEnd::Failed),
            frame(c.a, &offer(two, 5)),
            block(c.a, two, 0, 5)
        ]
    );
    // A late report of the failed block is stale.
    net.feed(Alice, c.a, block_sent(1, 0)).assert_empty();
    net.feed(Alice, c.a, EffectResult::FileBlockFailed { id: 1 })
        .assert_empty();
    let told = carry(&mut net, Bob, c.b, &outs);
    let expected = [
        vec![transfer_ended(
            c.b,
            theirs,
            Incoming,
            TransferEnd::RemoteCancelled,
        )],
        incoming_file(c.b, theirs + 1, 5),
    ]
    .concat();
    assert_eq!(told.0, expected);
}

// ----- files in ----------------------------------------------------------------------------------

#[test]
fn a_file_reaches_the_peer_as_an_offer_then_its_bytes_with_progress_then_file_received() {
    let (mut net, c) = open_pair();
    let size = BLOCK_BYTES + 10;
    let theirs = offered(&mut net, &c, 1, size);
    assert_eq!(theirs, 1);
    assert_eq!(
        net.feed(Alice, c.a, block_sent(1, 0)).0,
        vec![
            progress(c.a, 1, Out, BLOCK_BYTES, size),
            block(c.a, 1, BLOCK_BYTES, 10)
        ]
    );
    assert_eq!(
        net.feed(Bob, c.b, bytes(theirs, BLOCK_BYTES)).0,
        vec![progress(c.b, theirs, Incoming, BLOCK_BYTES, size)]
    );
    assert_eq!(
        net.feed(Alice, c.a, block_sent(1, 0)).0,
        vec![progress(c.a, 1, Out, size, size), file_sent(c.a, 1)]
    );
    // One byte short is not the file.
    assert_eq!(
        net.feed(Bob, c.b, bytes(theirs, size - 1)).0,
        vec![progress(c.b, theirs, Incoming, size - 1, size)]
    );
    assert_eq!(
        net.feed(Bob, c.b, bytes(theirs, size)).0,
        vec![
            progress(c.b, theirs, Incoming, size, size),
            file_received(c.b, theirs)
        ]
    );
    // Bytes after the end, or of another transfer, are not this one's.
    net.feed(Bob, c.b, bytes(theirs, size + 1)).assert_empty();
    net.feed(Bob, c.b, bytes(9, 1)).assert_empty();
}

#[test]
fn an_offer_carries_any_name_and_type_through_its_json() {
    let (mut net, c) = open_pair();
    let name = "quote\" back\\slash\ttab é 日本 🎉.txt".to_owned();
    let mime = "text/plain; charset=\"utf-8\"".to_owned();
    let outgoing = Outgoing::File {
        size: 4,
        name: name.clone(),
        mime: mime.clone(),
    };
    let (_, outs) = queue(&mut net, Alice, c.a, outgoing);
    let told = carry(&mut net, Bob, c.b, &outs);
    assert_eq!(
        told.0,
        vec![
            event(Event::FileIncoming {
                call: c.b,
                id: 1,
                name: name.clone(),
                mime: mime.clone(),
                size: 4
            }),
            effect(
                c.b,
                Effect::ReceiveFile {
                    id: 1,
                    size: 4,
                    name,
                    mime
                }
            ),
        ]
    );
}

#[test]
fn transfer_ids_are_unique_among_the_calls_transfers_in_both_directions() {
    let (mut net, c) = open_pair();
    let (alices, a_outs) = queue(&mut net, Alice, c.a, file(10));
    let (bobs, b_outs) = queue(&mut net, Bob, c.b, file(10));
    assert_eq!((alices, bobs), (1, 1), "each side numbers its own");
    // Each side's id for the peer's file follows its own.
    assert_eq!(
        carry(&mut net, Bob, c.b, &a_outs).0,
        incoming_file(c.b, 2, 10)
    );
    assert_eq!(
        carry(&mut net, Alice, c.a, &b_outs).0,
        incoming_file(c.a, 2, 10)
    );
    let (next, _) = queue(&mut net, Alice, c.a, file(10));
    assert_eq!(next, 3);
    // Both directions at once: each side's bytes are its own transfer's.
    assert_eq!(
        net.feed(Alice, c.a, bytes(2, 10)).0,
        vec![progress(c.a, 2, Incoming, 10, 10), file_received(c.a, 2)]
    );
    assert_eq!(
        net.feed(Alice, c.a, block_sent(1, 0)).0,
        vec![
            progress(c.a, 1, Out, 10, 10),
            file_sent(c.a, 1),
            frame(c.a, &offer(3, 10)),
            block(c.a, 3, 0, 10)
        ]
    );
}

#[test]
fn more_bytes_than_offered_fail_the_transfer_with_bad_frame_and_the_sender_is_told() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 100);
    let outs = net.feed(Bob, c.b, bytes(theirs, 101));
    assert_eq!(
        outs.0,
        vec![
            bad_frame(c.b),
            frame(c.b, "r1"),
            transfer_ended(c.b, theirs, Incoming, TransferEnd::Failed)
        ]
    );
    // The sender hears a refusal.
    assert_eq!(
        carry(&mut net, Alice, c.a, &outs).0,
        vec![transfer_ended(c.a, 1, Out, TransferEnd::RemoteCancelled)]
    );
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
}

#[test]
fn a_new_offer_while_a_file_arrives_fails_the_one_before() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    net.feed(Bob, c.b, bytes(theirs, BLOCK_BYTES));
    // The sender sends one file after the other: an offer now means the first is over short.
    let outs = net.feed(Bob, c.b, EffectResult::FileFrame(offer(5, 7)));
    let expected = [
        vec![
            frame(c.b, "r1"),
            transfer_ended(c.b, theirs, Incoming, TransferEnd::Failed),
        ],
        incoming_file(c.b, theirs + 1, 7),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.feed(Bob, c.b, bytes(theirs + 1, 7)).0,
        vec![
            progress(c.b, theirs + 1, Incoming, 7, 7),
            file_received(c.b, theirs + 1)
        ]
    );
}

#[test]
fn a_malformed_offer_is_a_bad_frame_refused_when_it_names_an_id_and_changes_nothing_else() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    let long = "n".repeat(MAX_FILE_NAME_BYTES + 1);
    let named = [
        r#"{"id":3,"size":-1,"name":"a","type":""}"#.to_owned(),
        r#"{"id":3,"size":1.5,"name":"a","type":""}"#.to_owned(),
        format!(
            r#"{{"id":3,"size":{},"name":"a","type":""}}"#,
            MAX_FILE_BYTES + 1
        ),
        format!(r#"{{"id":3,"size":1,"name":"{long}","type":""}}"#),
        format!(r#"{{"id":3,"size":1,"name":"","type":"{long}"}}"#),
        r#"{"id":3,"size":1,"name":"a"}"#.to_owned(),
        r#"{"id":3,"size":1,"name":7,"type":""}"#.to_owned(),
        r#"{"id":3}"#.to_owned(),
    ];
    for offer in named {
        assert_eq!(
            net.feed(Bob, c.b, EffectResult::FileFrame(offer.clone())).0,
            vec![bad_frame(c.b), frame(c.b, "r3")],
            "{offer}"
        );
    }
    let nameless = [
        r#"{"size":1,"name":"a","type":""}"#,
        r#"{"id":"3","size":1,"name":"a","type":""}"#,
        r#"{"id":-3,"size":1,"name":"a","type":""}"#,
        r#"{"id":3,"size":1"#,
        "{not json",
        "{",
    ];
    for offer in nameless {
        assert_eq!(
            net.feed(Bob, c.b, EffectResult::FileFrame(offer.into())).0,
            vec![bad_frame(c.b)],
            "{offer}"
        );
    }
    // The file under way still arrives.
    assert_eq!(
        net.feed(Bob, c.b, bytes(theirs, 2 * BLOCK_BYTES)).0,
        vec![
            progress(c.b, theirs, Incoming, 2 * BLOCK_BYTES, 2 * BLOCK_BYTES),
            file_received(c.b, theirs)
        ]
    );
}

#[test]
fn a_malformed_frame_is_a_typed_bad_frame_and_nothing_else_is_lost() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    let (bobs, _) = queue(&mut net, Bob, c.b, file(BLOCK_BYTES + 1));
    for bad in [
        "",
        "hello",
        "x",
        "r",
        "x-1",
        "x+1",
        "x1.5",
        "x1e3",
        "x 1",
        "xabc",
        "r99999999999999999999999",
        "X1",
        "z7",
        "[1]",
        "é1",
    ] {
        let outs = net.feed(Bob, c.b, EffectResult::FileFrame(bad.into()));
        assert_eq!(outs.0, vec![bad_frame(c.b)], "{bad:?}");
    }
    // Both transfers go on: bob's outgoing one and alice's to him.
    assert_eq!(
        net.feed(Bob, c.b, block_sent(bobs, 0)).0,
        vec![
            progress(c.b, bobs, Out, BLOCK_BYTES, BLOCK_BYTES + 1),
            block(c.b, bobs, BLOCK_BYTES, 1)
        ]
    );
    assert_eq!(
        net.feed(Bob, c.b, bytes(theirs, BLOCK_BYTES)).0,
        vec![progress(
            c.b,
            theirs,
            Incoming,
            BLOCK_BYTES,
            2 * BLOCK_BYTES
        )]
    );
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
}

#[test]
fn cancels_and_refusals_of_transfers_not_under_way_are_quiet() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 100);
    // `x` of a transfer the peer is not sending, `r` of one this side is not sending.
    for quiet in ["x2", "x0", "r1", "r7"] {
        net.feed(Bob, c.b, EffectResult::FileFrame(quiet.into()))
            .assert_empty();
    }
    assert_eq!(
        net.feed(Bob, c.b, bytes(theirs, 100)).0,
        vec![
            progress(c.b, theirs, Incoming, 100, 100),
            file_received(c.b, theirs)
        ]
    );
    // Done: a late cancel of it is quiet on both sides.
    net.feed(Bob, c.b, EffectResult::FileFrame("x1".into()))
        .assert_empty();
    net.feed(Alice, c.a, block_sent(1, 0));
    net.feed(Alice, c.a, EffectResult::FileFrame("r1".into()))
        .assert_empty();
}

// ----- cancels -------------------------------------------------------------------------------------

#[test]
fn the_sender_cancels_a_transfer_under_way_and_the_peer_ends_it_remote_cancelled() {
    let (mut net, c) = open_pair();
    let size = 2 * BLOCK_BYTES;
    let theirs = offered(&mut net, &c, 1, size);
    net.feed(Alice, c.a, block_sent(1, 0));
    net.feed(Bob, c.b, bytes(theirs, BLOCK_BYTES));
    let (two, _) = queue(&mut net, Alice, c.a, file(10));
    let outs = net.ok(Alice, c.a, Command::CancelTransfer { id: 1 });
    assert_eq!(
        outs.0,
        vec![
            frame(c.a, "x1"),
            transfer_ended(c.a, 1, Out, TransferEnd::Cancelled),
            frame(c.a, &offer(two, 10)),
            block(c.a, two, 0, 10)
        ]
    );
    // The block in flight when it was cancelled is stale.
    net.feed(Alice, c.a, block_sent(1, 0)).assert_empty();
    let told = carry(&mut net, Bob, c.b, &outs);
    let expected = [
        vec![transfer_ended(
            c.b,
            theirs,
            Incoming,
            TransferEnd::RemoteCancelled,
        )],
        incoming_file(c.b, theirs + 1, 10),
    ]
    .concat();
    assert_eq!(told.0, expected);
    assert_eq!(
        cancel_refused(&mut net, Bob, c.b, theirs),
        CommandError::UnknownTransfer
    );
    assert_eq!(
        cancel_refused(&mut net, Alice, c.a, 1),
        CommandError::UnknownTransfer
    );
}

#[test]
fn the_sender_cancels_a_file_not_yet_offered_and_the_peer_hears_nothing() {
    let (mut net, c) = open_pair();
    offered(&mut net, &c, 1, 100);
    let (two, _) = queue(&mut net, Alice, c.a, file(10));
    let (three, _) = queue(&mut net, Alice, c.a, file(20));
    assert_eq!(
        net.ok(Alice, c.a, Command::CancelTransfer { id: two }).0,
        vec![transfer_ended(c.a, two, Out, TransferEnd::Cancelled)]
    );
    // The one under way goes on; the next after it is the third.
    assert_eq!(
        net.feed(Alice, c.a, block_sent(1, 0)).0,
        vec![
            progress(c.a, 1, Out, 100, 100),
            file_sent(c.a, 1),
            frame(c.a, &offer(three, 20)),
            block(c.a, three, 0, 20)
        ]
    );
    // Before the channels open too.
    let (mut net, c) = quiet_pair();
    let (id, _) = queue(&mut net, Alice, c.a, file(10));
    assert_eq!(
        net.ok(Alice, c.a, Command::CancelTransfer { id }).0,
        vec![transfer_ended(c.a, id, Out, TransferEnd::Cancelled)]
    );
    net.feed(Alice, c.a, EffectResult::DataOpen).assert_empty();
}

#[test]
fn the_receiver_cancels_a_transfer_and_the_sender_ends_it_remote_cancelled_and_moves_on() {
    let (mut net, c) = quiet_pair();
    // alice's first file is cancelled before anything goes: her transfer under way is 2, while
    // bob's name for it is 1, so the refusal visibly names the sender's id.
    let (one, _) = queue(&mut net, Alice, c.a, file(10));
    net.ok(Alice, c.a, Command::CancelTransfer { id: one });
    let (two, _) = queue(&mut net, Alice, c.a, file(2 * BLOCK_BYTES));
    let (three, _) = queue(&mut net, Alice, c.a, file(5));
    net.feed(Bob, c.b, EffectResult::DataOpen).assert_empty();
    let outs = net.feed(Alice, c.a, EffectResult::DataOpen);
    let told = carry(&mut net, Bob, c.b, &outs);
    assert_eq!(told.0, incoming_file(c.b, 1, 2 * BLOCK_BYTES));
    let outs = net.ok(Bob, c.b, Command::CancelTransfer { id: 1 });
    assert_eq!(
        outs.0,
        vec![
            frame(c.b, &format!("r{two}")),
            transfer_ended(c.b, 1, Incoming, TransferEnd::Cancelled)
        ]
    );
    // Bytes on their way when it was refused are not the app's business.
    net.feed(Bob, c.b, bytes(1, BLOCK_BYTES)).assert_empty();
    assert_eq!(
        carry(&mut net, Alice, c.a, &outs).0,
        vec![
            transfer_ended(c.a, two, Out, TransferEnd::RemoteCancelled),
            frame(c.a, &offer(three, 5)),
            block(c.a, three, 0, 5)
        ]
    );
    // The refused transfer's block in flight is stale; the third goes on.
    net.feed(Alice, c.a, block_sent(two, 0)).assert_empty();
    assert_eq!(
        net.feed(Alice, c.a, block_sent(three, 0)).0,
        vec![progress(c.a, three, Out, 5, 5), file_sent(c.a, three)]
    );
}

#[test]
fn cancels_from_both_sides_that_cross_end_the_transfer_once_on_each() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    let by_alice = net.ok(Alice, c.a, Command::CancelTransfer { id: 1 });
    let by_bob = net.ok(Bob, c.b, Command::CancelTransfer { id: theirs });
    assert_eq!(
        by_alice.0,
        vec![
            frame(c.a, "x1"),
            transfer_ended(c.a, 1, Out, TransferEnd::Cancelled)
        ]
    );
    assert_eq!(
        by_bob.0,
        vec![
            frame(c.b, "r1"),
            transfer_ended(c.b, theirs, Incoming, TransferEnd::Cancelled)
        ]
    );
    carry(&mut net, Bob, c.b, &by_alice).assert_empty();
    carry(&mut net, Alice, c.a, &by_bob).assert_empty();
}

#[test]
fn cancelling_a_transfer_that_is_not_there_is_refused_with_unknown_transfer() {
    let (mut net, c) = open_pair();
    let error = cancel_refused(&mut net, Alice, c.a, 42);
    assert_eq!(error, CommandError::UnknownTransfer);
    assert_eq!(error.code(), "unknown-transfer");
    assert!(!error.to_string().is_empty());
    // Sent in full, or received in full: finished.
    let theirs = offered(&mut net, &c, 1, 10);
    net.feed(Alice, c.a, block_sent(1, 0));
    net.feed(Bob, c.b, bytes(theirs, 10));
    assert_eq!(
        cancel_refused(&mut net, Alice, c.a, 1),
        CommandError::UnknownTransfer
    );
    assert_eq!(
        cancel_refused(&mut net, Bob, c.b, theirs),
        CommandError::UnknownTransfer
    );
    // Cancelled already.
    let (id, _) = queue(&mut net, Alice, c.a, file(10));
    net.ok(Alice, c.a, Command::CancelTransfer { id });
    assert_eq!(
        cancel_refused(&mut net, Alice, c.a, id),
        CommandError::UnknownTransfer
    );
    // A message is no transfer.
    let (m, _) = queue(&mut net, Bob, c.b, text(1));
    assert_eq!(m, 1);
    assert_eq!(
        cancel_refused(&mut net, Bob, c.b, m),
        CommandError::UnknownTransfer
    );
}

// ----- closed channels, ended calls ------------------------------------------------------------------

#[test]
fn a_closed_channel_fails_the_transfers_under_way_after_the_grace_and_keeps_what_has_not_started() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    let (two, _) = queue(&mut net, Alice, c.a, file(10));
    let (blob_id, _) = queue(&mut net, Alice, c.a, blob(10));
    net.feed(Alice, c.a, EffectResult::DataClosed)
        .assert_empty();
    assert!(!net.info(Alice, c.a).data_open);
    let closed_at = net.now;
    assert_eq!(timer(&mut net, Alice), Some(closed_at + CLOSE_GRACE_MS));
    // What is sent now waits, as before the first open; reports of the old channel are stale;
    // a second close changes nothing, its deadline included.
    let (m, outs) = queue(&mut net, Alice, c.a, text(1));
    outs.assert_empty();
    net.feed(
        Alice,
        c.a,
        EffectResult::MessageRead {
            id: blob_id,
            ok: true,
        },
    )
    .assert_empty();
    net.feed(Alice, c.a, block_sent(1, 0)).assert_empty();
    net.feed(Alice, c.a, EffectResult::BufferLow).assert_empty();
    net.advance(500);
    net.feed(Alice, c.a, EffectResult::DataClosed)
        .assert_empty();
    assert_eq!(timer(&mut net, Alice), Some(closed_at + CLOSE_GRACE_MS));
    // The receiving side waits out its own grace.
    net.feed(Bob, c.b, EffectResult::DataClosed).assert_empty();
    assert_eq!(timer(&mut net, Bob), Some(net.now + CLOSE_GRACE_MS));
    net.advance_to(closed_at + CLOSE_GRACE_MS - 1);
    net.timeout(Alice).assert_empty();
    net.advance(1);
    assert_eq!(
        net.timeout(Alice).0,
        vec![transfer_ended(c.a, 1, Out, TransferEnd::Failed)]
    );
    assert_eq!(timer(&mut net, Alice), None);
    let bob_fails = net.run_timers(Bob, closed_at + 500 + CLOSE_GRACE_MS);
    assert_eq!(
        bob_fails.0,
        vec![transfer_ended(c.b, theirs, Incoming, TransferEnd::Failed)]
    );
    assert_eq!(timer(&mut net, Bob), None);
    net.feed(Bob, c.b, bytes(theirs, 2 * BLOCK_BYTES))
        .assert_empty();
    assert_eq!(
        cancel_refused(&mut net, Bob, c.b, theirs),
        CommandError::UnknownTransfer
    );
    // The call goes on; channels that open again (a new connection) carry what waited.
    assert_eq!(net.state(Alice, c.a), CallState::Connected);
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::DataOpen).0,
        vec![
            sends_message(c.a, blob_id),
            sends_message(c.a, m),
            frame(c.a, &offer(two, 10)),
            block(c.a, two, 0, 10)
        ]
    );
}

#[test]
fn a_closed_channel_with_nothing_under_way_sets_no_timer() {
    let (mut net, c) = open_pair();
    let (_, outs) = queue(&mut net, Alice, c.a, file(10));
    net.feed(Alice, c.a, block_sent(1, 0));
    carry(&mut net, Bob, c.b, &outs);
    net.feed(Bob, c.b, bytes(1, 10));
    for (who, call) in [(Alice, c.a), (Bob, c.b)] {
        net.feed(who, call, EffectResult::DataClosed).assert_empty();
        assert_eq!(timer(&mut net, who), None);
    }
    // A file queued after the close waits for new channels, with no timer either.
    let (id, outs) = queue(&mut net, Alice, c.a, file(5));
    outs.assert_empty();
    assert_eq!(timer(&mut net, Alice), None);
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::DataOpen).0,
        vec![frame(c.a, &offer(id, 5)), block(c.a, id, 0, 5)]
    );
}

#[test]
fn a_hangup_that_follows_its_channels_close_within_the_grace_ends_the_transfers_call_ended() {
    // A peer that hangs up closes its connection as it sends the hangup: its channel's close
    // often arrives first.
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    let (bobs, outs) = queue(&mut net, Bob, c.b, file(BLOCK_BYTES));
    let alices_in = match carry(&mut net, Alice, c.a, &outs).events()[0] {
        Event::FileIncoming { id, .. } => *id,
        other => panic!("{other:?}"),
    };
    let bye = net.ok(Bob, c.b, Command::Hangup);
    let expected = [
        vec![
            send(Bob, Alice, ID, hangup(EndReason::Hangup)),
            transfer_ended(c.b, bobs, Out, TransferEnd::CallEnded),
            transfer_ended(c.b, theirs, Incoming, TransferEnd::CallEnded),
        ],
        ended(c.b, EndReason::Hangup, false),
    ]
    .concat();
    assert_eq!(bye.0, expected);
    net.feed(Alice, c.a, EffectResult::DataClosed)
        .assert_empty();
    net.advance(CLOSE_GRACE_MS - 1);
    net.timeout(Alice).assert_empty();
    let told = net.recv(Alice, Bob, &bye.message("hangup"));
    let expected = [
        vec![
            transfer_ended(c.a, 1, Out, TransferEnd::CallEnded),
            transfer_ended(c.a, alices_in, Incoming, TransferEnd::CallEnded),
        ],
        ended(c.a, EndReason::RemoteHangup, false),
    ]
    .concat();
    assert_eq!(told.0, expected);
    assert_eq!(timer(&mut net, Alice), None);
}

#[test]
fn channels_that_open_again_within_the_grace_fail_what_was_under_way_at_once() {
    let (mut net, c) = open_pair();
    offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    let (two, _) = queue(&mut net, Alice, c.a, file(10));
    net.feed(Alice, c.a, EffectResult::DataClosed)
        .assert_empty();
    net.advance(100);
    // New channels: the old transfer cannot go on over them.
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::DataOpen).0,
        vec![
            transfer_ended(c.a, 1, Out, TransferEnd::Failed),
            frame(c.a, &offer(two, 10)),
            block(c.a, two, 0, 10)
        ]
    );
    assert_eq!(timer(&mut net, Alice), None);
}

#[test]
fn a_transfer_cancelled_within_the_grace_ends_cancelled_once() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    for (who, call) in [(Alice, c.a), (Bob, c.b)] {
        net.feed(who, call, EffectResult::DataClosed).assert_empty();
    }
    // The frames go to a closed channel (the driver drops them); each transfer ends once.
    assert_eq!(
        net.ok(Alice, c.a, Command::CancelTransfer { id: 1 }).0,
        vec![
            frame(c.a, "x1"),
            transfer_ended(c.a, 1, Out, TransferEnd::Cancelled)
        ]
    );
    assert_eq!(
        net.ok(Bob, c.b, Command::CancelTransfer { id: theirs }).0,
        vec![
            frame(c.b, "r1"),
            transfer_ended(c.b, theirs, Incoming, TransferEnd::Cancelled)
        ]
    );
    let after = net.now + CLOSE_GRACE_MS;
    net.run_timers(Alice, after).assert_empty();
    net.run_timers(Bob, after).assert_empty();
    assert_eq!(timer(&mut net, Alice), None);
}

#[test]
fn a_channel_closed_while_paused_forgets_the_pause() {
    let (mut net, c) = open_pair();
    offered(&mut net, &c, 1, BLOCK_BYTES);
    let (two, _) = queue(&mut net, Alice, c.a, file(10));
    net.feed(Alice, c.a, block_sent(1, HIGH_WATER_BYTES + 1));
    net.feed(Alice, c.a, EffectResult::DataClosed)
        .assert_empty();
    // A new channel's buffer is empty: the next file goes at once.
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::DataOpen).0,
        vec![frame(c.a, &offer(two, 10)), block(c.a, two, 0, 10)]
    );
}

#[test]
fn a_call_that_ends_ends_its_transfers_with_call_ended_before_its_release() {
    let (mut net, c) = open_pair();
    let bobs_in = offered(&mut net, &c, 1, 2 * BLOCK_BYTES);
    let (two, _) = queue(&mut net, Alice, c.a, file(10));
    let (bobs_out, outs) = queue(&mut net, Bob, c.b, file(2 * BLOCK_BYTES));
    let told = carry(&mut net, Alice, c.a, &outs);
    let alices_in = two + 1;
    assert_eq!(told.0, incoming_file(c.a, alices_in, 2 * BLOCK_BYTES));
    // A message still waiting is dropped with the call (the driver rejects its Promise).
    queue(&mut net, Alice, c.a, blob(10));
    let outs = net.ok(Alice, c.a, Command::Hangup);
    let expected = [
        vec![
            send(Alice, Bob, ID, hangup(EndReason::Hangup)),
            transfer_ended(c.a, 1, Out, TransferEnd::CallEnded),
            transfer_ended(c.a, two, Out, TransferEnd::CallEnded),
            transfer_ended(c.a, alices_in, Incoming, TransferEnd::CallEnded),
        ],
        ended(c.a, EndReason::Hangup, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert!(!net.info(Alice, c.a).data_open);
    let told = net.recv(Bob, Alice, &outs.message("hangup"));
    let expected = [
        vec![
            transfer_ended(c.b, bobs_out, Out, TransferEnd::CallEnded),
            transfer_ended(c.b, bobs_in, Incoming, TransferEnd::CallEnded),
        ],
        ended(c.b, EndReason::RemoteHangup, false),
    ]
    .concat();
    assert_eq!(told.0, expected);
}

#[test]
fn a_declined_call_ends_the_files_queued_on_it() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, ID);
    let b = r.on(Bob);
    let (id, outs) = queue(&mut net, Bob, b, file(10));
    outs.assert_empty();
    let outs = net.ok(Bob, b, Command::Reject);
    let expected = [
        vec![
            send(Bob, Alice, ID, reject(EndReason::Rejected)),
            transfer_ended(b, id, Out, TransferEnd::CallEnded),
        ],
        ended(b, EndReason::Rejected, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
}

#[test]
fn an_ended_call_refuses_to_send_or_cancel_and_ignores_data_reports() {
    let (mut net, c) = open_pair();
    let theirs = offered(&mut net, &c, 1, BLOCK_BYTES);
    let outs = net.ok(Alice, c.a, Command::Hangup);
    net.recv(Bob, Alice, &outs.message("hangup"));
    for (who, call) in [(Alice, c.a), (Bob, c.b)] {
        assert_eq!(
            refused(&mut net, who, call, text(1)),
            CommandError::CallEnded
        );
        assert_eq!(
            refused(&mut net, who, call, file(1)),
            CommandError::CallEnded
        );
        assert_eq!(
            cancel_refused(&mut net, who, call, 1),
            CommandError::CallEnded
        );
        for result in [
            EffectResult::DataOpen,
            EffectResult::DataClosed,
            EffectResult::MessageRead { id: 1, ok: true },
            block_sent(1, 0),
            EffectResult::FileBlockFailed { id: 1 },
            EffectResult::BufferLow,
            EffectResult::FileFrame(offer(9, 1)),
            EffectResult::FileFrame("garbage".into()),
            bytes(theirs, 1),
            EffectResult::BadMessageFrame,
        ] {
            net.feed(who, call, result).assert_empty();
        }
        assert!(!net.info(who, call).data_open);
    }
    // A call that was never there.
    assert_eq!(
        refused(&mut net, Alice, CallHandle(999), text(1)),
        CommandError::UnknownCall
    );
}

// ----- glare, ICE restart ------------------------------------------------------------------------

/// alice (the higher call id) and bob call each other at once; alice queues `before` on her call
/// (with `open`: after her old connection's channels opened) before bob's invite reaches her.
/// Returns her handle, bob's, and what the merge produced at alice.
fn glare_with(net: &mut Net, open: bool, before: &[Outgoing]) -> (CallHandle, CallHandle, Outs) {
    let (ha, alice_outs) = invite(net, Alice, Bob, CallKind::Video, HIGH);
    let (hb, bob_outs) = invite(net, Bob, Alice, CallKind::Video, LOW);
    if open {
        net.feed(Alice, ha, EffectResult::DataOpen).assert_empty();
    }
    for outgoing in before {
        queue(net, Alice, ha, outgoing.clone());
    }
    let merged = net.recv(Alice, Bob, &bob_outs.message("invite"));
    let repeat = net.recv(Bob, Alice, &alice_outs.message("invite"));
    net.recv(Alice, Bob, &repeat.message("invite"))
        .assert_empty();
    net.recv(Bob, Alice, &merged.message("hangup"))
        .assert_empty();
    (ha, hb, merged)
}

/// The merged call connects: alice answers bob's offer, and ICE connects on both sides.
fn glare_connect(net: &mut Net, ha: CallHandle, hb: CallHandle, merged: &Outs) {
    let op = merged.sdp_op();
    let sdp = Alice.answer_sdp();
    let outs = net.feed(Alice, ha, EffectResult::AnswerCreated { op, sdp });
    let outs = net.recv(Bob, Alice, &outs.message("answer"));
    let op = outs.sdp_op();
    net.deliver_all(Bob, &outs);
    net.feed(Bob, hb, EffectResult::AnswerApplied { op });
    let up = EffectResult::IceStateChanged(IceState::Connected);
    net.feed(Alice, ha, up.clone());
    net.feed(Bob, hb, up);
    assert_eq!(net.state(Alice, ha), CallState::Connected);
    assert_eq!(net.state(Bob, hb), CallState::Connected);
}

#[test]
fn glare_merging_a_call_keeps_what_waits_for_the_new_connections_channels() {
    let mut net = Net::pair();
    let (ha, hb, merged) = glare_with(&mut net, false, &[text(4), file(10)]);
    // Nothing was under way: the merge touches no transfer.
    assert!(merged.effects().contains(&&Effect::ResetPeerConnection));
    assert!(!merged
        .events()
        .iter()
        .any(|e| matches!(e, Event::TransferEnded { .. })));
    glare_connect(&mut net, ha, hb, &merged);
    let outs = net.feed(Alice, ha, EffectResult::DataOpen);
    assert_eq!(
        outs.0,
        vec![
            sends_message(ha, 1),
            frame(ha, &offer(1, 10)),
            block(ha, 1, 0, 10)
        ]
    );
    net.feed(Bob, hb, EffectResult::DataOpen).assert_empty();
    assert_eq!(carry(&mut net, Bob, hb, &outs).0, incoming_file(hb, 1, 10));
}

#[test]
fn glare_merging_a_call_resets_its_connection_and_a_transfer_offered_on_the_old_one_fails() {
    let mut net = Net::pair();
    let (ha, hb, merged) = glare_with(&mut net, true, &[file(10), file(20), text(1)]);
    let op = merged.sdp_op();
    assert_eq!(
        merged.0,
        vec![
            send_all(Alice, Bob, HIGH, hangup(EndReason::AnsweredElsewhere)),
            effect(ha, Effect::ResetPeerConnection),
            state(ha, CallState::Connecting),
            effect(
                ha,
                Effect::AcceptOffer {
                    op,
                    sdp: Bob.offer_sdp()
                }
            ),
        ]
    );
    assert!(!net.info(Alice, ha).data_open);
    // The old connection's reports are stale.
    net.feed(Alice, ha, block_sent(1, 0)).assert_empty();
    glare_connect(&mut net, ha, hb, &merged);
    // The new connection's channels fail the transfer of the old ones and carry the second file
    // (the message went on the old ones).
    assert_eq!(
        net.feed(Alice, ha, EffectResult::DataOpen).0,
        vec![
            transfer_ended(ha, 1, Out, TransferEnd::Failed),
            frame(ha, &offer(2, 20)),
            block(ha, 2, 0, 20)
        ]
    );
}

#[test]
fn glare_merging_a_call_whose_new_channels_take_long_fails_the_old_transfer_after_the_grace() {
    let mut net = Net::pair();
    let (ha, _, _) = glare_with(&mut net, true, &[file(10)]);
    let merged_at = net.now;
    let outs = net.run_timers(Alice, merged_at + CLOSE_GRACE_MS);
    let ends: Vec<&Event> = outs
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::TransferEnded { .. }))
        .collect();
    assert_eq!(
        ends,
        vec![&Event::TransferEnded {
            call: ha,
            id: 1,
            direction: Out,
            reason: TransferEnd::Failed
        }]
    );
    assert_eq!(net.state(Alice, ha), CallState::Connecting);
}

#[test]
fn an_ice_restart_keeps_the_channels_open_and_the_transfer_goes_on() {
    let (mut net, c) = open_pair();
    let size = 3 * BLOCK_BYTES;
    let theirs = offered(&mut net, &c, 1, size);
    // The restart renegotiates the same connection: no data effect, no transfer ends.
    let outs = net.ok(Alice, c.a, Command::RestartIce);
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.a,
            Effect::CreateOffer {
                op,
                ice_restart: true
            }
        )]
    );
    assert!(net.info(Alice, c.a).data_open);
    assert_eq!(
        net.feed(Alice, c.a, block_sent(1, 0)).0,
        vec![
            progress(c.a, 1, Out, BLOCK_BYTES, size),
            block(c.a, 1, BLOCK_BYTES, BLOCK_BYTES)
        ]
    );
    // A path that drops and recovers leaves the channels to the browser too.
    let down = EffectResult::IceStateChanged(IceState::Disconnected);
    assert_eq!(
        net.feed(Bob, c.b, down).0,
        vec![state(c.b, CallState::Reconnecting)]
    );
    assert!(net.info(Bob, c.b).data_open);
    assert_eq!(
        net.feed(Bob, c.b, bytes(theirs, BLOCK_BYTES)).0,
        vec![progress(c.b, theirs, Incoming, BLOCK_BYTES, size)]
    );
    let (m, outs) = queue(&mut net, Bob, c.b, text(1));
    assert_eq!(outs.0, vec![sends_message(c.b, m)]);
    net.feed(Bob, c.b, EffectResult::IceStateChanged(IceState::Connected));
    assert_eq!(
        net.feed(Alice, c.a, block_sent(1, 0)).0,
        vec![
            progress(c.a, 1, Out, 2 * BLOCK_BYTES, size),
            block(c.a, 1, 2 * BLOCK_BYTES, BLOCK_BYTES)
        ]
    );
}
