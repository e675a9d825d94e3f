// A strict TypeScript consumer of peercall/react.
import { createElement, type ReactElement } from 'react';
import { broadcastChannelTransport, type CallClientOptions } from 'peercall';
import { useCallClient, useCall, MediaStreamVideo, type CallView } from 'peercall/react';

const options: CallClientOptions = { userId: 'alice', transport: broadcastChannelTransport('alice') };

export function Phone(): ReactElement {
  const client = useCallClient(options);
  const call: CallView = useCall(client);
  const status: string = call.state === 'connected' ? `${Math.round(call.duration / 1000)} s` : call.state;
  const muted: boolean = call.localMedia?.audioMuted ?? false;
  return createElement('div', null,
    createElement('p', null, status, call.peer ?? '', call.endReason ?? ''),
    call.incoming && createElement('button', { onClick: () => void call.accept({ video: true }) }, 'Accept'),
    createElement('button', { onClick: () => call.place('bob', { video: true }) }, 'Call'),
    createElement('button', { onClick: () => call.setMuted(!muted) }, muted ? 'Unmute' : 'Mute'),
    createElement(MediaStreamVideo, { stream: call.remoteStream, muted: false, className: 'remote' }),
  );
}
