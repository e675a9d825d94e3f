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
    ]);
  },
});
