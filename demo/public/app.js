// The demo chat: plain JS over peercall, as an existing chat app would add calls.
//   ?user=alice              log in as alice (otherwise a name is asked for)
//   &transport=broadcast     call between tabs over BroadcastChannel (the server only serves files)
// A namespace import, so the demo runs on a package without the newer exports (preflight,
// setAudioOutput): a missing named import would stop the whole module.
import * as peercall from '/pkg/index.js';

const { default: init, CallClient, socketIoTransport, broadcastChannelTransport } = peercall;

const $ = (id) => document.getElementById(id);

// While the call view or the incoming-call dialog is up, the chat behind it is inert, so keyboard
// and screen-reader users stay among the call's controls; the call view opens with focus on End.
const overlays = [$('call'), $('incoming'), $('device-check')];
new MutationObserver(() => {
  $('app').inert = overlays.some((overlay) => !overlay.hidden);
  if (!$('call').hidden && !$('call').contains(document.activeElement)) $('hangup').focus();
}).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['hidden'] });
const params = new URLSearchParams(location.search);
const viaBroadcast = params.get('transport') === 'broadcast';

const state = {
  me: null,
  online: [],
  peer: null,
  history: new Map(), // peer -> [{ kind: 'chat' | 'call', text, mine }]
  client: null,
  call: null, // the call the call view shows (it may be on hold, with Resume, once the other ended)
  held: null, // a call this side put on hold to take another one (shown as "alice is on hold")
  waiting: null, // an incoming call ringing while a call is under way (the banner in the call view)
  ringing: null, // the incoming call of the incoming-call dialog
  socket: null,
  ringer: null, // 'ringtone' or 'waiting' while this side's ring plays (the client's call sounds)
  sounds: [], // each call sound as it started and stopped ('ringtone on', 'ringtone off', ...), for the tests
  endings: [], // { peer, reason, missed } of each call that ended, oldest first
  notifications: new Map(), // call -> the Notification of its ring, while the tab was hidden
  recordings: new Map(), // call -> { url, name, size } of its last recording, until the call ends
  speaker: null, // the audio output picked for the call's sound (null: the browser's default)
  speakerUnsupported: false, // setAudioOutput() said `unsupported`: no picker
};

// ----- login and the real-time channel --------------------------------------------------------

async function login(name) {
  if (viaBroadcast) return { name, transport: broadcastChannelTransport(name, 'peercall-demo'), presence: broadcastPresence(name) };
  const logIn = async () => {
    const response = await fetch('/login', { method: 'POST', body: JSON.stringify({ name }) });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error);
    return body;
  };
  const body = await logIn();
  let token = body.token;
  const { io } = await import('/socket.io-client/socket.io.esm.min.js');
  const socket = io({ auth: (send) => send({ token }) });
  state.socket = socket;
  // With several server nodes two announcements can cross on the way: keep the newest reading.
  let presenceAt = 0;
  socket.on('presence', (users, at = 0) => {
    if (at < presenceAt) return;
    presenceAt = at;
    setOnline(users);
  });
  socket.on('chat', ({ from, message }) => addLine(from, { kind: 'chat', text: String(message.text ?? ''), mine: false }));
  await new Promise((done, fail) => { socket.once('connect', done); socket.once('connect_error', fail); });
  // A token outlives a dropped connection only briefly (and not a server restart): when the
  // server refuses it, socket.io stops retrying, so log in again and reconnect.
  socket.on('connect_error', () => {
    if (socket.active) return; // a network error: socket.io retries by itself
    setTimeout(async () => {
      try { token = (await logIn()).token; } catch { /* server away: the next attempt logs in again */ }
      socket.connect();
    }, 1000);
  });
  return { name: body.name, transport: socketIoTransport(socket) };
}

/** Presence between tabs without a server: each tab says hello and answers hellos. */
function broadcastPresence(name) {
  const channel = new BroadcastChannel('peercall-demo-presence');
  const seen = new Map();
  const announce = () => channel.postMessage({ hello: name });
  channel.onmessage = ({ data }) => {
    if (data.bye) seen.delete(data.bye);
    if (data.hello && data.hello !== name) {
      if (!seen.has(data.hello)) announce();
      seen.set(data.hello, Date.now());
    }
    if (data.chat && data.to === name) addLine(data.from, { kind: 'chat', text: String(data.chat), mine: false });
    setOnline([name, ...seen.keys()]);
  };
  addEventListener('pagehide', () => channel.postMessage({ bye: name }));
  announce();
  return { send: (to, text) => channel.postMessage({ chat: text, to, from: name }) };
}

function sendChat(text) {
  if (!state.peer || !text) return;
  if (viaBroadcast) state.presence.send(state.peer, text);
  else state.socket.emit('chat', { to: state.peer, message: { text } });
  addLine(state.peer, { kind: 'chat', text, mine: true });
}

