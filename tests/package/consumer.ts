// A strict TypeScript consumer of the package: every option, event and payload is typed.
import init, {
  CallClient, Call, broadcastChannelTransport, webSocketTransport, socketIoTransport,
  type CallClientOptions, type CallState, type EndReason, type MediaState, type Quality,
  type PeercallError, type Transport, type ReceivedMessage, type TransferProgress, type TransferEndReason,
  type FileTransfer, type DataErrorCode, preflight, memoryUsage, type PreflightReport, type MemoryUsage,
} from 'peercall';

// preflight() and memoryUsage() are index.js's own (the check's module loads on its first call).
export async function check(): Promise<boolean> {
  const report: PreflightReport = await preflight({ iceServers: [], video: false, timeoutMs: 2000 });
  const usage: MemoryUsage = memoryUsage();
  return report.ok && usage.liveBytes >= 0;
}

export async function main(socket: WebSocket): Promise<void> {
  await init();
  const custom: Transport = {
    send: (to: string, message: object) => Promise.resolve(void [to, message]),
    subscribe: (onMessage) => { onMessage('bob', {}); return () => {}; },
  };
  const options: CallClientOptions = { userId: 'alice', transport: custom, iceServers: [], ringTimeoutMs: 30000 };
  const client = new CallClient(options);
  const transports: Transport[] = [broadcastChannelTransport('alice'), webSocketTransport(socket),
    socketIoTransport({ emit: () => {}, on: () => {}, off: () => {} }, { event: 'call' })];
  client.on('incoming', (call: Call) => {
    const kind: 'audio' | 'video' = call.kind;
    void call.accept({ video: kind === 'video' });
  });
  // The options of call() and accept() may be left out (an audio call; the call's own kind).
  const audioCall: Call = client.call('carol');
  void audioCall.accept();
  client.on('busy', ({ from, kind }) => console.log(from.toUpperCase(), kind));
  client.on('error', (error: PeercallError) => console.log(error.code));
  const call = client.call('bob', { video: true, metadata: { room: 1 } });
  call.on('state', (state: CallState) => console.log(state));
  call.on('ended', ({ reason, missed }: { reason: EndReason; missed: boolean }) => console.log(reason, missed));
  call.on('remoteMedia', (media: MediaState) => console.log(media.audioMuted, media.videoMuted, media.screenSharing));
  call.on('quality', (q: Quality) => console.log(q.level, q.rttMs ?? 0, q.bitrateKbps));
  call.on('remoteStream', (stream: MediaStream) => console.log(stream.id));
  call.setMuted(true);
  call.setVideoEnabled(false);
  await call.startScreenShare();
  call.stopScreenShare();
  await call.upgradeToVideo();
  await call.switchDevice('camera', 'id');
  const local: MediaStream | null = call.localStream;
  const duration: number = call.duration;
  const reason: EndReason | null = call.endReason;
  console.log(local, duration, reason, transports.length, call.remoteMedia.audioMuted);
  // In-call messages and files: the data events, send, sendFile (its options may be left out).
  call.on('message', (data: ReceivedMessage) => console.log(typeof data === 'string' ? data.toUpperCase() : data));
  call.on('fileIncoming', ({ id, name, type, size }) => console.log(id + size, name.length, type));
  call.on('progress', ({ id, direction, bytes, size }: TransferProgress) => console.log(id, direction === 'outgoing', bytes / size));
  call.on('file', ({ file, name }) => console.log(URL.createObjectURL(file), name, file.name, file.size));
  call.on('transferEnded', ({ reason }: { reason: TransferEndReason }) => console.log(reason));
  await call.send('hi');
  await call.send({ reaction: '👍', at: 1 });
  await call.send(new Uint8Array([1, 2]));
  await call.send(new Blob(['bytes']));
  const transfer: FileTransfer = call.sendFile(new File(['x'], 'a.txt'));
  const named: FileTransfer = call.sendFile(new Blob(['x']), { name: 'b.bin', type: 'application/octet-stream' });
  await transfer.done.catch((error: PeercallError) => console.log((error.code as DataErrorCode) === 'transfer-cancelled'));
  call.cancelTransfer(named.id);
  const open: boolean = call.dataOpen;
  console.log(open);
  call.hangup();
  client.destroy();
}

