// A strict TypeScript consumer of peercall/vue.
import { defineComponent, h, computed } from 'vue';
import { broadcastChannelTransport } from 'peercall';
import { useCallClient, useCall, MediaStreamVideo, type CallRefs } from 'peercall/vue';

export const Phone = defineComponent({
  setup() {
    const client = useCallClient(() => ({ userId: 'bob', transport: broadcastChannelTransport('bob') }));
    const call: CallRefs = useCall(client);
    const status = computed<string>(() => (call.state.value === 'connected' ? `${call.duration.value} ms` : call.state.value));
    return () => h('div', [
      h('p', [status.value, call.peer.value ?? '', call.endReason.value ?? '']),
      call.incoming.value ? h('button', { onClick: () => void call.accept({ video: false }) }, 'Accept') : null,
      h('button', { onClick: () => call.place('alice') }, 'Call'),
      h(MediaStreamVideo, { stream: call.remoteStream.value }),
      // In-call messages and files: the last messages, the transfers, the actions.
      h('ul', call.messages.value.map((m) => h('li', `${m.from}: ${typeof m.data === 'string' ? m.data : '(data)'}`))),
      h('button', { onClick: () => void call.send('❤️')?.catch(() => {}) }, '❤️'),
      h('button', { onClick: () => call.sendFile(new Blob(['hello']), { name: 'hello.txt', type: 'text/plain' }) }, 'Send'),
      call.transfers.value.map((t) => h('p', [`${t.name} ${Math.round((100 * t.bytes) / (t.size || 1))}% ${t.state}`,
        t.file ? h('a', { href: URL.createObjectURL(t.file), download: t.name }, 'Save') : null,
        t.state === 'offered' ? h('button', { onClick: () => call.cancelTransfer(t.id) }, 'Cancel') : null])),
    ]);
  },
});