// ----- contacts and conversation ------------------------------------------------------------

const initial = (name) => (name ?? '?').slice(0, 1).toUpperCase();

function setAvatar(el, name) {
  el.textContent = initial(name);
  el.style.background = `hsl(${[...(name ?? '')].reduce((h, c) => h + c.charCodeAt(0) * 37, 0) % 360} 55% 45%)`;
}

function setOnline(users) {
  state.online = users.filter((u) => u !== state.me);
  const list = $('contact-list');
  list.replaceChildren(...state.online.map((user) => {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.className = `contact${user === state.peer ? ' selected' : ''}`;
    button.setAttribute('aria-label', `Chat with ${user}`);
    const avatar = document.createElement('span');
    avatar.className = 'avatar';
    setAvatar(avatar, user);
    const label = document.createElement('span');
    label.textContent = user;
    const dot = document.createElement('span');
    dot.className = 'online-dot';
    dot.setAttribute('aria-label', 'online');
    button.append(avatar, label, dot);
    button.onclick = () => openConversation(user);
    item.append(button);
    return item;
  }));
  $('contacts-hint').hidden = state.online.length > 0;
  if (!state.peer && state.online.length) openConversation(state.online[0]);
  renderHeader();
}

function openConversation(peer) {
  state.peer = peer;
  setOnline([state.me, ...state.online]);
  renderMessages();
}

function renderHeader() {
  const peer = state.peer;
  $('peer-name').textContent = peer ?? 'Pick a contact';
  setAvatar($('peer-avatar'), peer ?? '');
  const online = peer && state.online.includes(peer);
  $('peer-status').textContent = peer ? (online ? 'online' : 'offline') : '';
  for (const id of ['audio-call', 'video-call']) $(id).disabled = !peer || !!state.call;
  $('message-input').disabled = !peer;
  $('send').disabled = !peer;
}

function addLine(peer, line) {
  if (!state.history.has(peer)) state.history.set(peer, []);
  state.history.get(peer).push(line);
  if (!state.peer) state.peer = peer;
  if (peer === state.peer) renderMessages();
}

function renderMessages() {
  const lines = state.history.get(state.peer) ?? [];
  $('messages').replaceChildren(...lines.map((line) => {
    const item = document.createElement('li');
    item.className = `${line.kind} ${line.mine ? 'mine' : 'theirs'}`;
    if (line.url) item.append(downloadLink(line.url, line.name, line.text));
    else item.textContent = line.text;
    return item;
  }));
  $('messages').lastElementChild?.scrollIntoView({ block: 'end' });
  renderHeader();
}

// ----- calls --------------------------------------------------------------------------------

