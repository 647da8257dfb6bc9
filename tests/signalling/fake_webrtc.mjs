// Stands in for npm `webrtc-polyfill` (node-datachannel, whose native part is not
// installed here) under bittorrent-tracker's simple-peer: just enough of
// RTCPeerConnection to create and accept SDP offers/answers, so the real tracker client
// code runs its announce/offer/answer path. No media, no ICE: nothing leaves the process.
import { randomBytes } from 'node:crypto';

// Every description set on any fake connection, for the tests to inspect.
export const descriptions = [];

export class RTCSessionDescription {
  constructor(init = {}) {
    this.type = init.type;
    this.sdp = init.sdp;
  }
  toJSON() {
    return { type: this.type, sdp: this.sdp };
  }
}

export class RTCIceCandidate {
  constructor(init = {}) {
    Object.assign(this, init);
  }
}

class FakeDataChannel {
  constructor(label) {
    this.label = label;
    this.binaryType = 'arraybuffer';
    this.bufferedAmount = 0;
    this.bufferedAmountLowThreshold = 0;
    this.readyState = 'connecting';
  }
  send() {}
  close() {
    this.readyState = 'closed';
  }
}

export class RTCPeerConnection {
  constructor(config = {}) {
    this.config = config;
    this.id = randomBytes(6).toString('hex');
    this.signalingState = 'stable';
    this.iceGatheringState = 'new';
    this.iceConnectionState = 'new';
    this.connectionState = 'new';
    this.localDescription = null;
    this.remoteDescription = null;
  }
  createDataChannel(label) {
    return new FakeDataChannel(label);
  }
  sdp(type) {
    return `v=0\r\no=fake-${this.id} 1 1 IN IP4 127.0.0.1\r\ns=${type}\r\nt=0 0\r\n` +
      'a=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n';
  }
  async createOffer() {
    return { type: 'offer', sdp: this.sdp('offer') };
  }
  async createAnswer() {
    return { type: 'answer', sdp: this.sdp('answer') };
  }
  async setLocalDescription(description) {
    this.localDescription = new RTCSessionDescription(description);
    descriptions.push({ pc: this.id, side: 'local', ...description });
    // Gathering "completes" at once: simple-peer without trickle waits for this.
    setTimeout(() => {
      this.iceGatheringState = 'complete';
      if (this.onicegatheringstatechange) this.onicegatheringstatechange();
      if (this.onicecandidate) this.onicecandidate({ candidate: null });
    }, 5);
  }
  async setRemoteDescription(description) {
    this.remoteDescription = new RTCSessionDescription(description);
    descriptions.push({ pc: this.id, side: 'remote', type: description.type, sdp: description.sdp });
  }
  async addIceCandidate() {}
  async getStats() {
    return new Map();
  }
  close() {
    this.connectionState = 'closed';
    this.signalingState = 'closed';
  }
}

export default { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate };
