// The demo on several nodes, as a growing chat app runs its Socket.IO server: a real redis-server
// on 127.0.0.1, demo nodes as separate processes (demo/server.mjs with REDIS_URL) and users in
// headless Chromium tabs on different nodes, clicking the demo's buttons with the fake camera and
// microphone. A TCP front stands in for the load balancer where a page must move to another node.
//
// Chromium only: what is tested here is the server side (adapter, Redis, failover), which does
// not depend on the browser; calls between Chromium and Firefox are tested in demo.test.mjs.
//
// The Streams adapter (the demo's default) runs most scenarios on three nodes; the pub/sub adapter
// gets its own two nodes and its own Redis for the restart, where the two differ.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, waitIn } from '../browser/browsers.mjs';
import {
  press, lastHistoryLine, ringing, connected, backInConversation, remoteMedia, assertAudible, assertMovingVideo, skipDeviceCheck,
} from './demo-page.mjs';
import { startRedis, startNode, startFailover, stopAll } from '../cluster/processes.mjs';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

let browser;
before(async () => { browser = await launch('chromium'); });
after(async () => {
  await browser?.close();
  await stopAll(); // every redis-server and node still running, whatever failed
});

/** Opens the demo as `user` at `url` (a node or the front) and waits until it is logged in. */
async function open(user, url) {
  const page = await browser.newPage();
  await page.goto(`${url}/?user=${user}`);
  await waitIn(page, 'window.demo?.client && !document.getElementById("app").hidden', `${user} to log in at ${url}`);
  await skipDeviceCheck(page);
  return page;
}

const seesOnline = (page, user, what) => waitIn(page, `window.demo.online.includes(${JSON.stringify(user)})`, what);
/** How the last call on `page` ended, as peercall reported it: { peer, reason, missed }. */
const lastEnding = (page) => page.evaluate(() => window.demo.endings.at(-1) ?? null);
/** The id of the page's socket once it is connected, as the node logs it ("bob connected (<id>)"). */
const socketId = (page) => page.evaluate(() => (window.demo.socket.connected ? window.demo.socket.id : null));

/** alice calls bob with video, bob accepts with video, both connected. */
async function videoCall(alice, bob) {
  await seesOnline(alice, 'bob', 'alice to see bob online');
  await press(alice, 'Start a video call');
  await ringing(bob, 'bob to ring');
  await press(bob, 'Accept with video');
  await connected(alice, 'alice connected');
  await connected(bob, 'bob connected');
}

async function assertMediaBothWays(alice, bob, when) {
  for (const [who, page] of [['alice', alice], ['bob', bob]]) {
    const seen = await remoteMedia(page);
    assertMovingVideo(seen, `${who} sees moving video ${when}`);
    assertAudible(seen, `${who} hears the other side ${when}`);
  }
}