const STATUS = { calling: 'Calling…', ringing: 'Ringing…', connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', ended: 'Call ended' };
const minutes = (ms) => `${Math.floor(ms / 60000)}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}`;

/** The history line a finished call leaves in the conversation. */
function historyLine(call, { reason, missed }) {
  const kind = call.kind === 'video' ? 'video call' : 'audio call';
  const Kind = kind[0].toUpperCase() + kind.slice(1);
  if (missed) return `Missed ${kind}`;
  if (call.duration > 0) return `${Kind} · ${minutes(call.duration)}`;
  switch (reason) {
    case 'rejected': return call.direction === 'outgoing' ? `${Kind} declined` : 'Call declined';
    case 'busy': return `${call.peer} is busy`;
    case 'timeout': return `${Kind} · no answer`;
    case 'unreachable': return `${call.peer} is offline`;
    case 'media-failed': return 'Call failed: microphone unavailable';
    case 'answered-elsewhere': return `${Kind} answered on another device`;
    case 'cancelled': return `${Kind} cancelled`;
    default: return `${Kind} ended (${reason})`;
  }
}

function notice(text) {
  $('call-notice').textContent = text;
  $('call-notice').hidden = !text;
}

/**
 * Listens to a call for as long as it lasts. Several calls can be under way (one shown, one held,
 * one waiting): each event changes the call view only when its call is the one shown.
 */
function follow(call) {
  const shown = () => call === state.call;
  call.on('state', (s) => {
    if (s !== 'ringing') closeNotification(call);
    if (shown()) { $('call-status').textContent = STATUS[s]; updateCallView(call); }
    renderBanners();
  });
  call.on('localStream', (stream) => { if (shown()) { $('local-video').srcObject = stream; updateCallView(call); } });
  call.on('remoteStream', (stream) => { if (shown()) playRemote(stream); });
  call.on('remoteMedia', () => { if (shown()) updateCallView(call); renderBanners(); });
  call.on('localMedia', () => { if (shown()) updateCallView(call); renderBanners(); });
  call.on('quality', ({ level }) => {
    if (!shown()) return;
    $('call-quality').hidden = false;
    $('call-quality').textContent = '▮'.repeat(level) + '▯'.repeat(4 - level);
    $('call-quality').setAttribute('aria-label', `Call quality ${level} of 4`);
  });
  call.on('videoUnavailable', () => { if (shown()) notice('Camera unavailable, continuing with audio only'); });
  // A newer peercall tells when the muted microphone hears someone talking (older ones never fire it).
  call.on('speakingWhileMuted', () => { if (shown()) mutedHint(true); });
  call.on('error', (error) => console.warn('call error', error.code, error.message));
  call.on('ended', (ended) => callEnded(call, ended));
  followData(call);
}

// ----- messages and files in the call: reactions, text and files over call.send / sendFile ------

const REACTIONS = ['👍', '❤️', '😂'];
const ENDED = { cancelled: 'cancelled', 'remote-cancelled': 'cancelled by the other side', failed: 'failed', 'call-ended': 'stopped: the call ended' };
/** Each call's strip: [{ mine, text, reaction, pending, failed } | { mine, file: { id, name, size, bytes, state, reason, url } }]. */
const chats = new WeakMap();
const chatOf = (call) => { if (!chats.has(call)) chats.set(call, []); return chats.get(call); };
const bytes = (n) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${Math.round(n / 1024)} KB` : `${(n / (1 << 20)).toFixed(1)} MB`);

function downloadLink(url, name, text) {
  const link = document.createElement('a');
  link.href = url;
  link.download = name || 'file';
  link.textContent = text;
  return link;
}

function addChat(call, entry) {
  chatOf(call).push(entry);
  renderChat(call);
  return entry;
}

/** What the other side sends: text, a reaction ({ reaction }), and files with their progress. */
function followData(call) {
  const transfer = (id) => chatOf(call).find((entry) => entry.file?.id === id)?.file;
  call.on('message', (data) => {
    if (typeof data === 'string') addChat(call, { mine: false, text: data });
    else if (REACTIONS.includes(data?.reaction)) addChat(call, { mine: false, text: data.reaction, reaction: true });
  });
  call.on('fileIncoming', ({ id, name, size }) => addChat(call, { mine: false, file: { id, name, size, bytes: 0, state: 'going' } }));
  call.on('progress', ({ id, bytes: done }) => {
    const file = transfer(id);
    if (file?.state !== 'going') return;
    file.bytes = done;
    // The bar moves in place: a new Cancel button under the pointer would lose its click.
    if (file.bar?.isConnected) file.bar.value = done;
    else renderChat(call);
  });
  call.on('file', ({ id, name, file: received }) => {
    const file = transfer(id);
    if (!file) return;
    Object.assign(file, { state: 'done', bytes: file.size, url: URL.createObjectURL(received) });
    renderChat(call);
    // The conversation keeps the link once the call is over.
    addLine(call.peer, { kind: 'chat', text: `📎 ${name || 'file'} (${bytes(file.size)})`, url: file.url, name, mine: false });
  });
  call.on('transferEnded', ({ id, reason }) => {
    const file = transfer(id);
    if (file) { Object.assign(file, { state: 'ended', reason }); renderChat(call); }
  });
}

function sendInCall(data, text) {
  const call = state.call;
  if (!call || !text) return;
  const entry = addChat(call, { mine: true, text, reaction: typeof data !== 'string', pending: true });
  call.send(data)
    .then(() => { entry.pending = false; }, (error) => { entry.failed = error.code; })
    .finally(() => renderChat(call));
}

function sendFileInCall(picked) {
  const call = state.call;
  if (!call || !picked) return;
  let transfer;
  try {
    transfer = call.sendFile(picked);
  } catch (error) {
    notice(`Could not send the file: ${error.code}`);
    return;
  }
  const file = { id: transfer.id, name: picked.name, size: picked.size, bytes: 0, state: 'going' };
  addChat(call, { mine: true, file });
  transfer.done.then(() => {
    Object.assign(file, { state: 'done', bytes: file.size });
    addLine(call.peer, { kind: 'chat', text: `📎 ${picked.name} (${bytes(picked.size)})`, mine: true });
  }, () => {}).finally(() => renderChat(call)); // a cancel or failure shows as the transfer's end
}

/** The strip of the shown call (its last 50 entries); a progress bar moves in place. */
function renderChat(call) {
  if (call !== state.call) return;
  const log = $('call-chat-log');
  const entries = call ? chatOf(call).slice(-50) : [];
  log.hidden = entries.length === 0;
  log.replaceChildren(...entries.map((entry) => {
    const item = document.createElement('li');
    item.className = [entry.mine ? 'mine' : 'theirs', entry.reaction && 'reaction', entry.pending && 'pending'].filter(Boolean).join(' ');
    const who = document.createElement('b');
    who.textContent = `${entry.mine ? 'You' : call.peer}: `;
    item.append(who);
    const file = entry.file;
    if (!file) {
      item.append(entry.failed ? `${entry.text} (not sent: ${entry.failed})` : entry.text);
      return item;
    }
    item.append(`📎 ${file.name || 'file'} · ${bytes(file.size)} `);
    if (file.state === 'going') {
      const bar = document.createElement('progress');
      bar.max = file.size || 1;
      bar.value = file.bytes;
      bar.setAttribute('aria-label', `${entry.mine ? 'Sending' : 'Receiving'} ${file.name}`);
      file.bar = bar;
      const cancel = document.createElement('button');
      cancel.textContent = 'Cancel';
      cancel.setAttribute('aria-label', `Cancel ${file.name}`);
      cancel.onclick = () => { try { call.cancelTransfer(file.id); } catch { /* it is over already */ } };
      item.append(bar, cancel);
    } else if (file.url) {
      item.append(downloadLink(file.url, file.name, 'Download'));
    } else {
      item.append(file.state === 'done' ? 'sent' : ENDED[file.reason] ?? 'stopped');
    }
    return item;
  }));
  log.scrollTop = log.scrollHeight;
}

// ----- recording: the button, "Recording" here and "alice is recording" there, the download ------

const extension = (mimeType) => (/mp4/.test(mimeType) ? 'mp4' : /ogg/.test(mimeType) ? 'ogg' : 'webm');

async function toggleRecording() {
  const call = state.call;
  if (!call) return;
  if (call.localMedia.recording) {
    // The Blob arrives through `done` below, however the recording stops.
    call.stopRecording().catch((error) => notice(`Could not stop recording: ${error.code}`));
    return;
  }
  try {
    const { mimeType, done } = await call.startRecording();
    done.then((blob) => keepRecording(call, blob, mimeType), (error) => notice(`Recording failed: ${error.code}`));
  } catch (error) {
    notice(`Could not record: ${error.code}`);
  }
  if (call === state.call) updateCallView(call);
}

/** Offers a finished recording as a download in the call view (its object URL lives as long as the call). */
function keepRecording(call, blob, mimeType) {
  if (call.state === 'ended') return; // stopped by the call's end: its URL would outlive the call
  forgetRecording(call);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[T:]/g, '-');
  state.recordings.set(call, { url: URL.createObjectURL(blob), name: `call-with-${call.peer}-${stamp}.${extension(blob.type || mimeType)}`, size: blob.size });
  if (call === state.call) updateCallView(call);
}

function forgetRecording(call) {
  const saved = state.recordings.get(call);
  if (saved) URL.revokeObjectURL(saved.url);
  state.recordings.delete(call);
}

// ----- notifications: an incoming call while the tab is hidden ----------------------------------

const canNotify = () => 'Notification' in window;

/** The "Enable notifications" button: only while the browser has not been asked yet. */
function renderNotifyButton() {
  $('notify').hidden = !canNotify() || Notification.permission !== 'default';
}

function notifyIncoming(call) {
  if (document.visibilityState !== 'hidden' || !canNotify() || Notification.permission !== 'granted') return;
  let notification;
  try {
    notification = new Notification(`${call.peer} is calling`, { body: `Incoming ${call.kind} call`, tag: `call-${call.id}`, requireInteraction: true });
  } catch (error) {
    return; // some browsers (Chrome on Android) only show notifications from a service worker
  }
  notification.onclick = () => { window.focus(); notification.close(); };
  state.notifications.set(call, notification);
}

/** The call stopped ringing (answered, declined, cancelled, ended): its notification goes. */
function closeNotification(call) {
  state.notifications.get(call)?.close();
  state.notifications.delete(call);
}

// ----- the speaker picker and the muted hint ---------------------------------------------------

/** Fills the speaker picker from the audio outputs; hidden when there are none or the browser cannot pick. */
async function renderSpeakers() {
  const picker = $('speaker');
  if (typeof peercall.setAudioOutput !== 'function' || state.speakerUnsupported) {
    picker.hidden = true;
    return;
  }
  const outputs = (await state.client.listDevices().catch(() => [])).filter((d) => d.kind === 'audiooutput');
  picker.replaceChildren(...outputs.map((device, i) => new Option(device.label || `Speaker ${i + 1}`, device.deviceId)));
  if (outputs.some((d) => d.deviceId === state.speaker)) picker.value = state.speaker;
  picker.hidden = outputs.length === 0;
}

async function pickSpeaker(deviceId) {
  try {
    await peercall.setAudioOutput($('remote-video'), deviceId);
    state.speaker = deviceId;
  } catch (error) {
    if (error.code === 'unsupported') {
      state.speakerUnsupported = true;
      $('speaker').hidden = true;
    } else {
      notice(`Could not switch the speaker: ${error.code}`);
    }
  }
}

let mutedHintTimer = 0;
/** "You are muted" for a few seconds (the muted microphone heard someone talk). */
function mutedHint(on) {
  clearTimeout(mutedHintTimer);
  $('muted-hint').hidden = !on;
  if (on) mutedHintTimer = setTimeout(() => { $('muted-hint').hidden = true; }, 4000);
}

function playRemote(stream) {
  const video = $('remote-video');
  video.srcObject = stream;
  // NotAllowedError: autoplay refused. (An AbortError only says a newer srcObject took over.)
  if (stream) video.play().catch((error) => { if (error.name === 'NotAllowedError') notice('Tap anywhere to hear the call'); });
}

/** Makes `call` the one the call view shows (and its peer's conversation the one behind it). */
function showCall(call) {
  state.call = call;
  $('device-check').hidden = true; // the first call is here: the check is over
  if (state.peer !== call.peer) openConversation(call.peer);
  $('call').hidden = call.state === 'ringing' && call.direction === 'incoming';
  $('call-peer').textContent = call.peer;
  setAvatar($('call-avatar'), call.peer);
  $('call-status').textContent = STATUS[call.state];
  $('call-timer').hidden = true;
  $('call-quality').hidden = true;
  notice('');
  mutedHint(false);
  renderSpeakers();
  $('local-video').srcObject = call.localStream ?? null;
  playRemote(call.remoteStream ?? null);
  renderChat(call);
  updateCallView(call);
  renderHeader();
  renderBanners();
}

function updateCallView(call) {
  const video = call.kind === 'video';
  const remote = call.remoteMedia;
  const local = call.localMedia;
  const held = local.onHold || remote.onHold; // no media either way
  $('call').classList.toggle('audio-only', !video || remote.videoMuted || held);
  $('local-video').hidden = !video || local.videoMuted || held;
  $('mute').setAttribute('aria-pressed', String(local.audioMuted));
  $('mute').setAttribute('aria-label', local.audioMuted ? 'Unmute microphone' : 'Mute microphone');
  $('camera').setAttribute('aria-pressed', String(video && local.videoMuted));
  $('camera').setAttribute('aria-label', local.videoMuted ? 'Turn camera on' : 'Turn camera off');
  $('camera').disabled = !video;
  $('switch-camera').disabled = !video || held; // refused with `on-hold` while held
  $('share').disabled = held && !local.screenSharing;
  $('share').setAttribute('aria-pressed', String(local.screenSharing));
  $('share').setAttribute('aria-label', local.screenSharing ? 'Stop sharing screen' : 'Share screen');
  const live = call.state === 'connected' || call.state === 'reconnecting';
  $('record').disabled = !live && !local.recording; // startRecording refuses a call not answered yet
  $('record').setAttribute('aria-pressed', String(local.recording));
  $('record').setAttribute('aria-label', local.recording ? 'Stop recording' : 'Start recording');
  // The consent indicator: both sides see who records.
  const recording = [local.recording && 'Recording', remote.recording && `${call.peer} is recording`].filter(Boolean);
  $('recording-flag').hidden = recording.length === 0;
  $('recording-flag').textContent = recording.join(' · ');
  const saved = state.recordings.get(call);
  $('recording-saved').hidden = !saved;
  if (saved) {
    $('recording-link').href = saved.url;
    $('recording-link').download = saved.name;
    $('recording-link').textContent = `Download the recording (${bytes(saved.size)})`;
  }
  if (!local.audioMuted) mutedHint(false);
  const flags = [remote.audioMuted && `${call.peer} is muted`, video && remote.videoMuted && 'camera off', remote.screenSharing && 'sharing screen'].filter(Boolean);
  $('peer-flags').hidden = flags.length === 0;
  $('peer-flags').textContent = flags.join(' · ');
  if (call.state !== 'ringing' || call.direction === 'outgoing') $('call').hidden = false;
}

/**
 * The banners of the call view: "You are on hold" (the peer held the shown call), "alice is on
 * hold" with Resume (the shown call, held here) or Switch (a call held in the background), and a
 * waiting call with End & accept, Hold & accept and Decline.
 */
function renderBanners() {
  const call = state.call;
  const heldHere = !!call?.localMedia.onHold;
  const held = heldHere ? call : state.held;
  $('held').hidden = !held;
  if (held) {
    $('held-title').textContent = `${held.peer} is on hold`;
    $('resume').hidden = !heldHere;
    $('switch-call').hidden = heldHere;
    $('switch-call').disabled = call?.state !== 'connected';
  }
  $('remote-hold').hidden = !call?.remoteMedia.onHold;
  const waiting = state.waiting;
  const show = !!waiting && !!call && !state.ringing;
  const appearing = show && $('waiting').hidden;
  $('waiting').hidden = !show;
  if (!show) return;
  $('waiting-title').textContent = `${waiting.peer} is calling (${waiting.kind})`;
  setAvatar($('waiting-avatar'), waiting.peer);
  // Only one call is held at a time; a call can be held once it is answered and connected.
  $('hold-accept').disabled = !!state.held || !(heldHere || call.state === 'connected');
  if (appearing) ($('hold-accept').disabled ? $('end-accept') : $('hold-accept')).focus();
}

function hideCall() {
  $('call').hidden = true;
  $('remote-video').srcObject = null;
  $('local-video').srcObject = null;
  $('call-timer').hidden = true;
  $('call-quality').hidden = true;
  $('recording-flag').hidden = true;
  $('recording-saved').hidden = true;
  $('recording-link').removeAttribute('href');
  notice('');
  mutedHint(false);
}

setInterval(() => {
  if (state.call?.state === 'connected' || state.call?.state === 'reconnecting') {
    $('call-timer').hidden = false;
    $('call-timer').textContent = minutes(state.call.duration);
  }
}, 500);

/** A call ended: its history line, and the call view moves on to what is left (held, waiting). */
function callEnded(call, ended) {
  state.endings.push({ peer: call.peer, reason: ended.reason, missed: !!ended.missed }); // for the tests
  closeNotification(call);
  forgetRecording(call);
  if (call === state.ringing) {
    state.ringing = null;
    $('incoming').hidden = true;
  }
  if (call === state.waiting) state.waiting = null;
  if (call === state.held) state.held = null;
  addLine(call.peer, { kind: 'call', text: historyLine(call, ended), mine: call.direction === 'outgoing' });
  if (call === state.call) {
    state.call = null;
    const held = state.held;
    const waiting = state.waiting;
    state.held = null;
    if (held) {
      showCall(held); // still on hold: its banner offers Resume
    } else if (waiting) {
      // Nothing else is under way: the waiting call rings as any incoming call does.
      state.waiting = null;
      hideCall();
      present(waiting);
    } else {
      hideCall();
    }
  }
  renderBanners();
  renderHeader();
}

function startCall(video) {
  if (!state.peer || state.call) return;
  try {
    const call = state.client.call(state.peer, { video });
    follow(call);
    showCall(call);
  } catch (error) {
    addLine(state.peer, { kind: 'call', text: `Could not call: ${error.message}`, mine: true });
  }
}

function onIncoming(call) {
  if (state.call && state.waiting) {
    // One waiting call at a time: another one hears busy.
    call.reject();
    addLine(call.peer, { kind: 'call', text: `Missed ${call.kind} call (you were busy)`, mine: false });
    return;
  }
  follow(call);
  notifyIncoming(call);
  if (state.call) {
    // call.waiting: it rings while the shown call goes on (a soft beep and the banner).
    state.waiting = call;
    renderBanners();
    return;
  }
  present(call);
}

/** The incoming-call dialog for `call`, with the ring. */
function present(call) {
  state.ringing = call;
  showCall(call);
  setAvatar($('incoming-avatar'), call.peer);
  $('incoming-title').textContent = `${call.peer} is calling (${call.kind})`;
  $('accept-video').hidden = call.kind !== 'video';
  // With preconnect, the dialog says when the call is connected ahead (`preconnected`).
  const ready = () => { $('incoming-ready').hidden = !call.preconnected; };
  ready();
  call.on('preconnected', ready);
  $('incoming').hidden = false;
  const close = () => {
    state.ringing = null;
    $('incoming').hidden = true;
  };
  const answer = (video) => {
    close();
    $('call').hidden = false;
    renderBanners();
    call.accept({ video }).catch((error) => notice(`Could not answer: ${error.code}`));
  };
  $('accept-audio').onclick = () => answer(false);
  $('accept-video').onclick = () => answer(true);
  $('decline').onclick = () => { close(); call.reject(); };
  $('accept-video').hidden ? $('accept-audio').focus() : $('accept-video').focus();
}

/** Answers the waiting call: the shown call is hung up (`hold: false`) or held, and the waiting one shown. */
function takeWaiting({ hold }) {
  const waiting = state.waiting;
  const current = state.call;
  if (!waiting || !current || (hold && state.held)) return;
  try {
    if (hold && !current.localMedia.onHold) current.hold();
  } catch (error) {
    notice(`Could not hold the call: ${error.code}`);
    return;
  }
  state.waiting = null;
  state.call = null; // so that its end (hung up below) leaves the view to the waiting call
  if (hold) state.held = current;
  else current.hangup();
  showCall(waiting);
  waiting.accept().catch((error) => notice(`Could not answer: ${error.code}`));
}

/** Holds the shown call and resumes the one held in the background: they trade places. */
function switchCalls() {
  const held = state.held;
  const current = state.call;
  if (!held || !current) return;
  try {
    current.hold();
    held.resume();
  } catch (error) {
    try { if (current.localMedia.onHold) current.resume(); } catch { /* it stays held: its banner offers Resume */ }
    notice(`Could not switch: ${error.code}`);
    return;
  }
  state.held = current;
  showCall(held);
}

// ----- controls -----------------------------------------------------------------------------

$('audio-call').onclick = () => startCall(false);
$('video-call').onclick = () => startCall(true);
$('hangup').onclick = () => state.call?.hangup();
$('end-accept').onclick = () => takeWaiting({ hold: false });
$('hold-accept').onclick = () => takeWaiting({ hold: true });
$('decline-waiting').onclick = () => state.waiting?.reject();
$('resume').onclick = () => {
  try { state.call?.resume(); } catch (error) { notice(`Could not resume: ${error.code}`); }
};
$('switch-call').onclick = switchCalls;
$('dnd').onclick = () => {
  const on = $('dnd').getAttribute('aria-pressed') !== 'true';
  try {
    state.client.setAvailability(on ? 'do-not-disturb' : 'available');
  } catch (error) {
    console.warn('availability not changed:', error.code);
    return;
  }
  $('dnd').setAttribute('aria-pressed', String(on));
};
$('mute').onclick = () => state.call?.setMuted(!state.call.localMedia.audioMuted);
$('record').onclick = toggleRecording;
$('speaker').onchange = () => pickSpeaker($('speaker').value);
// Permission is asked only here, from the user's click (browsers ignore or penalize a request on load).
$('notify').onclick = () => Notification.requestPermission().then(renderNotifyButton, renderNotifyButton);
$('camera').onclick = () => state.call?.setVideoEnabled(state.call.localMedia.videoMuted);
$('share').onclick = async () => {
  const call = state.call;
  if (!call) return;
  if (call.localMedia.screenSharing) call.stopScreenShare();
  else await call.startScreenShare().catch((error) => notice(`Screen share failed: ${error.code}`));
};
$('switch-camera').onclick = async () => {
  const cameras = (await state.client.listDevices()).filter((d) => d.kind === 'videoinput');
  const current = state.call?.localStream?.getVideoTracks()[0]?.getSettings().deviceId;
  const next = cameras[(cameras.findIndex((c) => c.deviceId === current) + 1) % cameras.length];
  if (next && state.call) await state.call.switchDevice('camera', next.deviceId).catch((e) => notice(`Switch failed: ${e.code}`));
};
for (const button of document.querySelectorAll('#call-chat .reaction')) {
  button.onclick = () => sendInCall({ reaction: button.textContent }, button.textContent);
}
$('call-chat-form').onsubmit = (event) => {
  event.preventDefault();
  sendInCall($('call-chat-input').value.trim(), $('call-chat-input').value.trim());
  $('call-chat-input').value = '';
};
$('call-file-button').onclick = () => $('call-file').click();
$('call-file').onchange = () => {
  sendFileInCall($('call-file').files[0]);
  $('call-file').value = '';
};
$('composer').onsubmit = (event) => {
  event.preventDefault();
  sendChat($('message-input').value.trim());
  $('message-input').value = '';
};
document.addEventListener('click', () => $('remote-video').play().catch(() => {}), { capture: true });
for (const type of ['pointerdown', 'keydown']) addEventListener(type, () => { $('sound-hint').hidden = true; }, { capture: true });

// ----- the device check: microphone, camera and connection before the first call (preflight) -----

const DEVICE_TROUBLE = {
  'permission-denied': 'blocked: allow it in the browser’s site settings',
  'device-not-found': 'not found: is one plugged in?',
  'device-busy': 'in use by another app: close it and check again',
};
const NETWORK_TROUBLE = {
  'turn-auth-failed': 'the relay (TURN) server refused its password',
  'turn-unreachable': 'the relay (TURN) server does not answer',
  'turn-refused': 'the relay (TURN) server refused',
  'relay-failed': 'no connection through the relay (TURN) server',
  'no-path': 'no connection could be made: calls may not connect from this network',
};

/** The preflight() report in words, one line per part checked. */
function checkLines(report) {
  const lines = [];
  const { microphone: mic, camera, network } = report;
  if (mic) {
    let text = `Microphone: ${mic.ok ? 'works' : DEVICE_TROUBLE[mic.code] ?? `failed (${mic.code})`}`;
    if (mic.ok && mic.label) text += ` (${mic.label})`;
    if (mic.ok && typeof mic.level === 'number') text += mic.level > 0.01 ? ', and it hears you' : ', but it hears nothing: is it muted?';
    lines.push({ ok: mic.ok, text });
  }
  if (camera) {
    let text = `Camera: ${camera.ok ? 'works' : DEVICE_TROUBLE[camera.code] ?? `failed (${camera.code})`}`;
    if (camera.ok) text += ` (${[camera.label, camera.width && `${camera.width}×${camera.height}`].filter(Boolean).join(', ')})`;
    lines.push({ ok: camera.ok, text });
  }
  if (network) {
    let text = `Connection: ${network.ok ? 'works' : NETWORK_TROUBLE[network.code] ?? `failed (${network.code})`}`;
    if (network.connected && typeof network.rttMs === 'number') text += ` (${network.path ?? 'direct'} path, ${Math.round(network.rttMs)} ms)`;
    if (typeof network.relayRttMs === 'number') text += `; through the relay ${Math.round(network.relayRttMs)} ms`;
    lines.push({ ok: network.ok, text });
  }
  return lines;
}

async function runDeviceCheck() {
  $('run-check').disabled = true;
  $('check-summary').textContent = 'Checking your microphone, camera and connection…';
  $('check-results').replaceChildren();
  try {
    const report = await peercall.preflight({ iceServers: [], timeoutMs: 5000 });
    $('check-results').replaceChildren(...checkLines(report).map(({ ok, text }) => {
      const item = document.createElement('li');
      item.className = ok ? 'ok' : 'bad';
      item.textContent = `${ok ? '✓' : '✗'} ${text}`;
      return item;
    }));
    $('check-summary').textContent = report.ok ? 'All set for a call.' : 'Something needs a look: calls may not work as expected.';
  } catch (error) {
    $('check-summary').textContent = `The check could not run: ${error.code ?? error.message}`;
  }
  $('run-check').disabled = false;
  for (const [id, text] of [['run-check', 'Check again'], ['skip-check', 'Continue']]) {
    $(id).textContent = text;
    $(id).setAttribute('aria-label', text);
  }
}

$('run-check').onclick = runDeviceCheck;
$('skip-check').onclick = () => { $('device-check').hidden = true; };

// ----- start --------------------------------------------------------------------------------

async function start(name) {
  state.me = name; // presence may arrive while logging in
  await init();
  const session = await login(name);
  state.me = session.name;
  state.presence = session.presence;
  // ?ringTimeoutMs= shortens the ring for a quick try (and for the tests).
  const ringTimeoutMs = Number(params.get('ringTimeoutMs')) || undefined;
  // callWaiting: a call during a call rings as a waiting call (the banner) instead of being busy;
  // sounds: the ringtone, ringback, waiting, busy and ended tones, generated by peercall.
  // preconnect: instant answer, the call connects while it rings (the caller then learns the
  // callee's network addresses before the answer; ?preconnect=0 turns it off).
  const preconnect = params.get('preconnect') !== '0';
  state.client = new CallClient({ userId: state.me, transport: session.transport, iceServers: [], ringTimeoutMs, callWaiting: true, sounds: true, preconnect });
  state.client.on('incoming', onIncoming);
  state.client.on('sound', ({ name, playing }) => {
    state.sounds.push(`${name} ${playing ? 'on' : 'off'}`);
    if (name !== 'ringtone' && name !== 'waiting') return;
    if (playing) state.ringer = name;
    else if (state.ringer === name) state.ringer = null;
  });
  state.client.on('error', (error) => {
    // Autoplay: the browser starts the tones at the user's next click or key; say so meanwhile.
    if (error.code === 'sound-blocked') $('sound-hint').hidden = false;
    else console.warn('client error', error.code, error.message);
  });
  state.client.on('devicechange', () => { if (state.call) renderSpeakers(); });
  state.client.on('busy', ({ from, kind }) => addLine(from, { kind: 'call', text: `Missed ${kind} call (you were busy)`, mine: false }));
  state.client.on('missed', ({ from, kind, reason }) => addLine(from, {
    kind: 'call', text: `Missed ${kind} call${reason === 'do-not-disturb' ? ' (do not disturb)' : ''}`, mine: false,
  }));
  $('me-name').textContent = state.me;
  setAvatar($('me-avatar'), state.me);
  document.title = `${state.me} · peercall demo`;
  $('login').hidden = true;
  $('app').hidden = false;
  renderNotifyButton();
  // The device check, before the first call (with a peercall that has preflight()).
  if (typeof peercall.preflight === 'function') {
    $('device-check').hidden = false;
    $('run-check').focus();
  }
  if (!viaBroadcast) setOnline(state.online.length ? [state.me, ...state.online] : [state.me]);
  window.demo = state; // for the end-to-end tests
}

const preset = params.get('user');
if (preset) {
  start(preset).catch((error) => { $('login').hidden = false; $('login-error').textContent = error.message; });
} else {
  $('login').hidden = false;
  $('login-form').onsubmit = (event) => {
    event.preventDefault();
    start($('login-name').value).catch((error) => { $('login-error').textContent = error.message; });
  };
}