// Wrong usages: each must be a type error (an unused `@ts-expect-error` is itself one), so
// this file fails to compile if the declarations stop checking what they claim to. The package
// test also compiles this file against declarations loosened to `any` for events and options,
// and expects every directive between the two markers to be reported unused.
export function wrongUsages(client: CallClient, call: Call, transport: Transport): void {
  // --- wrong usages of events and options ---
  // @ts-expect-error: 'ringing' is no call event (the state event says it)
  call.on('ringing', () => {});
  // @ts-expect-error: 'call' is no client event ('incoming' is)
  client.on('call', () => {});
  // @ts-expect-error: a state is a string, not a number
  call.on('state', (state: number) => console.log(state));
  // @ts-expect-error: `ended` gives { reason, missed }, not a string
  call.on('ended', (reason: string) => console.log(reason));
  // @ts-expect-error: there is no `reasons`
  call.on('ended', ({ reasons }) => console.log(reasons));
  // @ts-expect-error: the quality level is a number
  call.on('quality', (q) => console.log(q.level.toUpperCase()));
  // @ts-expect-error: the remote stream is a MediaStream
  call.on('remoteStream', (stream: string) => console.log(stream));
  // @ts-expect-error: remoteMedia is a MediaState, with no `muted`
  call.on('remoteMedia', (media) => console.log(media.muted));
  // @ts-expect-error: videoUnavailable gives an error with a string code
  call.on('videoUnavailable', (error) => console.log(error.code * 2));
  // @ts-expect-error: an incoming call is a Call, not a user id
  client.on('incoming', (from: string) => console.log(from));
  // @ts-expect-error: a busy notice has `from` and `kind`, no `peer`
  client.on('busy', ({ peer }) => console.log(peer));
  // @ts-expect-error: off() takes the same listener types as on()
  call.off('state', (state: boolean) => console.log(state));
  // @ts-expect-error: ringTimeoutMs is a number of milliseconds
  void new CallClient({ userId: 'alice', transport, ringTimeoutMs: '30s' });
  // @ts-expect-error: iceServers is an array of RTCIceServer
  void new CallClient({ userId: 'alice', transport, iceServers: 'stun:stun.example.org' });
  // @ts-expect-error: the transport is required
  void new CallClient({ userId: 'alice' });
  // @ts-expect-error: the user id is required
  void new CallClient({ transport });
  // @ts-expect-error: video is a boolean
  void client.call('bob', { video: 'yes' });
  // @ts-expect-error: accept's video is a boolean
  void call.accept({ video: 1 });
  // @ts-expect-error: 'data' is no call event ('message' is)
  call.on('data', () => {});
  // @ts-expect-error: progress gives { id, direction, bytes, size }, no `percent`
  call.on('progress', ({ percent }) => console.log(percent));
  // @ts-expect-error: a received file is a File, not a string
  call.on('file', ({ file }) => console.log(file.toUpperCase()));
  // @ts-expect-error: a transfer's end reason is a string
  call.on('transferEnded', ({ reason }) => console.log(reason * 2));
  // @ts-expect-error: an offered file's size is a number
  call.on('fileIncoming', ({ size }: { size: string }) => console.log(size));
  // @ts-expect-error: a message is text, JSON or bytes, not a function
  call.on('message', (data) => data());
  // --- end ---
  // @ts-expect-error: sendFile takes a File or a Blob, not a path
  call.sendFile('/tmp/a.txt');
  // @ts-expect-error: a symbol is no message (neither text, bytes nor JSON)
  void call.send(Symbol('s'));
  // @ts-expect-error: a file's options name it with a string
  call.sendFile(new Blob([]), { name: 7 });
  // @ts-expect-error: a transfer id is a number
  call.cancelTransfer('1');
  // @ts-expect-error: dataOpen is read-only
  call.dataOpen = true;
  // @ts-expect-error: a device kind is 'microphone' or 'camera'
  void call.switchDevice('speaker', 'id');
  // @ts-expect-error: setMuted takes a boolean
  call.setMuted('yes');
  // @ts-expect-error: a state is one of the CallState names
  const state: 'busy' = call.state;
  // @ts-expect-error: not an end reason
  const reason: EndReason = 'gone';
  // @ts-expect-error: a transport needs subscribe too
  const halfTransport: Transport = { send: () => {} };
  // @ts-expect-error: the local stream may be null
  const tracks = call.localStream.getTracks();
  console.log(state, reason, halfTransport, tracks);
}
