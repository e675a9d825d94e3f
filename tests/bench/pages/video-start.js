// How long a browser takes from "this sender may send video" to its first encoded frame, on an
// RTCPeerConnection pair inside one page (host candidates, 127.0.0.1): the part of accept → first
// frame that instant answer cannot remove. tests/bench/video-start.mjs drives it; the page only
// measures. Each way starts from a connected pair whose sender has sent nothing (getStats says 0
// packets), except `naive`, which times the whole flow from addTrack, negotiation included.
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

async function pair(setUp) {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const video = document.createElement('video');
  video.muted = true;
  document.body.append(video);
  let shown = null;
  b.ontrack = (e) => {
    video.srcObject = new MediaStream([e.track]);
    video.play().catch(() => {});
    video.requestVideoFrameCallback(() => { shown ??= performance.now(); });
  };
  const sender = await setUp(a);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  return { a, b, sender, shown: () => shown, close: () => { a.close(); b.close(); video.remove(); } };
}

/** Sums an outbound-rtp (a) or inbound-rtp (b) video counter. */
async function counter(pc, type, field) {
  let n = 0;
  (await pc.getStats()).forEach((s) => { if (s.type === type && s.kind === 'video') n += s[field] ?? 0; });
  return n;
}

/**
 * One run of `way`: resolves { encodedMs, decodedMs, shownMs, packetsBefore }, times from the
 * start (the replaceTrack, setParameters or addTrack) in ms.
 */
window.videoStart = async (way, { frameRate = 30 } = {}) => {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate } });
  const [track] = stream.getVideoTracks();
  let p;
  let t0;
  if (way === 'naive') {
    t0 = performance.now();
    p = await pair(async (a) => a.addTrack(track, stream));
  } else {
    p = await pair(async (a) => {
      if (way === 'inactive') return a.addTransceiver(track, { sendEncodings: [{ active: false }] }).sender;
      return a.addTransceiver('video', { direction: 'sendrecv' }).sender;
    });
    while (p.a.connectionState !== 'connected' || p.b.connectionState !== 'connected') await sleep(2);
    await sleep(1000);
  }
  const packetsBefore = way === 'naive' ? 0 : await counter(p.a, 'outbound-rtp', 'packetsSent');
  if (way !== 'naive') {
    const params = p.sender.getParameters();
    t0 = performance.now();
    if (way === 'inactive') {
      params.encodings[0].active = true;
      await p.sender.setParameters(params);
    } else {
      if (way === 'half-size') {
        params.encodings[0].scaleResolutionDownBy = 2;
        await p.sender.setParameters(params);
      }
      if (way === 'maintain-resolution') {
        params.degradationPreference = 'maintain-resolution';
        await p.sender.setParameters(params);
      }
      await p.sender.replaceTrack(track);
    }
  }
  const marks = {};
  while (marks.decodedMs === undefined || p.shown() === null) {
    if (performance.now() - t0 > 5000) break;
    if (marks.encodedMs === undefined && await counter(p.a, 'outbound-rtp', 'framesEncoded') > 0) marks.encodedMs = performance.now() - t0;
    if (marks.decodedMs === undefined && await counter(p.b, 'inbound-rtp', 'framesDecoded') > 0) marks.decodedMs = performance.now() - t0;
    await sleep(1);
  }
  const result = { ...marks, shownMs: p.shown() === null ? null : p.shown() - t0, packetsBefore };
  p.close();
  track.stop();
  return result;
};
window.videoStartReady = true;
