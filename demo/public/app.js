// The demo chat: plain JS over peercall, as an existing chat app would add calls.
//   ?user=alice              log in as alice (otherwise a name is asked for)
//   &transport=broadcast     call between tabs over BroadcastChannel (the server only serves files)
import init, { CallClient, socketIoTransport, broadcastChannelTransport } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);

// While the call view or the incoming-call dialog is up, the chat behind it is inert, so keyboard
// and screen-reader users stay among the call's controls; the call view opens with focus on End.
const overlays = [$('call'), $('incoming')];
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
  ringer: null, // the ring tone while an incoming call rings ({ waiting: true }: the soft beep of a waiting call)
  endings: [], // { peer, reason, missed } of each call that ended, oldest first
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

/**
 * The ring of an incoming call: a generated two-tone burst (no audio file needed), the first at
 * once and then every 2 s, until ring(false). Browsers may create an AudioContext suspended (no
 * user gesture yet): it is resumed at once, and again on the first click or key press.
 * ring(true, { waiting: true }) is the call-waiting tone instead: two short soft beeps every 4 s,
 * heard over the call under way.
 */
let ringer = null;
function ring(on, { waiting = false } = {}) {
  if (!on || (ringer && ringer.waiting !== waiting)) {
    const stopping = ringer;
    ringer = null;
    state.ringer = null;
    stopping?.stop();
    if (!on) return;
  }
  if (ringer) return;
  let context;
  try {
    context = new AudioContext();
  } catch (error) {
    console.warn('no ring tone:', error.message);
    return;
  }
  const gain = context.createGain();
  gain.gain.value = 0;
  gain.connect(context.destination);
  const meter = context.createAnalyser(); // lets the end-to-end tests hear the ring
  gain.connect(meter);
  const oscillator = context.createOscillator();
  oscillator.frequency.value = 440;
  oscillator.connect(gain);
  oscillator.start();
  // One burst: 440 Hz then 480 Hz for a second in all, scheduled from whatever "now" is when the
  // context runs (a suspended context's clock stands still, so nothing is scheduled in the past).
  let next = 0;
  const burst = () => {
    if (context.state !== 'running') return;
    const t = Math.max(context.currentTime, next);
    if (t > context.currentTime + 0.5) return; // the next burst is already scheduled
    if (waiting) {
      oscillator.frequency.setValueAtTime(440, t);
      for (const at of [t, t + 0.35]) {
        gain.gain.setValueAtTime(0.05, at);
        gain.gain.setValueAtTime(0, at + 0.15);
      }
      next = t + 4;
      return;
    }
    gain.gain.setValueAtTime(0.15, t);
    oscillator.frequency.setValueAtTime(440, t);
    oscillator.frequency.setValueAtTime(480, t + 0.4);
    gain.gain.setValueAtTime(0, t + 1);
    next = t + 2;
  };
  const resume = () => { context.resume().then(burst, () => {}); };
  context.addEventListener('statechange', burst);
  const timer = setInterval(burst, 250);
  for (const type of ['pointerdown', 'keydown']) addEventListener(type, resume, { capture: true });
  resume();
  burst();
  ringer = {
    context,
    waiting,
    /** The ring's current loudness (RMS, 0 when silent). */
    level() {
      const samples = new Float32Array(meter.fftSize);
      meter.getFloatTimeDomainData(samples);
      return Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
    },
    stop() {
      // Every step on its own: one failing (a context already closed) must not keep it ringing.
      clearInterval(timer);
      for (const type of ['pointerdown', 'keydown']) removeEventListener(type, resume, { capture: true });
      context.removeEventListener('statechange', burst);
      try { gain.gain.cancelScheduledValues(0); gain.gain.value = 0; } catch { /* closed */ }
      try { oscillator.stop(); } catch { /* already stopped */ }
      context.close().catch(() => {});
    },
  };
  state.ringer = ringer;
}

function notice(text) {
  $('call-notice').textContent = text;
  $('call-notice').hidden = !text;
}

/** The ring that fits: the full ring for the incoming-call dialog, the soft beep for a waiting call. */
function updateRing() {
  if (state.ringing) ring(true);
  else if (state.waiting && state.call) ring(true, { waiting: true });
  else ring(false);
}

/**
 * Listens to a call for as long as it lasts. Several calls can be under way (one shown, one held,
 * one waiting): each event changes the call view only when its call is the one shown.
 */
function follow(call) {
  const shown = () => call === state.call;
  call.on('state', (s) => {
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

function playRemote(stream) {
  const video = $('remote-video');
  video.srcObject = stream;
  // NotAllowedError: autoplay refused. (An AbortError only says a newer srcObject took over.)
  if (stream) video.play().catch((error) => { if (error.name === 'NotAllowedError') notice('Tap anywhere to hear the call'); });
}

/** Makes `call` the one the call view shows (and its peer's conversation the one behind it). */
function showCall(call) {
  state.call = call;
  if (state.peer !== call.peer) openConversation(call.peer);
  $('call').hidden = call.state === 'ringing' && call.direction === 'incoming';
  $('call-peer').textContent = call.peer;
  setAvatar($('call-avatar'), call.peer);
  $('call-status').textContent = STATUS[call.state];
  $('call-timer').hidden = true;
  $('call-quality').hidden = true;
  notice('');
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
  notice('');
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
  updateRing();
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
  if (state.call) {
    // call.waiting: it rings while the shown call goes on (a soft beep and the banner).
    state.waiting = call;
    renderBanners();
    updateRing();
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
  $('incoming').hidden = false;
  updateRing();
  const close = () => {
    state.ringing = null;
    $('incoming').hidden = true;
    updateRing();
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
  updateRing();
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

// ----- start --------------------------------------------------------------------------------

async function start(name) {
  state.me = name; // presence may arrive while logging in
  await init();
  const session = await login(name);
  state.me = session.name;
  state.presence = session.presence;
  // ?ringTimeoutMs= shortens the ring for a quick try (and for the tests).
  const ringTimeoutMs = Number(params.get('ringTimeoutMs')) || undefined;
  // callWaiting: a call during a call rings as a waiting call (the banner) instead of being busy.
  state.client = new CallClient({ userId: state.me, transport: session.transport, iceServers: [], ringTimeoutMs, callWaiting: true });
  state.client.on('incoming', onIncoming);
  state.client.on('busy', ({ from, kind }) => addLine(from, { kind: 'call', text: `Missed ${kind} call (you were busy)`, mine: false }));
  state.client.on('missed', ({ from, kind, reason }) => addLine(from, {
    kind: 'call', text: `Missed ${kind} call${reason === 'do-not-disturb' ? ' (do not disturb)' : ''}`, mine: false,
  }));
  $('me-name').textContent = state.me;
  setAvatar($('me-avatar'), state.me);
  document.title = `${state.me} · peercall demo`;
  $('login').hidden = true;
  $('app').hidden = false;
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
