// PeerJS as an app bundles it: the Peer class (also the package's default export), and util,
// which Peer uses anyway (the load check reads util.supports; exporting it adds ~10 bytes).
export { Peer, util, default } from 'peerjs';