describe('three nodes, Streams adapter', { timeout: 60_000 }, () => {
  let redis;
  let nodes;
  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all([1, 2, 3].map((i) => startNode({ redisUrl: redis.url, adapter: 'streams', name: `node ${i}` })));
  });
  after(async () => {
    await Promise.all(nodes?.map((node) => node.stop()) ?? []);
    await redis?.stop();
  });

  test('alice on node 1 calls bob on node 2: video and sound both ways, hang up', async () => {
    const alice = await open('alice', nodes[0].url);
    const bob = await open('bob', nodes[1].url);
    // Presence crosses nodes: each sees the other online.
    await seesOnline(bob, 'alice', 'bob to see alice online');
    await videoCall(alice, bob);
    await assertMediaBothWays(alice, bob, 'across nodes');
    await press(alice, 'End call');
    await backInConversation(bob, 'alice', "bob's call to end");
    await backInConversation(alice, 'bob', "alice's call to end");
    assert.deepEqual(await lastEnding(bob), { peer: 'alice', reason: 'remote-hangup', missed: false });
    assert.match(await lastHistoryLine(bob), /^Video call · 0:\d\d$/);
    await alice.close();
    await bob.close();
  });

  test("bob's tabs on nodes 2 and 3 both ring; one answers, the other ends answered-elsewhere", async () => {
    const alice = await open('alice', nodes[0].url);
    const bob2 = await open('bob', nodes[1].url);
    const bob3 = await open('bob', nodes[2].url);
    await seesOnline(alice, 'bob', 'alice to see bob online');
    await press(alice, 'Start a video call');
    await ringing(bob2, 'the tab on node 2 to ring');
    await ringing(bob3, 'the tab on node 3 to ring');
    await press(bob3, 'Accept with video');
    await connected(bob3, 'the tab on node 3 connected');
    await connected(alice, 'alice connected');
    await waitIn(bob2, 'document.getElementById("incoming").hidden && window.demo.ringer === null', 'the tab on node 2 to stop ringing');
    assert.deepEqual(await lastEnding(bob2), { peer: 'alice', reason: 'answered-elsewhere', missed: false });
    assert.equal(await lastHistoryLine(bob2), 'Video call answered on another device');
    await assertMediaBothWays(alice, bob3, 'with the tab that answered');
    await press(alice, 'End call');
    await backInConversation(bob3, 'alice', "the answering tab's call to end");
    for (const page of [alice, bob2, bob3]) await page.close();
  });

  test('calling a user with no socket on any node ends unreachable', async () => {
    const alice = await open('alice', nodes[0].url);
    const carol = await open('carol', nodes[2].url);
    await seesOnline(alice, 'carol', 'alice to see carol (node 3) online');
    await press(alice, 'Chat with carol');
    await carol.close();
    await waitIn(alice, "!window.demo.online.includes('carol')", 'alice to see carol go offline');
    await press(alice, 'Start an audio call');
    await waitIn(alice, 'window.demo.call === null && document.getElementById("call").hidden', "alice's call to end");
    assert.deepEqual(await lastEnding(alice), { peer: 'carol', reason: 'unreachable', missed: false });
    assert.equal(await lastHistoryLine(alice), 'carol is offline');
    await alice.close();
  });

  test('Redis restarted mid-call: media goes on, what was sent while it was down arrives, and the hangup', async () => {
    const alice = await open('alice', nodes[0].url);
    const bob = await open('bob', nodes[1].url);
    await videoCall(alice, bob);
    await redis.kill(); // as a crash: everything it held is gone
    try {
      await assertMediaBothWays(alice, bob, 'while Redis is down');
      // alice mutes while Redis is down: node 1 takes the message, and the adapter holds it.
      await press(alice, 'Mute microphone');
      await sleep(1000);
      assert.equal(await bob.evaluate(() => document.getElementById('peer-flags').hidden), true, 'nothing reaches bob while Redis is down');
    } finally {
      await redis.restart(); // also when the above failed, for the tests after this one
    }
    const back = Date.now();
    await waitIn(bob, "document.getElementById('peer-flags').textContent.includes('alice is muted')", 'the mute sent while Redis was down to reach bob', 15000);
    console.log(`streams: the mute sent while Redis was down reached bob ${Date.now() - back} ms after Redis was back`);
    await press(alice, 'End call');
    await backInConversation(bob, 'alice', "bob's call to end", 5000);
    assert.deepEqual(await lastEnding(bob), { peer: 'alice', reason: 'remote-hangup', missed: false });
    await alice.close();
    await bob.close();
  });

  // Last in this group: it leaves node 2 dead.
  test("node 2 killed mid-call: media goes on, bob's page reconnects to node 3 and its hangup arrives", async () => {
    // bob's page reaches the nodes through a front that prefers node 2 and falls back to node 3.
    const front = await startFailover([nodes[1].port, nodes[2].port]);
    try {
      const alice = await open('alice', nodes[0].url);
      const bob = await open('bob', front.url);
      const onNode2 = await socketId(bob);
      assert.ok(nodes[1].lines.some((line) => line.endsWith(`bob connected (${onNode2})`)), 'bob starts on node 2');
      await videoCall(alice, bob);

      await nodes[1].kill();
      // Watched from now, while the media is checked: the page sees its socket drop, then back.
      const reconnected = waitIn(bob, () => {
        window.socketDropped ||= !window.demo.socket.connected;
        return window.socketDropped && window.demo.socket.connected;
      }, "bob's socket to drop and reconnect", 15000);
      await assertMediaBothWays(alice, bob, 'after node 2 was killed');
      for (const page of [alice, bob]) assert.equal(await page.evaluate(() => window.demo.call?.state), 'connected');

      const tookMs = await reconnected;
      const onNode3 = await socketId(bob);
      assert.ok(nodes[2].lines.some((line) => line.endsWith(`bob connected (${onNode3})`)), `bob's socket now on node 3:\n${nodes[2].lines.join('\n')}`);
      console.log(`node kill: bob's socket was back (on node 3) ${tookMs} ms after node 2 was killed`);

      await press(bob, 'End call');
      const sent = Date.now();
      await backInConversation(alice, 'bob', "alice's call to end", 5000);
      assert.deepEqual(await lastEnding(alice), { peer: 'bob', reason: 'remote-hangup', missed: false });
      console.log(`node kill: bob's hangup (via node 3) ended alice's call ${Date.now() - sent} ms after bob pressed End`);
      await alice.close();
      await bob.close();
    } finally {
      await front.close();
    }
  });
});

