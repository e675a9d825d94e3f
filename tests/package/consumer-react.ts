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
    // In-call messages and files: the last messages, the transfers, the actions.
    createElement('ul', null, call.messages.map((m) => createElement('li', { key: m.at },
      m.from === 'me' ? 'me' : 'peer', typeof m.data === 'string' ? m.data : '(data)'))),
    createElement('button', { onClick: () => void call.send({ reaction: '👍' })?.catch(() => {}) }, '👍'),
    createElement('input', { type: 'file', onChange: (e: { target: HTMLInputElement }) => {
      const file = e.target.files?.[0];
      if (file) call.sendFile(file, { name: file.name });
    } }),
    call.transfers.map((t) => createElement('p', { key: t.id }, `${t.name} ${t.bytes}/${t.size} ${t.state} ${t.reason ?? ''}`,
      t.state === 'done' && t.file ? createElement('a', { href: URL.createObjectURL(t.file), download: t.name }, 'Save') : null,
      t.state === 'sending' || t.state === 'receiving' ? createElement('button', { onClick: () => call.cancelTransfer(t.id) }, 'Cancel') : null)),
  );
}
