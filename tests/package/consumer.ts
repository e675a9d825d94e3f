// A strict TypeScript consumer of the package: every option, event and payload is typed.
import init, {
  CallClient, Call, broadcastChannelTransport, webSocketTransport, socketIoTransport,
  type CallClientOptions, type CallState, type EndReason, type MediaState, type Quality,
  type PeercallError, type Transport,
} from 'peercall';

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
  call.hangup();
  client.destroy();
}