describe('two nodes, pub/sub adapter', { timeout: 60_000 }, () => {
  let redis;
  let nodes;
  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all([1, 2].map((i) => startNode({ redisUrl: redis.url, adapter: 'pubsub', name: `pub/sub node ${i}` })));
  });
  after(async () => {
    await Promise.all(nodes?.map((node) => node.stop()) ?? []);
    await redis?.stop();
  });

  test('Redis restarted mid-call: media goes on, messages sent while it was down may be lost, the call still ends cleanly', async () => {
    const alice = await open('alice', nodes[0].url);
    const bob = await open('bob', nodes[1].url);
    await videoCall(alice, bob);
    await redis.kill();
    try {
      await assertMediaBothWays(alice, bob, 'while Redis is down');
      await press(alice, 'Mute microphone');
      await sleep(1000);
    } finally {
      await redis.restart();
    }
    // pub/sub keeps nothing: a message is delivered only to nodes subscribed when it is
    // published. Wait until both nodes subscribed again (a chat message from alice reaches bob),
    // then see whether the mute sent during the outage made it.
    const back = Date.now();
    await alice.evaluate(() => { window.pinging = setInterval(() => window.demo.socket.emit('chat', { to: 'bob', message: { text: 'ping' } }), 200); });
    await waitIn(bob, () => (window.demo.history.get('alice') ?? []).some((line) => line.text === 'ping'), 'a chat message to cross nodes again', 15000)
      .catch((error) => { throw new Error(`${error.message}\n${nodes.map((node) => `${node.name}:\n${node.lines.join('\n')}`).join('\n')}\n${bob.logs.join('\n')}`); });
    await alice.evaluate(() => clearInterval(window.pinging));
    const muteArrived = await bob.evaluate(() => document.getElementById('peer-flags').textContent.includes('alice is muted'));
    console.log(`pub/sub: messages cross nodes again ${Date.now() - back} ms after Redis was back; the mute sent while it was down ${muteArrived ? 'arrived' : 'was lost'}`);
    // Sent now, the hangup arrives, and both calls end as a hangup, not by ICE giving up.
    await press(alice, 'End call');
    await backInConversation(bob, 'alice', "bob's call to end", 5000);
    await backInConversation(alice, 'bob', "alice's call to end", 5000);
    assert.deepEqual(await lastEnding(bob), { peer: 'alice', reason: 'remote-hangup', missed: false });
    await alice.close();
    await bob.close();
  });
});
